"""Earlier conversations: a searchable list to reopen them, and the New chat button.

Search uses the history store's full-text index (requests and answers), so "invoice" finds the
conversation where an invoice was read aloud even if its title says something else.
"""

from __future__ import annotations

import datetime as _dt

from PySide6.QtCore import QModelIndex, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QPainter
from PySide6.QtWidgets import (
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from core.services import Services
from gui.theme import muted_color

ID_ROLE = Qt.ItemDataRole.UserRole
DATE_ROLE = Qt.ItemDataRole.UserRole + 1


def friendly_date(iso: str) -> str:
    """'today 14:05', 'yesterday', or a date: how people scan a history list."""
    try:
        when = _dt.datetime.fromisoformat(iso).astimezone()
    except (TypeError, ValueError):
        return ""
    today = _dt.datetime.now().astimezone().date()
    if when.date() == today:
        return f"today {when:%H:%M}"
    if when.date() == today - _dt.timedelta(days=1):
        return f"yesterday {when:%H:%M}"
    return f"{when:%Y-%m-%d}"


class ConversationDelegate(QStyledItemDelegate):
    """Title on the first line, a muted date under it."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        self.initStyleOption(option, index)
        title, date = option.text, index.data(DATE_ROLE) or ""
        option.text = ""
        style = option.widget.style() if option.widget else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter,
                              option.widget)
        rect: QRect = option.rect.adjusted(10, 6, -10, -6)
        painter.save()
        font = QFont(option.font)
        painter.setFont(font)
        painter.setPen(option.palette.text().color())
        metrics = painter.fontMetrics()
        painter.drawText(rect.adjusted(0, 0, 0, -metrics.height()),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                         metrics.elidedText(title, Qt.TextElideMode.ElideRight, rect.width()))
        small = QFont(font)
        small.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        painter.setFont(small)
        painter.setPen(muted_color())
        painter.drawText(rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, date)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:  # noqa: N802
        height = option.fontMetrics.height()
        return QSize(200, int(height * 2.2) + 12)


class Sidebar(QWidget):
    """New chat, search box, conversation list; emits the id of a conversation to open."""

    new_chat = Signal()
    open_conversation = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidebar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.history: Services | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 12, 10, 10)
        layout.setSpacing(8)
        self.new_button = QPushButton("+  New chat")
        self.new_button.setObjectName("primary")
        self.new_button.setToolTip("Start a new conversation (Ctrl+N)")
        self.new_button.clicked.connect(self.new_chat)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search conversations")
        self.search.setClearButtonEnabled(True)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(200)
        self._debounce.timeout.connect(self.refresh)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self.list = QListWidget()
        self.list.setObjectName("conversations")
        self.list.setItemDelegate(ConversationDelegate(self.list))
        self.list.itemClicked.connect(lambda item: self.open_conversation.emit(item.data(ID_ROLE)))
        self.list.itemActivated.connect(
            lambda item: self.open_conversation.emit(item.data(ID_ROLE)))
        self.empty = QLabel("No conversations yet.")
        self.empty.setObjectName("muted")
        self.empty.setWordWrap(True)
        heading = QLabel("History")
        heading.setObjectName("sectionTitle")
        layout.addWidget(self.new_button)
        layout.addWidget(self.search)
        layout.addWidget(heading)
        layout.addWidget(self.empty)
        layout.addWidget(self.list, 1)
        self.setMinimumWidth(200)

    def set_history(self, history: Services) -> None:
        self.history = history
        self.refresh()

    def refresh(self, select: str | None = None) -> None:
        """Reload the list (FTS when the search box has text), keeping the selection."""
        if self.history is None:
            return
        current = select or (self.list.currentItem().data(ID_ROLE)
                             if self.list.currentItem() else None)
        query = self.search.text().strip()
        rows = self.history.conversations(query or None)
        self.list.clear()
        for row in rows:
            item = QListWidgetItem(row["title"] or "(untitled)")
            item.setData(ID_ROLE, row["id"])
            item.setData(DATE_ROLE, friendly_date(row["created_at"]))
            item.setToolTip(row["title"])
            self.list.addItem(item)
            if row["id"] == current:
                self.list.setCurrentItem(item)
        self.empty.setText("Nothing matches." if query else "No conversations yet.")
        self.empty.setVisible(not rows)

    def ids(self) -> list[str]:
        return [self.list.item(i).data(ID_ROLE) for i in range(self.list.count())]

    def clear_selection(self) -> None:
        self.list.clearSelection()
        self.list.setCurrentItem(None)
