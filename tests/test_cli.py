"""The command line, run as a user runs it: a child process per command, network blocked."""

from __future__ import annotations

import json
import sys

import pytest

from helpers import ROOT, corrupt_file, heard, run_child, run_cli


@pytest.fixture()
def cli(tmp_path, cache_dir):
    log = tmp_path / "network.log"

    def run(*args, **kwargs):
        return run_cli(list(args), tmp_path / "data", cache_dir, log, **kwargs)

    return run


def test_help_imports_no_heavy_library(tmp_path):
    """--help must stay fast: building the parser loads none of the model runtimes."""
    code = ("import sys, main; main.build_parser().format_help(); "
            "heavy = [m for m in ('torch', 'onnxruntime', 'llama_cpp', 'PySide6', 'transformers',"
            " 'cv2', 'spacy', 'faster_whisper') if m in sys.modules]; print(heavy)")
    done = run_child([sys.executable, "-c", code], tmp_path / "net.log")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_help_lists_the_commands(cli):
    result = cli("--help")
    assert result.returncode == 0
    for command in ("ask", "plan", "run", "models", "history"):
        assert command in result.stdout


def test_models_list_show_verify(cli):
    listed = cli("models", "list", "--json")
    assert listed.returncode == 0
    rows = json.loads(listed.stdout)
    assert {"google/gemma-3-270m", "openai/whisper-tiny.en"} <= {r["id"] for r in rows}
    shown = cli("models", "show", "openai/whisper-tiny.en", "--json")
    assert json.loads(shown.stdout)["license"] == "MIT"
    searched = json.loads(cli("models", "list", "--search", "speech", "--json").stdout)
    assert "openai/whisper-tiny.en" in {r["id"] for r in searched}
    verified = cli("models", "verify", "cjhutto/vaderSentiment", "--json")
    assert verified.returncode == 0 and json.loads(verified.stdout)[0]["status"] == "ok"
    missing = cli("models", "show", "no/such-model")
    assert missing.returncode == 2 and "no/such-model" in missing.stderr


def test_run_one_expert_without_the_llm(cli, tmp_path):
    result = cli("run", "text-classification", "--model", "cjhutto/vaderSentiment",
                 "--text", "I love this phone, it is wonderful", "--json")
    assert result.returncode == 0, result.stderr
    outputs = json.loads(result.stdout)["outputs"]
    assert outputs["labels"][0]["label"] == "positive"


def test_run_rejects_a_corrupt_file_with_exit_code_2(cli, tmp_path):
    broken = corrupt_file(tmp_path / "broken.wav")
    result = cli("run", "automatic-speech-recognition", "--model", "openai/whisper-tiny.en",
                 "--file", str(broken))
    assert result.returncode == 2
    assert "broken.wav" in result.stderr and "Traceback" not in result.stderr


def test_run_rejects_a_model_that_does_not_do_the_task(cli):
    result = cli("run", "image-to-text", "--model", "cjhutto/vaderSentiment", "--text", "x")
    assert result.returncode == 2 and "does not do image-to-text" in result.stderr


def test_plan_batch_prints_one_plan_per_line(cli, tmp_path):
    batch = tmp_path / "requests.jsonl"
    batch.write_text(
        json.dumps({"request": "Transcribe standup.wav", "files": ["standup.wav"]}) + "\n"
        + json.dumps({"request": "Hello there!", "files": []}) + "\n")
    result = cli("plan", "--batch", str(batch))
    assert result.returncode == 0, result.stderr
    plans = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(plans) == 2
    assert plans[0][0]["task"] == "automatic-speech-recognition"
    assert plans[0][0]["args"] == {"audio": "standup.wav"}


@pytest.mark.parametrize("args, message", [
    (["ask", "   "], "empty"),
    (["ask", "What is in this picture?", "--file", "/nonexistent/photo.png"], "no such file"),
    (["ask", "Run this", "--file", str(ROOT / "Makefile")], "unsupported file type"),
])
def test_ask_bad_input_exits_2_with_a_clear_message(cli, args, message):
    result = cli(*args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


DEMO = ("Read this aloud, then transcribe the recording: offline assistants keep your data "
        "private")


def test_ask_json_runs_all_four_stages(cli, tmp_path):
    result = cli("ask", DEMO, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [n["task"] for n in data["plan"]] == ["text-to-speech",
                                                 "automatic-speech-recognition"]
    assert [t["status"] for t in data["tasks"]] == ["done", "done"]
    assert heard(data["tasks"][1]["outputs"]["text"], {"offline", "data", "private"})
    for stage in ("planning", "selection", "execution", "response"):
        assert stage in data["timings"] and f"== {stage}" in result.stderr
    assert data["files_made"] and data["files_made"][0].endswith(".wav")
    assert "rhasspy/piper-en_US-joe-medium" in data["answer"]
    assert "llama_" not in result.stderr  # llama.cpp's own warnings stay out of the output
    history = json.loads(cli("history", "--json").stdout)
    assert history[0]["id"] == data["run_id"] and history[0]["status"] == "done"
    # the next process starts from the fixed prompts' saved states, and plans the same
    assert list((tmp_path / "data" / "cache" / "prefix-states").glob("*-kv1-*.state"))
    again = cli("ask", DEMO, "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["plan"] == data["plan"]
