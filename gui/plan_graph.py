"""The plan drawn as a graph: tasks as nodes, dependencies as arrows, status as colour.

A plan is a small DAG (HuggingGPT's ``dep`` lists), so a layered layout is enough: a task's column
is one more than its deepest dependency's, which puts every arrow left to right. Nodes repaint
themselves when their status changes; nothing is laid out twice during a run.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QFont, QFontMetrics, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import (
    QApplication,
    QGraphicsItem,
    QGraphicsObject,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QStyleOptionGraphicsItem,
    QWidget,
)

from gui.theme import muted_color, status_color

NODE_W, NODE_H = 210, 72
GAP_X, GAP_Y = 48, 22


def layers(plan: list[dict[str, Any]]) -> dict[int, int]:
    """Column of each task id: 0 without dependencies, else 1 + its deepest dependency's."""
    by_id = {node["id"]: node for node in plan}
    depth: dict[int, int] = {}

    def visit(task_id: int, seen: frozenset[int]) -> int:
        if task_id in depth:
            return depth[task_id]
        deps = [d for d in by_id[task_id].get("dep", []) if d in by_id and d not in seen]
        value = 0 if not deps else 1 + max(visit(d, seen | {task_id}) for d in deps)
        depth[task_id] = value
        return value

    for task_id in by_id:
        visit(task_id, frozenset())
    return depth


class TaskNodeItem(QGraphicsObject):
    """One task: number and name, its model, its status and time."""

    def __init__(self, node: dict[str, Any]) -> None:
        super().__init__()
        self.node = node
        self.status = "waiting"
        self.model = ""
        self.seconds: float | None = None
        self.detail = ""  # what a running task reports doing ("summarizing part 2 of 5")
        self.setAcceptHoverEvents(True)
        self._update_tooltip()

    @property
    def task_id(self) -> int:
        return int(self.node["id"])

    def set_state(self, status: str | None = None, model: str | None = None,
                  seconds: float | None = None, reason: str | None = None,
                  detail: str | None = None) -> None:
        if status is not None:
            self.status = status
            if status != "running":
                self.detail = ""
        if detail is not None:
            self.detail = detail
        if model is not None:
            self.model = model
        if seconds is not None:
            self.seconds = seconds
        self._update_tooltip(reason)
        self.update()

    def _update_tooltip(self, reason: str | None = None) -> None:
        args = ", ".join(f"{k}: {v}" for k, v in self.node.get("args", {}).items())
        lines = [f"Task {self.task_id}: {self.node['task']}", f"Arguments: {args}"]
        if self.model:
            lines.append(f"Model: {self.model}")
        if reason:
            lines.append(f"Why: {reason}")
        self.setToolTip("\n".join(lines))

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt's name)
        return QRectF(0, 0, NODE_W, NODE_H)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        palette = widget.palette() if widget else QApplication.palette()
        color = status_color(self.status)
        rect = self.boundingRect().adjusted(1.5, 1.5, -1.5, -1.5)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(color, 2.2 if self.status == "running" else 1.6))
        painter.setBrush(palette.base())
        painter.drawRoundedRect(rect, 10, 10)
        stripe = QPainterPath()
        stripe.addRoundedRect(QRectF(rect.left(), rect.top(), 7, rect.height()), 3.5, 3.5)
        painter.fillPath(stripe, color)

        font = QFont(painter.font())
        bold = QFont(font)
        bold.setBold(True)
        small = QFont(font)
        small.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        left, width = rect.left() + 16, rect.width() - 24
        painter.setFont(bold)
        painter.setPen(palette.text().color())
        title = f"{self.task_id}  {self.node['task']}"
        painter.drawText(QRectF(left, rect.top() + 6, width, 20), Qt.AlignmentFlag.AlignLeft,
                         QFontMetrics(bold).elidedText(title, Qt.TextElideMode.ElideRight,
                                                       int(width)))
        painter.setFont(small)
        painter.setPen(muted_color())
        model = self.model or ("choosing a model…" if self.status == "waiting" else "no model")
        painter.drawText(QRectF(left, rect.top() + 28, width, 18), Qt.AlignmentFlag.AlignLeft,
                         QFontMetrics(small).elidedText(model,
                                                        Qt.TextElideMode.ElideMiddle, int(width)))
        painter.setPen(color)
        state = self.status
        if self.seconds is not None:
            state += f"  ·  {self.seconds:.1f} s"
        elif self.detail and self.status == "running":
            state += f"  ·  {self.detail}"
        painter.drawText(QRectF(left, rect.top() + 47, width, 18), Qt.AlignmentFlag.AlignLeft,
                         QFontMetrics(small).elidedText(state, Qt.TextElideMode.ElideRight,
                                                        int(width)))

    def in_point(self) -> QPointF:
        return self.mapToScene(QPointF(0, NODE_H / 2))

    def out_point(self) -> QPointF:
        return self.mapToScene(QPointF(NODE_W, NODE_H / 2))


class EdgeItem(QGraphicsItem):
    """A curved arrow from a dependency to the task that uses its output."""

    def __init__(self, source: TaskNodeItem, target: TaskNodeItem) -> None:
        super().__init__()
        self.source, self.target = source, target
        self.setZValue(-1)

    def _path(self) -> tuple[QPainterPath, QPolygonF]:
        start, end = self.source.out_point(), self.target.in_point()
        tip = QPointF(end.x() - 2, end.y())
        path = QPainterPath(start)
        bend = max(30.0, (tip.x() - start.x()) / 2)
        path.cubicTo(QPointF(start.x() + bend, start.y()), QPointF(tip.x() - bend, tip.y()),
                     QPointF(tip.x() - 8, tip.y()))
        angle = math.atan2(tip.y() - path.pointAtPercent(0.97).y(),
                           tip.x() - path.pointAtPercent(0.97).x())
        size = 9.0
        head = QPolygonF([tip] + [
            QPointF(tip.x() - size * math.cos(angle + t), tip.y() - size * math.sin(angle + t))
            for t in (-0.45, 0.45)])
        return path, head

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt's name)
        path, head = self._path()
        return path.boundingRect().united(head.boundingRect()).adjusted(-4, -4, 4, 4)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        path, head = self._path()
        color = muted_color()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(color, 1.8))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
        painter.setBrush(QBrush(color))
        painter.drawPolygon(head)


class PlanGraph(QGraphicsView):
    """The whole plan; ``nodes`` maps task id to its item (tests read it)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("planGraph")
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumHeight(120)
        self.nodes: dict[int, TaskNodeItem] = {}
        self.edges: list[EdgeItem] = []
        self.show_message("The plan appears here when you send a request.")

    def clear(self) -> None:
        self.scene().clear()
        self.nodes, self.edges = {}, []

    def show_message(self, text: str) -> None:
        """A centred note instead of a graph (before a run, or for an empty plan)."""
        self.clear()
        item = QGraphicsSimpleTextItem(text)
        item.setBrush(muted_color())
        self.scene().addItem(item)
        self._fit()

    def set_plan(self, plan: list[dict[str, Any]]) -> None:
        self.clear()
        if not plan:
            self.show_message("No model needed: the writer answers directly.")
            return
        columns = layers(plan)
        per_column: dict[int, list[dict[str, Any]]] = {}
        for node in plan:
            per_column.setdefault(columns[node["id"]], []).append(node)
        tallest = max(len(v) for v in per_column.values())
        for column, nodes in per_column.items():
            offset = (tallest - len(nodes)) * (NODE_H + GAP_Y) / 2
            for row, node in enumerate(nodes):
                item = TaskNodeItem(node)
                item.setPos(column * (NODE_W + GAP_X), offset + row * (NODE_H + GAP_Y))
                self.scene().addItem(item)
                self.nodes[node["id"]] = item
        for node in plan:
            for dep in node.get("dep", []):
                if dep in self.nodes and dep != node["id"]:
                    edge = EdgeItem(self.nodes[dep], self.nodes[node["id"]])
                    self.scene().addItem(edge)
                    self.edges.append(edge)
        self._fit()

    def set_task(self, task_id: int, **state: Any) -> None:
        if task_id in self.nodes:
            self.nodes[task_id].set_state(**state)

    def _fit(self) -> None:
        rect = self.scene().itemsBoundingRect().adjusted(-16, -16, 16, 16)
        self.setSceneRect(rect)
        self.resetTransform()
        view = self.viewport().rect()
        if rect.width() > view.width() or rect.height() > view.height():
            self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit()
