"""The planning metrics: TaskBench-style micro F1, resource accuracy, and the format readers."""

from __future__ import annotations

import json

import pytest

from core.plan_metrics import Scores, from_taskbench, read_examples

TTS_ASR = [
    {"task": "text-to-speech", "id": 0, "dep": [-1], "args": {"text": "hi"}},
    {"task": "automatic-speech-recognition", "id": 1, "dep": [0],
     "args": {"audio": "<GENERATED>-0"}},
]


def test_perfect_plans_score_one():
    scores = Scores()
    scores.add(TTS_ASR, TTS_ASR, 1.0)
    summary = scores.summary()
    assert summary["node_f1"] == summary["edge_f1"] == summary["exact_plan_rate"] == 1.0
    assert summary["resource_accuracy"] == 1.0 and summary["parse_rate"] == 1.0


def test_micro_f1_sums_counts_over_the_set():
    scores = Scores()
    scores.add(TTS_ASR, TTS_ASR[:1], 1.0)  # one node right, one missing, edge missing
    scores.add([TTS_ASR[0]], [TTS_ASR[0]], 3.0)
    summary = scores.summary()
    # nodes: tp 2, predicted 2, gold 3 -> P 1, R 2/3, F1 0.8; edges: tp 0 of 1 gold -> 0
    assert summary["node_f1"] == pytest.approx(0.8)
    assert summary["edge_f1"] == 0.0
    assert summary["exact_plan_rate"] == 0.5
    assert summary["median_seconds"] == 3.0


def test_unparsed_plans_count_against_recall():
    scores = Scores()
    scores.add(TTS_ASR, None, 1.0)
    scores.add(TTS_ASR, TTS_ASR, 1.0)
    summary = scores.summary()
    assert summary["parse_rate"] == 0.5
    assert summary["node_f1"] == pytest.approx(2 * 1 * 0.5 / 1.5)


def test_resource_accuracy_checks_files_and_generated_sources():
    gold = [{"task": "image-to-text", "id": 0, "dep": [-1], "args": {"image": "a.png"}}]
    wrong = [{"task": "image-to-text", "id": 0, "dep": [-1], "args": {"image": "b.png"}}]
    scores = Scores()
    scores.add(gold, wrong, 1.0)
    assert scores.summary()["resource_accuracy"] == 0.0
    assert scores.summary()["node_f1"] == 1.0


def test_empty_gold_and_empty_prediction_is_exact():
    scores = Scores()
    scores.add([], [], 0.5)
    assert scores.summary()["exact_plan_rate"] == 1.0


def test_taskbench_records_convert_to_our_plans():
    row = {"instruction": "Transcribe 'example.wav' and summarize it.", "type": "chain",
           "task_nodes": [
               {"task": "Automatic Speech Recognition", "arguments": ["example.wav"]},
               {"task": "Summarization", "arguments": ["<node-0>"]}],
           "task_links": [{"source": "Automatic Speech Recognition",
                           "target": "Summarization"}]}
    example = from_taskbench(row)
    assert example.files == ["example.wav"] and example.clean and example.kind == "chain"
    assert example.plan == [
        {"task": "automatic-speech-recognition", "id": 0, "dep": [-1],
         "args": {"audio": "example.wav"}, "tool": "Automatic Speech Recognition"},
        {"task": "summarization", "id": 1, "dep": [0], "args": {"text": "<GENERATED>-0"},
         "tool": "Summarization"},
    ]


def test_taskbench_tools_outside_the_list_mark_the_record_unclean():
    row = {"instruction": "x", "task_nodes": [{"task": "Audio Enhancement", "arguments": []}],
           "task_links": []}
    assert not from_taskbench(row).clean


def test_read_examples_detects_the_format(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text(json.dumps({"request": "hi", "files": [], "plan": []}) + "\n"
                    + json.dumps({"instruction": "Speak 'hello'", "task_nodes": [
                        {"task": "Text-to-Speech", "arguments": ["hello"]}],
                        "task_links": []}) + "\n")
    examples = read_examples(path)
    assert [e.plan for e in examples][0] == []
    assert examples[1].plan[0]["task"] == "text-to-speech"


def test_read_examples_leaves_out_rejected_back_instructed_rows(tmp_path):
    """The back-instructed data file scores as it is: its kept requests, not rejected drafts."""
    plan = [{"task": "summarization", "id": 0, "dep": [-1], "args": {"text": "notes.txt"}}]
    path = tmp_path / "back_instruct.jsonl"
    path.write_text(json.dumps({"request": "Summarize notes.txt", "files": ["notes.txt"],
                                "plan": plan, "accepted": True}) + "\n"
                    + json.dumps({"request": "", "files": [], "plan": plan,
                                  "accepted": False, "reason": "left a step out"}) + "\n")
    assert [e.request for e in read_examples(path)] == ["Summarize notes.txt"]


def test_taskbench_dependencies_are_read_as_its_own_evaluation_reads_them():
    """``<node-j>`` counts from 0 and a reference to the node itself is skipped, as TaskBench's
    evaluate.py does (some records count from 1; the published scores were computed so)."""
    row = {"instruction": "Translate 'hello' into French, then read it aloud", "type": "chain",
           "task_nodes": [{"task": "Translation", "arguments": ["hello"]},
                          {"task": "Text-to-Speech", "arguments": ["<node-1>"]}],
           "task_links": [{"source": "Translation", "target": "Text-to-Speech"}]}
    plan = from_taskbench(row).plan
    assert [n["dep"] for n in plan] == [[-1], [-1]]  # no edge from a node to itself
    scores = Scores()
    scores.add(plan, [{"task": "translation", "id": 0, "dep": [-1], "args": {"text": "hello"}},
                      {"task": "text-to-speech", "id": 1, "dep": [0],
                       "args": {"text": "<GENERATED>-0"}}], 0.1)
    assert scores.summary()["node_f1"] == 1.0 and scores.edge_gold == 0


def test_nodes_and_links_count_once_per_record_as_in_taskbench():
    """evaluate.py compares per-record *sets*: a tool planned twice is one true positive."""
    twice = [{"task": "translation", "id": 0, "dep": [-1], "args": {"text": "hi"}},
             {"task": "translation", "id": 1, "dep": [-1], "args": {"text": "yo"}}]
    scores = Scores()
    scores.add(twice[:1], twice, 1.0)
    assert (scores.node_tp, scores.node_pred, scores.node_gold) == (1, 1, 1)


def test_predictions_are_scored_under_taskbench_titles():
    """Our image-to-image (image and instruction in) is TaskBench's "Image Editing" (text and
    image in), not its "Image-to-Image" (an image alone); a task with no TaskBench title
    (text-classification) counts on neither side, as in evaluate.py."""
    def record(tool: str, arguments: list[str]) -> dict:
        return {"instruction": "Edit example.jpg", "type": "single",
                "task_nodes": [{"task": tool, "arguments": arguments}], "task_links": []}
    edit = [{"task": "image-to-image", "id": 0, "dep": [-1],
             "args": {"image": "example.jpg", "text": "blue"}},
            {"task": "text-classification", "id": 1, "dep": [-1], "args": {"text": "blue"}}]
    editing, transforming = Scores(), Scores()
    editing.add(from_taskbench(record("Image Editing", ["example.jpg", "blue"])).plan, edit, 1.0,
                taskbench=True)
    transforming.add(from_taskbench(record("Image-to-Image", ["example.jpg"])).plan, edit, 1.0,
                     taskbench=True)
    assert (editing.node_tp, editing.node_pred, editing.node_gold) == (1, 1, 1)
    assert (transforming.node_tp, transforming.node_pred, transforming.node_gold) == (0, 1, 1)


def test_records_taskbench_cannot_read_are_left_out():
    keyed = {"instruction": "x", "task_nodes": {"step_1": {"task": "Translation",
                                                           "arguments": ["hi"]}},
             "task_links": []}
    bare = {"instruction": "x", "task_nodes": [{"task": "Translation"}], "task_links": []}
    read = {"instruction": "x", "task_nodes": [{"task": "Translation", "arguments": ["hi"]}],
            "task_links": []}
    assert from_taskbench(keyed).unscored and from_taskbench(bare).unscored
    assert not from_taskbench(read).unscored


def test_only_the_first_reference_of_an_argument_is_a_link():
    row = {"instruction": "x", "type": "dag", "task_nodes": [
        {"task": "Translation", "arguments": ["hi"]},
        {"task": "Summarization", "arguments": ["hello"]},
        {"task": "Text-to-Speech", "arguments": ["<node-0> and <node-1>"]}], "task_links": []}
    plan = from_taskbench(row).plan
    assert plan[2]["dep"] == [0]
