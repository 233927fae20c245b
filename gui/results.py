"""Task results shown where they belong: images inline, audio playable, boxes over the picture.

Runners return typed outputs (``text``, ``image``, ``audio``, ``labels``, ``boxes``; files are
names inside the run's workspace). ``ResultCard`` turns one task's outputs into the right widgets,
and every file gets "Save as" and "Show in folder". Nothing here plays or decodes on import:
QtMultimedia loads on the first press of Play, so a machine without an audio device still shows
the widget (and says why it cannot play) instead of failing.
"""

from __future__ import annotations

import html
import re
import shutil
import wave
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRectF, QSize, Qt, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QFont,
    QGuiApplication,
    QMouseEvent,
    QPainter,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.theme import ACCENT, status_color

GENERATED = re.compile(r"<GENERATED>-(\d+)")
THUMB = QSize(420, 280)


# ---------------------------------------------------------------- files


def wav_duration(path: Path) -> float | None:
    """Seconds of audio, read from the file header (no decoding, no audio device needed)."""
    try:
        with wave.open(str(path), "rb") as handle:
            return handle.getnframes() / float(handle.getframerate())
    except (wave.Error, OSError, EOFError, ZeroDivisionError):
        pass
    try:
        import soundfile

        info = soundfile.info(str(path))
        return info.frames / float(info.samplerate)
    except Exception:
        return None


def format_time(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes, rest = divmod(max(0.0, seconds), 60)
    return f"{int(minutes)}:{rest:04.1f}"


def show_in_folder(path: Path) -> bool:
    """Open the folder holding a file in the desktop's file manager."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent)))


class FileActions(QWidget):
    """A produced file's name with "Save as…" and "Show in folder"."""

    def __init__(self, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = path
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        name = QLabel(path.name)
        name.setObjectName("caption")
        name.setToolTip(str(path))
        name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.save_button = QPushButton("Save as…")
        self.save_button.clicked.connect(self.save_as)
        self.folder_button = QPushButton("Show in folder")
        self.folder_button.clicked.connect(lambda: show_in_folder(self.path))
        layout.addWidget(name, 1)
        layout.addWidget(self.save_button)
        layout.addWidget(self.folder_button)

    def save_as(self, target: str | None = None) -> Path | None:
        """Copy the file where the user chooses (``target`` skips the dialog, for tests)."""
        if not target:
            target, _ = QFileDialog.getSaveFileName(self, "Save as",
                                                    str(Path.home() / self.path.name))
        if not target:
            return None
        shutil.copyfile(self.path, target)
        return Path(target)


# ---------------------------------------------------------------- images


class ImageViewer(QDialog):
    """A picture at full size, scrollable (opened by clicking a thumbnail)."""

    def __init__(self, pixmap: QPixmap, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        label = QLabel()
        label.setPixmap(pixmap)
        scroll = QScrollArea()
        scroll.setWidget(label)
        scroll.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        screen = QGuiApplication.primaryScreen().availableSize()
        self.resize(min(pixmap.width() + 24, int(screen.width() * 0.9)),
                    min(pixmap.height() + 24, int(screen.height() * 0.9)))


class ClickableImage(QLabel):
    """A thumbnail that opens the full picture when clicked."""

    clicked = Signal()

    def __init__(self, pixmap: QPixmap, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.full = pixmap
        self.title = title
        self.viewer: ImageViewer | None = None
        shown = pixmap
        if pixmap.width() > THUMB.width() or pixmap.height() > THUMB.height():
            shown = pixmap.scaled(THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                  Qt.TransformationMode.SmoothTransformation)
        self.setPixmap(shown)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Click to open at full size")
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.clicked.connect(self.open_full)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()
        super().mouseReleaseEvent(event)

    def open_full(self) -> ImageViewer:
        self.viewer = ImageViewer(self.full, self.title, self.window())
        self.viewer.show()
        return self.viewer


def draw_boxes(pixmap: QPixmap, boxes: list[dict[str, Any]]) -> QPixmap:
    """A copy of the picture with each box outlined and labelled with its score."""
    result = QPixmap(pixmap)
    painter = QPainter(result)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    scale = max(1.0, max(pixmap.width(), pixmap.height()) / 600.0)
    font = QFont(painter.font())
    font.setPixelSize(int(13 * scale))
    font.setBold(True)
    painter.setFont(font)
    colors = [QColor("#f43f5e"), QColor("#22c55e"), QColor("#3b82f6"), QColor("#f59e0b"),
              QColor("#a855f7")]
    for index, item in enumerate(boxes):
        x0, y0, x1, y1 = (float(v) for v in item["box"])
        color = colors[index % len(colors)]
        painter.setPen(QPen(color, 2.5 * scale))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        caption = f"{item.get('label', '')} {float(item.get('score', 0)):.0%}".strip()
        width = painter.fontMetrics().horizontalAdvance(caption) + 8 * scale
        height = painter.fontMetrics().height() + 2 * scale
        top = y0 - height if y0 - height >= 0 else y0
        painter.fillRect(QRectF(x0, top, width, height), color)
        painter.setPen(QColor("white"))
        painter.drawText(QRectF(x0 + 4 * scale, top, width, height),
                         Qt.AlignmentFlag.AlignVCenter, caption)
    painter.end()
    return result


# ---------------------------------------------------------------- audio


class AudioResult(QWidget):
    """Play/pause, a position slider, and the duration read from the file header."""

    def __init__(self, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self.duration = wav_duration(path)
        self._player: Any = None
        self._output: Any = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.play_button = QToolButton()
        self.play_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.play_button.setIconSize(QSize(22, 22))
        self.play_button.setToolTip("Play")
        self.play_button.clicked.connect(self.toggle)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, int((self.duration or 0) * 1000))
        self.slider.sliderMoved.connect(self._seek)
        self.time_label = QLabel()
        self.time_label.setObjectName("muted")
        row.addWidget(self.play_button)
        row.addWidget(self.slider, 1)
        row.addWidget(self.time_label)
        layout.addLayout(row)
        self.note = QLabel()
        self.note.setObjectName("caption")
        self.note.setWordWrap(True)
        self.note.hide()
        layout.addWidget(self.note)
        self._show_position(0)

    @property
    def duration_text(self) -> str:
        return format_time(self.duration)

    def _show_position(self, ms: int) -> None:
        self.time_label.setText(f"{format_time(ms / 1000)} / {self.duration_text}")

    def _ensure_player(self) -> bool:
        """Create the media player on first use; False (with a note) where it cannot play."""
        if self._player is not None:
            return True
        try:
            from PySide6.QtMultimedia import QAudioOutput, QMediaDevices, QMediaPlayer
        except ImportError as exc:
            self._say(f"Playback is not available ({exc}); use Save as or Show in folder.")
            return False
        if not QMediaDevices.audioOutputs():
            self._say("No audio output device was found; use Save as or Show in folder.")
            return False
        self._output = QAudioOutput(self)
        self._player = QMediaPlayer(self)
        self._player.setAudioOutput(self._output)
        self._player.setSource(QUrl.fromLocalFile(str(self.path)))
        self._player.positionChanged.connect(self._on_position)
        self._player.playbackStateChanged.connect(self._on_state)
        self._player.errorOccurred.connect(lambda _e, text: self._say(f"Cannot play: {text}"))
        return True

    def toggle(self) -> None:
        if not self._ensure_player():
            return
        from PySide6.QtMultimedia import QMediaPlayer

        if self._player.playbackState() == QMediaPlayer.PlaybackState.PlayingState:
            self._player.pause()
        else:
            self._player.play()

    def _on_position(self, ms: int) -> None:
        if not self.slider.isSliderDown():
            self.slider.setValue(ms)
        self._show_position(ms)

    def _on_state(self, state: Any) -> None:
        from PySide6.QtMultimedia import QMediaPlayer

        playing = state == QMediaPlayer.PlaybackState.PlayingState
        pixmaps = QStyle.StandardPixmap
        icon = pixmaps.SP_MediaPause if playing else pixmaps.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setToolTip("Pause" if playing else "Play")

    def _seek(self, ms: int) -> None:
        if self._player is not None:
            self._player.setPosition(ms)

    def _say(self, text: str) -> None:
        self.note.setText(text)
        self.note.show()


# ---------------------------------------------------------------- labels and text


class LabelBars(QWidget):
    """Labels with their scores as bars, best first."""

    def __init__(self, labels: list[dict[str, Any]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(4)
        self.bars: list[QProgressBar] = []
        ranked = sorted(labels, key=lambda item: -float(item.get("score", 0)))[:8]
        for row, item in enumerate(ranked):
            score = float(item.get("score", 0))
            name = QLabel(str(item.get("label", "")))
            bar = QProgressBar()
            bar.setRange(0, 1000)
            bar.setValue(int(round(min(1.0, max(0.0, score)) * 1000)))
            bar.setTextVisible(False)
            bar.setFixedHeight(10)
            color = ACCENT.name() if row == 0 else "#8a8f98"
            bar.setStyleSheet(f"QProgressBar {{ border: none; border-radius: 5px;"
                              f" background: rgba(128,128,128,0.2); }}"
                              f" QProgressBar::chunk {{ border-radius: 5px;"
                              f" background: {color}; }}")
            value = QLabel(f"{score:.1%}" if abs(score) <= 1 else f"{score:.3g}")
            value.setObjectName("muted")
            grid.addWidget(name, row, 0)
            grid.addWidget(bar, row, 1)
            grid.addWidget(value, row, 2)
            self.bars.append(bar)
        grid.setColumnStretch(1, 1)


class TextResult(QWidget):
    """Text that can be selected and copied with one click."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = text
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel(text)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy_button = QToolButton()
        self.copy_button.setText("Copy")
        self.copy_button.setToolTip("Copy this text")
        self.copy_button.clicked.connect(self.copy)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignTop)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text)
        self.copy_button.setText("Copied")


# ---------------------------------------------------------------- one task's card


def _input_image(task: dict[str, Any], workspace: Path,
                 tasks_by_id: dict[int, dict[str, Any]]) -> Path | None:
    """The picture a task looked at: an attached file or an earlier task's output."""
    value = task.get("args", {}).get("image")
    if not isinstance(value, str):
        return None
    match = GENERATED.fullmatch(value.strip())
    if match:
        source = tasks_by_id.get(int(match.group(1)), {}).get("outputs", {})
        value = source.get("image")
        if not value:
            return None
    path = workspace / value
    return path if path.is_file() else None


class ResultCard(QFrame):
    """One task's outcome: a header (task, model, time) and a widget per output."""

    def __init__(self, task: dict[str, Any], workspace: Path,
                 tasks_by_id: dict[int, dict[str, Any]] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("resultCard")
        self.task = task
        self.files: list[Path] = []
        self.audio: list[AudioResult] = []
        self.images: list[ClickableImage] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(8)
        status = task.get("status", "done")
        seconds = task.get("seconds")
        header = (f"<b>{task['id']}&nbsp; {html.escape(task['task'])}</b>"
                  f"&nbsp;&nbsp;<span style='color:#8a8f98'>"
                  f"{html.escape(task.get('model') or 'no model')}"
                  + (f" · {seconds:.1f} s" if seconds is not None else "") + "</span>")
        if status != "done":
            header += f"&nbsp;&nbsp;<span style='color:{status_color(status).name()}'>" \
                      f"{html.escape(status)}</span>"
        title = QLabel(header)
        layout.addWidget(title)
        if status != "done":
            error = QLabel(task.get("error") or status)
            error.setTextFormat(Qt.TextFormat.PlainText)
            error.setWordWrap(True)
            error.setStyleSheet(f"color: {status_color(status).name()};")
            layout.addWidget(error)
            return
        self._add_outputs(layout, task.get("outputs") or {}, workspace, tasks_by_id or {})

    def _add_outputs(self, layout: QVBoxLayout, outputs: dict[str, Any], workspace: Path,
                     tasks_by_id: dict[int, dict[str, Any]]) -> None:
        boxes = outputs.get("boxes") or []
        shown_boxes = False
        if boxes:
            source = _input_image(self.task, workspace, tasks_by_id)
            if source is not None:
                pixmap = QPixmap(str(source))
                if not pixmap.isNull():
                    image = ClickableImage(draw_boxes(pixmap, boxes), source.name)
                    self.images.append(image)
                    layout.addWidget(image)
                    shown_boxes = True
        image_name = outputs.get("image")
        if image_name:
            path = workspace / image_name
            if not shown_boxes:
                pixmap = QPixmap(str(path))
                if not pixmap.isNull():
                    image = ClickableImage(pixmap, path.name)
                    self.images.append(image)
                    layout.addWidget(image)
            layout.addWidget(FileActions(path))
            self.files.append(path)
        audio_name = outputs.get("audio")
        if audio_name:
            path = workspace / audio_name
            player = AudioResult(path)
            self.audio.append(player)
            layout.addWidget(player)
            layout.addWidget(FileActions(path))
            self.files.append(path)
        labels = outputs.get("labels")
        if labels:
            layout.addWidget(LabelBars(labels))
        text = outputs.get("text")
        spoken = self.task.get("args", {}).get("text")
        if text and not (audio_name and text == spoken):  # skip echoing a read-aloud text
            layout.addWidget(TextResult(str(text)))

