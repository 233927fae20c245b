"""The live view of a run: the four stages, the plan graph, each task's model, reason and time.

It is fed the Assistant's events (already on the UI thread) and can also replay a stored run, so
reopening an old conversation shows how its last answer was made. A timer ticks the elapsed time
of the active stage and of running tasks, so a slow model visibly works instead of looking stuck.
"""

from __future__ import annotations

import html
import time
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core.events import CANCELLED, Event, EventKind, RunResult
from gui.plan_graph import PlanGraph
from gui.theme import status_color

STAGES = ("planning", "selection", "execution", "response")
STAGE_TITLES = {"planning": "Plan", "selection": "Select", "execution": "Run",
                "response": "Answer"}


def _fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return f"{seconds:.1f} s" if seconds < 60 else f"{int(seconds // 60)} min {seconds % 60:.0f} s"


class StageChip(QLabel):
    """One stage: pending, active (with a ticking time), done or stopped."""

    def __init__(self, number: int, stage: str) -> None:
        super().__init__()
        self.stage, self.number = stage, number
        self.state, self.seconds = "pending", None
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumWidth(70)
        self.render()

    def set_state(self, state: str, seconds: float | None = None) -> None:
        self.state = state
        self.seconds = seconds
        self.render()

    def render(self) -> None:
        mark = {"pending": str(self.number), "active": "●", "done": "✓", "stopped": "■",
                "failed": "✕"}[self.state]
        title = STAGE_TITLES[self.stage]
        timing = _fmt_seconds(self.seconds)
        self.setText(f"<b>{mark}</b>&nbsp; {title}" + (f"<br><small>{timing}</small>"
                                                       if timing else "<br><small>&nbsp;</small>"))
        color = {"pending": "#8a8f98", "active": status_color("running").name(),
                 "done": status_color("done").name(), "stopped": status_color("cancelled").name(),
                 "failed": status_color("failed").name()}[self.state]
        weight = "600" if self.state == "active" else "normal"
        self.setStyleSheet(f"QLabel {{ border: 1.5px solid {color}; border-radius: 9px;"
                           f" padding: 3px 6px; color: {color}; font-weight: {weight}; }}")


class StageStrip(QWidget):
    """The four stages in order, with arrows between them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.chips: dict[str, StageChip] = {}
        for number, stage in enumerate(STAGES, 1):
            if number > 1:
                arrow = QLabel("→")
                arrow.setObjectName("muted")
                layout.addWidget(arrow)
            chip = StageChip(number, stage)
            self.chips[stage] = chip
            layout.addWidget(chip, 1)

    def reset(self) -> None:
        for chip in self.chips.values():
            chip.set_state("pending")


class TaskCard(QFrame):
    """A task's row in the panel: status, model, the selector's reason, progress, time, error."""

    def __init__(self, node: dict[str, Any]) -> None:
        super().__init__()
        self.setObjectName("card")
        self.task_id = int(node["id"])
        self.status = "waiting"
        self.started: float | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(3)
        top = QHBoxLayout()
        self.title = QLabel(f"<b>{self.task_id}</b>&nbsp; {node['task']}")
        self.pill = QLabel()
        self.time = QLabel()
        self.time.setObjectName("caption")
        top.addWidget(self.title, 1)
        top.addWidget(self.time)
        top.addWidget(self.pill)
        layout.addLayout(top)
        deps = [d for d in node.get("dep", []) if d >= 0]
        args = ", ".join(f"{k}={_short(str(v), 60)}" for k, v in node.get("args", {}).items())
        self.args = QLabel(args + (f"   (after {', '.join(map(str, deps))})" if deps else ""))
        self.args.setObjectName("caption")
        self.args.setWordWrap(True)
        self.model = QLabel("choosing a model…")
        self.model.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reason = QLabel()
        self.reason.setObjectName("muted")
        self.reason.setWordWrap(True)
        self.reason.hide()
        # what a long task is doing now ("summarizing part 2 of 5"), from task_progress events
        self.progress = QLabel()
        self.progress.setStyleSheet(f"color: {status_color('running').name()};")
        self.progress.setWordWrap(True)
        self.progress.hide()
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {status_color('failed').name()};")
        self.error.hide()
        for widget in (self.args, self.reason, self.progress, self.error):
            widget.setTextFormat(Qt.TextFormat.PlainText)  # arguments hold "<GENERATED>-0"
        for widget in (self.args, self.model, self.reason, self.progress, self.error):
            layout.addWidget(widget)
        self.set_status("waiting")

    def set_choice(self, model: str | None, reason: str) -> None:
        self.model.setText(f"Model: <b>{html.escape(model)}</b>" if model
                           else "<i>no model installed</i>")
        if reason:
            self.reason.setText(f"Why: {reason}")
            self.reason.show()

    def set_status(self, status: str, seconds: float | None = None,
                   error: str | None = None) -> None:
        self.status = status
        color = status_color(status).name()
        self.pill.setText(status)
        self.pill.setStyleSheet(f"QLabel {{ background: {color}; color: white; border-radius: 8px;"
                                f" padding: 1px 8px; font-weight: 600; }}")
        if status == "running":
            self.started = time.monotonic()
        elif status != "waiting":
            self.progress.hide()
        if seconds is not None:
            self.time.setText(_fmt_seconds(seconds))
        if error:
            self.error.setText(error)
            self.error.show()

    def set_progress(self, done: int, total: int, what: str = "") -> None:
        """A long task reported how far it is (``what``, or "step done of total")."""
        text = what or (f"step {done} of {total}" if total else "")
        self.progress.setText(text)
        self.progress.setVisible(bool(text) and self.status in ("running", "waiting"))

    def tick(self) -> None:
        if self.status == "running" and self.started is not None:
            self.time.setText(_fmt_seconds(time.monotonic() - self.started))


class WorkPanel(QWidget):
    """Everything about the current (or a replayed) run; emits ``stop_requested``."""

    stop_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(10)
        header = QHBoxLayout()
        title = QLabel("Work")
        title.setObjectName("pageTitle")
        self.summary = QLabel("Idle")
        self.summary.setObjectName("muted")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("danger")
        self.stop_button.setToolTip("Stop this run (Esc)")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop_requested)
        header.addWidget(title)
        header.addWidget(self.summary, 1)
        header.addWidget(self.stop_button)
        layout.addLayout(header)
        self.stages = StageStrip()
        layout.addWidget(self.stages)

        self.graph = PlanGraph()
        self.cards_box = QWidget()
        self.cards_layout = QVBoxLayout(self.cards_box)
        self.cards_layout.setContentsMargins(0, 0, 0, 0)
        self.cards_layout.setSpacing(8)
        self.cards_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setObjectName("taskScroll")
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.cards_box)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.graph)
        splitter.addWidget(scroll)
        splitter.setSizes([220, 440])
        splitter.setChildrenCollapsible(False)
        layout.addWidget(splitter, 1)

        self.cards: dict[int, TaskCard] = {}
        self.stage: str | None = None
        self.stage_started = 0.0
        self.run_started = 0.0
        self.running = False
        self._timer = QTimer(self)
        self._timer.setInterval(200)
        self._timer.timeout.connect(self._tick)

    # -- a live run

    def start_run(self) -> None:
        self._reset()
        self.running = True
        self.run_started = time.monotonic()
        self.summary.setText("Starting…")
        self.stop_button.setEnabled(True)
        self.stop_button.setText("Stop")
        self.graph.show_message("Planning…")
        self._timer.start()

    def handle(self, event: Event) -> None:
        """Apply one Assistant event."""
        kind, data = event.kind, event.data
        if kind == EventKind.STAGE:
            self._enter_stage(data["stage"])
        elif kind == EventKind.PLAN:
            self.set_plan(data["plan"])
            self.stages.chips["planning"].set_state("done", data.get("seconds"))
        elif kind == EventKind.CHOICE:
            self.graph.set_task(data["task_id"], model=data.get("model") or "",
                                reason=data.get("reason"))
            if data["task_id"] in self.cards:
                self.cards[data["task_id"]].set_choice(data.get("model"), data.get("reason", ""))
        elif kind == EventKind.TASK_START:
            self.graph.set_task(data["id"], status="running", model=data.get("model"))
            if data["id"] in self.cards:
                self.cards[data["id"]].set_status("running")
        elif kind == EventKind.TASK_PROGRESS:
            self._task_progress(data)
        elif kind == EventKind.TASK_END:
            self._task_end(data)

    def set_stopping(self) -> None:
        self.stop_button.setEnabled(False)
        self.stop_button.setText("Stopping…")
        self.summary.setText("Stopping after the current step…")

    def finish(self, result: RunResult) -> None:
        """The run ended (done or cancelled): final timings from the result."""
        self._timer.stop()
        self.running = False
        self.stop_button.setEnabled(False)
        self.stop_button.setText("Stop")
        timings = result.timings
        cancelled = result.status == CANCELLED
        for stage, chip in self.stages.chips.items():
            if stage in timings:
                chip.set_state("done", timings[stage])
            elif cancelled and chip.state != "done":
                chip.set_state("stopped")
        if cancelled:
            if self.stage in self.stages.chips and "execution" not in timings:
                self.stages.chips[self.stage].set_state("stopped")
            self.summary.setText(f"Stopped after {_fmt_seconds(timings.get('total'))}")
        else:
            self.summary.setText(f"Done in {_fmt_seconds(timings.get('total'))}")
        for task in result.tasks:
            self._task_end(task)

    def fail(self, message: str) -> None:
        self._timer.stop()
        self.running = False
        self.stop_button.setEnabled(False)
        self.stop_button.setText("Stop")
        if self.stage in self.stages.chips:
            self.stages.chips[self.stage].set_state("failed")
        self.summary.setText("Failed")
        self.summary.setToolTip(message)

    # -- a stored run, replayed

    def show_run(self, run: RunResult) -> None:
        """Show a finished run from the history store (plan, choices, tasks, timings)."""
        self._reset()
        self.set_plan(run.plan)
        for choice in run.choices:
            self.handle(Event(EventKind.CHOICE, choice))
        for task in run.tasks:
            self._task_end(task)
        for stage, chip in self.stages.chips.items():
            if stage in run.timings:
                chip.set_state("done", run.timings[stage])
        self.summary.setText(f"{run.status.capitalize()}" + (
            f" in {_fmt_seconds(run.timings['total'])}" if "total" in run.timings else ""))

    def clear(self) -> None:
        self._reset()
        self.summary.setText("Idle")
        self.graph.show_message("The plan appears here when you send a request.")

    # -- internals

    def set_plan(self, plan: list[dict[str, Any]]) -> None:
        self.graph.set_plan(plan)
        for card in self.cards.values():
            card.deleteLater()
        self.cards = {}
        for node in plan:
            card = TaskCard(node)
            self.cards[int(node["id"])] = card
            self.cards_layout.insertWidget(self.cards_layout.count() - 1, card)

    def _task_progress(self, data: dict[str, Any]) -> None:
        task_id = data["id"]
        what = str(data.get("what") or "")
        self.graph.set_task(task_id, detail=what)
        if task_id in self.cards:
            self.cards[task_id].set_progress(int(data.get("done") or 0),
                                             int(data.get("total") or 0), what)
        if what and self.stage == "execution" and self.running:
            self.summary.setText(f"Running the tasks… task {task_id}: {what}")

    def _task_end(self, data: dict[str, Any]) -> None:
        task_id = data["id"]
        self.graph.set_task(task_id, status=data["status"], model=data.get("model"),
                            seconds=data.get("seconds"))
        if task_id in self.cards:
            card = self.cards[task_id]
            if data.get("model") and card.model.text() == "choosing a model…":
                card.set_choice(data["model"], data.get("reason", ""))
            card.set_status(data["status"], data.get("seconds"), data.get("error"))

    def _enter_stage(self, stage: str) -> None:
        now = time.monotonic()
        if self.stage in self.stages.chips and self.stages.chips[self.stage].state == "active":
            self.stages.chips[self.stage].set_state("done", now - self.stage_started)
        self.stage, self.stage_started = stage, now
        if stage in self.stages.chips:
            self.stages.chips[stage].set_state("active", 0.0)
        self.summary.setText({"planning": "Planning the tasks…",
                              "selection": "Choosing a model for each task…",
                              "execution": "Running the tasks…",
                              "response": "Writing the answer…"}.get(stage, stage))

    def _tick(self) -> None:
        now = time.monotonic()
        chip = self.stages.chips.get(self.stage or "")
        if chip is not None and chip.state == "active":
            chip.set_state("active", now - self.stage_started)
        for card in self.cards.values():
            card.tick()

    def _reset(self) -> None:
        self._timer.stop()
        self.running = False
        self.stage = None
        self.stages.reset()
        self.stop_button.setEnabled(False)
        self.stop_button.setText("Stop")
        self.summary.setToolTip("")
        self.set_plan([])
        self.graph.show_message("")


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
