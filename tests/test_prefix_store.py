"""Saved prefix states on disk: the file format on its own, then a new controller that plans from
a state another one saved (same plan, same logits, the fixed prompt not evaluated again)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from core.prefix_store import PrefixStateStore


@pytest.fixture()
def model_file(tmp_path):
    path = tmp_path / "model.gguf"
    path.write_bytes(b"weights")
    return path


def _store(folder, model_file, **kwargs) -> PrefixStateStore:
    return PrefixStateStore(folder, model_file, None, 4096, "test-build", **kwargs)


def test_a_state_comes_back_only_for_its_own_prefix_and_mode(tmp_path, model_file):
    store = _store(tmp_path / "states", model_file)
    store.save(True, [2, 10, 11, 12], b"kv-bytes")
    assert store.load(True, [2, 10, 11, 12]) == b"kv-bytes"
    assert store.load(False, [2, 10, 11, 12]) is None  # adapter off: another state
    assert store.load(True, [2, 10, 11]) is None
    assert store.load(True, [2, 10, 11, 13]) is None
    store.save_tokens("starting-with:\"", [5, 7, 9])
    assert store.load_tokens("starting-with:\"") == [5, 7, 9]
    assert store.load_tokens("starting-with:'") is None


def test_another_model_file_never_sees_the_state(tmp_path, model_file):
    _store(tmp_path / "states", model_file).save(False, [2, 3], b"state")
    os.utime(model_file, ns=(1, 1))  # the file was replaced: another modification time
    assert _store(tmp_path / "states", model_file).load(False, [2, 3]) is None


def test_a_damaged_file_is_ignored_and_removed(tmp_path, model_file):
    store = _store(tmp_path / "states", model_file)
    store.save(False, [2, 3, 4], b"x" * 100)
    (saved,) = (tmp_path / "states").glob("*.state")
    saved.write_bytes(saved.read_bytes()[:-10])  # cut short, as by a full disk
    assert store.load(False, [2, 3, 4]) is None
    assert not saved.exists()
    saved.write_bytes(b"not a state at all")
    assert store.load(False, [2, 3, 4]) is None


def test_old_states_are_pruned(tmp_path, model_file):
    store = _store(tmp_path / "states", model_file, keep=3)
    for n in range(6):
        store.save(False, [2, n], b"s")
    assert len(list((tmp_path / "states").glob("*.state"))) == 3
    assert store.load(False, [2, 5]) == b"s"


def test_an_unwritable_folder_costs_only_the_speed_up(tmp_path, model_file):
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("")
    store = _store(blocker / "states", model_file)
    store.save(False, [2, 3], b"s")  # no exception
    assert store.load(False, [2, 3]) is None


def test_a_new_controller_plans_from_the_saved_state(controller, tmp_path):
    """The second controller restores the planner's fixed prompt from disk instead of
    evaluating it, and plans exactly as the first did."""
    from core.demos import DemoBank
    from core.llm import Controller
    from core.planner import Planner

    request = "Describe photo.jpg, then read the description aloud"
    states = tmp_path / "states"
    plans, evaluated, logits = [], [], []
    for _ in range(2):
        fresh = Controller(controller.path, lora_path=controller.lora_path,
                           threads=controller.threads, state_dir=states)
        result = Planner(fresh, DemoBank.load()).plan(request, ["photo.jpg"])
        plans.append([n.to_json() for n in result.plan])
        evaluated.append(fresh.stats.prompt_tokens)
        with fresh.planning_mode():
            prefix = next(iter(fresh._prefix_states))[1]
            logits.append(fresh.logits_for([*prefix, *fresh.tokenize(" Request")]))
        del fresh
    assert [n["task"] for n in plans[0]] == ["image-to-text", "text-to-speech"]
    assert plans[1] == plans[0]
    assert any(states.glob("*-kv1-*.state"))  # saved with the adapter on
    # the first evaluated the instructions and catalogue (hundreds of tokens); the second only
    # what follows them
    assert evaluated[1] < evaluated[0] - 300
    assert np.allclose(logits[0], logits[1], atol=1e-3)
