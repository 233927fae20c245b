"""Planning quality metrics, read as TaskBench's ``evaluate.py`` reads them, and the readers.

Checked against microsoft/JARVIS ``taskbench/evaluate.py`` (resource dependencies, the Hugging
Face domain): per record, node F1 takes the *set* of tool names of the gold plan and of the
prediction (a tool outside the domain's tool list counts for neither side), edge F1 the set of
(source tool, target tool) links, where a link is the first ``<node-j>`` of an argument
(``<GENERATED>-j`` in our format; node j counted from 0, a node's reference to itself skipped).
Both are micro-averaged: true and false positives and negatives are summed over all records,
then precision and recall are taken. Predictions are scored under TaskBench's tool titles: our
``image-to-image`` ("change an image as a text instruction says": an image and a text in, an
image out) is TaskBench's "Image Editing" ("modifying an image to match a given text
description", inputs text and image), not its "Image-to-Image" (an image alone in). Our own
format is read the same way, with the catalogue as the tool list. Resource accuracy asks, for
every image or audio argument of a gold task, whether the predicted task of the same name (in
order) points at the same file or at the output of a task of the same name.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.tasks import AUDIO, IMAGE, TASKS, kind_of_file

# TaskBench (Hugging Face tools domain) task titles -> our catalogue ids.
TASKBENCH_NAMES = {
    "Token Classification": "token-classification",
    "Translation": "translation",
    "Summarization": "summarization",
    "Question Answering": "question-answering",
    "Conversational": "conversational",
    "Text Generation": "text-generation",
    "Sentence Similarity": "sentence-similarity",
    "Tabular Classification": "image-classification",
    "Object Detection": "object-detection",
    "Image Classification": "image-classification",
    "Image-to-Image": "image-to-image",
    "Image-to-Text": "image-to-text",
    "Text-to-Image": "text-to-image",
    "Visual Question Answering": "visual-question-answering",
    "Document Question Answering": "document-question-answering",
    "Image Segmentation": "image-segmentation",
    "Depth Estimation": "depth-estimation",
    "Text-to-Speech": "text-to-speech",
    "Automatic Speech Recognition": "automatic-speech-recognition",
    "Audio-to-Audio": "audio-to-audio",
    "Audio Classification": "audio-classification",
    "Image Editing": "image-to-image",
}
# Every tool of TaskBench's tool_desc.json; Text-to-Video has no counterpart in our catalogue.
TASKBENCH_TOOLS = frozenset(TASKBENCH_NAMES) | {"Text-to-Video"}
# Our tasks that TaskBench's tool list offers: what its protocol gives a planner to choose from.
TASKBENCH_TASKS = frozenset(TASKBENCH_NAMES.values())
# Our task id -> the TaskBench title a prediction is scored under. Where two titles share an id,
# the one whose definition is our task's: image-to-image takes an instruction, as "Image
# Editing" does; "Tabular Classification" (a table in an image) is not what our
# image-classification does.
TITLES = {task: title for title, task in TASKBENCH_NAMES.items()
          if title not in ("Tabular Classification", "Image-to-Image")}
_NODE_REF = re.compile(r"<node-(\d+)>")
_GENERATED_REF = re.compile(r"<GENERATED>-(\d+)")
_FILE = re.compile(r"[\w\-.]+\.(?:jpe?g|png|bmp|gif|webp|tiff?|wav|flac|mp3|ogg|m4a|txt|md)",
                   re.IGNORECASE)


@dataclass
class Example:
    """One evaluation item in our plan format (TaskBench items are converted)."""

    request: str
    files: list[str]
    plan: list[dict[str, Any]]
    clean: bool = True  # False when the gold plan names a tool outside TaskBench's tool list
    kind: str = ""  # TaskBench's single / chain / dag
    taskbench: bool = False  # scored under TaskBench's tool titles (gold nodes carry "tool")
    # evaluate.py cannot read the record (nodes keyed by step name, a node without
    # "arguments") and leaves it out of every score; so do we
    unscored: bool = False


def read_examples(path: Path) -> list[Example]:
    """Read our JSONL format or TaskBench's Hugging Face domain records. Rows a data checker
    rejected (``"accepted": false`` in back-instructed data) are not examples."""
    examples = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            row = json.loads(line)
            if row.get("accepted") is False:
                continue
            if "task_nodes" in row:
                examples.append(from_taskbench(row))
            else:
                examples.append(Example(row["request"], list(row.get("files", [])),
                                        list(row["plan"])))
    return examples


def from_taskbench(row: dict[str, Any]) -> Example:
    """A TaskBench record as our plan: titles mapped to ids, ``<node-j>`` to ``<GENERATED>-j``."""
    request = row.get("instruction") or row.get("user_request") or ""
    plan = []
    clean = True
    nodes = row["task_nodes"]
    unscored = isinstance(nodes, dict) or any("arguments" not in n for n in nodes)
    if isinstance(nodes, dict):  # a few records key their nodes by step name
        nodes = list(nodes.values())
    for index, node in enumerate(nodes):
        if node["task"] not in TASKBENCH_TOOLS:
            clean = False  # a tool outside tool_desc.json: noise in the benchmark itself
        name = TASKBENCH_NAMES.get(node["task"], node["task"])
        arguments = node.get("arguments", [])
        if isinstance(arguments, dict):
            arguments = list(arguments.values())
        arguments = [_argument_text(a) for a in arguments]
        # Dependencies as TaskBench's own evaluate.py reads them, so our edge F1 sits beside the
        # published ones: the first ``<node-j>`` of an argument is node j counted from 0, and a
        # node's reference to itself is skipped (some records count from 1, and their first
        # reference then points at the node itself; the task links are not consulted).
        refs = sorted({int(m.group(1)) for a in arguments if (m := _NODE_REF.search(a))}
                      - {index})
        args = {}
        task = TASKS.get(name)
        for position, value in enumerate(arguments):
            known = task is not None and position < len(task.inputs)
            key = task.input_keys[position] if known else f"arg{position}"
            args[key] = _NODE_REF.sub(lambda m: f"<GENERATED>-{m.group(1)}", str(value))
        plan.append({"task": name, "id": index, "dep": refs or [-1], "args": args,
                     "tool": node["task"]})
    files = sorted(set(_FILE.findall(request)) | {
        str(v) for node in plan for v in node["args"].values() if _FILE.fullmatch(str(v))})
    return Example(request, files, plan, clean, row.get("type", ""), taskbench=True,
                   unscored=unscored)


def _argument_text(argument: Any) -> str:
    """An argument as evaluate.py reads it: a dict by its first value, a list joined."""
    if isinstance(argument, dict):
        argument = next(iter(argument.values()), "")
    if isinstance(argument, list):
        argument = " ".join(map(str, argument))
    return str(argument)


def tool_names(plan: list[dict[str, Any]], taskbench: bool) -> list[str]:
    """Each node's tool name: under TaskBench's titles (a gold node keeps its own), or our ids."""
    if not taskbench:
        return [node["task"] for node in plan]
    return [node.get("tool") or TITLES.get(node["task"], node["task"]) for node in plan]


def nodes_of(plan: list[dict[str, Any]], taskbench: bool = False) -> set[str]:
    """The set of tool names that count: those in the tool list (TaskBench's, or the
    catalogue); evaluate.py leaves any other name out on both sides."""
    known = TASKBENCH_TOOLS if taskbench else TASKS
    return {name for name in tool_names(plan, taskbench) if name in known}


def edges_of(plan: list[dict[str, Any]], taskbench: bool = False) -> set[tuple[str, str]]:
    """The set of (source, target) links: the first reference in each argument to another
    node that exists (an out-of-range reference is skipped, as evaluate.py's per-argument
    error handling skips it)."""
    names = tool_names(plan, taskbench)
    links = set()
    for index, node in enumerate(plan):
        for value in node["args"].values():
            match = _GENERATED_REF.search(str(value))
            if match and int(match.group(1)) != index and int(match.group(1)) < len(plan):
                links.add((names[int(match.group(1))], names[index]))
    return links


@dataclass
class Scores:
    """Counts summed over a set (micro averaging), then the rates."""

    items: int = 0
    parsed: int = 0
    exact: int = 0
    node_tp: int = 0
    node_pred: int = 0
    node_gold: int = 0
    edge_tp: int = 0
    edge_pred: int = 0
    edge_gold: int = 0
    resources_right: int = 0
    resources_total: int = 0
    seconds: list[float] = field(default_factory=list)

    def add(self, gold: list[dict[str, Any]], predicted: list[dict[str, Any]] | None,
            seconds: float, taskbench: bool = False) -> None:
        self.items += 1
        self.seconds.append(seconds)
        gold_nodes, gold_edges = nodes_of(gold, taskbench), edges_of(gold, taskbench)
        self.node_gold += len(gold_nodes)
        self.edge_gold += len(gold_edges)
        self.resources_total += sum(1 for n in gold for k, v in _resource_args(n))
        if predicted is None:
            return
        self.parsed += 1
        pred_nodes, pred_edges = nodes_of(predicted, taskbench), edges_of(predicted, taskbench)
        self.node_pred += len(pred_nodes)
        self.edge_pred += len(pred_edges)
        self.node_tp += len(gold_nodes & pred_nodes)
        self.edge_tp += len(gold_edges & pred_edges)
        self.resources_right += resource_matches(gold, predicted)
        if _shape(gold) == _shape(predicted):
            self.exact += 1

    def summary(self) -> dict[str, float]:
        def f1(tp: int, pred: int, gold: int) -> float:
            if pred == 0 and gold == 0:
                return 1.0
            precision = tp / pred if pred else 0.0
            recall = tp / gold if gold else 0.0
            return 2 * precision * recall / (precision + recall) if precision + recall else 0.0

        ordered = sorted(self.seconds)
        median = ordered[len(ordered) // 2] if ordered else 0.0
        return {
            "items": self.items,
            "parse_rate": self.parsed / self.items if self.items else 0.0,
            "node_f1": f1(self.node_tp, self.node_pred, self.node_gold),
            "edge_f1": f1(self.edge_tp, self.edge_pred, self.edge_gold),
            "exact_plan_rate": self.exact / self.items if self.items else 0.0,
            "resource_accuracy": (self.resources_right / self.resources_total
                                  if self.resources_total else 1.0),
            "median_seconds": median,
            "mean_seconds": sum(self.seconds) / len(self.seconds) if self.seconds else 0.0,
        }


def _resource_args(node: dict[str, Any]) -> list[tuple[str, str]]:
    task = TASKS.get(node["task"])
    if task is None:
        return [(k, str(v)) for k, v in node["args"].items()
                if kind_of_file(str(v)) in (IMAGE, AUDIO)]
    return [(k, str(node["args"].get(k, ""))) for k, kind in task.inputs
            if kind in (IMAGE, AUDIO)]


def _normalise(value: str, plan: list[dict[str, Any]]) -> str:
    match = re.fullmatch(r"<GENERATED>-(\d+)", value.strip())
    if match:
        k = int(match.group(1))
        return f"<output of {plan[k]['task']}>" if k < len(plan) else value
    return value.strip()


def resource_matches(gold: list[dict[str, Any]], predicted: list[dict[str, Any]]) -> int:
    """Gold image/audio arguments matched by the same-named predicted task, taken in order."""
    remaining = list(predicted)
    right = 0
    for node in gold:
        match = next((p for p in remaining if p["task"] == node["task"]), None)
        if match is None:
            continue
        remaining.remove(match)
        for key, value in _resource_args(node):
            if _normalise(value, gold) == _normalise(str(match["args"].get(key, "")), predicted):
                right += 1
    return right


def _shape(plan: list[dict[str, Any]]) -> list[tuple]:
    return [(n["task"], tuple(sorted(d for d in n["dep"] if d >= 0)),
             tuple(_normalise(v, plan) for _, v in _resource_args(n))) for n in plan]
