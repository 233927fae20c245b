"""Stage 3, task execution: the plan runs as a DAG on the chosen models.

A task starts as soon as every task it depends on is done, so independent tasks run in parallel
(up to ``max_parallel`` at once). ``<GENERATED>-k`` in an argument becomes task k's output: a file
path for image and audio inputs, text for text inputs. Each task has a timeout; a task that fails,
times out or has no model is reported with its error, its dependants are skipped, and every other
task still runs. Tasks run in threads (the runtimes release the GIL in their native code); a task
past its timeout is abandoned, not waited for.
"""

from __future__ import annotations

import queue
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.disk import is_disk_full
from core.events import CANCELLED, DONE, FAILED, SKIPPED, TIMED_OUT, Emit, EventKind
from core.model_pool import ModelPool
from core.plan import GENERATED, TaskNode
from core.runners.base import TaskInputError, Workspace
from core.selector import Choice
from core.tasks import AUDIO, IMAGE, TEXT, get_task, kind_of_file, output_files


@dataclass
class TaskResult:
    """What happened to one task: its model, status, timing, outputs or error."""

    id: int
    task: str
    model: str | None
    args: dict[str, Any]
    status: str = "waiting"
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    started: float | None = None
    ended: float | None = None
    device: str | None = None  # "cpu" or "gpu": where the model ran

    @property
    def seconds(self) -> float | None:
        if self.started is None or self.ended is None:
            return None
        return round(self.ended - self.started, 3)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "task": self.task, "model": self.model, "args": self.args,
                "status": self.status, "outputs": self.outputs, "error": self.error,
                "seconds": self.seconds, "device": self.device}


class Executor:
    """Runs plans on a model pool inside one workspace."""

    def __init__(self, pool: ModelPool, workspace: Workspace, timeout_s: float = 300.0,
                 max_parallel: int = 2, cancel: threading.Event | None = None,
                 text_files: set[str] | None = None) -> None:
        self.pool = pool
        self.workspace = workspace
        self.timeout_s = timeout_s
        self.max_parallel = max(1, max_parallel)
        self.cancel = cancel or threading.Event()
        self.text_files = text_files or set()

    def execute(self, plan: list[TaskNode], choices: list[Choice], request: str = "",
                on_event: Emit | None = None) -> list[TaskResult]:
        emit = on_event or (lambda kind, data: None)
        by_id = {c.task_id: c for c in choices}
        results = {n.id: TaskResult(n.id, n.task, by_id[n.id].model_id if n.id in by_id else None,
                                    dict(n.args)) for n in plan}
        pending = {n.id: n for n in plan}
        running: dict[int, float] = {}
        finished: queue.Queue[int] = queue.Queue()

        # The worker and the timeout check both close a task; whichever comes first decides,
        # so a model that answers after its timeout cannot turn "timed out" into "done".
        closing = threading.Lock()

        def worker(node: TaskNode) -> None:
            result = results[node.id]
            device, error, outputs = None, None, {}
            with self.workspace.recording() as made:
                try:
                    args = self._resolve_args(node, results)
                    args["_request"] = request
                    args["_progress"] = lambda done, total, what, task_id=node.id: emit(
                        EventKind.TASK_PROGRESS, {"id": task_id, "done": done, "total": total,
                                                  "what": what})
                    record = by_id[node.id].record
                    outputs = self._checked_outputs(
                        self.pool.run(record, node.task, args, self.workspace))
                    device = self.pool.device_of(record.id)
                except TaskInputError as exc:
                    error = str(exc)
                except Exception as exc:  # a crashing model fails its task, never the run
                    error = (self._no_space() if is_disk_full(exc)
                             else f"{type(exc).__name__}: {exc}")
                    outputs = {"traceback": traceback.format_exc(limit=6)}
            with closing:
                abandoned = result.status != "running"  # at its timeout: that record stands
                if error is not None or abandoned:
                    for path in made:  # no half-written or orphaned file stays behind
                        path.unlink(missing_ok=True)
                if abandoned:
                    return
                result.status = FAILED if error is not None else DONE
                result.error, result.outputs, result.device = error, outputs, device
                result.ended = time.perf_counter()
            finished.put(node.id)

        while pending or running:
            if self.cancel.is_set():
                for task_id in list(pending):
                    self._close(results[task_id], CANCELLED, "the run was stopped", emit)
                    del pending[task_id]
            for task_id, node in list(pending.items()):
                if len(running) >= self.max_parallel:
                    break
                deps = [d for d in node.dep if d >= 0]
                blocked = [d for d in deps
                            if d not in results or d >= task_id
                            or results[d].status not in (DONE, "waiting", "running")]
                if blocked:
                    state = results[blocked[0]].status if blocked[0] in results else "is missing"
                    self._close(results[task_id], SKIPPED,
                                f"depends on task {blocked[0]}, which {state}", emit)
                    del pending[task_id]
                    continue
                if any(results[d].status != DONE for d in deps):
                    continue
                choice = by_id.get(task_id)
                if choice is None or choice.record is None:
                    reason = choice.reason if choice else "no model was selected"
                    self._close(results[task_id], FAILED, reason, emit)
                    del pending[task_id]
                    continue
                del pending[task_id]
                result = results[task_id]
                result.status, result.started = "running", time.perf_counter()
                running[task_id] = result.started
                emit(EventKind.TASK_START,
                     {"id": task_id, "task": node.task, "model": result.model})
                threading.Thread(target=worker, args=(node,), daemon=True,
                                 name=f"task-{task_id}").start()
            if not running:
                if pending and not any(self._startable(n, results) for n in pending.values()):
                    for task_id in list(pending):  # unreachable: a dependency never ran
                        self._close(results[task_id], SKIPPED, "its dependencies never ran", emit)
                        del pending[task_id]
                continue
            try:
                done_id = finished.get(timeout=0.05)
            except queue.Empty:
                done_id = None
            if done_id is not None and done_id in running:
                del running[done_id]
                emit(EventKind.TASK_END, results[done_id].to_json())
            now = time.perf_counter()
            for task_id, started in list(running.items()):
                if now - started <= self.timeout_s:
                    continue
                result = results[task_id]
                with closing:
                    if result.status != "running":
                        continue  # it finished just now: its end is in the queue
                    result.status, result.ended = TIMED_OUT, now
                    result.error = f"no result after {self.timeout_s:.0f} s; the task was abandoned"
                del running[task_id]
                emit(EventKind.TASK_END, result.to_json())
        return [results[n.id] for n in plan]

    @staticmethod
    def _startable(node: TaskNode, results: dict[int, TaskResult]) -> bool:
        deps = [d for d in node.dep if d >= 0]
        return all(d in results and results[d].status != "waiting" for d in deps)

    @staticmethod
    def _close(result: TaskResult, status: str, error: str, emit: Emit) -> None:
        result.status, result.error = status, error
        emit(EventKind.TASK_END, result.to_json())

    def _resolve_args(self, node: TaskNode, results: dict[int, TaskResult]) -> dict[str, Any]:
        """Substitute dependency outputs and attached text files into the arguments."""
        task = get_task(node.task)
        args: dict[str, Any] = {}
        for key, value in node.args.items():
            kind = task.input_kind(key) if key in task.input_keys else TEXT
            if not isinstance(value, str):
                args[key] = value
                continue
            if kind in (IMAGE, AUDIO):
                match = GENERATED.fullmatch(value.strip())
                if match:
                    source = results[int(match.group(1))].outputs
                    if kind not in source:
                        raise TaskInputError(f"task {match.group(1)} made no {kind} for {key!r}")
                    value = source[kind]
                elif kind_of_file(value) != kind:
                    raise TaskInputError(f"{value!r} is not an {kind} file")
                self.workspace.resolve(value)  # refuses paths outside the workspace
                args[key] = value
                continue
            if value in self.text_files:
                path = self.workspace.resolve(value)
                args[key] = Path(path).read_text(encoding="utf-8", errors="replace")
                continue
            whole = GENERATED.fullmatch(value.strip())
            if whole and not output_text(results[int(whole.group(1))].outputs).strip():
                source = results[int(whole.group(1))]
                raise TaskInputError(f"task {source.id} ({source.task}) gave no text to use "
                                     f"as {key!r}")
            args[key] = GENERATED.sub(lambda m: output_text(results[int(m.group(1))].outputs),
                                      value)
        return args

    def _no_space(self) -> str:
        return (f"no space left on the disk of {self.workspace.root}; free some space, or set "
                "CONDUCTOR_DATA to a folder on a disk with room (the partly written file was "
                "removed)")

    def _checked_outputs(self, outputs: dict[str, Any]) -> dict[str, Any]:
        """Outputs that name files must name files inside the workspace that exist."""
        for kind, name in output_files(outputs):
            path = self.workspace.resolve(name)
            if not path.is_file():
                raise RuntimeError(f"the model reported a {kind} file that does not exist")
            outputs[kind] = self.workspace.relative(path)
        return outputs


def output_text(outputs: dict[str, Any]) -> str:
    """The text a dependant receives from a task's outputs."""
    if outputs.get("text"):
        return str(outputs["text"])
    if outputs.get("labels"):
        return ", ".join(f"{x['label']} ({x['score']:.2f})" for x in outputs["labels"])
    return ""
