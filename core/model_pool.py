"""Loaded models, kept for reuse in an LRU cache bounded by a memory budget.

Loading is the slow part of most experts (seconds), running them is fast; a second use of a
model must not reload it. The budget is counted in registry sizes (files on disk are a fair
proxy for resident weights of ONNX and GGUF models); the least recently used model is dropped
when a new one would not fit. Loads of one model are serialised so two parallel tasks that need
it load it once.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.registry import CONTROLLER_RUNTIME, ModelRecord, Registry
from core.runners import get_runner
from core.runners.base import Runner, Workspace

if TYPE_CHECKING:
    from core.config import Settings


class ModelLoadError(OSError):
    """An installed model whose files cannot be loaded (damaged, missing, or not what its
    runtime reads): a fault of the installation, not of the request, so it names the model and
    how to check it."""


@dataclass
class LoadedModel:
    record: ModelRecord
    runner: Runner
    model: Any
    load_seconds: float
    lock: threading.Lock
    device: str = "cpu"  # where it runs: "cpu" or "gpu", as the runner reports it


class ModelPool:
    """Loads models on first use and keeps them while they fit the budget."""

    def __init__(self, registry: Registry, memory_budget_bytes: int = 3 << 30,
                 runner_options: dict[str, Any] | None = None, device: str = "auto",
                 threads: int | None = None) -> None:
        from core.devices import check_device

        self.registry = registry
        self.memory_budget_bytes = memory_budget_bytes
        self.runner_options = runner_options or {}
        self.device = check_device(device)
        self.threads = threads
        self._loaded: OrderedDict[str, LoadedModel] = OrderedDict()
        self._guard = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}
        self.loads = 0  # how many times a model was actually loaded (tests and benchmarks read it)

    @classmethod
    def from_settings(cls, settings: Settings, registry: Registry) -> ModelPool:
        """The pool every entry point uses: the user's memory budget, device and threads, and the
        controller's evaluated fixed prompts kept on disk (so a new process, each `main.py ask`,
        starts planning and selection where the last one left off)."""
        state_dir = settings.data_path / "cache" / "prefix-states"
        return cls(registry, settings.memory_budget_bytes,
                   {CONTROLLER_RUNTIME: {"state_dir": state_dir}}, device=settings.device,
                   threads=settings.threads)

    def get(self, record: ModelRecord) -> LoadedModel:
        """The loaded model for a registry row, loading it if needed."""
        with self._guard:
            if record.id in self._loaded:
                self._loaded.move_to_end(record.id)
                return self._loaded[record.id]
            load_lock = self._loading.setdefault(record.id, threading.Lock())
        with load_lock:
            with self._guard:
                if record.id in self._loaded:
                    return self._loaded[record.id]
            common: dict[str, Any] = {"device": self.device}
            if self.threads:
                common["threads"] = self.threads
            runner = get_runner(record.runtime,
                                **{**common, **self.runner_options.get(record.runtime, {})})
            path: Path = self.registry.resolve(record)
            started = time.perf_counter()
            try:
                model = runner.load(record, path)
            except Exception as exc:
                raise ModelLoadError(
                    f"{record.id} could not be loaded ({exc}); `main.py models verify "
                    f"{record.id}` checks its files, `make setup` reinstalls the default "
                    "models") from exc
            loaded = LoadedModel(record, runner, model, time.perf_counter() - started,
                                 threading.Lock(), runner.device_of(model))
            with self._guard:
                self.loads += 1
                self._loaded[record.id] = loaded
                self._evict_beyond_budget(keep=record.id)
            return loaded

    def run(self, record: ModelRecord, task: str, args: dict[str, Any],
            workspace: Workspace) -> dict:
        """Run a task on a model; one call at a time per model (most runtimes are not reentrant)."""
        loaded = self.get(record)
        with loaded.lock:
            return loaded.runner.run(loaded.model, task, args, workspace)

    def device_of(self, model_id: str) -> str | None:
        """Where a loaded model runs ("cpu" or "gpu"); None when it is not loaded."""
        loaded = self._loaded.get(model_id)
        return loaded.device if loaded else None

    def is_loaded(self, model_id: str) -> bool:
        return model_id in self._loaded

    def _evict_beyond_budget(self, keep: str) -> None:
        total = sum(m.record.size_bytes for m in self._loaded.values())
        for model_id in list(self._loaded):
            if total <= self.memory_budget_bytes:
                break
            if model_id == keep:
                continue
            total -= self._loaded.pop(model_id).record.size_bytes
