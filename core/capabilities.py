"""What this installation can do, read from the registry: the answer to "what can you do?".

A small model asked about itself invents ("I can do anything"); the truth is the registry's
installed models. Each task with an installed expert is one line, worded by the skills of its
models where a task names several jobs (an OCR-only image-to-text reads text, it does not
describe pictures), plus the text tasks the writer LLM does itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.registry import LLM_RUNTIMES, ModelRecord, Registry
from core.tasks import SKILLS, TASKS, WRITER_TASKS

# A question about the assistant itself: answered from the registry, never planned (a small
# planner turns "what could you help me with?" into a classification task).
CAPABILITY_QUESTION = re.compile(
    r"\b(what (?:else )?(?:can|could|do) you do|what are you (?:able|good)|what can i (?:ask|do)|"
    r"your (?:capabilities|abilities|skills|features)|how (?:can|could) you help|"
    r"what (?:sort|kinds?|types?) of (?:things|tasks|stuff) (?:can|could|do) you|"
    r"what do you (?:offer|support)|"
    r"what (?:tasks|models) (?:can|do|are)|who are you|what are you\b(?! (?:doing|saying)))",
    re.I)
GREETING = re.compile(r"^\s*(hi|hello|hey|good (?:morning|afternoon|evening)|hallo)\b", re.I)


def asks_what_it_can_do(request: str) -> bool:
    return bool(CAPABILITY_QUESTION.search(request))


@dataclass(frozen=True)
class Capability:
    """One thing the installation can do, and the models that do it."""

    task: str
    phrase: str
    models: tuple[str, ...]


def installed_capabilities(registry: Registry, writer: ModelRecord | None) -> list[Capability]:
    """Every task some installed model serves, in catalogue order, with the writer's text tasks
    when a writer is installed."""
    serving: dict[str, list[ModelRecord]] = {}
    for record in registry.all():
        if record.runtime in LLM_RUNTIMES or not registry.resolve(record).exists():
            continue
        for task in record.all_tasks():
            if task in TASKS:
                serving.setdefault(task, []).append(record)
    if writer is not None:
        for task in WRITER_TASKS:
            serving.setdefault(task, []).append(writer)
    capabilities = []
    for name, task in TASKS.items():
        records = serving.get(name)
        if not records:
            continue
        skills = SKILLS.get(name, {})
        known = [skills[r.skill].can for r in records if r.skill in skills]
        if skills and len(known) == len(records):
            phrase = "; ".join(dict.fromkeys(known))
        else:
            phrase = task.description
        capabilities.append(Capability(name, phrase,
                                       tuple(dict.fromkeys(r.id for r in records))))
    return capabilities


def capabilities_text(capabilities: list[Capability]) -> str:
    """The capabilities as lines for a prompt or an answer."""
    return "\n".join(f"- {c.task}: {c.phrase}" for c in capabilities)
