"""The main window: navigation, the chat page (history, chat, work panel), models, settings.

It owns the one ``AssistantBridge`` and routes its signals: events go to the live assistant
message and the work panel, the end of a run re-enables the composer and refreshes the history.
The history and the model pages go through ``core.services.Services`` (their own connections
on the UI thread; WAL lets them read while the worker thread writes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QLabel,
    QMainWindow,
    QProgressBar,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.config import Settings
from core.events import CANCELLED, DONE, Event, EventKind, RunResult
from core.services import CacheBuilder, Services
from gui.bridge import AssistantBridge, AssistantFactory
from gui.chat import AssistantMessage, ChatView
from gui.first_start import FirstStartPage
from gui.models_page import ModelsPage
from gui.settings_dialog import SettingsDialog, save_settings
from gui.sidebar import Sidebar
from gui.voice import AnswerPlayer
from gui.work_panel import WorkPanel

STAGE_STATUS = {"planning": "Planning…", "selection": "Choosing models…",
                "execution": "Running the tasks…", "response": "Writing the answer…"}


class MainWindow(QMainWindow):
    """Conductor's window. ``run_finished(status)`` fires when a request ends."""

    run_finished = Signal(str)

    def __init__(self, settings: Settings, settings_home: Path | None = None,
                 assistant_factory: AssistantFactory | None = None,
                 builder: CacheBuilder | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.settings_home = Path(settings_home or settings.data_path)
        self.setWindowTitle("Conductor")
        self.resize(1440, 900)
        self.conversation_id: str | None = None
        self.message: AssistantMessage | None = None
        self.running = False
        self.stopping = False
        self.last_result: RunResult | None = None
        self.roles: dict[str, str] = {}  # the planner's and the writer's ids, once warmed up
        self.warm_seconds: dict[str, float] | None = None
        self.services = Services(settings)
        self.bridge = AssistantBridge(settings, assistant_factory, self)
        self.bridge.event.connect(self._on_event)
        self.bridge.finished.connect(self._on_finished)
        self.bridge.failed.connect(self._on_failed)
        self.bridge.loading.connect(self._on_loading)
        self.bridge.warmed.connect(self._on_warmed)
        self.bridge.problem.connect(self._on_problem)
        self.bridge.transcribed.connect(self._on_transcribed)
        self.bridge.spoken.connect(self._on_spoken)
        self.bridge.voice_failed.connect(self._on_voice_failed)
        self.player = AnswerPlayer(self)
        self.player.stopped.connect(self._on_speech_stopped)
        self.speaking_message: AssistantMessage | None = None
        self.listen_after_speech = False  # hands-free: the answer being read came from a turn

        # pages
        self.sidebar = Sidebar()
        self.sidebar.new_chat.connect(self.new_chat)
        self.sidebar.open_conversation.connect(self.open_conversation)
        self.chat = ChatView(settings.data_path / "attachments")
        self.chat.submitted.connect(self.send)
        self.chat.stop_requested.connect(self.stop)
        self.chat.speak_requested.connect(self.speak)
        self.chat.stop_speaking.connect(self.player.stop)
        self.chat.composer.dictated.connect(self._transcribe)
        self.chat.composer.talking.connect(self.player.stop)  # the user speaks: silence
        self.chat.composer.hands_free = settings.hands_free
        self.work = WorkPanel()
        self.work.stop_requested.connect(self.stop)
        self.chat_page = QSplitter()
        self.chat_page.addWidget(self.sidebar)
        self.chat_page.addWidget(self.chat)
        self.chat_page.addWidget(self.work)
        self.chat_page.setStretchFactor(1, 1)
        self.chat_page.setSizes([250, 700, 490])
        self.chat_page.setChildrenCollapsible(False)
        self.models_page = ModelsPage(self.services)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.chat_page)
        self.stack.addWidget(self.models_page)
        self.first_start: FirstStartPage | None = None

        # navigation rail
        rail = QWidget()
        rail.setObjectName("navRail")
        rail.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        rail_layout = QVBoxLayout(rail)
        rail_layout.setContentsMargins(8, 12, 8, 12)
        rail_layout.setSpacing(6)
        brand = QLabel("<b>Conductor</b>")
        brand.setAlignment(Qt.AlignmentFlag.AlignCenter)
        rail_layout.addWidget(brand)
        self.nav = QButtonGroup(self)
        self.chat_button = self._nav_button("Chat", "Conversations and live runs")
        self.models_button = self._nav_button("Models", "The model registry")
        self.settings_button = self._nav_button(
            "Settings", "Planner and writer models, threads, device, memory, data folder (Ctrl+,)",
            checkable=False)
        self.chat_button.setChecked(True)
        self.chat_button.clicked.connect(self.show_chat)
        self.models_button.clicked.connect(self.show_models)
        self.settings_button.clicked.connect(self.open_settings)
        for button in (self.chat_button, self.models_button):
            self.nav.addButton(button)
            rail_layout.addWidget(button)
        rail_layout.addStretch(1)
        rail_layout.addWidget(self.settings_button)
        self.rail = rail

        central = QSplitter()
        central.addWidget(rail)
        central.addWidget(self.stack)
        central.setStretchFactor(1, 1)
        central.setSizes([96, 1344])
        central.setHandleWidth(1)
        central.setChildrenCollapsible(False)
        self.setCentralWidget(central)

        # status bar: what is loading, and the current configuration
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(120)
        self.busy.setMaximumHeight(12)
        self.busy.hide()
        self.status_text = QLabel("Starting…")
        self.config_text = QLabel()
        self.config_text.setObjectName("muted")
        self.statusBar().addWidget(self.busy)
        self.statusBar().addWidget(self.status_text, 1)
        self.statusBar().addPermanentWidget(self.config_text)
        self._show_config()

        QShortcut(QKeySequence.StandardKey.New, self, self.new_chat)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.stop)
        QShortcut(QKeySequence("Ctrl+,"), self, self.open_settings)

        self.sidebar.set_history(self.services)
        reason = self.services.missing_controller()
        if reason:
            self._show_first_start(reason, builder)
        else:
            self._start_warm_up()
        self.chat.composer.editor.setFocus()

    def _nav_button(self, text: str, tip: str, checkable: bool = True) -> QToolButton:
        button = QToolButton()
        button.setObjectName("navButton")
        button.setText(text)
        button.setToolTip(tip)
        button.setCheckable(checkable)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        button.setMinimumWidth(76)
        return button

    def _show_config(self) -> None:
        chosen = self.settings
        if chosen.controller:
            models = f"{_short_id(chosen.controller)} (planner and writer)"
            tip = f"One model for both roles: {chosen.controller}"
        else:
            names = {role: self.roles.get(role) or getattr(chosen, role) for role in
                     ("planner", "writer")}
            models = " · ".join(f"{role} {_short_id(name) if name else 'automatic'}"
                                for role, name in names.items())
            tip = "\n".join(f"{role.capitalize()}: {name or 'best installed (automatic)'}"
                             for role, name in names.items())
        self.config_text.setText(f"{models} · {chosen.threads} threads · "
                                 f"{chosen.device.upper()} · {chosen.memory_budget_mb} MB budget")
        self.config_text.setToolTip(tip)

    def _start_warm_up(self, prefix: str = "") -> None:
        """Load the planner and the writer in the background while the window shows; a request
        sent meanwhile waits for them (queued on the bridge), the window never does."""
        self.busy.show()
        self.status_text.setText(prefix + "Loading the planner and the writer…")
        self.bridge.warm_up()

    # -- first start

    def _show_first_start(self, reason: str, builder: CacheBuilder | None) -> None:
        self.first_start = FirstStartPage(self.services, reason, builder)
        self.first_start.ready.connect(self._setup_done)
        self.stack.addWidget(self.first_start)
        self.stack.setCurrentWidget(self.first_start)
        self.rail.setEnabled(False)
        self.status_text.setText("The model cache needs to be built.")

    def _setup_done(self) -> None:
        if self.first_start is not None:
            self.stack.removeWidget(self.first_start)
            self.first_start.deleteLater()
            self.first_start = None
        self.rail.setEnabled(True)
        self.services.reopen_registry()
        self.models_page.refresh()
        self.show_chat()
        self.bridge.reconfigure(self.settings)
        self._start_warm_up()

    # -- navigation

    def show_chat(self) -> None:
        self.chat_button.setChecked(True)
        self.stack.setCurrentWidget(self.chat_page)
        self.chat.composer.editor.setFocus()

    def show_models(self) -> None:
        self.models_button.setChecked(True)
        self.models_page.refresh()
        self.stack.setCurrentWidget(self.models_page)
        self.models_page.search.setFocus()

    def open_settings(self, dialog_ready: Any = None) -> SettingsDialog | None:
        """Show the settings dialog; ``dialog_ready(dialog)`` lets tests drive it."""
        if self.first_start is not None:
            return None
        controllers = self.services.controllers()
        dialog = SettingsDialog(self.settings, controllers, parent=self,
                                voices=self.services.models(task="text-to-speech"))
        if dialog_ready is not None:
            dialog_ready(dialog)
        if dialog.exec() != SettingsDialog.DialogCode.Accepted:
            return dialog
        self.apply_settings(dialog.chosen())
        return dialog

    def apply_settings(self, new: Settings) -> None:
        """Save, and use from the next request; a new data folder brings its own history."""
        save_settings(new, self.settings_home)
        moved = new.data_path != self.settings.data_path
        self.settings = new
        self.services = Services(new)
        self.chat.composer.hands_free = new.hands_free
        self.roles, self.warm_seconds = {}, None  # the warm-up below names them again
        self.sidebar.set_history(self.services)
        if moved:
            self.chat.composer.editor.paste_dir = new.data_path / "attachments"
            if not self.running:
                self.new_chat()
        self.models_page.set_services(self.services)
        self.bridge.reconfigure(new)
        self._show_config()
        self._start_warm_up("Settings saved. ")

    # -- conversations

    def new_chat(self) -> None:
        if self.running:
            self.status_text.setText("A request is running: stop it first (Esc).")
            return
        self.conversation_id = None
        self.chat.clear()
        self.work.clear()
        self.sidebar.clear_selection()
        self.show_chat()

    def open_conversation(self, conversation_id: str) -> None:
        """Replay a stored conversation: each request, its answer and its results."""
        if self.running:
            self.status_text.setText("A request is running: stop it first (Esc).")
            return
        self.show_chat()
        self.conversation_id = conversation_id
        self.chat.clear()
        last = None
        for run in self.services.conversation(conversation_id):
            workspace = Path(run.workspace)
            self.chat.add_user(run.request, [workspace / f for f in run.files
                                             if (workspace / f).is_file()])
            message = self.chat.add_assistant()
            message.set_workspace(workspace)
            message.finish(run)
            if run.status not in (DONE, CANCELLED):
                message.fail(run.error or f"This run was {run.status}.")
            last = run
        if last is not None:
            self.work.show_run(last)
        else:
            self.work.clear()
        self.sidebar.refresh(select=conversation_id)

    # -- a request

    def send(self, text: str, files: list[Path] | None = None,
             recording: Path | None = None) -> bool:
        """Start a request (the composer's Enter, or code); False when one is running.
        ``recording``: the spoken request the text was transcribed from, kept with the run."""
        if self.running or self.first_start is not None or not text.strip():
            return False
        self.player.stop()  # a new request silences the last answer
        files = [Path(f) for f in files or []]
        self.running = True
        self.chat.add_user(text, files)
        self.message = self.chat.add_assistant()
        self.message.set_status("Loading models…" if self.busy.isVisible() else "Starting…")
        self.work.start_run()
        self.chat.composer.set_running(True)
        self.status_text.setText("Working…")
        self.bridge.ask(text, files, self.conversation_id, recording)
        return True

    # -- voice

    def _transcribe(self, recording: Path) -> None:
        self.status_text.setText("Transcribing your recording…")
        self.bridge.transcribe(recording)

    def _on_transcribed(self, heard: tuple) -> None:
        transcript, recording = heard
        composer = self.chat.composer
        composer.set_dictation(transcript.text, recording)
        self.status_text.setText(f"Heard in {transcript.seconds:.1f} s ({transcript.model}).")
        if transcript.text and (self.settings.send_after_dictation or self.settings.hands_free):
            composer.submit()

    def speak(self, message: AssistantMessage) -> None:
        """Read one answer aloud: made on the worker thread, played here."""
        if message.run_id is None:
            return
        self.player.stop()
        self.speaking_message = message
        message.set_speaking(True, "Preparing…")
        self.bridge.speak(message.run_id)

    def _on_spoken(self, spoken: tuple) -> None:
        run_id, speech = spoken
        message = self.speaking_message
        if message is None or message.run_id != run_id or not message.speaking:
            return  # stopped (or another answer asked for) while it was being made
        message.set_speaking(True)
        self.player.play(speech.path)
        self.status_text.setText(f"Reading the answer aloud ({speech.model}): {speech.path.name}")

    def _on_speech_stopped(self) -> None:
        if self.speaking_message is not None:
            self.speaking_message.set_speaking(False)
            self.speaking_message = None
        if self.listen_after_speech and self.settings.hands_free and not self.running:
            self.listen_after_speech = False
            self.chat.composer.start_talking(hands_free=True)

    def _on_voice_failed(self, message: str) -> None:
        if self.speaking_message is not None:
            self.speaking_message.set_speaking(False)
            self.speaking_message = None
        self.chat.composer.note.setText(message)
        self.chat.composer.note.show()
        self.status_text.setText("Voice: " + message)

    def stop(self) -> None:
        """Esc: cancel a recording, else stop reading aloud, else cancel the running request
        (it ends at the next step)."""
        if self.chat.composer.cancel_talking():
            self.status_text.setText("Recording cancelled.")
            return
        if self.player.playing or self.speaking_message is not None:
            self.listen_after_speech = False  # Esc ends the hands-free loop, not just the speech
            self.player.stop()
            self._on_speech_stopped()  # also when the speech was still being made
            return
        if not self.running:
            return
        if self.bridge.cancel():
            self.stopping = True
            self.work.set_stopping()
            self.chat.composer.set_stopping()
            if self.message is not None:
                self.message.set_status("Stopping…")
            self.status_text.setText("Stopping after the current step…")

    def _on_event(self, event: Event) -> None:
        message, kind, data = self.message, event.kind, event.data
        if message is None:
            return
        if kind == EventKind.RUN:
            message.run_id = data["run_id"]
            self.conversation_id = data["conversation_id"]
            message.set_workspace(Path(data["workspace"]))
            self.sidebar.refresh(select=self.conversation_id)
        elif kind == EventKind.STAGE:
            if not self.stopping:
                message.set_status(STAGE_STATUS.get(data["stage"], data["stage"]))
        elif kind == EventKind.TASK_PROGRESS:
            if not self.stopping and data.get("what"):
                message.set_status(f"Running the tasks… {data['what']}")
        elif kind == EventKind.TASK_END:
            message.add_task(data)
        elif kind == EventKind.TOKEN:
            message.append_token(data["text"])
        self.work.handle(event)

    def _end_run(self) -> None:
        self.running = False
        self.stopping = False
        self.chat.composer.set_running(False)
        self.sidebar.refresh(select=self.conversation_id)

    def _on_finished(self, result: RunResult) -> None:
        self.last_result = result
        if self.message is not None:
            self.message.finish(result)
        self.work.finish(result)
        self._end_run()
        status = result.status
        total = result.timings.get("total")
        self.status_text.setText("Stopped." if status == CANCELLED
                                 else f"Answered in {total:.1f} s." if total else "Done.")
        if status == DONE and self.message is not None and (
                self.settings.speak_answers or (self.settings.hands_free and result.recording)):
            self.listen_after_speech = self.settings.hands_free and bool(result.recording)
            self.speak(self.message)
        self.run_finished.emit(status)

    def _on_failed(self, message: str) -> None:
        self.last_result = None
        if self.message is not None:
            self.message.fail(message)
        self.work.fail(message)
        self._end_run()
        self.status_text.setText("The request failed.")
        self.run_finished.emit("failed")

    def _on_loading(self, text: str) -> None:
        self.busy.setVisible(bool(text))
        if text:
            self.status_text.setText(text)
            if self.message is not None and self.running:
                self.message.set_status("Loading models…")
        elif not self.running:
            self.status_text.setText("Ready.")

    def _on_warmed(self, report: dict[str, Any]) -> None:
        """The planner and the writer are loaded: say so, with how long each took."""
        self.roles = {role: report[role] for role in ("planner", "writer") if report.get(role)}
        self.warm_seconds = dict(report.get("seconds") or {})
        self._show_config()
        parts = [f"{role} {seconds:.1f} s" for role, seconds in self.warm_seconds.items()]
        text = "Ready" + (f" (loaded in {sum(self.warm_seconds.values()):.1f} s: "
                          f"{', '.join(parts)})." if parts else ".")
        self.status_text.setToolTip("\n".join(f"{role.capitalize()}: {model}"
                                               for role, model in self.roles.items()))
        if not self.running:
            self.status_text.setText(text)

    def _on_problem(self, text: str) -> None:
        self.busy.hide()
        self.status_text.setText(f"Could not load the models: {text}")

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        for job in (self.models_page.job, self.first_start.job if self.first_start else None):
            if job is not None and job.is_running():
                job.wait(2.0)
        self.bridge.shutdown()
        super().closeEvent(event)


def _short_id(model_id: str) -> str:
    """A model id without its organisation, for the status bar (the tooltip has it whole)."""
    return model_id.rsplit("/", 1)[-1]
