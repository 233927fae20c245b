"""Planning quality metrics, TaskBench style, and readers for the evaluation formats.

Node F1 compares the multisets of task names of predicted and gold plans; edge F1 the multisets of
(source task, target task) dependency pairs. Both are micro-averaged: counts are summed over the
whole set before precision and recall are taken, as TaskBench does. Resource accuracy asks, for
every image or audio argument of a gold task, whether the predicted task of the same name (in
order) points at the same file or at the output of a task of the same name.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
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
_NODE_REF = re.compile(r"<node-(\d+)>")
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


def read_examples(path: Path) -> list[Example]:
    """Read our JSONL format or TaskBench's Hugging Face domain records."""
    examples = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            row = json.loads(line)
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
    if isinstance(nodes, dict):  # a few records key their nodes by step name
        nodes = list(nodes.values())
    for index, node in enumerate(nodes):
        if node["task"] not in TASKBENCH_TOOLS:
            clean = False  # a tool outside tool_desc.json: noise in the benchmark itself
        name = TASKBENCH_NAMES.get(node["task"], node["task"])
        arguments = node.get("arguments", [])
        if isinstance(arguments, dict):
            arguments = list(arguments.values())
        # Dependencies as TaskBench's own evaluate.py reads them, so our edge F1 sits beside the
        # published ones: ``<node-j>`` in an argument is node j counted from 0, and a node's
        # reference to itself is skipped (some records count from 1, and their first reference
        # then points at the node itself; the task links are not consulted).
        refs = sorted({int(m) for a in arguments for m in _NODE_REF.findall(str(a))}
                      - {index})
        args = {}
        task = TASKS.get(name)
        for position, value in enumerate(arguments):
            known = task is not None and position < len(task.inputs)
            key = task.input_keys[position] if known else f"arg{position}"
            args[key] = _NODE_REF.sub(lambda m: f"<GENERATED>-{m.group(1)}", str(value))
        plan.append({"task": name, "id": index, "dep": refs or [-1], "args": args})
    files = sorted(set(_FILE.findall(request)) | {
        str(v) for node in plan for v in node["args"].values() if _FILE.fullmatch(str(v))})
    return Example(request, files, plan, clean, row.get("type", ""))


def nodes_of(plan: Iterable[dict[str, Any]]) -> Counter:
    return Counter(node["task"] for node in plan)


def edges_of(plan: list[dict[str, Any]]) -> Counter:
    by_id = {node["id"]: node["task"] for node in plan}
    return Counter((by_id[d], node["task"]) for node in plan for d in node["dep"]
                   if d >= 0 and d in by_id)


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
            seconds: float) -> None:
        self.items += 1
        self.seconds.append(seconds)
        gold_nodes, gold_edges = nodes_of(gold), edges_of(gold)
        self.node_gold += sum(gold_nodes.values())
        self.edge_gold += sum(gold_edges.values())
        self.resources_total += sum(1 for n in gold for k, v in _resource_args(n))
        if predicted is None:
            return
        self.parsed += 1
        pred_nodes, pred_edges = nodes_of(predicted), edges_of(predicted)
        self.node_pred += sum(pred_nodes.values())
        self.edge_pred += sum(pred_edges.values())
        self.node_tp += sum((gold_nodes & pred_nodes).values())
        self.edge_tp += sum((gold_edges & pred_edges).values())
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
