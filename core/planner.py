"""Stage 1, task planning: a request (plus files and history) into a task graph.

The controller writes the plan in HuggingGPT's JSON format under a schema built from the task
catalogue. The schema is enforced while decoding, not checked afterwards: the planner writes the
fixed JSON itself and lets the model decide only what the schema leaves open, each time among the
values valid at that point:

- whether there is a (further) task, and which: only catalogue tasks whose inputs can be fed
  (an image task needs an attached image or an earlier task that makes one);
- ``dep``: only earlier tasks whose output kind one of this task's inputs takes;
- each resource argument: only attached files of the right kind or ``<GENERATED>-k`` of a
  dependency that makes that kind;
- text arguments: a dependency's text output, an attached text file, or free text.

So every plan parses, names only known tasks, has every argument key, and types check.
Demos are rendered through the same decoder (replayed), so the model sees exactly the token
sequences it is asked to continue.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.cancel import check
from core.demos import Demo, DemoBank
from core.languages import target_languages
from core.llm import Controller
from core.plan import TaskNode, validate
from core.task_cues import asked_steps, mentions, strongly_mentioned
from core.tasks import (
    AUDIO,
    CATALOGUE,
    IMAGE,
    TARGET_LANGUAGE,
    TASK_NAMES,
    TEXT,
    Task,
    get_task,
    kind_of_file,
    produces,
)
from core.textclip import clip

INSTRUCTIONS = (
    "You are the task planner of an offline assistant. Turn the user's request into a JSON list "
    "of tasks, or [] when no task is needed (greetings, thanks, questions about yourself).\n"
    'Each task is {"task": name, "id": n, "dep": [ids of the tasks whose output it uses, or -1],'
    ' "args": {...}}. "<GENERATED>-k" is the output of task k. Copy text arguments from the '
    "request exactly.\nTasks (arguments):\n"
)

MARKER = "\u2063PLAN\u2063"
# Text arguments that are not copied from the request (labels are often rephrased there);
# every other text argument is a span of the request, or a reference.
FREE_TEXT_KEYS = frozenset({"labels"})
# What opens the text a request gives to work on ("Summarize this: ...", "Translate 'hello'"):
# a copied text argument starts after one of these (or at the request's start).
QUOTE_MARKS = (":", '"', "'", "\u201c", "\u2018")
# Logit bias from the retrieved demos' plans (see DemoPrior). It stands in for demos in the
# prompt, which the base model needs; the planning adapter has learned the format, and the bias
# then only pulls it towards neighbours' plans: measured on the dev set with the adapter, weight 0
# gave node F1 1.000 against 0.982 at 3, and TaskBench was level (README, "Planning quality").
DEFAULT_PRIOR_WEIGHT = 3.0  # without the adapter
ADAPTER_PRIOR_WEIGHT = 0.0  # with it


@dataclass(frozen=True)
class CoverageWeights:
    """The coverage check's logit biases (``CoveragePrior``), each measured (README, "Planning
    quality"); 0 switches a check off.

    - ``task``: towards a task the request names and the plan lacks, at the "which task?"
      choice. 2 lifted TaskBench node F1 0.474 -> 0.484 with dev unchanged; 3 or more puts a
      named later step first (speech planned before the translation it should read, which is
      then lost).
    - ``go_on``: towards another task while such a task is missing; 4 at no cost on dev.
    - ``unasked``: against a task no word of the request points to, at the "which task?"
      choice (an attached picture otherwise draws a description nobody asked for). TaskBench
      node F1 0.504 -> 0.534 at 4, 0.546 at 8 (edge F1 0.126 -> 0.135, 0.130), dev unchanged.
    - ``steps``: towards as many tasks as the request's action verbs ask for. With the unasked
      check at 8, 1 lifted TaskBench to 0.549 / 0.137 with dev unchanged; 2 cost a dev link.
    """

    task: float = 2.0
    go_on: float = 4.0
    unasked: float = 8.0
    steps: float = 1.0


def catalogue_text() -> str:
    return "\n".join(f"- {t.name}({', '.join(t.input_keys)}): {t.description}"
                     for t in CATALOGUE)


@dataclass
class PlanResult:
    """A plan with how it was made (for the store, the GUI and the evaluation)."""

    plan: list[TaskNode]
    seconds: float
    prompt_tokens: int
    demos: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"plan": [n.to_json() for n in self.plan], "seconds": round(self.seconds, 3),
                "prompt_tokens": self.prompt_tokens, "demos": self.demos}


@dataclass
class Turn:
    """An earlier exchange, as planning context."""

    request: str
    answer: str


class Policy:
    """Decides at each choice point: the model (live) or a known plan (replaying a demo)."""

    def choose(self, tokens: list[int], options: list[str], what: tuple) -> int:
        raise NotImplementedError

    def free_text(self, tokens: list[int], what: tuple) -> str:
        raise NotImplementedError

    def prefers_reference(self, tokens: list[int], refs: list[str], what: tuple) -> bool:
        raise NotImplementedError


class Live(Policy):
    def __init__(self, controller: Controller, max_text_tokens: int, request: str,
                 prior: DemoPrior | None = None, cancel: threading.Event | None = None,
                 coverage: CoveragePrior | None = None) -> None:
        self.cancel = cancel
        self.coverage = coverage
        self.controller = controller
        self.max_text_tokens = max_text_tokens
        self.prior = prior
        self.request_tokens = controller.tokenize(" " + request)
        self.starts = span_starts([controller.token_text(t) for t in self.request_tokens])

    def choose(self, tokens, options, what):
        check(self.cancel)
        biases = [b for b in (self.prior.bias(options, what) if self.prior else None,
                              self.coverage.bias(options, what) if self.coverage else None)
                  if b is not None]
        bias = [sum(values) for values in zip(*biases, strict=True)] if biases else None
        return self.controller.choose(tokens, options, bias)

    def free_text(self, tokens, what):
        check(self.cancel)
        if what[2] in FREE_TEXT_KEYS:
            text, _ = self.controller.generate(tokens, self.max_text_tokens, stop=('"', "\n"))
            return text
        span = self.controller.copy_span(tokens, self.request_tokens,
                                         self.controller.tokens_starting_with('"'),
                                         self.max_text_tokens, self.starts)
        return self.controller.detokenize(span)

    def prefers_reference(self, tokens, refs, what):
        logits = self.controller.logits_for(tokens)
        firsts = {self.controller.tokenize(r)[0] for r in refs}
        best_ref = max(logits[t] for t in firsts)
        others = logits.copy()
        others[list(firsts)] = -np.inf
        return bool(best_ref >= others.max())


class Replay(Policy):
    """Follows a known plan, so demo turns are tokenised exactly as live decoding would be.

    Given the request, a copied text argument is written as the request's own tokens from an
    allowed start (what ``copy_span`` produces live), not as the text tokenised afresh.
    """

    def __init__(self, controller: Controller, plan: Sequence[TaskNode], request: str = "",
                 max_text_tokens: int = 96) -> None:
        self.controller = controller
        self.plan = plan
        self.request_tokens = controller.tokenize(" " + request) if request else []
        self.starts = span_starts([controller.token_text(t) for t in self.request_tokens])
        self.max_text_tokens = max_text_tokens

    def _answer(self, what: tuple) -> str:
        kind = what[0]
        if kind == "more":
            return "more" if what[1] < len(self.plan) else "end"
        node = self.plan[what[1]]
        if kind == "task":
            return node.task
        if kind == "dep":
            return ", ".join(str(d) for d in sorted(node.dep))  # the decoder writes them so
        return str(node.args[what[2]])

    def choose(self, tokens, options, what):
        answer = self._answer(what)
        index = next(i for i, o in enumerate(options) if option_value(o, what) == answer)
        tokens.extend(self.controller.tokenize(options[index]))
        return index

    def free_text(self, tokens, what):
        text = self._answer(what)
        if what[2] not in FREE_TEXT_KEYS:
            span = self._span(text)
            if span is not None:
                tokens.extend(span)
                return text
        spaced = "" if what[2] in FREE_TEXT_KEYS else " "  # copied spans start at a word
        tokens.extend(self.controller.tokenize(spaced + escape_json(text)))
        return text

    def _span(self, text: str) -> list[int] | None:
        """The request tokens, from an allowed start, that spell ``text`` (None if none do)."""
        source = self.request_tokens
        wanted = text.strip()
        for start in self.starts:
            for end in range(start + 1, min(len(source), start + self.max_text_tokens) + 1):
                piece = self.controller.detokenize(source[start:end]).strip()
                if piece == wanted:
                    return list(source[start:end])
                if len(piece) > len(wanted) + 4:
                    break
        return None

    def prefers_reference(self, tokens, refs, what):
        return self._answer(what) in [r[:-1] for r in refs]


class DemoPrior:
    """What the retrieved demos say about the plan, as logit biases at the choice points.

    A small controller often knows the nearest example's answer but does not copy it; a
    similarity-weighted vote of the demos (which tasks they use, how many) added to its logits
    combines its reading of the request with the examples' plans.
    """

    def __init__(self, scored: Sequence[tuple[float, Demo]], weight: float) -> None:
        top = max((s for s, _ in scored), default=0.0)
        self.demos = [(max(s, 0.0) / top if top > 0 else 0.0, d) for s, d in scored]
        self.weight = weight
        self.total = sum(w for w, _ in self.demos) or 1.0

    def bias(self, options: Sequence[str], what: tuple) -> list[float] | None:
        if self.weight <= 0 or not self.demos:
            return None
        if what[0] == "task":
            votes = {}
            for w, demo in self.demos:
                for name in {n.task for n in demo.plan}:
                    votes[name] = votes.get(name, 0.0) + w
            return [self.weight * votes.get(o[:-1], 0.0) / self.total for o in options]
        if what[0] == "more":
            index = what[1]
            more = sum(w for w, d in self.demos if len(d.plan) > index) / self.total
            return [self.weight * (0.5 - more) if o == "]" else self.weight * (more - 0.5)
                    for o in options]
        return None


class CoveragePrior:
    """Checks, before the plan ends, what the request asks for that no task covers yet.

    A small planner often stops one or two steps early ("... and read it aloud" dropped after a
    translation; the third of four asked actions never planned), and starts with a task nobody
    asked for (a description of the attached picture). Three checks, each a soft logit bias,
    not a rule: the model still decides.

    - Named tasks: the request's words that name one task only (``core.task_cues``) are
      compared with the tasks planned so far; while one that the files and earlier tasks can
      feed is missing, the "another task?" choice leans towards going on (``go_on``) and the
      next task choice towards that task (``task``).
    - Asked steps: the request's action verbs where it asks (``asked_steps``) estimate how many
      steps it wants; after the first task, the "another task?" choice leans towards going on
      while fewer are planned, and towards ending once as many are (``steps``).
    - Unasked tasks: a task none of whose cue words the request uses leans away at the task
      choice (``unasked``).
    """

    def __init__(self, request: str, weights: CoverageWeights) -> None:
        self.wanted = strongly_mentioned(request)
        self.asked = asked_steps(request)
        self.unasked = {task for task in TASK_NAMES if not mentions(task, request)}
        self.weights = weights

    def missing(self, what: tuple) -> set[str]:
        """The wanted tasks the plan so far lacks, among those feasible at this choice."""
        planned, feasible = what[2], what[3]
        return (self.wanted - set(planned)) & set(feasible)

    def bias(self, options: Sequence[str], what: tuple) -> list[float] | None:
        if what[0] == "task":
            return self._task_bias(options, what)
        if what[0] == "more":
            return self._go_on_bias(options, what)
        return None

    def _task_bias(self, options: Sequence[str], what: tuple) -> list[float] | None:
        w = self.weights
        missing = self.missing(what) if w.task > 0 else set()
        bias = [(w.task if o[:-1] in missing else 0.0)
                - (w.unasked if o[:-1] in self.unasked else 0.0) for o in options]
        return bias if any(bias) else None

    def _go_on_bias(self, options: Sequence[str], what: tuple) -> list[float] | None:
        w = self.weights
        missing = self.missing(what)
        go_on = w.go_on if missing else 0.0
        planned = what[1]
        if w.steps > 0 and planned >= 1:
            if planned < self.asked:
                go_on += w.steps
            elif not missing:
                go_on -= w.steps
        if not go_on:
            return None
        return [-go_on if o == "]" else go_on for o in options]


def span_starts(pieces: Sequence[str]) -> list[int]:
    """Where a copied text argument may begin: the request's start, and after a colon or an
    opening quote, where requests put the text to work on ("Summarize this: ...", "Translate
    'hello'"). Without such marks, anywhere."""
    marks = [i + 1 for i, piece in enumerate(pieces[:-1])
             if piece.rstrip().endswith(QUOTE_MARKS)]
    if not marks:
        return list(range(len(pieces)))
    return [0, *marks]


def finish_cut_file_names(nodes: Sequence[TaskNode], request: str,
                          files: Sequence[str]) -> None:
    """A copied text that stops at the dot of an attached file's name goes on to the name's end.

    The planner ends a copied span where it judges the sentence ends, and a file name's dot
    looks like one: "How many dogs are in park.jpg?" came out as "How many dogs are in park.",
    a question about a park nobody named. The span is taken on to the end of the file name and
    a question or exclamation mark right after it.
    """
    for node in nodes:
        for key, kind in get_task(node.task).inputs:
            text = str(node.args.get(key, ""))
            at = request.find(text) if kind == TEXT and text.endswith(".") else -1
            if at < 0:
                continue
            end = at + len(text)
            stem = text.rsplit(None, 1)[-1]
            rest = re.match(r"\w+[?!]?", request[end:])
            if rest and (stem + rest.group().rstrip("?!")).strip("'\"(") in files:
                node.args[key] = text + rest.group()


def read_named_files(nodes: Sequence[TaskNode], files: Sequence[str]) -> None:
    """A text argument that is only the name of an attached picture or recording means what an
    earlier task read from it: point it at that task's output.

    "Transcribe lecture.wav and summarize it" sometimes comes out as a summary of the text
    "lecture.wav" (the copy took the file name); the transcript of lecture.wav is what was meant.
    Left alone when no earlier task reads that file into text.
    """
    media = {f for f in files if kind_of_file(f) != TEXT}
    for node in nodes:
        for key, kind in get_task(node.task).inputs:
            name = str(node.args.get(key, "")).strip().strip("'\"")
            if kind != TEXT or name not in media:
                continue
            reader = next((earlier for earlier in nodes if earlier.id < node.id
                           and name in earlier.args.values()
                           and produces(get_task(earlier.task), TEXT)), None)
            if reader is not None:
                node.args[key] = f"<GENERATED>-{reader.id}"
                node.dep = sorted({*(d for d in node.dep if d >= 0), reader.id})


# Text tasks a request's own words can feed; one of them is where an unread text file belongs.
_TEXT_READERS = ("question-answering", "conversational", "text-generation", "summarization",
                 "translation", "text2text-generation")


def read_unread_text_files(nodes: Sequence[TaskNode], files: Sequence[str]) -> None:
    """An attached text file that no task reads is what the request is about: "What time does
    the library close?" with library.txt attached, planned as a chat reply to the question, is a
    question about the file. The first text task that takes only the request's words reads it:
    as the passage of a question (a chat reply or free writing becomes question answering), as
    the text of a summary or translation."""
    used = {str(v).strip() for node in nodes for v in node.args.values()}
    unread = [f for f in files if kind_of_file(f) == TEXT and f not in used]
    if not unread:
        return
    for node in nodes:
        if node.task not in _TEXT_READERS or any(d >= 0 for d in node.dep):
            continue
        if str(node.args.get("context", "")).strip() in files:
            continue  # a question that already reads another file
        if node.task in ("conversational", "text-generation", "question-answering"):
            question = node.args.get("text", "")
            node.task = "question-answering"
            node.args = {"text": question, "context": unread[0]}
        else:
            node.args["text"] = unread[0]
        return


def set_target_languages(nodes: Sequence[TaskNode], request: str) -> None:
    """Each translation task's ``tgt_lang``, from the languages the request asks for, in order
    ('into German and French': the first translation German, the second French). Read from the
    request, not decoded: a language is a fact of the request, and the adapter was trained
    without the argument."""
    targets = target_languages(request)
    if not targets:
        return
    translations = [n for n in nodes if n.task == "translation"]
    for index, node in enumerate(translations):
        node.args[TARGET_LANGUAGE] = targets[min(index, len(targets) - 1)]


def option_value(option: str, what: tuple) -> str:
    if what[0] == "more":
        return "end" if option == "]" else "more"
    if what[0] == "dep":
        return option.rstrip("]")
    return option[:-1]  # drop the closing quote


def escape_json(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)[1:-1]


class Planner:
    """Plans requests with a controller, retrieved demos and the schema-driven decoder."""

    def __init__(self, controller: Controller, demos: DemoBank | None = None,
                 k_demos: int | None = None,
                 max_tasks: int = 6, max_text_tokens: int = 96,
                 available_tasks: Sequence[str] | None = None,
                 prior_weight: float | None = None,
                 coverage: CoverageWeights = CoverageWeights()) -> None:
        self.controller = controller
        self.demos = demos or DemoBank.load()
        # A controller with the planning adapter learned the format without examples in the
        # prompt (it was trained with none); the base model needs a few retrieved ones.
        if k_demos is None:
            k_demos = 0 if controller.lora_path is not None else 4
        self.k_demos = k_demos
        # Earlier turns reach the plan as files (previous-result.txt, files made before); their
        # text in the prompt helps the base model, but the adapter was trained without it and
        # drifts from the format when it is there.
        self.history_in_prompt = controller.lora_path is None
        self.max_tasks = max_tasks
        self.max_text_tokens = max_text_tokens
        if prior_weight is None:
            prior_weight = (ADAPTER_PRIOR_WEIGHT if controller.lora_path is not None
                            else DEFAULT_PRIOR_WEIGHT)
        self.prior_weight = prior_weight
        self.coverage = coverage
        names = set(available_tasks) if available_tasks is not None else None
        self.tasks = [t for t in CATALOGUE if names is None or t.name in names]
        self._demo_tokens: dict[int, list[int]] = {}
        self._prefix: list[int] | None = None

    # -- public

    def plan(self, request: str, files: Sequence[str] = (), history: Sequence[Turn] = (),
             cancel: threading.Event | None = None) -> PlanResult:
        """Plan one request. ``files`` are names of attached files (their kind by extension)."""
        if not request or not request.strip():
            raise ValueError("the request is empty")
        started = time.perf_counter()
        files = list(dict.fromkeys(files))
        # Retrieval serves the demos in the prompt and the prior; with neither it is skipped.
        scored = (self.demos.select_scored(request, files, max(self.k_demos, 4))
                  if self.k_demos > 0 or self.prior_weight > 0 else [])
        demos = [demo for _, demo in scored][-self.k_demos:] if self.k_demos else []
        prior = DemoPrior(scored, self.prior_weight)
        with self.controller.planning_mode():
            tokens = self.prompt_tokens(request, files, demos, history)
            self.controller.remember_prefix(self._fixed_prefix(tokens))
            prompt_tokens = len(tokens)
            nodes = self.decode(tokens, files,
                                 Live(self.controller, self.max_text_tokens, request, prior,
                                       cancel, CoveragePrior(request, self.coverage)))
        for node in nodes:
            for key, value in node.args.items():
                value = str(value).strip()
                if get_task(node.task).input_kind(key) == TEXT and not value:
                    value = request  # an empty text argument: the request is the text
                node.args[key] = value
        finish_cut_file_names(nodes, request, files)
        read_named_files(nodes, files)
        read_unread_text_files(nodes, files)
        set_target_languages(nodes, request)
        plan = validate(nodes, files)
        return PlanResult(plan, time.perf_counter() - started, prompt_tokens,
                          [d.request for d in demos])

    # -- prompt

    def prompt_tokens(self, request: str, files: Sequence[str], demos: Sequence[Demo],
                history: Sequence[Turn]) -> list[int]:
        system = INSTRUCTIONS + catalogue_text()
        messages = [{"role": "system", "content": system}]
        for demo in demos:
            messages.append({"role": "user", "content": _user_turn(demo.request, demo.files)})
            messages.append({"role": "assistant", "content": MARKER})
        context = ""
        if history and self.history_in_prompt:
            lines = [f"Earlier request: {t.request}\nEarlier answer: {clip(t.answer, 300)}"
                     for t in history[-2:]]
            context = "\n".join(lines) + "\n"
        messages.append({"role": "user", "content": context + _user_turn(request, files)})
        text = self.controller.template.render(messages)
        pieces = text.split(MARKER)
        tokens = self.controller.tokenize(pieces[0], add_bos=not self.controller.template
                                          .renders_bos, special=True)
        for demo, piece in zip(demos, pieces[1:], strict=True):
            tokens.extend(self._demo_plan_tokens(demo))
            tokens.extend(self.controller.tokenize(piece, special=True))
        return tokens

    def _fixed_prefix(self, tokens: list[int]) -> list[int]:
        """The part of every planning prompt that never changes (instructions and catalogue),
        kept as a saved llama.cpp state so each plan evaluates only what follows it."""
        if self._prefix is None:
            system = INSTRUCTIONS + catalogue_text()
            text = self.controller.template.render(
                [{"role": "system", "content": system}, {"role": "user", "content": MARKER}])
            head = text[: text.index(MARKER)]
            self._prefix = self.controller.tokenize(
                head, add_bos=not self.controller.template.renders_bos, special=True)
        same = 0
        for a, b in zip(self._prefix, tokens, strict=False):
            if a != b:
                break
            same += 1
        return tokens[: max(0, min(same, len(tokens) - 1))]

    def _demo_plan_tokens(self, demo: Demo) -> list[int]:
        key = id(demo)
        if key not in self._demo_tokens:
            tokens: list[int] = []
            self.decode(tokens, list(demo.files),
                         Replay(self.controller, demo.plan, demo.request, self.max_text_tokens))
            self._demo_tokens[key] = tokens
        return self._demo_tokens[key]

    # -- the schema-driven decoder

    def decode(self, tokens: list[int], files: Sequence[str], policy: Policy) -> list[TaskNode]:
        emit = self._emitter(tokens)
        nodes: list[TaskNode] = []
        emit("[")
        for index in range(self.max_tasks):
            tasks = [t for t in self.tasks if self._feasible_deps(t, files, nodes)]
            # what the choices know of the plan so far: its tasks, and which could come next
            so_far = (tuple(n.task for n in nodes), tuple(t.name for t in tasks))
            more = policy.choose(tokens, ["]", '{"task": "'] if index == 0 else
                                 ["]", ', {"task": "'], ("more", index, *so_far))
            if more == 0 or not tasks:
                if more != 0:
                    emit("]")
                return nodes
            task = tasks[policy.choose(tokens, [t.name + '"' for t in tasks],
                                       ("task", index, *so_far))]
            emit(f', "id": {index}, "dep": [')
            deps_options = self._feasible_deps(task, files, nodes)
            chosen = deps_options[policy.choose(tokens, [_deps_text(d) + "]" for d in deps_options],
                                                ("dep", index))]
            emit(', "args": {')
            args: dict[str, str] = {}
            for position, (key, kind) in enumerate(task.inputs):
                emit((", " if position else "") + f'"{key}": "')
                args[key] = self._argument(tokens, policy, files, nodes, chosen, kind,
                                           ("arg", index, key))
            emit("}}")
            if any(n.task == task.name and n.args == args for n in nodes):
                return nodes  # the same task on the same input again: a small model's loop
            nodes.append(TaskNode(task.name, index, list(chosen) or [-1], args))
        emit("]")
        return nodes

    def _argument(self, tokens: list[int], policy: Policy, files: Sequence[str],
                  nodes: list[TaskNode], deps: tuple[int, ...], kind: str, what: tuple) -> str:
        sources = [f"<GENERATED>-{k}" for k in deps if produces(get_task(nodes[k].task), kind)]
        sources += [f for f in files if kind_of_file(f) == kind]
        options = [s + '"' for s in sources]
        if kind != TEXT:
            return sources[policy.choose(tokens, options, what)]
        if options and policy.prefers_reference(tokens, options, what):
            return sources[policy.choose(tokens, options, what)]
        text = policy.free_text(tokens, what)
        tokens.extend(self.controller.tokenize('"'))
        return text

    def _feasible_deps(self, task: Task, files: Sequence[str],
                       nodes: list[TaskNode]) -> list[tuple[int, ...]]:
        """Dependency sets under which every resource input of ``task`` has a source."""
        file_kinds = {kind_of_file(f) for f in files}
        useful = [n.id for n in nodes
                  if any(produces(get_task(n.task), kind) for _, kind in task.inputs)]
        candidates: list[tuple[int, ...]] = [()] + [(k,) for k in useful]
        if len(task.inputs) > 1:
            candidates += [(a, b) for i, a in enumerate(useful) for b in useful[i + 1:]]
        feasible = []
        for deps in candidates:
            ok = True
            for _, kind in task.inputs:
                if kind in (IMAGE, AUDIO) and kind not in file_kinds and not any(
                        produces(get_task(nodes[k].task), kind) for k in deps):
                    ok = False
            if ok:
                feasible.append(deps)
        return feasible

    def _emitter(self, tokens: list[int]) -> Callable[[str], None]:
        def emit(text: str) -> None:
            tokens.extend(self.controller.tokenize(text))
        return emit


def _deps_text(deps: tuple[int, ...]) -> str:
    return ", ".join(str(d) for d in deps) if deps else "-1"


def _user_turn(request: str, files: Sequence[str]) -> str:
    return f"Request: {request}\nFiles: {', '.join(files) if files else 'none'}"


