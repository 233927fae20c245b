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
    code = ("import sys; from conductor.cli import build_parser; build_parser().format_help(); "
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


def test_ask_that_fails_exits_1_naming_the_model_and_the_way_out(tmp_path, private_cache):
    """A damaged installed model is the installation's fault, not the request's: exit 1 (not 2),
    the model named with the command that checks it, the run recorded as failed."""
    from core.registry import Registry

    writer = next(r for r in Registry(private_cache).controllers() if "writer" in r.tags)
    damaged = private_cache / writer.path
    damaged.unlink()  # the link to the shared file, replaced by a broken GGUF
    damaged.write_bytes(b"GGUF" + b"\0" * 1024)
    data, log = tmp_path / "data", tmp_path / "net.log"
    result = run_cli(["ask", "Hello!"], data, private_cache, log)
    assert result.returncode == 1, result.stderr
    assert f"{writer.id} could not be loaded" in result.stderr
    assert f"main.py models verify {writer.id}" in result.stderr
    assert "Traceback" not in result.stderr
    [run] = json.loads(run_cli(["history", "--json"], data, private_cache, log).stdout)
    assert run["status"] == "failed" and writer.id in run["error"]


def _recorded_runs(data) -> list[str]:
    """Two finished runs in a history database, written through the store's own API."""
    from core.store import Store

    store = Store(data / "history.db")
    ids = []
    for request, answer in (("Describe the zebra in zoo.jpg", "A zebra stands on grass."),
                            ("Translate good night into French", "Bonne nuit.")):
        conversation = store.new_conversation(request)
        run_id = store.start_run(conversation, request, [], data / "workspace")
        store.save_task(run_id, {"id": 0, "task": "translation", "model": "m", "status": "done",
                                 "seconds": 0.5, "args": {"text": "good night"},
                                 "outputs": {"text": answer}})
        store.update_run(run_id, answer=answer, status="done")
        ids.append(run_id)
    return ids


def test_history_search_and_run(cli, tmp_path):
    zebra, night = _recorded_runs(tmp_path / "data")
    found = json.loads(cli("history", "--search", "zebra", "--json").stdout)
    assert [r["id"] for r in found] == [zebra]
    assert json.loads(cli("history", "--search", "bonne", "--json").stdout)[0]["id"] == night
    assert json.loads(cli("history", "--search", "penguin", "--json").stdout) == []
    shown = cli("history", "--run", night)
    assert shown.returncode == 0
    assert f"run {night} (done)" in shown.stdout and "answer: Bonne nuit." in shown.stdout
    assert "task 0 translation on m: done" in shown.stdout
    full = json.loads(cli("history", "--run", zebra, "--json").stdout)
    assert full["request"] == "Describe the zebra in zoo.jpg" and full["tasks"][0]["task_id"] == 0
    unknown = cli("history", "--run", "no-such-run")
    assert unknown.returncode == 2 and "no-such-run" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_models_remove_keep_files_unregisters_and_leaves_the_files(cli, tmp_path, private_cache,
                                                                   cache_dir):
    import shutil

    from core.registry import Registry

    data, log = tmp_path / "data", tmp_path / "net.log"
    registry = Registry(private_cache)
    folders = {}
    for model_id in ("opencv/haarcascade_frontalcatface", "cjhutto/vaderSentiment"):
        folder = private_cache / registry.get(model_id).path  # a real copy, not the link
        folder.unlink()
        shutil.copytree(cache_dir / registry.get(model_id).path, folder)
        folders[model_id] = folder
    kept = run_cli(["models", "remove", "opencv/haarcascade_frontalcatface", "--keep-files"],
                   data, private_cache, log)
    assert kept.returncode == 0 and "(files kept)" in kept.stdout
    assert folders["opencv/haarcascade_frontalcatface"].is_dir()
    removed = run_cli(["models", "remove", "cjhutto/vaderSentiment"], data, private_cache, log)
    assert removed.returncode == 0 and "files kept" not in removed.stdout
    assert not folders["cjhutto/vaderSentiment"].exists()
    for model_id in folders:
        shown = run_cli(["models", "show", model_id], data, private_cache, log)
        assert shown.returncode == 2 and model_id in shown.stderr


def test_controller_flag_and_environment_choose_the_llm(cli):
    """-m (and CONDUCTOR_CONTROLLER) is one model for every role: a text task no expert does
    goes to it, where by default it goes to the writer."""
    request = "Write a short poem about the sea"

    def writer_of(result) -> str:
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
        assert [c["task"] for c in data["choices"]] == ["text-generation"], data["plan"]
        return data["choices"][0]["model"]

    planner = "google/gemma-3-270m"
    assert writer_of(cli("ask", request, "-m", planner, "--json")) == planner
    assert writer_of(cli("ask", request, "--json", CONDUCTOR_CONTROLLER=planner)) == planner
    assert writer_of(cli("ask", request, "--json")) == "Qwen/Qwen2.5-Coder-1.5B-Instruct"
    for unknown in (cli("ask", "Hello!", "-m", "no/such-llm"),
                    cli("ask", "Hello!", CONDUCTOR_CONTROLLER="no/such-llm")):
        assert unknown.returncode == 2 and "no/such-llm" in unknown.stderr
