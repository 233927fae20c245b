"""The responder on the real controller: the answer from task records, and its fixed prompt
(preamble and worked answers) evaluated once, not on every answer."""

from __future__ import annotations

from core.executor import DONE, FAILED, TaskResult
from core.responder import Responder


def _ocr_result(text: str) -> TaskResult:
    return TaskResult(0, "image-to-text", "SWHL/RapidOCR", {"image": "note.png"}, DONE,
                      {"text": text}, started=1.0, ended=1.4)


def test_the_answer_uses_the_results_and_ends_with_the_records(controller):
    failed = TaskResult(1, "text-to-speech", "rhasspy/piper-en_US-joe-medium",
                        {"text": "<GENERATED>-0"}, FAILED, error="the voice crashed")
    answer = Responder(controller).respond("What does note.png say? Then read it aloud",
                                           [_ocr_result("Back at 3 pm"), failed])
    assert answer["summary"]  # the controller wrote something before the records
    assert "Back at 3 pm" in answer["answer"]
    assert "SWHL/RapidOCR" in answer["answer"] and "the voice crashed" in answer["answer"]
    assert answer["models"] == ["SWHL/RapidOCR", "rhasspy/piper-en_US-joe-medium"]


def test_the_fixed_part_of_the_prompt_is_evaluated_once(controller):
    responder = Responder(controller)
    responder.respond("What does sign.png say?", [_ocr_result("No parking")])
    before = controller.stats.prompt_tokens
    controller.logits_for(controller.tokenize("Something else entirely", add_bos=True))
    after_other = controller.stats.prompt_tokens  # the context now holds another prompt
    answer = responder.respond("What does door.png say?", [_ocr_result("Pull")])
    evaluated = controller.stats.prompt_tokens - after_other
    assert "Pull" in answer["answer"]
    # the preamble and worked answers are ~400 tokens; only the request and results are new
    assert 0 < evaluated < 80, (before, after_other, evaluated)
