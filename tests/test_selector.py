"""Model selection on the default registry: the controller picks among installed models, and
its reason is a clause of the chosen model's description."""

from __future__ import annotations

from core.plan import TaskNode
from core.registry import ModelRecord
from core.selector import Selector, _serving_language, description_clauses


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
    selector = Selector(registry, controller, writer_record=None)
    node = TaskNode("text-to-speech", 0, [-1], {"text": "good morning"})
    choice = selector.select_one("Read this aloud: good morning", node)
    assert choice.llm_decided and choice.model_id in {c.id for c in candidates}
    chosen = next(c for c in candidates if c.id == choice.model_id)
    assert choice.reason in description_clauses(chosen.description)
    # the same selection again (its candidates' prompt now saved) gives the same answer
    again = selector.select_one("Read this aloud: good morning", node)
    assert (again.model_id, again.reason) == (choice.model_id, choice.reason)


def test_a_request_to_describe_a_photo_is_told_only_text_reading_is_installed(registry,
                                                                             controller):
    selector = Selector(registry, controller, writer_record=None)
    node = TaskNode("image-to-text", 0, [-1], {"image": "photo.jpg"})
    choice = selector.select_one("Describe photo.jpg", node)
    assert choice.record.skill == "ocr"
    assert choice.reason.startswith("no captioning model is installed; ")
    assert choice.reason.endswith("can only read the text written in an image (OCR)")
    reading = selector.select_one("What does the sign in photo.jpg say?", node)
    assert reading.record.skill == "ocr" and "captioning" not in reading.reason


def test_text_tasks_without_an_expert_go_to_the_writer(registry, controller, writer_record):
    selector = Selector(registry, controller, writer_record)
    node = TaskNode("translation", 0, [-1], {"text": "good night", "tgt_lang": "French"})
    choice = selector.select_one("Translate into French: good night", node)
    assert choice.model_id == writer_record.id and "writer" in choice.reason


def _translator(model_id: str, pair: str) -> ModelRecord:
    return ModelRecord(model_id, "translation", "onnx-transformers", "x", "a translator",
                       "apache-2.0", "test", skill=pair)


def test_a_translation_model_is_taken_only_for_its_target_language():
    en_de, en_fr = _translator("opus-mt-en-de", "en-de"), _translator("opus-mt-en-fr", "en-fr")
    any_pair = _translator("t5-small", "")
    assert _serving_language([en_de, en_fr], "German") == ([en_de], "")
    assert _serving_language([en_de, any_pair], "French") == ([any_pair], "")
    assert _serving_language([en_de], "Spanish") == (
        [], "no translation model into Spanish is installed")
