"""The Python API end to end with real models: four stages, events, history, bad input, store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from core.assistant import Assistant, InputFileError
from core.store import Store
from helpers import (
    ROOT,
    assert_no_network,
    cli_env,
    corrupt_file,
    heard,
    run_cli,
    text_image,
    words,
)

DEMO = ("Read this aloud, then transcribe the recording: offline assistants keep your data "
        "private")


def test_ask_runs_the_four_stages_and_reports_models_and_files(shared_assistant):
    events = []
    result = shared_assistant.ask(
        DEMO, on_event=lambda event: events.append((event.kind, event.data)))
    stages = [d["stage"] for k, d in events if k == "stage"]
    assert stages == ["planning", "selection", "execution", "response"]
    assert [n["task"] for n in result.plan] == ["text-to-speech",
                                                   "automatic-speech-recognition"]
    assert all(c["model"] for c in result.choices)
    wav = result.files_made[0]
    assert wav.startswith(result.workspace)
    with wave.open(wav) as handle:
        seconds = handle.getnframes() / handle.getframerate()
    assert 1.5 < seconds < 8
    transcript = result.tasks[1]["outputs"]["text"]
    assert heard(transcript, {"offline", "keep", "data", "private"}), transcript
    streamed = "".join(d["text"] for k, d in events if k == "token")
    assert streamed.strip() == result.answer
    for model in result.models:
        assert model in result.answer
    assert os.path.basename(wav) in result.answer
    run = shared_assistant.store.run(result.run_id)
    assert run["status"] == "done" and len(run["tasks"]) == 2
    assert run["artifacts"][0]["path"] == os.path.basename(wav)


def test_follow_up_uses_the_previous_result(shared_assistant, tmp_path):
    image = text_image(tmp_path / "note.png", "Meeting moved to Friday")
    first = shared_assistant.ask("What does the text in note.png say?", files=[image])
    assert [n["task"] for n in first.plan] == ["image-to-text"]
    assert {"meeting", "friday"} <= words(first.tasks[0]["outputs"]["text"])
    second = shared_assistant.ask("Please read that out loud.",
                                  conversation_id=first.conversation_id)
    assert [n["task"] for n in second.plan] == ["text-to-speech"]
    spoken = second.tasks[0]["outputs"]["text"]
    assert {"meeting", "friday"} <= words(spoken)
    assert second.files_made[0].endswith(".wav")


def test_chit_chat_gets_a_direct_answer(shared_assistant):
    result = shared_assistant.ask("Hello!")
    assert result.plan == [] and result.tasks == []
    assert result.answer


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


# Each point is a line the CLI prints on stderr right after the store has recorded that stage:
# the plan (then selection starts), task 0's row (then its end is printed), the response stage.
KILL_POINTS = {"after planning": "== selection", "mid-execution": "   task 0 done",
               "during the answer": "== response"}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_a_run_killed_at_any_point_leaves_a_consistent_store(tmp_path, cache_dir, point):
    """SIGKILL at three points of a real run: the run is marked interrupted, the database is
    intact, what was recorded before the kill is consistent, and the next run works."""
    data, log = tmp_path / "data", tmp_path / "net.log"
    store = Store(data / "history.db")
    kept = store.new_conversation("an earlier conversation")
    child = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "ask", DEMO],
                             env=cli_env(data, cache_dir, log), cwd=ROOT, text=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen = []
    for line in child.stderr:
        seen.append(line)
        if line.startswith(KILL_POINTS[point]):
            os.kill(child.pid, signal.SIGKILL)
            break
    child.wait(timeout=60)
    child.stderr.close()
    assert child.returncode == -signal.SIGKILL, f"the run ended before {point}: {seen}"
    assert_no_network(log)

    reopened = Store(data / "history.db")
    assert reopened.integrity_ok()
    [row] = reopened.runs()
    assert row["status"] == "interrupted" and row["ended_at"]
    run = reopened.run(row["id"])
    assert run["request"] == DEMO and kept in {c["id"] for c in reopened.conversations()}
    assert [n["task"] for n in run["plan"]] == ["text-to-speech", "automatic-speech-recognition"]
    assert run["answer"] is None  # nothing claims an answer the run never gave
    done = {t["task_id"] for t in run["tasks"] if t["status"] == "done"}
    if point == "after planning":
        assert run["tasks"] == [] and run["artifacts"] == []
    else:
        assert 0 in done and run["choices"]
    for artifact in run["artifacts"]:  # every file recorded is a finished task's, and exists
        assert artifact["task_id"] in done
        assert (Path(run["workspace"]) / artifact["path"]).is_file()

    after = run_cli(["ask", "Hello!", "--json"], data, cache_dir, log)
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout)["status"] == "done"
    statuses = [r["status"] for r in Store(data / "history.db").runs()]
    assert statuses == ["done", "interrupted"]


def test_stop_during_planning_cancels_the_run_cleanly(shared_assistant):
    import threading

    cancel = threading.Event()

    def on_event(event):
        if event.kind == "stage" and event.data["stage"] == "planning":
            cancel.set()  # the user presses Stop as soon as planning starts

    result = shared_assistant.ask(DEMO, on_event=on_event, cancel=cancel)
    assert result.status == "cancelled" and result.tasks == []
    assert shared_assistant.store.run(result.run_id)["status"] == "cancelled"
    after = shared_assistant.ask("Hello!")  # the assistant stays usable
    assert after.status == "done"


def test_a_follow_up_after_sixty_turns_uses_the_last_one(shared_assistant):
    """History and "the previous result" come from the conversation's latest runs, however long
    it is (it once took the 50th oldest)."""
    store = shared_assistant.store
    conversation = store.new_conversation("a long conversation")
    for number in range(1, 61):
        text = "the password is swordfish" if number == 60 else f"the password is {number}"
        run_id = store.start_run(conversation, f"Write the password {number}", [],
                                 shared_assistant.settings.data_path / "runs" / "old")
        store.save_task(run_id, {"id": 0, "task": "text-generation", "model": "writer",
                                 "status": "done", "args": {}, "outputs": {"text": text}})
        store.update_run(run_id, answer=text, status="done")
    result = shared_assistant.ask("Please read that out loud.", conversation_id=conversation)
    assert [t["task"] for t in result.tasks] == ["text-to-speech"]
    assert "swordfish" in result.tasks[0]["outputs"]["text"]
