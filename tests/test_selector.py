"""Model selection on the default registry: the controller picks among installed models, and
its reason is a clause of the chosen model's description."""

from __future__ import annotations

from core.plan import TaskNode
from core.selector import Selector, description_clauses


def test_descriptions_split_into_clauses_that_stand_alone():
    assert description_clauses("A sentiment classifier for English reviews: says whether a "
                               "review is positive or negative.") == [
        "A sentiment classifier for English reviews",
        "says whether a review is positive or negative."]
    # a clause under four words joins the next one; a short tail joins the last
    assert description_clauses("Fast. Small model; runs on any CPU: good for short clips. ok") \
        == ["Fast. Small model; runs on any CPU", "good for short clips. ok"]
    assert description_clauses("One sentence only (22 kHz).") == ["One sentence only (22 kHz)."]
    assert description_clauses("") == []


def test_two_installed_voices_make_a_real_choice_with_a_quoted_reason(registry, controller):
    candidates = registry.candidates("text-to-speech")
    assert len(candidates) >= 2  # Piper and espeak-ng in the default set
    selector = Selector(registry, controller, controller_record=None)
    node = TaskNode("text-to-speech", 0, [-1], {"text": "good morning"})
    choice = selector.select_one("Read this aloud: good morning", node)
    assert choice.llm_decided and choice.model_id in {c.id for c in candidates}
    chosen = next(c for c in candidates if c.id == choice.model_id)
    assert choice.reason in description_clauses(chosen.description)
    # the same selection again (its candidates' prompt now saved) gives the same answer
    again = selector.select_one("Read this aloud: good morning", node)
    assert (again.model_id, again.reason) == (choice.model_id, choice.reason)
