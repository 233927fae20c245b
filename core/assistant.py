"""The facade: one call runs a request through the four stages and records everything.

``Assistant().ask("...", files=[...])`` plans, selects, executes and responds, emits events as it
goes (for the GUI and the CLI), and returns one JSON-ready dict: plan, choices with reasons,
per-task outputs and timings, the answer, the files made. Inputs are checked and copied into a
fresh workspace first, so nothing outside it is read by a model or written by one, and a bad file
fails the request before any model runs.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from core.cancel import Cancelled, check
from core.capabilities import asks_what_it_can_do, installed_capabilities
from core.config import Settings
from core.executor import CANCELLED, DONE, Executor, output_text
from core.llm import Controller
from core.model_pool import ModelPool
from core.planner import Planner, PlanResult, Turn
from core.registry import ModelNotFoundError, ModelRecord, Registry
from core.responder import Responder
from core.runners.base import Workspace
from core.selector import Selector
from core.store import Store
from core.tasks import AUDIO, IMAGE, TEXT, kind_of_file

EventCallback = Callable[[str, dict[str, Any]], None]
EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
PREVIOUS_RESULT = "previous-result.txt"


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
        for name, load in (("planner", lambda: self.planner), ("writer", lambda: self.writer)):
            clock = time.perf_counter()
            if on_event:
                on_event("warm_up", {"part": name, "status": "start"})
            load()
            seconds[name] = round(time.perf_counter() - clock, 3)
            if on_event:
                on_event("warm_up", {"part": name, "status": "done",
                                     "seconds": seconds[name]})
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
            cancel: threading.Event | None = None) -> dict[str, Any]:
        """Run a request through all four stages; returns plan, choices, tasks and answer."""
        if not request or not request.strip():
            raise ValueError("the request is empty")
        paths = [Path(f).expanduser() for f in files]
        for path in paths:
            check_attachment(path)
        callbacks = [cb for cb in (self.on_event, on_event) if cb]

        def emit(kind: str, data: dict[str, Any]) -> None:
            for callback in callbacks:
                callback(kind, data)

        cancel = cancel or threading.Event()
        with self._lock:
            return self._ask(request.strip(), paths, conversation_id, emit, cancel)

    def _ask(self, request: str, paths: list[Path], conversation_id: str | None,
             emit: EventCallback, cancel: threading.Event) -> dict[str, Any]:
        started = time.perf_counter()
        conversation_id = conversation_id or self.store.new_conversation(request)
        history = self._history(conversation_id)
        run_dir = self.settings.data_path / "runs" / f"{time.strftime('%Y%m%d-%H%M%S')}"
        run_dir = _unique_dir(run_dir)
        workspace = Workspace(run_dir)
        names = self._stage_inputs(paths, workspace)
        text_files = {n for n in names if kind_of_file(n) == TEXT}
        previous = self._carry_over(conversation_id, workspace)
        names += [n for n in previous if n not in names]
        text_files |= {n for n in previous if kind_of_file(n) == TEXT}
        run_id = self.store.start_run(conversation_id, request, names, workspace.root)
        emit("run", {"run_id": run_id, "conversation_id": conversation_id,
                     "workspace": str(workspace.root), "files": names})
        timings: dict[str, float] = {}
        result: dict[str, Any] = {"run_id": run_id, "conversation_id": conversation_id,
                                  "request": request, "files": names,
                                  "workspace": str(workspace.root)}
        plan_json: list[dict[str, Any]] = []
        choices: list = []
        results: list = []
        try:
            clock = time.perf_counter()
            emit("stage", {"stage": "planning", "status": "start"})
            if asks_what_it_can_do(request) and not paths:
                planned = PlanResult([], 0.0, 0, [])  # answered from the registry, not planned
            else:
                planned = self.planner.plan(request, names, history, cancel=cancel)
            timings["planning"] = time.perf_counter() - clock
            plan_json = [n.to_json() for n in planned.plan]
            emit("plan", {"plan": plan_json, "seconds": planned.seconds})
            self.store.update_run(run_id, plan=plan_json)

            clock = time.perf_counter()
            emit("stage", {"stage": "selection", "status": "start"})
            selector = Selector(self.registry, self.controller, self.writer_record(),
                                self.settings.memory_budget_mb * (1 << 20))
            choices = selector.select(request, planned.plan, on_event=emit)
            timings["selection"] = time.perf_counter() - clock
            check(cancel)
            self.store.update_run(run_id, choices=[c.to_json() for c in choices])

            clock = time.perf_counter()
            emit("stage", {"stage": "execution", "status": "start"})
            executor = Executor(self.pool, workspace, self.settings.task_timeout_s,
                                self.settings.max_parallel_tasks, cancel, text_files)
            reasons = {c.task_id: c.reason for c in choices}

            def on_task(kind: str, data: dict[str, Any]) -> None:
                if kind == "task_end":
                    self.store.save_task(run_id, data, reasons.get(data["id"], ""))
                emit(kind, data)

            results = executor.execute(planned.plan, choices, request, on_task)
            timings["execution"] = time.perf_counter() - clock
            check(cancel)

            clock = time.perf_counter()
            emit("stage", {"stage": "response", "status": "start"})

            def on_token(text: str) -> None:
                check(cancel)
                emit("token", {"text": text})

            records = {c.record.id: c.record for c in choices if c.record is not None}
            # what the installation can do is told only when no task ran (a registry walk)
            capabilities = ([] if results
                            else installed_capabilities(self.registry, self.writer_record()))
            responder = Responder(self.writer, capabilities,
                                  writer_id=self.writer_record().id)
            answer = responder.respond(request, results, history, on_token, records)
            timings["response"] = time.perf_counter() - clock
            timings["total"] = time.perf_counter() - started
            result.update({
                "plan": plan_json, "choices": [c.to_json() for c in choices],
                "tasks": [r.to_json() for r in results], "answer": answer["answer"],
                "summary": answer["summary"], "models": answer["models"],
                "written_by": answer["written_by"],
                "files_made": [str(workspace.root / f) for f in answer["files"]],
                "timings": {k: round(v, 3) for k, v in timings.items()}, "status": "done",
            })
            self.store.update_run(run_id, answer=answer["answer"], status="done",
                                  timings=result["timings"])
            emit("done", result)
            return result
        except Cancelled:
            timings["total"] = time.perf_counter() - started
            result.update({
                "plan": plan_json, "choices": [c.to_json() for c in choices],
                "tasks": [r.to_json() for r in results], "answer": "Stopped.", "models": [],
                "files_made": [], "status": CANCELLED,
                "timings": {k: round(v, 3) for k, v in timings.items()},
            })
            self.store.update_run(run_id, answer="Stopped.", status=CANCELLED,
                                  timings=result["timings"])
            emit("done", result)
            return result
        except Exception as exc:
            self.store.update_run(run_id, status="failed", error=f"{type(exc).__name__}: {exc}")
            raise

    # -- inputs and history

    @staticmethod
    def _stage_inputs(paths: list[Path], workspace: Workspace) -> list[str]:
        """Copy attachments into the workspace under unique plain names."""
        names = []
        for path in paths:
            name = path.name
            stem, suffix = path.stem, path.suffix
            counter = 1
            while (workspace.root / name).exists():
                counter += 1
                name = f"{stem}-{counter}{suffix}"
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


def _unique_dir(path: Path) -> Path:
    candidate, counter = path, 1
    while candidate.exists():
        counter += 1
        candidate = path.with_name(f"{path.name}-{counter}")
    return candidate
