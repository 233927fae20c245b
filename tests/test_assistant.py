"""The Python API end to end with real models: four stages, events, history, bad input, store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import wave

import pytest

from core.assistant import Assistant, InputFileError
from core.store import Store
from helpers import ROOT, corrupt_file, heard, text_image, words

DEMO = ("Read this aloud, then transcribe the recording: offline assistants keep your data "
        "private")


def test_ask_runs_the_four_stages_and_reports_models_and_files(shared_assistant):
    events = []
    result = shared_assistant.ask(DEMO, on_event=lambda kind, data: events.append((kind, data)))
    stages = [d["stage"] for k, d in events if k == "stage"]
    assert stages == ["planning", "selection", "execution", "response"]
    assert [n["task"] for n in result["plan"]] == ["text-to-speech",
                                                   "automatic-speech-recognition"]
    assert all(c["model"] for c in result["choices"])
    wav = result["files_made"][0]
    assert wav.startswith(result["workspace"])
    with wave.open(wav) as handle:
        seconds = handle.getnframes() / handle.getframerate()
    assert 1.5 < seconds < 8
    transcript = result["tasks"][1]["outputs"]["text"]
    assert heard(transcript, {"offline", "keep", "data", "private"}), transcript
    streamed = "".join(d["text"] for k, d in events if k == "token")
    assert streamed.strip() == result["answer"]
    for model in result["models"]:
        assert model in result["answer"]
    assert os.path.basename(wav) in result["answer"]
    run = shared_assistant.store.run(result["run_id"])
    assert run["status"] == "done" and len(run["tasks"]) == 2
    assert run["artifacts"][0]["path"] == os.path.basename(wav)


def test_follow_up_uses_the_previous_result(shared_assistant, tmp_path):
    image = text_image(tmp_path / "note.png", "Meeting moved to Friday")
    first = shared_assistant.ask("What does the text in note.png say?", files=[image])
    assert [n["task"] for n in first["plan"]] == ["image-to-text"]
    assert {"meeting", "friday"} <= words(first["tasks"][0]["outputs"]["text"])
    second = shared_assistant.ask("Please read that out loud.",
                                  conversation_id=first["conversation_id"])
    assert [n["task"] for n in second["plan"]] == ["text-to-speech"]
    spoken = second["tasks"][0]["outputs"]["text"]
    assert {"meeting", "friday"} <= words(spoken)
    assert second["files_made"][0].endswith(".wav")


def test_chit_chat_gets_a_direct_answer(shared_assistant):
    result = shared_assistant.ask("Hello!")
    assert result["plan"] == [] and result["tasks"] == []
    assert result["answer"]


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "missing.png", "no such file"),
    (lambda d: corrupt_file(d / "broken.png"), "not a readable image"),
    (lambda d: corrupt_file(d / "broken.wav"), "not a readable audio"),
    (lambda d: corrupt_file(d / "tool.exe"), "unsupported file type"),
])
def test_bad_files_are_refused_before_anything_runs(settings, tmp_path, make, message):
    assistant = Assistant(settings)
    before = sorted(p.name for p in settings.data_path.rglob("*"))
    with pytest.raises(InputFileError, match=message):
        assistant.ask("Describe this file", files=[make(tmp_path)])
    assert sorted(p.name for p in settings.data_path.rglob("*")) == before
    assert assistant.store.integrity_ok() and assistant.store.runs() == []


def test_empty_request_is_refused(settings):
    with pytest.raises(ValueError, match="empty"):
        Assistant(settings).ask("   ")


def test_store_survives_a_killed_run(tmp_path, cache_dir):
    data = tmp_path / "data"
    store = Store(data / "history.db")
    kept = store.new_conversation("an earlier conversation")
    env = dict(os.environ, CONDUCTOR_DATA=str(data), CONDUCTOR_MODEL_CACHE=str(cache_dir))
    child = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "ask", DEMO], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    deadline = time.time() + 120
    while time.time() < deadline:
        if any(r["status"] == "running" for r in store.runs()):
            break
        time.sleep(0.05)
    else:
        child.kill()
        pytest.fail("the run never started")
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    reopened = Store(data / "history.db")
    assert reopened.integrity_ok()
    runs = reopened.runs()
    assert len(runs) == 1 and runs[0]["status"] == "interrupted"
    assert kept in {c["id"] for c in reopened.conversations()}
    assert reopened.run(runs[0]["id"])["request"] == DEMO


def test_stop_during_planning_cancels_the_run_cleanly(shared_assistant):
    import threading

    cancel = threading.Event()

    def on_event(kind, data):
        if kind == "stage" and data["stage"] == "planning":
            cancel.set()  # the user presses Stop as soon as planning starts

    result = shared_assistant.ask(DEMO, on_event=on_event, cancel=cancel)
    assert result["status"] == "cancelled" and result["tasks"] == []
    assert shared_assistant.store.run(result["run_id"])["status"] == "cancelled"
    after = shared_assistant.ask("Hello!")  # the assistant stays usable
    assert after["status"] == "done"
