"""Stage 2, model selection: for each planned task, one installed model and the reason for it.

Candidates come from the registry (installed, serving the task, fitting the memory budget,
ranked by Conductor's declared preference, then hub downloads and likes). One candidate needs no
LLM call. Several: the controller scores each model's description against the request, one at a
time, and takes the best fit, then says why, quoting the part of the chosen model's description
that decided it; the reason is recorded. Within a task that names several jobs, a model's
registry ``skill`` must fit what the request asks (OCR or captioning for image-to-text, the
target language for translation); when none fits, the nearest is taken and the reason says what
is missing. Text tasks with no expert fall back to the writer LLM, as HuggingGPT does; other
tasks with no model fail alone, not the run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from core.events import Emit, EventKind
from core.languages import code_of
from core.llm import Controller
from core.plan import TaskNode
from core.registry import ModelRecord, Registry
from core.tasks import TARGET_LANGUAGE, get_task, skill_of, wanted_skill

# The request's first tokens carry its language and what it asks; scoring more costs time.
MAX_SCORED_TOKENS = 48
RANK_PRIOR = 1.0  # nats: how much the best-ranked candidate is favoured when scores are close


@dataclass
class Choice:
    """The model chosen for one task, or why there is none."""

    task_id: int
    task: str
    model_id: str | None
    reason: str
    candidates: list[str]
    record: ModelRecord | None = None
    llm_decided: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"task_id": self.task_id, "task": self.task, "model": self.model_id,
                "reason": self.reason, "candidates": self.candidates,
                "llm_decided": self.llm_decided}


class Selector:
    """Chooses a model per task from the registry, asking the controller only when it must."""

    def __init__(self, registry: Registry, controller: Controller | None,
                 writer_record: ModelRecord | None, memory_budget_bytes: int | None = None,
                 top_k: int = 4) -> None:
        self.registry = registry
        self.controller = controller  # the planner's LLM: it picks among candidates
        self.writer_record = writer_record  # does the text tasks no expert covers
        self.memory_budget_bytes = memory_budget_bytes
        self.top_k = top_k

    def select(self, request: str, plan: list[TaskNode],
               on_event: Emit | None = None) -> list[Choice]:
        choices = []
        for node in plan:
            choice = self.select_one(request, node)
            choices.append(choice)
            if on_event:
                on_event(EventKind.CHOICE, choice.to_json())
        return choices

    def select_one(self, request: str, node: TaskNode) -> Choice:
        task = get_task(node.task)
        candidates = self.registry.candidates(node.task, self.memory_budget_bytes,
                                              limit=self.top_k)
        ids = [c.id for c in candidates]
        note = ""  # why no candidate serves, when the request's language rules them all out
        if node.task == "translation" and node.args.get(TARGET_LANGUAGE):
            candidates, note = _serving_language(candidates, str(node.args[TARGET_LANGUAGE]))
        wanted = wanted_skill(node.task, request)
        missing = ""  # the skill the request asks for that no candidate has
        if wanted and candidates:
            fitting = [c for c in candidates if c.skill == wanted]
            candidates = fitting or candidates
            missing = "" if fitting else wanted
        if not candidates:
            if task.llm_fallback and self.writer_record is not None:
                why = note or "no expert model for this task is installed"
                return Choice(node.id, node.task, self.writer_record.id,
                              f"{why}; the writer model does it itself", ids,
                              self.writer_record)
            return Choice(node.id, node.task, None,
                          f"no installed model can do {node.task}; import one with "
                          "`main.py models import`", ids)
        if len(candidates) == 1 or self.controller is None:
            chosen, decided = candidates[0], False
            reason = ("the only installed model for this task" if len(candidates) == 1
                      else "the most downloaded installed model for this task")
        else:
            index, reason = self._ask(request, node, candidates)
            chosen, decided = candidates[index], True
        if missing:
            skill = skill_of(node.task, chosen.skill)
            reason = (f"no {missing} model is installed; {chosen.id} can only {skill.can}"
                      if skill else f"no {missing} model is installed; {reason}")
        return Choice(node.id, node.task, chosen.id, reason, ids, chosen, llm_decided=decided)

    def _ask(self, request: str, node: TaskNode, candidates: list[ModelRecord]
             ) -> tuple[int, str]:
        controller = self.controller
        with controller.lock:
            index = self._best_fit(request, candidates)
            return index, self._reason(request, node, candidates, index)

    def _best_fit(self, request: str, candidates: list[ModelRecord]) -> int:
        """The candidate after whose description the request is most expected.

        Asked to name one of several listed ids, a small controller names the first listed
        whatever the descriptions say: an English review and a Spanish tweet both went to the
        first of two sentiment models, in either order, and so did the 1.5B writer. Each
        description is therefore scored alone: how likely the controller finds the request
        after "Model: <description>" (a noisy-channel choice). A description that speaks of
        Spanish tweets makes a Spanish tweet likely, and the order of the list cannot decide.
        The registry's ranking (preference, then downloads) only breaks near-ties: the
        first-ranked gets ``RANK_PRIOR`` nats more, the last none ("read that out loud" scores
        the two voices 0.4 apart; "a Spanish tweet" the two classifiers 12).
        """
        controller = self.controller
        asked = controller.tokenize(request)[:MAX_SCORED_TOKENS]
        last = max(1, len(candidates) - 1)
        scores = [controller.continuation_logprob(
            controller.tokenize(f"Model: {c.description}\nA request this model is right "
                                "for: ", add_bos=True), asked) + RANK_PRIOR * (last - i) / last
            for i, c in enumerate(candidates)]
        return max(range(len(candidates)), key=scores.__getitem__)

    def _reason(self, request: str, node: TaskNode, candidates: list[ModelRecord],
                index: int) -> str:
        """Why the chosen model: the clause of its description the controller picks as the
        reason. A small controller's free text wanders, a clause of the description stays true
        to the model, and choosing one costs a forward pass or two."""
        lines = "\n".join(
            f'- "{c.id}": {c.description} ({c.size_bytes / 1e6:.0f} MB; '
            f"tags: {', '.join(c.tags[:6])})" for c in candidates)
        # The candidates come first: for a task they are the same from run to run, so their
        # evaluated state is saved and later selections evaluate only the request part.
        fixed = (f"Choose the best model for the task {node.task}.\nModels:\n{lines}\n")
        prompt = (
            f"{fixed}Request: {request}\nTask arguments: {node.args}\n"
            'Answer as JSON: {"id": model id, "reason": why, in one sentence}.'
        )
        controller = self.controller
        tokens = controller.prompt_tokens([{"role": "user", "content": prompt}])
        controller.remember_leading(tokens, fixed)
        tokens.extend(controller.tokenize(f'{{"id": "{candidates[index].id}", "reason": "'))
        description = candidates[index].description
        clauses = description_clauses(description) or [description]
        return clauses[controller.choose(tokens, [f' {c}"' for c in clauses])]


def _serving_language(candidates: list[ModelRecord], target: str
                      ) -> tuple[list[ModelRecord], str]:
    """Translation models whose language pair (``skill``, e.g. "en-de") ends in the target
    language; models with no recorded pair are kept (they may be multilingual)."""
    code = code_of(target).lower()
    serving = [c for c in candidates if not c.skill or c.skill.split("-")[-1] == code]
    if serving:
        return serving, ""
    return [], f"no translation model into {target} is installed"


def description_clauses(description: str, min_words: int = 4) -> list[str]:
    """A description's sentences and clauses (split after '.', ';' and ':'), a clause too short
    to stand alone joined to the next one."""
    pieces = [p.strip() for p in re.split(r"(?<=[.;:])\s+", description.strip()) if p.strip()]
    clauses: list[str] = []
    pending = ""
    for piece in pieces:
        pending = f"{pending} {piece}".strip()
        if len(pending.split()) >= min_words:
            clauses.append(pending)
            pending = ""
    if pending and clauses:
        clauses[-1] = f"{clauses[-1]} {pending}"
    elif pending:
        clauses.append(pending)
    return list(dict.fromkeys(c.rstrip(";:").strip() for c in clauses))
