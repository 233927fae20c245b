"""The plan: HuggingGPT's task-graph format, its checks and its repairs.

``[{"task": str, "id": int, "dep": [int], "args": {...}}]`` with ``dep: [-1]`` for none and
``"<GENERATED>-k"`` for the output of task k. Plans from our own planner are valid by
construction; these functions check and repair plans from anywhere else (a file, another
planner, an older version) before anything runs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from core.tasks import TASKS, TEXT, get_task, kind_of_file, produces

GENERATED = re.compile(r"<GENERATED>-(\d+)")


class PlanError(ValueError):
    """A plan that cannot be run as it stands (after repair)."""


@dataclass
class TaskNode:
    task: str
    id: int
    dep: list[int]
    args: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"task": self.task, "id": self.id, "dep": list(self.dep), "args": dict(self.args)}

    def references(self) -> list[int]:
        """Ids of the tasks whose outputs this task's arguments use, in order of appearance."""
        found: list[int] = []
        for value in self.args.values():
            for match in GENERATED.finditer(str(value)):
                k = int(match.group(1))
                if k not in found:
                    found.append(k)
        return found


def plan_to_json(plan: list[TaskNode]) -> list[dict[str, Any]]:
    return [node.to_json() for node in plan]


def parse(data: str | list[dict[str, Any]]) -> list[TaskNode]:
    """Parse a plan from JSON text or objects, with clear errors for malformed entries."""
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise PlanError(f"plan is not JSON: {exc}") from None
    if not isinstance(data, list):
        raise PlanError("a plan is a JSON list of tasks")
    nodes = []
    for index, item in enumerate(data):
        if not isinstance(item, dict) or "task" not in item:
            raise PlanError(f"plan entry {index} is not a task object")
        args = item.get("args") or {}
        if not isinstance(args, dict):
            raise PlanError(f"plan entry {index}: args must be an object")
        dep = item.get("dep", [-1])
        dep = dep if isinstance(dep, list) else [dep]
        try:
            nodes.append(TaskNode(str(item["task"]), int(item.get("id", index)),
                                  [int(d) for d in dep], dict(args)))
        except (TypeError, ValueError):
            raise PlanError(f"plan entry {index}: id and dep must be integers") from None
    return nodes


def fix_dep(plan: list[TaskNode]) -> list[TaskNode]:
    """Rebuild every ``dep`` from the ``<GENERATED>-k`` references in its args (HuggingGPT's
    fix_dep): the arguments are what the executor uses, so they are the truth."""
    for node in plan:
        refs = node.references()
        node.dep = refs or [-1]
    return plan


def validate(plan: list[TaskNode], files: list[str]) -> list[TaskNode]:
    """Check names, ids, argument keys and resource types; repair what can be repaired.

    Repairs: ids renumbered to positions (references follow), deps rebuilt from references.
    Errors (``PlanError``): unknown task, missing argument, a reference to a later or unknown
    task, a resource of the wrong kind, a file that was not attached.
    """
    renumber = {node.id: index for index, node in enumerate(plan)}
    for index, node in enumerate(plan):
        node.id = index
        for key, value in list(node.args.items()):
            if isinstance(value, str):
                node.args[key] = GENERATED.sub(
                    lambda m: f"<GENERATED>-{renumber.get(int(m.group(1)), int(m.group(1)))}",
                    value)
    attached = {name: kind_of_file(name) for name in files}
    for node in plan:
        task = get_task(node.task)
        for key, kind in task.inputs:
            if key not in node.args:
                raise PlanError(f"task {node.id} ({node.task}) lacks argument {key!r}")
            value = node.args[key]
            if isinstance(value, list) and key == "labels":
                value = node.args[key] = ", ".join(map(str, value))
            if not isinstance(value, str):
                raise PlanError(f"task {node.id}: argument {key!r} must be a string")
            _check_resource(node, key, kind, value, attached, plan)
    return fix_dep(plan)


def _check_resource(node: TaskNode, key: str, kind: str, value: str,
                    attached: dict[str, str | None], plan: list[TaskNode]) -> None:
    refs = [int(m.group(1)) for m in GENERATED.finditer(value)]
    for ref in refs:
        if ref >= node.id or ref < 0:
            raise PlanError(f"task {node.id} uses <GENERATED>-{ref}, which does not come before it")
        source = TASKS.get(plan[ref].task)
        if kind != TEXT and value.strip() != f"<GENERATED>-{ref}":
            raise PlanError(f"task {node.id}: {key!r} must be a single resource")
        if source is not None and not produces(source, kind):
            raise PlanError(f"task {node.id}: {key!r} needs {kind}, but task {ref} "
                            f"({plan[ref].task}) makes {'/'.join(source.outputs)}")
    if kind == TEXT or refs:
        return
    if value not in attached:
        raise PlanError(f"task {node.id}: {key!r} names {value!r}, which is not an attached file"
                        " or an earlier task's output")
    if attached[value] != kind:
        raise PlanError(f"task {node.id}: {key!r} needs {kind}, but {value!r} is "
                        f"{attached[value] or 'of unknown kind'}")


def order(plan: list[TaskNode]) -> list[list[TaskNode]]:
    """Tasks grouped in waves that can run together (each wave depends only on earlier ones)."""
    done: set[int] = set()
    waves = []
    remaining = list(plan)
    while remaining:
        wave = [n for n in remaining if all(d in done for d in n.dep if d >= 0)]
        if not wave:
            raise PlanError("the plan's dependencies form a cycle")
        waves.append(wave)
        done.update(n.id for n in wave)
        remaining = [n for n in remaining if n.id not in done]
    return waves
