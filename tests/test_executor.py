"""The executor on fixed plans with real models: parallel branches, outputs passed on, failures
isolated, timeouts."""

from __future__ import annotations

import threading
import time

from core.executor import DONE, FAILED, SKIPPED, TIMED_OUT, Executor
from core.plan import parse, validate
from core.selector import Choice
from helpers import astronaut, corrupt_file, heard, text_image


def _choices(registry, plan, models):
    return [Choice(n.id, n.task, models[n.id], "test", [models[n.id]],
                   registry.get(models[n.id])) for n in plan]


def test_dependants_receive_outputs(registry, pool, workspace):
    plan = validate(parse([
        {"task": "text-to-speech", "id": 0, "dep": [-1],
         "args": {"text": "the quick brown fox jumps over the lazy dog"}},
        {"task": "automatic-speech-recognition", "id": 1, "dep": [0],
         "args": {"audio": "<GENERATED>-0"}},
    ]), [])
    choices = _choices(registry, plan, ["rhasspy/piper-en_US-joe-medium",
                                        "openai/whisper-tiny.en"])
    results = Executor(pool, workspace).execute(plan, choices)
    assert [r.status for r in results] == [DONE, DONE]
    assert results[1].args["audio"] == "<GENERATED>-0"
    transcript = results[1].outputs["text"]
    assert heard(transcript, {"quick", "brown", "fox", "lazy", "dog"}), transcript
    assert (workspace.root / results[0].outputs["audio"]).is_file()


def test_independent_tasks_run_at_the_same_time(registry, pool, workspace, monkeypatch):
    """Each model's run waits at a barrier for the other's: both pass only if the two runs are
    inside their models at the same moment; run one after the other, the first waits in vain
    and fails."""
    text_image(workspace.root / "sign.png", "Invoice total 42 EUR")
    plan = validate(parse([
        {"task": "image-to-text", "id": 0, "dep": [-1], "args": {"image": "sign.png"}},
        {"task": "text-to-speech", "id": 1, "dep": [-1],
         "args": {"text": "Parallel branches run at the same time."}},
    ]), ["sign.png"])
    choices = _choices(registry, plan, ["SWHL/RapidOCR", "rhasspy/piper-en_US-joe-medium"])
    meeting = threading.Barrier(2, timeout=30)
    for choice in choices:
        loaded = pool.get(choice.record)
        real_run = loaded.runner.run

        def run_after_meeting(model, task, args, ws, real_run=real_run):
            meeting.wait()
            return real_run(model, task, args, ws)

        monkeypatch.setattr(loaded.runner, "run", run_after_meeting)
    results = Executor(pool, workspace, max_parallel=2).execute(plan, choices)
    assert [r.status for r in results] == [DONE, DONE], [r.error for r in results]
    assert "42" in results[0].outputs["text"]
    assert (workspace.root / results[1].outputs["audio"]).is_file()


def test_failed_task_does_not_stop_siblings_and_skips_dependants(registry, pool, workspace):
    corrupt_file(workspace.root / "broken.png")
    astronaut(workspace.root / "astronaut.png")
    plan = validate(parse([
        {"task": "image-to-text", "id": 0, "dep": [-1], "args": {"image": "broken.png"}},
        {"task": "text-to-speech", "id": 1, "dep": [0], "args": {"text": "<GENERATED>-0"}},
        {"task": "object-detection", "id": 2, "dep": [-1], "args": {"image": "astronaut.png"}},
    ]), ["broken.png", "astronaut.png"])
    choices = _choices(registry, plan, ["SWHL/RapidOCR", "rhasspy/piper-en_US-joe-medium",
                                        "opencv/haarcascade_frontalface_default"])
    events = []
    results = Executor(pool, workspace).execute(plan, choices,
                                                on_event=lambda k, d: events.append((k, d)))
    assert results[0].status == FAILED and "broken.png" in results[0].error
    assert results[1].status == SKIPPED and "task 0" in results[1].error
    assert results[2].status == DONE and len(results[2].outputs["boxes"]) >= 1
    assert sum(1 for kind, _ in events if kind == "task_end") == 3


def test_a_task_past_its_timeout_is_abandoned(registry, pool, workspace, monkeypatch):
    """A model that hangs is abandoned at the timeout while its sibling finishes. The hung run
    is released only after the executor returns, so it times out whatever the machine's load;
    the timeout leaves the sibling (a loaded spaCy model, milliseconds) ample time."""
    plan = validate(parse([
        {"task": "text-classification", "id": 0, "dep": [-1], "args": {"text": "slow one"}},
        {"task": "token-classification", "id": 1, "dep": [-1],
         "args": {"text": "Maria joined Siemens in Munich."}},
    ]), [])
    choices = _choices(registry, plan, ["cjhutto/vaderSentiment", "spacy/en_core_web_sm"])
    release = threading.Event()
    pool.get(choices[1].record)  # loaded beforehand: the timeout is for the hung model only
    loaded = pool.get(choices[0].record)
    real_run = loaded.runner.run

    def stuck(model, task, args, workspace):
        release.wait(60)  # a model that hangs
        return real_run(model, task, args, workspace)

    monkeypatch.setattr(loaded.runner, "run", stuck)
    started = time.perf_counter()
    results = Executor(pool, workspace, timeout_s=5).execute(plan, choices)
    release.set()
    assert results[0].status == TIMED_OUT and "5 s" in results[0].error
    assert 5 <= time.perf_counter() - started < 30  # abandoned, not waited for
    assert results[1].status == DONE and "Siemens" in results[1].outputs["text"]


def test_workspace_escape_in_a_plan_is_refused(registry, pool, workspace):
    plan = parse([{"task": "image-to-text", "id": 0, "dep": [-1],
                   "args": {"image": "../../etc/passwd.png"}}])
    choices = _choices(registry, plan, ["SWHL/RapidOCR"])
    result = Executor(pool, workspace).execute(plan, choices)[0]
    assert result.status == FAILED and "outside the workspace" in result.error


def test_second_use_of_a_model_does_not_reload_it(registry, pool, workspace):
    record = registry.get("cjhutto/vaderSentiment")
    pool.run(record, "text-classification", {"text": "great"}, workspace)
    loads = pool.loads
    pool.run(record, "text-classification", {"text": "awful"}, workspace)
    assert pool.loads == loads and pool.is_loaded(record.id)


def test_the_pool_drops_the_least_recently_used_model_beyond_its_budget(registry):
    """Three models, a budget for two of them: loading the third drops the one used longest
    ago, not the one used just before; using a dropped model loads it again."""
    from core.model_pool import ModelPool

    vader, face, cat = (registry.get(i) for i in ("cjhutto/vaderSentiment",
                                                  "opencv/haarcascade_frontalface_default",
                                                  "opencv/haarcascade_frontalcatface"))
    sizes = [r.size_bytes for r in (vader, face, cat)]
    pool = ModelPool(registry, memory_budget_bytes=sum(sizes) - min(sizes) // 2)  # any two fit
    pool.get(vader)
    pool.get(face)
    pool.get(vader)  # vader is now the most recently used, face the least
    pool.get(cat)
    assert (pool.is_loaded(vader.id), pool.is_loaded(face.id), pool.is_loaded(cat.id)) == (
        True, False, True)
    loads = pool.loads
    pool.get(face)  # back again: a real load, and now vader is the one used longest ago
    assert pool.loads == loads + 1
    assert [pool.is_loaded(r.id) for r in (vader, face, cat)] == [False, True, True]


def test_a_task_that_answers_after_its_timeout_stays_timed_out(registry, pool, workspace,
                                                               monkeypatch):
    """The model answers, but only after the timeout: the record, the event already sent and
    the dependant (skipped) must keep agreeing that it timed out."""
    plan = validate(parse([
        {"task": "text-classification", "id": 0, "dep": [-1], "args": {"text": "late one"}},
        {"task": "text-to-speech", "id": 1, "dep": [0], "args": {"text": "<GENERATED>-0"}},
    ]), [])
    choices = _choices(registry, plan, ["cjhutto/vaderSentiment",
                                        "rhasspy/piper-en_US-joe-medium"])
    loaded = pool.get(choices[0].record)
    real_run = loaded.runner.run
    answered = threading.Event()

    def late(model, task, args, ws):
        time.sleep(3)  # past the 1 s timeout, then a real answer
        try:
            return real_run(model, task, args, ws)
        finally:
            answered.set()

    monkeypatch.setattr(loaded.runner, "run", late)
    events = []
    results = Executor(pool, workspace, timeout_s=1).execute(
        plan, choices, on_event=lambda kind, data: events.append((kind, data)))
    assert answered.wait(30)
    time.sleep(0.2)  # the late worker has had its chance to overwrite the record
    assert results[0].status == TIMED_OUT and results[0].outputs == {}
    assert results[1].status == SKIPPED and "timed out" in results[1].error
    ends = [data for kind, data in events if kind == "task_end" and data["id"] == 0]
    assert [e["status"] for e in ends] == [TIMED_OUT]
