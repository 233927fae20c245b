"""Model selection on the default registry: the controller picks among installed models, and
its reason is a clause of the chosen model's description."""

from __future__ import annotations

import numpy as np
import pytest

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


ENGLISH_REVIEWS = ("A sentiment classifier for English product and movie reviews: says whether "
                   "a review is positive or negative.")
SPANISH_TWEETS = ("Un clasificador de sentimiento para tuits en español: positivo, negativo o "
                  "neutro, entrenado con publicaciones de Twitter.")


def _sentiment_registry(tmp_path, first_ranked: str):
    """Two sentiment models under ids that say nothing; the one ranked first by downloads
    alternates, so only their descriptions can decide."""
    from core.registry import Registry

    registry = Registry(tmp_path / f"cache-{first_ranked}")
    for model_id, description in (("acme/model-a", ENGLISH_REVIEWS),
                                  ("acme/model-b", SPANISH_TWEETS)):
        (registry.cache_dir / model_id).mkdir(parents=True)
        downloads = 2000 if model_id == first_ranked else 1000
        registry.register(ModelRecord(model_id, "text-classification", "onnx-transformers",
                                      model_id, description, "mit", "test",
                                      downloads=downloads), compute_hash=False)
    return registry


@pytest.mark.parametrize("first_ranked", ["acme/model-a", "acme/model-b"])
@pytest.mark.parametrize("request_text, text, right", [
    ("Is this movie review positive or negative? The plot was dull and far too long.",
     "The plot was dull and far too long.", "acme/model-a"),
    ("¿Este tuit es positivo o negativo? ¡Me encanta el nuevo disco de Rosalía! 😍",
     "¡Me encanta el nuevo disco de Rosalía! 😍", "acme/model-b"),
])
def test_the_controller_picks_the_model_whose_description_fits(tmp_path, controller,
                                                               first_ranked, request_text,
                                                               text, right):
    registry = _sentiment_registry(tmp_path, first_ranked)
    assert registry.candidates("text-classification")[0].id == first_ranked
    selector = Selector(registry, controller, writer_record=None)
    node = TaskNode("text-classification", 0, [-1], {"text": text})
    choice = selector.select_one(request_text, node)
    assert choice.llm_decided and choice.model_id == right, choice.reason


@pytest.mark.parametrize("task, request_text, args, right", [
    ("image-to-text", "Read the words on the street sign in photo.jpg", {"image": "photo.jpg"},
     "SWHL/RapidOCR"),
    ("image-to-text", "Extract the text of the scanned printed letter scan.png",
     {"image": "scan.png"}, "tesseract-ocr/tessdata-eng"),
    ("object-detection", "Find the faces of the people in party.jpg", {"image": "party.jpg"},
     "opencv/haarcascade_frontalface_default"),
    ("object-detection", "Find my cat's face in kitty.jpg", {"image": "kitty.jpg"},
     "opencv/haarcascade_frontalcatface"),
])
def test_the_default_models_are_chosen_for_what_their_descriptions_say(registry, controller,
                                                                       task, request_text,
                                                                       args, right):
    selector = Selector(registry, controller, writer_record=None)
    choice = selector.select_one(request_text, TaskNode(task, 0, [-1], args))
    assert choice.llm_decided and choice.model_id == right, choice.reason


def test_one_candidate_is_taken_without_asking_the_llm(registry, controller, monkeypatch):
    calls = []
    for name in ("logits_for", "continuation_logprob", "choose"):
        real = getattr(controller, name)
        monkeypatch.setattr(controller, name,
                            lambda *a, real=real, name=name, **k: calls.append(name) or real(*a,
                                                                                          **k))
    selector = Selector(registry, controller, writer_record=None)
    assert [c.id for c in registry.candidates("token-classification")] == ["spacy/en_core_web_sm"]
    node = TaskNode("token-classification", 0, [-1], {"text": "Maria lives in Rome."})
    choice = selector.select_one("Find the names in: Maria lives in Rome.", node)
    assert (choice.model_id, choice.llm_decided, calls) == ("spacy/en_core_web_sm", False, [])
    assert choice.reason == "the only installed model for this task"
    two = selector.select_one("Read this aloud: hi", TaskNode("text-to-speech", 0, [-1],
                                                               {"text": "hi"}))
    assert two.llm_decided and calls  # the same spy sees the calls a real choice makes


def test_a_continuation_is_scored_in_one_batch_as_token_by_token(controller):
    """One batch gives what one token at a time gives (batched and single-token kernels round
    apart by well under 1% here; a position off by one would be tens of nats away)."""
    prefix = controller.tokenize("Model: a French translator\nA request: ", add_bos=True)
    asked = controller.tokenize("Traduis ceci en anglais, s'il te plaît")
    by_step = 0.0
    for i, token in enumerate(asked):
        logits = controller.logits_for(prefix + asked[:i]).astype(np.float64)
        by_step += logits[token] - logits.max() - np.log(np.exp(logits - logits.max()).sum())
    assert controller.continuation_logprob(prefix, asked) == pytest.approx(by_step, rel=0.02)
