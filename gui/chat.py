"""The conversation: messages, the streamed answer, results inline, and the composer.

The composer takes a request and files (button, drag and drop, pasted images); Enter sends and
Shift+Enter starts a new line, as in every chat app. An assistant message is built up live from
the run's events: its status line follows the stages, tokens stream into its text, and each task's
result card appears as soon as that task ends, before the answer is written.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage, QKeyEvent, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.events import CANCELLED, DONE, RunResult
from gui.results import ResultCard
from gui.theme import status_color
from gui.voice import VoiceInput, microphone_problem

FILE_FILTER = ("Images, audio and text (*.png *.jpg *.jpeg *.bmp *.gif *.webp *.tif *.tiff "
               "*.wav *.flac *.mp3 *.ogg *.m4a *.txt *.md);;All files (*)")
EXAMPLES = (
    "Read this aloud, then transcribe the recording: offline assistants keep your data private",
    "Is this review positive or negative? The battery lasts all day and the screen is gorgeous.",
    "Find the people, places and dates in: Ada Lovelace met Charles Babbage in London in 1833.",
)


def attachable(path: Path) -> bool:
    """Files a task can take (by extension); others are refused when attached."""
    from core.tasks import kind_of_file

    return path.is_file() and kind_of_file(path.name) is not None


# ---------------------------------------------------------------- messages


class UserMessage(QWidget):
    """The user's request, right-aligned, with its attachments."""

    def __init__(self, text: str, files: list[Path], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = text
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addStretch(1)
        self.bubble = QFrame()
        self.bubble.setObjectName("userBubble")
        inner = QVBoxLayout(self.bubble)
        inner.setContentsMargins(14, 10, 14, 10)
        label = QLabel(text)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        inner.addWidget(label)
        # a wrapped label asks for a narrow width; ask for the text's own width instead
        self.natural_width = max(label.fontMetrics().horizontalAdvance(line)
                                 for line in text.splitlines() or [""]) + 32
        if files:
            chips = QHBoxLayout()
            for path in files:
                chips.addWidget(AttachmentChip(path, removable=False))
            chips.addStretch(1)
            inner.addLayout(chips)
        row.addWidget(self.bubble)


class AssistantMessage(QWidget):
    """Conductor's reply: a status line, the streamed answer, and each task's results.

    The speaker button reads the answer's summary aloud (``speak_requested(run_id)``; the
    window makes and plays the WAV) and stops it when clicked again."""

    speak_requested = Signal(str)
    stop_speaking = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run_id: str | None = None
        self.speaking = False
        self.answer_text = ""
        self.tokens = 0
        self.workspace: Path | None = None
        self.tasks: dict[int, dict[str, Any]] = {}
        self.cards: list[ResultCard] = []
        self.status = "running"
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.bubble = QFrame()
        self.bubble.setObjectName("assistantBubble")
        inner = QVBoxLayout(self.bubble)
        inner.setContentsMargins(14, 10, 14, 12)
        inner.setSpacing(8)
        head = QHBoxLayout()
        name = QLabel("<b>Conductor</b>")
        self.status_label = QLabel("Waiting…")
        self.status_label.setObjectName("muted")
        head.addWidget(name)
        head.addWidget(self.status_label, 1)
        self.copy_button = QToolButton()
        self.copy_button.setText("Copy")
        self.copy_button.setToolTip("Copy the answer")
        self.copy_button.clicked.connect(self.copy)
        self.copy_button.hide()
        self.speak_button = QToolButton()
        self.speak_button.setText("▶ Read aloud")
        self.speak_button.setToolTip("Read the answer aloud (its summary, not the results list)")
        self.speak_button.clicked.connect(self._speak_clicked)
        self.speak_button.hide()
        head.addWidget(self.speak_button)
        head.addWidget(self.copy_button)
        inner.addLayout(head)
        self.answer = QLabel()
        self.answer.setTextFormat(Qt.TextFormat.PlainText)
        self.answer.setWordWrap(True)
        self.answer.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.answer.hide()
        inner.addWidget(self.answer)
        self.results = QVBoxLayout()
        self.results.setSpacing(8)
        inner.addLayout(self.results)
        self.footer = QLabel()
        self.footer.setObjectName("caption")
        self.footer.hide()
        inner.addWidget(self.footer)
        self.bubble.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        # Left-aligned by a trailing stretch, not by Qt.AlignLeft: a layout item with an
        # alignment reports no maximum width, so the row computed its height for a bubble as wide
        # as the whole row, then laid the (narrower) bubble out in that height, and the wrapped
        # answer lost its last lines.
        row.addWidget(self.bubble, 1)
        row.addStretch(0)

    # -- live

    def set_status(self, text: str) -> None:
        self.status_label.setText(text)

    def set_workspace(self, path: Path) -> None:
        self.workspace = path

    def append_token(self, text: str) -> None:
        self.tokens += 1
        self.answer_text += text
        self.answer.setText(self.answer_text.lstrip())
        self.answer.show()

    def add_task(self, task: dict[str, Any]) -> None:
        """A task ended: show its outputs (files are relative to the run's workspace)."""
        self.tasks[task["id"]] = task
        if self.workspace is None:
            return
        card = ResultCard(task, self.workspace, self.tasks)
        self.cards.append(card)
        self.results.addWidget(card)

    def _speak_clicked(self) -> None:
        if self.speaking:
            self.stop_speaking.emit()
        elif self.run_id:
            self.set_speaking(True, "Preparing…")
            self.speak_requested.emit(self.run_id)

    def set_speaking(self, speaking: bool, text: str = "") -> None:
        """The button's state: a stop button while the answer is read (or being made)."""
        self.speaking = speaking
        self.speak_button.setText(f"■ Stop {text}".rstrip() if speaking else "▶ Read aloud")
        self.speak_button.setToolTip("Stop reading aloud" if speaking else
                                     "Read the answer aloud (its summary, not the results list)")

    def finish(self, result: RunResult) -> None:
        self.run_id = result.run_id or self.run_id
        self.speak_button.setVisible(result.status == DONE and bool(result.answer))
        self.status = result.status
        self.answer_text = result.answer or self.answer_text
        self.answer.setText(self.answer_text)
        self.answer.setVisible(bool(self.answer_text))
        self.copy_button.setVisible(bool(self.answer_text))
        if self.workspace is None and result.workspace:
            self.workspace = Path(result.workspace)
        for task in result.tasks:  # tasks whose events were missed (a replay)
            if task["id"] not in self.tasks:
                self.add_task(task)
        if self.status == CANCELLED:
            self.set_status("stopped")
            self.status_label.setStyleSheet(f"color: {status_color('cancelled').name()};")
        else:
            self.set_status("")
        if result.timings.get("total") is not None:
            text = f"{result.timings['total']:.1f} s"
            if result.models:
                text += " · " + ", ".join(result.models)
            self.footer.setText(text)
            self.footer.show()

    def fail(self, message: str) -> None:
        self.status = "failed"
        self.set_status("failed")
        self.status_label.setStyleSheet(f"color: {status_color('failed').name()};")
        self.answer_text = message
        self.answer.setText(message)
        self.answer.setStyleSheet(f"color: {status_color('failed').name()};")
        self.answer.show()

    def copy(self) -> None:
        from PySide6.QtGui import QGuiApplication

        QGuiApplication.clipboard().setText(self.answer_text)
        self.copy_button.setText("Copied")


class AttachmentChip(QFrame):
    """A file waiting to be sent (or sent): thumbnail or name, and a remove button."""

    removed = Signal(object)

    def __init__(self, path: Path, removable: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chip")
        self.path = path
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 3, 4, 3)
        layout.setSpacing(4)
        pixmap = QPixmap(str(path)) if path.suffix.lower() in (".png", ".jpg", ".jpeg", ".bmp",
                                                               ".gif", ".webp") else QPixmap()
        if not pixmap.isNull():
            thumb = QLabel()
            thumb.setPixmap(pixmap.scaled(QSize(28, 28), Qt.AspectRatioMode.KeepAspectRatio,
                                          Qt.TransformationMode.SmoothTransformation))
            layout.addWidget(thumb)
        name = QLabel(path.name)
        name.setToolTip(str(path))
        layout.addWidget(name)
        if removable:
            close = QToolButton()
            close.setText("×")
            close.setAutoRaise(True)
            close.setToolTip("Remove")
            close.clicked.connect(lambda: self.removed.emit(self))
            layout.addWidget(close)


# ---------------------------------------------------------------- composer


class PromptEdit(QPlainTextEdit):
    """The request box: Enter sends, Shift+Enter is a new line, pasted images become files."""

    send = Signal()
    files_pasted = Signal(list)
    talk_pressed = Signal()  # Ctrl+Space went down: push to talk
    talk_released = Signal()

    def __init__(self, paste_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.paste_dir = paste_dir
        self.setPlaceholderText("Ask Conductor… (Enter sends, Shift+Enter for a new line)")
        self.setTabChangesFocus(True)
        self.document().contentsChanged.connect(self._fit_height)
        self._fit_height()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt's name)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
                event.modifiers() & Qt.KeyboardModifier.ShiftModifier):
            self.send.emit()
            return
        if event.key() == Qt.Key.Key_Space and (
                event.modifiers() & Qt.KeyboardModifier.ControlModifier):
            if not event.isAutoRepeat():
                self.talk_pressed.emit()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt's name)
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self.talk_released.emit()  # ignored unless Ctrl+Space started a recording
        super().keyReleaseEvent(event)

    def canInsertFromMimeData(self, source: QMimeData) -> bool:  # noqa: N802 (Qt's name)
        return source.hasImage() or source.hasUrls() or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:  # noqa: N802 (Qt's name)
        if source.hasUrls() and all(url.isLocalFile() for url in source.urls()):
            self.files_pasted.emit([Path(url.toLocalFile()) for url in source.urls()])
            return
        if source.hasImage():
            image = QImage(source.imageData())
            if not image.isNull():
                self.paste_dir.mkdir(parents=True, exist_ok=True)
                path = self.paste_dir / f"pasted-{time.strftime('%Y%m%d-%H%M%S')}.png"
                counter = 1
                while path.exists():
                    counter += 1
                    path = path.with_name(f"pasted-{time.strftime('%Y%m%d-%H%M%S')}-{counter}.png")
                image.save(str(path), "PNG")
                self.files_pasted.emit([path])
                return
        super().insertFromMimeData(source)

    def _fit_height(self) -> None:
        lines = max(1, min(6, int(self.document().size().height())))
        height = self.fontMetrics().lineSpacing() * lines + 14
        self.setFixedHeight(height)


class Composer(QFrame):
    """Request box, attachments, the microphone and the Send/Stop button.

    Push to talk: hold the microphone button (or Ctrl+Space), speak, release; the recording is
    transcribed (``dictated``, handled by the window) and the text lands in the box to edit,
    with the recording kept for the turn. Esc cancels a recording."""

    submitted = Signal(str, list, object)  # text, files, the spoken request's WAV or None
    stop_requested = Signal()
    dictated = Signal(object)  # a finished recording (Path) to transcribe
    talking = Signal()  # a recording started

    def __init__(self, paste_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("composer")
        self.files: list[Path] = []
        self.recording: Path | None = None  # the spoken request the box's text came from
        self.running = False
        self.hands_free = False  # a recording then ends when the speaker stops (Silero VAD)
        self.voice = VoiceInput(paste_dir, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(6)
        self.chips = QHBoxLayout()
        self.chips.addStretch(1)
        layout.addLayout(self.chips)
        row = QHBoxLayout()
        self.attach_button = QToolButton()
        self.attach_button.setText("+")
        self.attach_button.setStyleSheet("QToolButton { font-size: 20px; font-weight: 600;"
                                         " padding: 0 6px; }")
        self.attach_button.setToolTip("Attach files (images, audio, text); you can also drop or "
                                      "paste them")
        self.attach_button.setAutoRaise(True)
        self.attach_button.clicked.connect(self.choose_files)
        self.editor = PromptEdit(paste_dir)
        self.editor.send.connect(self.submit)
        self.editor.files_pasted.connect(self.add_files)
        self.send_button = QPushButton("Send")
        self.send_button.setObjectName("primary")
        self.send_button.setToolTip("Send (Enter)")
        self.send_button.clicked.connect(self._send_or_stop)
        self.mic_button = QToolButton()
        self.mic_button.setText("Talk")
        self.mic_button.setObjectName("micButton")
        self.mic_button.setAutoRaise(True)
        self.mic_button.pressed.connect(self.start_talking)
        self.mic_button.released.connect(self.stop_talking)
        self.editor.talk_pressed.connect(self.start_talking)
        self.editor.talk_released.connect(self.stop_talking)
        self.set_microphone(microphone_problem())
        row.addWidget(self.attach_button, 0, Qt.AlignmentFlag.AlignBottom)
        row.addWidget(self.editor, 1)
        row.addWidget(self.mic_button, 0, Qt.AlignmentFlag.AlignBottom)
        row.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignBottom)
        layout.addLayout(row)
        self.recording_bar = QFrame()
        bar = QHBoxLayout(self.recording_bar)
        bar.setContentsMargins(4, 0, 4, 0)
        self.recording_dot = QLabel("● Recording")
        self.recording_dot.setStyleSheet(f"color: {status_color('failed').name()};")
        self.level_meter = QProgressBar()
        self.level_meter.setRange(0, 100)
        self.level_meter.setTextVisible(False)
        self.level_meter.setFixedHeight(8)
        self.elapsed_label = QLabel("0.0 s")
        hint = QLabel("release to transcribe · Esc cancels")
        hint.setObjectName("caption")
        for widget, stretch in ((self.recording_dot, 0), (self.level_meter, 1),
                                (self.elapsed_label, 0), (hint, 0)):
            bar.addWidget(widget, stretch)
        self.recording_bar.hide()
        layout.addWidget(self.recording_bar)
        self.voice.level.connect(lambda value: self.level_meter.setValue(round(value * 100)))
        self.voice.elapsed.connect(lambda seconds: self.elapsed_label.setText(f"{seconds:.1f} s"))
        self.voice.finished.connect(self._recorded)
        self.voice.cancelled.connect(self._recording_ended)
        self.note = QLabel()
        self.note.setObjectName("caption")
        self.note.hide()
        layout.addWidget(self.note)

    # -- voice

    def set_microphone(self, problem: str | None) -> None:
        """Enable push to talk, or disable it with the reason as its tooltip."""
        self.mic_button.setEnabled(problem is None)
        self.mic_button.setToolTip(problem or "Hold to talk (or hold Ctrl+Space); release to "
                                   "transcribe into the box. Esc cancels.")

    def start_talking(self, hands_free: bool | None = None, microphone: bool = True) -> None:
        """Start recording (the button or Ctrl+Space went down; the hands-free loop's turn);
        ``microphone=False`` when the audio will be fed from a file."""
        if self.voice.active or (microphone and not self.mic_button.isEnabled()):
            return
        self.level_meter.setValue(0)
        self.elapsed_label.setText("0.0 s")
        self.recording_bar.show()
        self.talking.emit()
        self.voice.start(hands_free=self.hands_free if hands_free is None else hands_free,
                         microphone=microphone)

    def dictate_file(self, path: Path, hands_free: bool | None = None) -> None:
        """Say a sound file into the microphone's path: start, feed it, release (a hands-free
        recording ends by itself when the speech in it stops)."""
        self.start_talking(hands_free=hands_free, microphone=False)
        self.voice.feed_file(path)
        self.stop_talking()

    def stop_talking(self) -> None:
        if self.voice.active and not self.voice.hands_free:
            self.voice.stop()

    def cancel_talking(self) -> bool:
        """Esc while recording: drop it (True if there was one)."""
        if not self.voice.active:
            return False
        self.voice.cancel()
        return True

    def _recorded(self, path: Path) -> None:
        self._recording_ended()
        self.note.setText("Transcribing…")
        self.note.show()
        self.dictated.emit(path)

    def _recording_ended(self) -> None:
        self.recording_bar.hide()

    def set_dictation(self, text: str, recording: Path) -> None:
        """The transcript in the box (editable), the recording kept for the turn."""
        self.editor.setPlainText(text)
        self.editor.moveCursor(self.editor.textCursor().MoveOperation.End)
        self.recording = recording
        self.note.setText(f"From your recording ({recording.name}); edit before sending."
                          if text else "No words were heard in the recording.")
        self.note.show()

    def choose_files(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(self, "Attach files", str(Path.home()),
                                                FILE_FILTER)
        self.add_files([Path(n) for n in names])

    def add_files(self, paths: list[Path]) -> list[Path]:
        """Attach files a task can take; returns those refused (and says so)."""
        refused = []
        for path in paths:
            path = Path(path)
            if not attachable(path):
                refused.append(path)
                continue
            if path in self.files:
                continue
            self.files.append(path)
            chip = AttachmentChip(path)
            chip.removed.connect(self._remove_chip)
            self.chips.insertWidget(self.chips.count() - 1, chip)
        if refused:
            self.note.setText("Not attached (only images, audio and .txt/.md text): "
                              + ", ".join(p.name for p in refused))
            self.note.show()
        else:
            self.note.hide()
        return refused

    def _remove_chip(self, chip: AttachmentChip) -> None:
        if chip.path in self.files:
            self.files.remove(chip.path)
        chip.deleteLater()

    def clear_files(self) -> None:
        self.files = []
        for index in reversed(range(self.chips.count())):
            widget = self.chips.itemAt(index).widget()
            if isinstance(widget, AttachmentChip):
                widget.deleteLater()

    def set_running(self, running: bool) -> None:
        """While a run is going the button stops it; the box stays editable for the next one."""
        self.running = running
        self.send_button.setText("Stop" if running else "Send")
        self.send_button.setObjectName("danger" if running else "primary")
        self.send_button.setToolTip("Stop this run (Esc)" if running else "Send (Enter)")
        self.send_button.setEnabled(True)
        self.send_button.style().unpolish(self.send_button)
        self.send_button.style().polish(self.send_button)

    def set_stopping(self) -> None:
        self.send_button.setText("Stopping…")
        self.send_button.setEnabled(False)

    def _send_or_stop(self) -> None:
        if self.running:
            self.stop_requested.emit()
        else:
            self.submit()

    def submit(self) -> None:
        text = self.editor.toPlainText().strip()
        if not text or self.running:
            return
        files, recording = list(self.files), self.recording
        self.editor.clear()
        self.clear_files()
        self.recording = None
        self.note.hide()
        self.submitted.emit(text, files, recording)


# ---------------------------------------------------------------- the view


class MessageList(QScrollArea):
    """The scrolling column of messages; follows the bottom while the user is there."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chatScroll")
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.body = QWidget()
        self.column = QVBoxLayout(self.body)
        self.column.setContentsMargins(18, 18, 18, 18)
        self.column.setSpacing(14)
        self.column.addStretch(1)
        self.setWidget(self.body)
        self._stick = True
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(lambda v: setattr(self, "_stick", v >= bar.maximum() - 40))
        bar.rangeChanged.connect(lambda _lo, hi: bar.setValue(hi) if self._stick else None)

    def add(self, widget: QWidget) -> None:
        self._stick = True
        self.column.insertWidget(self.column.count() - 1, widget)
        self._limit_width(widget)

    def messages(self) -> list[QWidget]:
        return [self.column.itemAt(i).widget() for i in range(self.column.count())
                if self.column.itemAt(i).widget() is not None]

    def clear(self) -> None:
        for widget in self.messages():
            widget.setParent(None)
            widget.deleteLater()

    def _limit_width(self, widget: QWidget) -> None:
        bubble = getattr(widget, "bubble", None)
        if bubble is None:
            return
        limit = max(320, int(self.viewport().width() * 0.85) - 36)
        bubble.setMaximumWidth(limit)
        natural = getattr(widget, "natural_width", None)
        if natural is not None:
            bubble.setMinimumWidth(min(natural, limit))
        else:
            bubble.setMinimumWidth(limit)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        for widget in self.messages():
            self._limit_width(widget)


class Welcome(QWidget):
    """What an empty chat shows: what Conductor is and requests to try."""

    example_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 40, 18, 18)
        layout.setSpacing(10)
        title = QLabel("What can I do for you?")
        title.setObjectName("pageTitle")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text = QLabel("A local model plans the work, picks expert models for each step, runs them "
                      "on this computer and answers. Nothing leaves your machine.")
        text.setObjectName("muted")
        text.setWordWrap(True)
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(title)
        layout.addWidget(text)
        for example in EXAMPLES:
            card = ExampleCard(example)
            card.clicked.connect(self.example_chosen)
            layout.addWidget(card)
        layout.addStretch(1)


class ExampleCard(QFrame):
    """A request to try: wraps to any width, fills the composer when clicked."""

    clicked = Signal(str)

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.text = text
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Put this request in the box below")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        label = QLabel(text)
        label.setWordWrap(True)
        label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout.addWidget(label)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(self.text)
        super().mouseReleaseEvent(event)


class ChatView(QWidget):
    """Messages above, composer below; files dropped anywhere on it are attached."""

    submitted = Signal(str, list, object)
    stop_requested = Signal()
    speak_requested = Signal(object)  # the AssistantMessage whose answer to read aloud
    stop_speaking = Signal()

    def __init__(self, paste_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 12)
        layout.setSpacing(8)
        self.messages = MessageList()
        self.welcome = Welcome()
        self.welcome.example_chosen.connect(self._use_example)
        self.messages.add(self.welcome)
        layout.addWidget(self.messages, 1)
        self.composer = Composer(paste_dir)
        self.composer.submitted.connect(self.submitted)
        self.composer.stop_requested.connect(self.stop_requested)
        holder = QHBoxLayout()
        holder.setContentsMargins(18, 0, 18, 0)
        holder.addWidget(self.composer)
        layout.addLayout(holder)

    def _use_example(self, text: str) -> None:
        self.composer.editor.setPlainText(text)
        self.composer.editor.setFocus()

    def clear(self) -> None:
        self.messages.clear()
        self.welcome = Welcome()
        self.welcome.example_chosen.connect(self._use_example)
        self.messages.add(self.welcome)

    def add_user(self, text: str, files: list[Path]) -> UserMessage:
        self._drop_welcome()
        message = UserMessage(text, files)
        self.messages.add(message)
        return message

    def add_assistant(self) -> AssistantMessage:
        self._drop_welcome()
        message = AssistantMessage()
        message.speak_requested.connect(lambda _run_id: self.speak_requested.emit(message))
        message.stop_speaking.connect(self.stop_speaking)
        self.messages.add(message)
        return message

    def assistant_messages(self) -> list[AssistantMessage]:
        return [m for m in self.messages.messages() if isinstance(m, AssistantMessage)]

    def _drop_welcome(self) -> None:
        if self.welcome is not None:
            self.welcome.setParent(None)
            self.welcome.deleteLater()
            self.welcome = None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt's name)
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt's name)
        data = event.mimeData()
        if data.hasUrls():
            self.composer.add_files([Path(u.toLocalFile()) for u in data.urls() if u.isLocalFile()])
            event.acceptProposedAction()
        elif data.hasImage():
            self.composer.editor.insertFromMimeData(data)
            event.acceptProposedAction()
