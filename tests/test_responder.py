"""The responder on the real writer: the answer's own sentences state what the task records
hold and nothing else. Each test reads the summary (the text above the results section), never
the results list, which would pass on the records alone."""

from __future__ import annotations

import re

import pytest

from core.capabilities import installed_capabilities
from core.executor import DONE, FAILED, TaskResult
from core.responder import Responder, evidence_of, unsupported


def _ocr(text: str, image: str = "note.png", task_id: int = 0) -> TaskResult:
    return TaskResult(task_id, "image-to-text", "tesseract-ocr/tessdata-eng", {"image": image},
                      DONE, {"text": text}, started=1.0, ended=1.4)


@pytest.fixture(scope="module")
def responder(writer, registry, writer_record):
    return Responder(writer, installed_capabilities(registry, writer_record),
                     writer_id=writer_record.id)


@pytest.fixture(scope="module")
def records(registry):
    return {r.id: r for r in registry.all()}


def test_a_failed_task_is_said_to_have_failed_with_the_way_out(responder, records):
    failed = TaskResult(0, "visual-question-answering", None,
                        {"image": "cat.jpg", "text": "Is there a cat or a dog?"}, FAILED,
                        error="no installed model can do visual-question-answering; import one "
                              "with `main.py models import`")
    answer = responder.respond("Is there a cat or a dog in cat.jpg?", [failed], records=records)
    summary = answer["summary"]
    assert "could not" in summary and "main.py models import" in summary
    assert not re.search(r"\byes\b|there is a (cat|dog)|\bno, ", summary, re.I), summary


def test_a_result_next_to_a_failure_is_told_and_the_failure_too(responder, records):
    read = _ocr("Back at 3 pm")
    spoken = TaskResult(1, "text-to-speech", "rhasspy/piper-en_US-joe-medium",
                        {"text": "<GENERATED>-0"}, FAILED, error="the voice crashed")
    answer = responder.respond("What does note.png say? Then read it aloud", [read, spoken],
                               records=records)
    summary = answer["summary"]
    assert "Back at 3 pm" in summary
    assert "failed" in summary and "the voice crashed" in summary
    assert not re.search(r"\.wav\b|read (it|the text) aloud into", summary), summary
    assert answer["models"] == ["rhasspy/piper-en_US-joe-medium", "tesseract-ocr/tessdata-eng"]


def test_text_reading_is_not_passed_off_as_a_description(responder, records):
    answer = responder.respond("Describe this photo", [_ocr("", "astronaut.png")],
                               records=records)
    summary = answer["summary"]
    assert summary.startswith("I cannot describe what astronaut.png shows")
    assert "no captioning model is installed" in summary and "found no text" in summary
    assert not re.search(r"astronaut (in|wearing)|space|suit|beach|person|man\b", summary)


def test_the_writer_tells_successful_results_in_its_own_sentences(responder, records):
    entities = TaskResult(0, "token-classification", "spacy/en_core_web_sm",
                          {"text": "Angela Merkel met Emmanuel Macron in Paris and later flew "
                                   "to Berlin."}, DONE,
                          {"text": "Angela Merkel (PERSON), Emmanuel Macron (PERSON), "
                                   "Paris (GPE), Berlin (GPE)"}, started=1.0, ended=1.1)
    answer = responder.respond("Who and which places are mentioned in: Angela Merkel met "
                               "Emmanuel Macron in Paris and later flew to Berlin.", [entities],
                               records=records)
    summary = answer["summary"]
    assert answer["written_by"] == "writer"
    for name in ("Merkel", "Macron", "Paris", "Berlin"):
        assert name in summary, summary
    assert "token-classification" not in summary and "(GPE)" not in summary


def test_what_can_you_do_names_installed_abilities_only(responder, registry):
    answer = responder.respond("Hi! What can you do?", [])
    summary = answer["summary"]
    assert summary.startswith("Hi!")
    assert "transcribe English speech into text" in summary
    assert "read the text written in an image (OCR)" in summary
    assert "tell whether a text sounds positive, negative or neutral" in summary
    # nothing that no installed model does: no captioning, drawing or question answering on
    # images is in the default set
    assert registry.candidates("text-to-image") == []
    assert not re.search(r"draw|describe what an image shows|answer a question about an image"
                         r"|parts of speech|e\.g\. its sentiment", summary), summary


def test_chit_chat_is_answered_by_the_writer_without_claims(responder):
    answer = responder.respond("Thanks a lot, that was helpful!", [])
    assert answer["written_by"] == "writer" and answer["summary"]
    assert not re.search(r"\.(wav|png|jpg)\b|I (have )?(made|saved|created)", answer["summary"])


def test_sentences_the_records_do_not_hold_are_caught():
    records = [_ocr("Back at 3 pm"),
               TaskResult(1, "object-detection", "opencv/haarcascade_frontalface_default",
                          {"image": "team.jpg"}, DONE,
                          {"text": "2 faces found", "image": "team-face-1.png", "boxes": []})]
    evidence = evidence_of("What does note.png say, and who is in team.jpg?", records, [])
    assert unsupported('The note says "Back at 3 pm".', evidence) == ""
    assert unsupported("I found 2 faces in team.jpg and marked them in team-face-1.png.",
                       evidence) == ""
    assert "number 5" in unsupported("I found 5 faces in team.jpg.", evidence)
    assert "number 4" in unsupported("There are four people in the picture.", evidence)
    assert "file" in unsupported("I saved the faces in faces.png.", evidence)
    assert "quote" in unsupported('The note says "Closed on Mondays".', evidence)
    assert "words in no record" in unsupported(
        "The smiling astronaut floats above a blue planet in space.", evidence)


def test_capability_questions_are_told_apart_from_requests():
    from core.capabilities import asks_what_it_can_do

    for question in ("Hi! What can you do?", "What sort of things could you help me with?",
                     "what kinds of tasks can you do", "Who are you?"):
        assert asks_what_it_can_do(question), question
    for request in ("Could you help me translate this letter into French: hello",
                    "What are you doing?", "Describe photo.jpg"):
        assert not asks_what_it_can_do(request), request
