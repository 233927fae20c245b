"""The facade: one call runs a request through the four stages and records everything.

``Assistant().ask("...", files=[...])`` plans, selects, executes and responds, emits events as it
goes (``core.events``: for the GUI, the CLI and the server), and returns a ``RunResult``: plan,
choices with reasons, per-task outputs and timings, the answer, the files made. Inputs are
checked and copied into a fresh workspace first, so nothing outside it is read by a model or
written by one, and a bad file fails the request before any model runs.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.cancel import Cancelled, check
from core.capabilities import asks_what_it_can_do, installed_capabilities
from core.config import Settings
from core.disk import StorageError, storage_error, unused_path
from core.events import CANCELLED, DONE, FAILED, Emit, EventCallback, EventKind, RunResult, emitter
from core.executor import Executor, output_text
from core.llm import Controller
from core.model_pool import ModelPool
from core.plan import TaskNode
from core.planner import Planner, PlanResult, Turn
from core.registry import ModelNotFoundError, ModelRecord, Registry
from core.responder import Responder, summary_of
from core.runners.base import Workspace
from core.selector import Choice, Selector
from core.store import Store
from core.tasks import AUDIO, IMAGE, TEXT, kind_of_file

EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
PREVIOUS_RESULT = "previous-result.txt"


ASR, TTS = "automatic-speech-recognition", "text-to-speech"


@dataclass(frozen=True)
class Transcript:
    """What a recording said, which model heard it, and how long that took."""

    text: str
    model: str
    seconds: float


@dataclass(frozen=True)
class Speech:
    """A text read aloud: the WAV, the voice, and how long it took to make."""

    path: Path
    model: str
    seconds: float


class InputFileError(ValueError):
    """An attached file that is missing, unreadable, or of a kind no task takes."""


class NoControllerError(RuntimeError):
    """No controller GGUF is registered: the model cache has not been built."""


class UnknownControllerError(NoControllerError, ValueError):
    """The LLM asked for (``--controller``, a role setting) is not registered: bad input."""


def resolve_role(registry: Registry, settings: Settings, role: str) -> ModelRecord:
    """The registry row of an LLM role, "planner" or "writer", or ``NoControllerError`` saying
    why there is none.

    ``settings.controller`` (``--controller``) is one model for both roles; else the role's own
    setting; else the installed controller tagged with the role; a writer falls back to the
    planner, so a cache with one controller still answers.
    """
    chosen = settings.controller or getattr(settings, role)
    if chosen:
        try:
            record = registry.get(chosen)
        except ModelNotFoundError:
            raise UnknownControllerError(f"the {role} {chosen!r} is not registered (see "
                                    "`main.py models list`)") from None
        if not registry.resolve(record).exists():
            raise NoControllerError(f"the files of the {role} {chosen!r} are missing; run "
                                    "`main.py models verify`")
        return record
    installed = [r for r in registry.controllers() if registry.resolve(r).exists()]
    if not installed:
        raise NoControllerError("no controller model is installed; run `make setup` "
                                "(scripts/build_model_cache.py) first")
    tagged = [r for r in installed if role in r.tags]
    if tagged:
        return tagged[0]
    return resolve_role(registry, settings, "planner") if role == "writer" else installed[0]


def check_attachment(path: Path) -> str:
    """The resource kind of an attached file, after checking it exists and decodes."""
    if not path.exists():
        raise InputFileError(f"{path}: no such file")
    if not path.is_file():
        raise InputFileError(f"{path}: not a file")
    kind = kind_of_file(path.name)
    if kind is None:
        raise InputFileError(f"{path.name}: unsupported file type (images, audio and .txt/.md "
                             "text files can be attached)")
    try:
        if kind == IMAGE:
            from PIL import Image

            with Image.open(path) as image:
                image.verify()
        elif kind == AUDIO:
            import soundfile

            info = soundfile.info(str(path))
            if info.frames <= 0:
                raise ValueError("no audio frames")
        else:
            path.read_text(encoding="utf-8")
    except Exception as exc:
        raise InputFileError(f"{path.name} is not a readable {kind} file ({exc})") from None
    return kind


class Assistant:
    """Plans, selects, executes and responds with local models; records every run."""

    def __init__(self, settings: Settings | None = None, registry: Registry | None = None,
                 on_event: EventCallback | None = None) -> None:
        self.settings = settings or Settings.load()
        self.registry = registry or Registry(self.settings.cache_path)
        self.store = Store(self.settings.data_path / "history.db")
        self.on_event = on_event
        self.pool = ModelPool.from_settings(self.settings, self.registry)
        self._role_records: dict[str, ModelRecord] = {}
        self._planner: Planner | None = None
        self._lock = threading.Lock()

    # -- components, loaded on first use

    def role_record(self, role: str) -> ModelRecord:
        """The registry row of an LLM role, "planner" or "writer" (see ``resolve_role``)."""
        if role not in self._role_records:
            self._role_records[role] = resolve_role(self.registry, self.settings, role)
        return self._role_records[role]

    def planner_record(self) -> ModelRecord:
        return self.role_record("planner")

    def writer_record(self) -> ModelRecord:
        return self.role_record("writer")

    @property
    def controller(self) -> Controller:
        """The planner's LLM (plans and model selection)."""
        return self.pool.get(self.planner_record()).model

    @property
    def writer(self) -> Controller:
        """The writer's LLM (answers and the text tasks no expert covers)."""
        return self.pool.get(self.writer_record()).model

    def warm_up(self, on_event: EventCallback | None = None) -> dict[str, float]:
        """Load the planner, the writer and the demo embedder ahead of the first request (the
        GUI calls this while its window shows); returns seconds per part."""
        seconds: dict[str, float] = {}
        emit = emitter(on_event)
        for name, load in (("planner", lambda: self.planner), ("writer", lambda: self.writer)):
            clock = time.perf_counter()
            emit(EventKind.WARM_UP, {"part": name, "status": "start"})
            load()
            seconds[name] = round(time.perf_counter() - clock, 3)
            emit(EventKind.WARM_UP, {"part": name, "status": "done", "seconds": seconds[name]})
        return seconds

    @property
    def planner(self) -> Planner:
        if self._planner is None:
            from core.demos import DemoBank

            embedder = None
            try:
                embedder = self.pool.get(self.registry.get(EMBEDDING_MODEL)).model
            except (ModelNotFoundError, FileNotFoundError, OSError):
                embedder = None  # demos are then ranked by word overlap
            self._planner = Planner(self.controller, DemoBank.load(embedder=embedder))
        return self._planner

    # -- the API

    def plan(self, request: str, files: Sequence[str] = (), history: Sequence[Turn] = ()
             ) -> PlanResult:
        """Planning only: files are names, judged by extension, and need not exist."""
        return self.planner.plan(request, [Path(f).name for f in files], history)

    def ask(self, request: str, files: Sequence[str | Path] = (),
            conversation_id: str | None = None, on_event: EventCallback | None = None,
            cancel: threading.Event | None = None, recording: Path | None = None,
            history: Sequence[Turn] | None = None) -> RunResult:
        """Run a request through all four stages; returns plan, choices, tasks and answer.

        ``recording`` is the spoken request the text was transcribed from: kept in the run's
        workspace and the history, not shown to the planner as a file to work on. ``history``
        replaces the conversation's stored turns (an API client sends its own)."""
        if not request or not request.strip():
            raise ValueError("the request is empty")
        paths = [Path(f).expanduser() for f in files]
        for path in paths:
            check_attachment(path)
        if recording is not None and check_attachment(Path(recording)) != AUDIO:
            raise InputFileError(f"{Path(recording).name}: a recording must be audio")
        emit = emitter(self.on_event, on_event)
        cancel = cancel or threading.Event()
        with self._lock:
            return self._ask(request.strip(), paths, conversation_id, emit, cancel, recording,
                             history)

    def _ask(self, request: str, paths: list[Path], conversation_id: str | None,
             emit: Emit, cancel: threading.Event, recording: Path | None = None,
             given_history: Sequence[Turn] | None = None) -> RunResult:
        started = time.perf_counter()
        conversation_id = conversation_id or self.store.new_conversation(request)
        history = (list(given_history) if given_history is not None
                   else self._history(conversation_id))
        runs = self.settings.data_path / "runs"
        run_dir = unused_path(runs / f"{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            workspace = Workspace(run_dir)
            names = self._stage_inputs(paths, workspace)
            previous = self._carry_over(conversation_id, workspace)
            spoken = self._keep_recording(recording, workspace) if recording else None
        except OSError as exc:  # a full or read-only data folder: say so, leave nothing behind
            shutil.rmtree(run_dir, ignore_errors=True)
            raise storage_error(exc, "this run's files", runs, "CONDUCTOR_DATA") or exc from None
        text_files = {n for n in names if kind_of_file(n) == TEXT}
        names += [n for n in previous if n not in names]
        text_files |= {n for n in previous if kind_of_file(n) == TEXT}
        run_id = self.store.start_run(conversation_id, request, names, workspace.root, spoken)
        emit(EventKind.RUN, {"run_id": run_id, "conversation_id": conversation_id,
                             "workspace": str(workspace.root), "files": names})
        timings: dict[str, float] = {}
        result = RunResult(run_id, conversation_id, request, names, str(workspace.root),
                           recording=spoken)

        def finish(status: str, answer: str) -> RunResult:
            timings["total"] = time.perf_counter() - started
            result.status, result.answer = status, answer
            result.timings = {k: round(v, 3) for k, v in timings.items()}
            self.store.update_run(run_id, answer=answer, summary=result.summary, status=status,
                                  timings=result.timings)
            emit(EventKind.DONE, result.to_json())
            return result

        try:
            clock = time.perf_counter()
            emit(EventKind.STAGE, {"stage": "planning", "status": "start"})
            if asks_what_it_can_do(request) and not paths:
                planned = PlanResult([], 0.0, 0, [])  # answered from the registry, not planned
            else:
                planned = self.planner.plan(request, names, history, cancel=cancel)
            timings["planning"] = time.perf_counter() - clock
            result.plan = [n.to_json() for n in planned.plan]
            emit(EventKind.PLAN, {"plan": result.plan, "seconds": planned.seconds})
            self.store.update_run(run_id, plan=result.plan)

            clock = time.perf_counter()
            emit(EventKind.STAGE, {"stage": "selection", "status": "start"})
            choices = self._select(request, planned.plan, emit)
            result.choices = [c.to_json() for c in choices]
            timings["selection"] = time.perf_counter() - clock
            check(cancel)
            self.store.update_run(run_id, choices=result.choices)

            clock = time.perf_counter()
            emit(EventKind.STAGE, {"stage": "execution", "status": "start"})
            executor = Executor(self.pool, workspace, self.settings.task_timeout_s,
                                self.settings.max_parallel_tasks, cancel, text_files)
            reasons = {c.task_id: c.reason for c in choices}

            def on_task(kind: EventKind, data: Mapping[str, Any]) -> None:
                if kind == EventKind.TASK_END:
                    self.store.save_task(run_id, data, reasons.get(data["id"], ""))
                emit(kind, data)

            results = executor.execute(planned.plan, choices, request, on_task)
            result.tasks = [r.to_json() for r in results]
            timings["execution"] = time.perf_counter() - clock
            check(cancel)

            clock = time.perf_counter()
            emit(EventKind.STAGE, {"stage": "response", "status": "start"})

            def on_token(text: str) -> None:
                check(cancel)
                emit(EventKind.TOKEN, {"text": text})

            records = {c.record.id: c.record for c in choices if c.record is not None}
            # what the installation can do is told only when no task ran (a registry walk)
            capabilities = ([] if results
                            else installed_capabilities(self.registry, self.writer_record()))
            responder = Responder(self.writer, capabilities,
                                  writer_id=self.writer_record().id)
            answer = responder.respond(request, results, history, on_token, records)
            timings["response"] = time.perf_counter() - clock
            result.summary, result.models = answer["summary"], answer["models"]
            result.written_by = answer["written_by"]
            result.files_made = [str(workspace.root / f) for f in answer["files"]]
            return finish(DONE, answer["answer"])
        except Cancelled:
            return finish(CANCELLED, "Stopped.")
        except Exception as exc:
            try:
                self.store.update_run(run_id, status=FAILED,
                                      error=f"{type(exc).__name__}: {exc}")
            except StorageError:  # the history cannot take it either: the first error tells
                pass
            raise

    def _select(self, request: str, plan: list[TaskNode], emit: Emit) -> list[Choice]:
        """A model per task; an empty plan needs no selection, so the planner is not loaded
        for it (a chat turn answered by the writer alone)."""
        if not plan:
            return []
        selector = Selector(self.registry, self.controller, self.writer_record(),
                            self.settings.memory_budget_bytes)
        return selector.select(request, plan, on_event=emit)

    # -- voice

    def voice_record(self, task: str) -> ModelRecord:
        """The model that hears (``automatic-speech-recognition``) or speaks (``text-to-
        speech``, the ``voice`` setting first): the best-ranked installed one."""
        if task == TTS and self.settings.voice:
            try:
                return self.registry.get(self.settings.voice)
            except ModelNotFoundError:
                raise ModelNotFoundError(f"the voice {self.settings.voice!r} is not installed "
                                         "(see `main.py models list --task text-to-speech`)"
                                         ) from None
        found = self.registry.candidates(task, self.settings.memory_budget_bytes, 1)
        if not found:
            what = "speech recognizer" if task == ASR else "voice"
            raise ModelNotFoundError(f"no {what} is installed; run `make setup` or import one "
                                     "with `main.py models import`")
        return found[0]

    def transcribe(self, recording: Path) -> Transcript:
        """What a recording says, by the best installed speech recognizer."""
        recording = Path(recording)
        if check_attachment(recording) != AUDIO:
            raise InputFileError(f"{recording.name} is not a recording")
        record = self.voice_record(ASR)
        clock = time.perf_counter()
        outputs = self.pool.run(record, ASR, {"audio": recording.name},
                                Workspace(recording.parent))
        return Transcript(str(outputs.get("text", "")).strip(), record.id,
                          round(time.perf_counter() - clock, 3))

    def speak(self, text: str, folder: Path) -> Speech:
        """``text`` read aloud by the chosen voice, as a WAV in ``folder``."""
        if not text.strip():
            raise ValueError("there is nothing to read aloud")
        record = self.voice_record(TTS)
        clock = time.perf_counter()
        workspace = Workspace(folder)
        outputs = self.pool.run(record, TTS, {"text": text}, workspace)
        return Speech(workspace.resolve(outputs["audio"]), record.id,
                      round(time.perf_counter() - clock, 3))

    def speak_answer(self, run_id: str) -> Speech:
        """A finished run's answer read aloud (its summary, not the results list), kept in the
        run's workspace and recorded in the history as one of its files."""
        run = self.store.run(run_id)
        # a run kept before the history had a summary column has only its answer
        text = run.get("summary") or summary_of(run.get("answer") or "")
        speech = self.speak(text, Path(run["workspace"]))
        self.store.add_artifact(run_id, AUDIO, speech.path.name)
        return speech

    # -- inputs and history

    @staticmethod
    def _keep_recording(recording: Path, workspace: Workspace) -> str:
        name = f"spoken-request{Path(recording).suffix.lower() or '.wav'}"
        shutil.copyfile(recording, workspace.root / name)
        return name

    @staticmethod
    def _stage_inputs(paths: list[Path], workspace: Workspace) -> list[str]:
        """Copy attachments into the workspace under unique plain names."""
        names = []
        for path in paths:
            name = unused_path(workspace.root / path.name).name
            shutil.copyfile(path, workspace.root / name)
            names.append(name)
        return names

    def _history(self, conversation_id: str) -> list[Turn]:
        return [Turn(r["request"], r["answer"] or "")
                for r in self.store.runs(conversation_id) if r["status"] == "done"]

    def _carry_over(self, conversation_id: str, workspace: Workspace) -> list[str]:
        """The last finished run's text result and files, made available to this one."""
        done = [r for r in self.store.runs(conversation_id) if r["status"] == "done"]
        if not done:
            return []
        last = self.store.run(done[-1]["id"])
        names = []
        texts = [output_text(t["outputs"]) for t in last["tasks"] if t["status"] == DONE]
        texts = [t for t in texts if t]
        if texts:
            (workspace.root / PREVIOUS_RESULT).write_text(texts[-1], encoding="utf-8")
            names.append(PREVIOUS_RESULT)
        source_root = Path(last["workspace"])
        for artifact in last["artifacts"]:
            source = source_root / artifact["path"]
            if source.is_file() and not (workspace.root / source.name).exists():
                shutil.copyfile(source, workspace.root / source.name)
                names.append(source.name)
        return names
