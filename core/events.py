"""The run contract between the stages and whoever shows them: events as a run goes, and the
result it ends with.

One module so that the CLI, the GUI, the server and the tests read the same names: an event is
an ``EventKind`` and its JSON-ready data (what each kind carries is listed on the enum), and a
finished run is a ``RunResult``, built in one place (``Assistant``) and rebuilt from the history
store by ``RunResult.from_stored`` for a replay.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    """What happened; the data each kind carries is in its comment."""

    WARM_UP = "warm_up"              # part ("planner" | "writer"), status, seconds
    RUN = "run"                      # run_id, conversation_id, workspace, files
    STAGE = "stage"                  # stage ("planning" | "selection" | ...), status ("start")
    PLAN = "plan"                    # plan (HuggingGPT's task list), seconds
    CHOICE = "choice"                # one ``Choice.to_json()``: task_id, model, reason, candidates
    TASK_START = "task_start"        # id, task, model
    TASK_PROGRESS = "task_progress"  # id, done, total, what
    TASK_END = "task_end"            # one ``TaskResult.to_json()``
    TOKEN = "token"                  # text: the next piece of the answer
    DONE = "done"                    # one ``RunResult.to_json()``


@dataclass(frozen=True)
class Event:
    """One thing that happened in a run, for a progress display."""

    kind: EventKind
    data: Mapping[str, Any]


EventCallback = Callable[[Event], None]
Emit = Callable[[EventKind, Mapping[str, Any]], None]
"""How a stage reports: ``emit(kind, data)``; ``emitter`` makes one for a run's callbacks."""


def emitter(*callbacks: EventCallback | None) -> Emit:
    """One ``emit(kind, data)`` that sends an ``Event`` to every callback given (None skipped)."""
    listeners = [callback for callback in callbacks if callback is not None]

    def emit(kind: EventKind, data: Mapping[str, Any]) -> None:
        event = Event(kind, data)
        for callback in listeners:
            callback(event)

    return emit


# The statuses of a task and of a run ("running" and "waiting" while they go).
DONE, FAILED, SKIPPED, TIMED_OUT, CANCELLED = "done", "failed", "skipped", "timed out", "cancelled"


@dataclass
class RunResult:
    """A finished run: what was asked, planned, chosen and run, and the answer.

    ``plan``, ``choices`` and ``tasks`` hold the JSON forms of ``PlanNode``, ``Choice`` and
    ``TaskResult`` (the store keeps those, and a replay has nothing else), so a result reads
    the same live and from history. ``files_made`` are absolute paths in the run's workspace.
    """

    run_id: str
    conversation_id: str
    request: str
    files: list[str]
    workspace: str
    status: str = DONE
    answer: str = ""
    summary: str = ""
    plan: list[dict[str, Any]] = field(default_factory=list)
    choices: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    written_by: str | None = None
    files_made: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    recording: str | None = None  # the spoken request, a file in the workspace

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_stored(cls, run: Mapping[str, Any]) -> RunResult:
        """A run as ``Store.run`` returns it, in the shape ``ask`` returned it."""
        tasks = [{**task, "id": task["task_id"]} for task in run.get("tasks", [])]
        workspace = run.get("workspace") or ""
        artifacts = run.get("artifacts") or []
        return cls(
            run_id=run["id"], conversation_id=run.get("conversation_id") or "",
            request=run.get("request") or "", files=list(run.get("files") or []),
            workspace=workspace, status=run.get("status") or FAILED,
            answer=run.get("answer") or "", summary=run.get("summary") or "",
            plan=list(run.get("plan") or []),
            choices=list(run.get("choices") or []), tasks=tasks,
            models=sorted({task["model"] for task in tasks if task.get("model")}),
            files_made=[f"{workspace}/{artifact['path']}" for artifact in artifacts],
            timings=dict(run.get("timings") or {}), error=run.get("error"),
            recording=run.get("recording"),
        )
