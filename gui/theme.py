"""Light and dark looks that follow the system's colour scheme.

Qt reports the desktop's scheme (``QStyleHints.colorScheme``) and tells us when it changes; we map
it onto a Fusion palette plus one style sheet, so every page follows it without code of its own.
``CONDUCTOR_THEME=light|dark`` overrides the system (for screenshots, or a desktop that reports
nothing). Status colours are shared by the plan graph, the task cards and the result widgets so a
state always looks the same wherever it appears.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

ACCENT = QColor("#4f6bed")
STATUS_COLORS: dict[str, QColor] = {
    "waiting": QColor("#8a8f98"),
    "running": QColor("#3b82f6"),
    "done": QColor("#16a34a"),
    "failed": QColor("#dc2626"),
    "timed out": QColor("#dc2626"),
    "skipped": QColor("#d97706"),
    "cancelled": QColor("#d97706"),
}


def status_color(status: str) -> QColor:
    """The colour of a task or run status (unknown states look like waiting)."""
    return STATUS_COLORS.get(status, STATUS_COLORS["waiting"])


def is_dark() -> bool:
    """True when the app should be dark: the override, else the system's scheme."""
    forced = os.environ.get("CONDUCTOR_THEME", "").lower()
    if forced in ("dark", "light"):
        return forced == "dark"
    app = QGuiApplication.instance()
    if app is None:
        return False
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def _palette(dark: bool) -> QPalette:
    palette = QPalette()
    if dark:
        colors = {
            QPalette.ColorRole.Window: "#1e1f22", QPalette.ColorRole.WindowText: "#e6e6e6",
            QPalette.ColorRole.Base: "#26282c", QPalette.ColorRole.AlternateBase: "#2d3035",
            QPalette.ColorRole.Text: "#e6e6e6", QPalette.ColorRole.Button: "#2d3035",
            QPalette.ColorRole.ButtonText: "#e6e6e6", QPalette.ColorRole.ToolTipBase: "#2d3035",
            QPalette.ColorRole.ToolTipText: "#e6e6e6",
            QPalette.ColorRole.PlaceholderText: "#8a8f98",
            QPalette.ColorRole.Mid: "#3c4047", QPalette.ColorRole.Midlight: "#34373d",
            QPalette.ColorRole.Dark: "#151618", QPalette.ColorRole.Light: "#3c4047",
            QPalette.ColorRole.Highlight: ACCENT.name(),
            QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.Link: "#8ea2ff",
        }
    else:
        colors = {
            QPalette.ColorRole.Window: "#f4f5f7", QPalette.ColorRole.WindowText: "#1d1f23",
            QPalette.ColorRole.Base: "#ffffff", QPalette.ColorRole.AlternateBase: "#eef0f4",
            QPalette.ColorRole.Text: "#1d1f23", QPalette.ColorRole.Button: "#ffffff",
            QPalette.ColorRole.ButtonText: "#1d1f23", QPalette.ColorRole.ToolTipBase: "#ffffff",
            QPalette.ColorRole.ToolTipText: "#1d1f23",
            QPalette.ColorRole.PlaceholderText: "#8a8f98",
            QPalette.ColorRole.Mid: "#d5d8de", QPalette.ColorRole.Midlight: "#e4e6ea",
            QPalette.ColorRole.Dark: "#a0a4ab", QPalette.ColorRole.Light: "#ffffff",
            QPalette.ColorRole.Highlight: ACCENT.name(),
            QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.Link: "#3f5bd9",
        }
    for role, value in colors.items():
        palette.setColor(role, QColor(value))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText,
                 QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#8a8f98"))
    return palette


def _style_sheet(dark: bool) -> str:
    muted = "#9aa0aa" if dark else "#6b7079"
    card = "#26282c" if dark else "#ffffff"
    border = "#3c4047" if dark else "#dde0e6"
    user = "#34407a" if dark else "#e3e8ff"
    side = "#191a1d" if dark else "#eceef2"
    return f"""
    QWidget#navRail, QWidget#sidebar {{ background: {side}; }}
    QToolButton#navButton {{ border: none; border-radius: 8px; padding: 8px 6px;
        color: {muted}; font-weight: 600; }}
    QToolButton#navButton:checked {{ background: {card}; color: palette(text); }}
    QToolButton#navButton:hover {{ color: palette(text); }}
    QLabel#muted, QLabel#caption {{ color: {muted}; }}
    QLabel#caption {{ font-size: 11px; }}
    QLabel#pageTitle {{ font-size: 20px; font-weight: 700; }}
    QLabel#sectionTitle {{ font-weight: 700; }}
    QFrame#card, QFrame#resultCard {{ background: {card}; border: 1px solid {border};
        border-radius: 10px; }}
    QFrame#userBubble {{ background: {user}; border-radius: 14px; }}
    QFrame#assistantBubble {{ background: {card}; border: 1px solid {border};
        border-radius: 14px; }}
    QFrame#composer {{ background: {card}; border: 1px solid {border}; border-radius: 14px; }}
    QFrame#composer QPlainTextEdit {{ border: none; background: transparent; }}
    QFrame#chip {{ background: {side}; border: 1px solid {border}; border-radius: 10px; }}
    QFrame#banner {{ background: {user}; border-radius: 8px; }}
    QPushButton#primary {{ background: {ACCENT.name()}; color: white; border: none;
        border-radius: 8px; padding: 6px 14px; font-weight: 600; }}
    QPushButton#primary:disabled {{ background: {border}; color: {muted}; }}
    QPushButton#danger {{ background: #dc2626; color: white; border: none; border-radius: 8px;
        padding: 6px 14px; font-weight: 600; }}
    QPushButton#danger:disabled {{ background: {border}; color: {muted}; }}
    QListWidget#conversations {{ border: none; background: transparent; }}
    QListWidget#conversations::item {{ border-radius: 8px; padding: 6px; }}
    QListWidget#conversations::item:selected {{ background: {card}; color: palette(text); }}
    QScrollArea#chatScroll, QScrollArea#taskScroll {{ border: none; background: transparent; }}
    QGraphicsView#planGraph {{ border: 1px solid {border}; border-radius: 10px;
        background: {card}; }}
    """


def apply_theme(app: QApplication) -> None:
    """Fusion with our palette, re-applied whenever the system switches light/dark."""
    app.setStyle("Fusion")
    _apply(app)
    hints = QGuiApplication.styleHints()
    if not app.property("conductorThemeHooked"):
        hints.colorSchemeChanged.connect(lambda _scheme: _apply(app))
        app.setProperty("conductorThemeHooked", True)


def _apply(app: QApplication) -> None:
    dark = is_dark()
    app.setPalette(_palette(dark))
    app.setStyleSheet(_style_sheet(dark))
    app.setProperty("conductorDark", dark)


def muted_color() -> QColor:
    """The colour of secondary text in the current theme (for painted widgets)."""
    return QColor("#9aa0aa") if is_dark() else QColor("#6b7079")
