"""The only door between the window and ``core``: an ``Assistant`` on its own worker thread.

Every model call (warming up the planner and the writer, a whole ``ask``) runs on one background
thread, one job at a time, so the window never waits on a model and two requests never fight over
the same weights; a request sent while the models load is queued and starts once they are in. The
Assistant's callbacks arrive on that thread; the bridge re-emits them as Qt signals, which Qt
queues onto the UI thread. The Assistant (and its SQLite connections) is created on the worker
thread too, because sqlite3 connections must stay on the thread that opened them.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from core.config import Settings
from core.events import Event, EventKind

AssistantFactory = Callable[[Settings], Any]


def _default_factory(settings: Settings) -> Any:
    from core.assistant import Assistant

    return Assistant(settings)


class AssistantBridge(QObject):
    """Queues work for the Assistant and turns its events into UI-thread signals."""

    event = Signal(object)  # a ``core.events.Event``, exactly as the Assistant emits it
    finished = Signal(object)  # the ``RunResult`` of a completed ask (done or cancelled)
    failed = Signal(str)  # a request that raised: the message to show
    loading = Signal(str)  # what is loading now; "" when loading ended
    warmed = Signal(object)  # warm-up ended: {"planner": id, "writer": id, "seconds": {...}}
    problem = Signal(str)  # warming up failed (e.g. no controller): shown, not fatal
    transcribed = Signal(object)  # (Transcript, the recording's Path)
    spoken = Signal(object)  # (run id, Speech)
    voice_failed = Signal(str)  # transcribing or speaking failed: the message to show

    def __init__(self, settings: Settings, factory: AssistantFactory | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self._factory = factory or _default_factory
        self._assistant: Any = None
        self._jobs: queue.Queue[tuple[str, tuple] | None] = queue.Queue()
        self._cancel: threading.Event | None = None
        self._pending = 0
        self._pending_lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="gui-assistant", daemon=True)
        self._thread.start()

    # -- called on the UI thread

    @property
    def busy(self) -> bool:
        """True while any queued job (warm-up, request, settings change) is not finished."""
        with self._pending_lock:
            return self._pending > 0

    def warm_up(self) -> None:
        """Load the planner and the writer now, so the first request does not wait for them."""
        self._put("warm", ())

    def ask(self, request: str, files: Sequence[str | Path] = (),
            conversation_id: str | None = None, recording: Path | None = None
            ) -> threading.Event:
        """Queue a request; returns the Event that cancels it."""
        cancel = threading.Event()
        self._cancel = cancel
        self._put("ask", (request, [str(f) for f in files], conversation_id, cancel, recording))
        return cancel

    def transcribe(self, recording: Path) -> None:
        """Queue a recording for the speech recognizer (``transcribed`` when done)."""
        self._put("transcribe", (recording,))

    def speak(self, run_id: str) -> None:
        """Queue a run's answer to be read aloud (``spoken`` when its WAV is ready)."""
        self._put("speak", (run_id,))

    def cancel(self) -> bool:
        """Ask the running request to stop; True if there was one to stop."""
        if self._cancel is None or self._cancel.is_set():
            return False
        self._cancel.set()
        return True

    def reconfigure(self, settings: Settings) -> None:
        """Use new settings from the next job on (the Assistant is rebuilt then)."""
        self._put("settings", (settings,))

    def shutdown(self, timeout: float = 15.0) -> None:
        """Stop the running request, finish the queue and end the worker thread."""
        if self._closed:
            return
        self._closed = True
        if self._cancel is not None:
            self._cancel.set()
        while True:  # jobs not started yet (a second warm-up, say) are dropped, not run
            try:
                if self._jobs.get_nowait() is not None:
                    with self._pending_lock:
                        self._pending -= 1
            except queue.Empty:
                break
        self._jobs.put(None)
        self._thread.join(timeout)

    # -- the worker thread

    def _put(self, kind: str, payload: tuple) -> None:
        if self._closed:
            return
        with self._pending_lock:
            self._pending += 1
        self._jobs.put((kind, payload))

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            kind, payload = job
            try:
                if kind == "warm":
                    self._warm()
                elif kind == "ask":
                    self._ask(*payload)
                elif kind in ("transcribe", "speak"):
                    self._voice(kind, payload[0])
                elif kind == "settings":
                    self._settings = payload[0]
                    self._assistant = None
            finally:
                with self._pending_lock:
                    self._pending -= 1

    def _get_assistant(self) -> Any:
        if self._assistant is None:
            self._assistant = self._factory(self._settings)
        return self._assistant

    def _warm(self) -> None:
        """``Assistant.warm_up`` with its progress as ``loading`` texts, then ``warmed``."""
        try:
            assistant = self._get_assistant()
            ids = {role: assistant.role_record(role).id for role in ("planner", "writer")}
            self._emit(self.loading, loading_text(ids, set()))
            done: set[str] = set()

            def progress(event: Event) -> None:
                if event.kind == EventKind.WARM_UP and event.data.get("status") == "done":
                    done.add(event.data.get("part", ""))
                    if done < {"planner", "writer"}:
                        self._emit(self.loading, loading_text(ids, done))

            seconds = assistant.warm_up(on_event=progress)
        except Exception as exc:
            self._emit(self.loading, "")
            self._emit(self.problem, _message(exc))
            return
        self._emit(self.loading, "")
        self._emit(self.warmed, {**ids, "seconds": dict(seconds or {})})

    def _voice(self, kind: str, subject: Any) -> None:
        try:
            assistant = self._get_assistant()
            if kind == "transcribe":
                self._emit(self.transcribed, (assistant.transcribe(subject), subject))
            else:
                self._emit(self.spoken, (subject, assistant.speak_answer(subject)))
        except Exception as exc:
            self._emit(self.voice_failed, _message(exc))

    def _ask(self, request: str, files: list[str], conversation_id: str | None,
             cancel: threading.Event, recording: Path | None) -> None:
        try:
            assistant = self._get_assistant()
            result = assistant.ask(request, files, conversation_id, on_event=self._forward,
                                   cancel=cancel, recording=recording)
        except Exception as exc:
            self._emit(self.failed, _message(exc))
            return
        self._emit(self.finished, result)

    def _forward(self, event: Event) -> None:
        if self._closed and event.kind == EventKind.TOKEN:
            # the window is gone: end the answer's generation now rather than make the app's
            # exit wait for it (the run is recorded as failed with this reason)
            raise RuntimeError("the window was closed while answering")
        self._emit(self.event, event)

    @staticmethod
    def _emit(signal: Any, *args: Any) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the window (and this QObject's C++ side) is already gone
            pass


def loading_text(ids: dict[str, str], done: set[str]) -> str:
    """The status bar's words while the LLM roles load (``done``: the parts already in)."""
    if ids.get("planner") == ids.get("writer"):
        return f"Loading {ids.get('planner')} (the planner and the writer)…"
    waiting = [role for role in ("planner", "writer") if role not in done]
    if len(waiting) == 2:
        return "Loading the planner and the writer…"
    return f"Loading the {waiting[0]} ({ids.get(waiting[0])})…" if waiting else ""


def _message(exc: Exception) -> str:
    """A one-line message for the user: known errors as they are, others with their type."""
    from core.assistant import InputFileError, NoControllerError

    if isinstance(exc, InputFileError | NoControllerError | ValueError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
