"""The writer's text tasks on the real writer model: summaries keep the facts and are shorter,
a text longer than a call's budget is summarized in pieces with progress, translations hold the
expected words, questions are answered from the text."""

from __future__ import annotations

import re

import pytest

from core.languages import target_languages
from core.writer import Writer, copied_share, key_sentences, split_text, summary_length

NOTES = ("Acme Solar reported on 3 March 2025 that its sales in Spain grew by 12 percent last "
         "year, driven by new rooftop installations around Madrid. Chief executive Laura Vidal "
         "said the company will open a second factory in Valencia in 2026 and hire 300 "
         "engineers. Costs rose as well: panel prices climbed 8 percent because of shipping "
         "delays from Asia. The board expects profit to recover in the second half of the year.")


def test_a_summary_keeps_the_facts_and_is_shorter(writer):
    summary = Writer(writer).summarize(NOTES, "Summarize notes.txt in two sentences")
    assert re.search(r"12 ?(percent|%)", summary), summary
    assert "Madrid" in summary or "Spain" in summary, summary
    assert len(summary) < 0.8 * len(NOTES)
    assert len(re.findall(r"[.!?](\s|$)", summary)) <= 2, summary
    assert not summary.lower().startswith("summarize")


def test_a_text_longer_than_a_call_is_summarized_from_its_key_sentences(writer):
    districts = ("Arganzuela", "Barajas", "Carabanchel", "Centro", "Chamartin", "Chamberi",
                 "Hortaleza", "Latina", "Moncloa", "Moratalaz", "Retiro", "Salamanca", "Tetuan",
                 "Usera", "Vallecas", "Vicalvaro", "Villaverde", "Fuencarral", "Ciudad Lineal")
    opening = ("Madrid's public transport authority reports that ridership rose by 12 percent "
               "in 2025, the largest rise in a decade, after fares for young people were cut to "
               "ten euros a month.")
    paragraphs = [opening] + [
        f"In {name}, {1200 + 97 * i} new bus seats were added on {3 + i % 5} routes, and the "
        f"local stations saw {40 + i} thousand more trips a week. Residents of {name} asked for "
        f"later night services, and the authority plans {2 + i % 3} new night lines there. "
        f"Works on the {name} depot will take {6 + i % 4} months and cost {5 + i} million euros."
        for i, name in enumerate(districts * 4)] + [
        "In short, the 12 percent rise in ridership shows that cheaper fares bring people back "
        "to buses and trains, the authority concludes."]
    text = "\n\n".join(paragraphs)  # about 4,000 words
    steps = []
    summary = Writer(writer).summarize(text, "Summarize the report",
                                       lambda done, total, what: steps.append((done, total, what)))
    assert [s[:2] for s in steps] == [(0, 2), (1, 2)]
    assert steps[0][2].startswith("picking the key sentences of a ")
    assert len(summary) < len(text) / 10
    assert re.search(r"12 ?(percent|%)", summary) and re.search(r"ridership|passengers|trips",
                                                                 summary, re.I), summary


def test_key_sentences_keep_the_facts_within_the_budget():
    filler = "People talked for a while and then went home. " * 3
    text = "\n\n".join([NOTES] + [filler] * 80)

    def count(part: str) -> int:
        return len(part.split())
    picked = key_sentences(text, 120, count)
    assert count(picked) <= 120
    assert "12 percent" in picked and "Madrid" in picked
    assert picked.index("12 percent") < picked.index("Valencia")  # original order


def test_pieces_of_a_long_text_fit_the_budget_and_keep_every_word():
    text = "\n\n".join(f"Paragraph {i}. " + "A sentence with some words. " * (i % 7 + 1)
                       for i in range(200))

    def count(part: str) -> int:
        return len(part.split())
    pieces = split_text(text, 60, count)
    assert len(pieces) > 10 and all(count(p) <= 60 for p in pieces)
    assert " ".join(" ".join(pieces).split()) == " ".join(text.split())


@pytest.mark.parametrize("request_text, expected", [
    ("Translate into German: the train leaves at eight in the morning",
     [r"\bZug\b", r"\bacht\b|\b8\b", r"Morgen|morgens|früh"]),
    ("How would I say this in French: the shop opens at nine in the morning",
     [r"magasin|boutique", r"neuf|9", r"matin"]),
    ("Put this into Spanish please: I would like a coffee with milk",
     [r"caf[ée]", r"leche"]),
])
def test_a_translation_holds_the_expected_words(writer, request_text, expected):
    text = request_text.split(":", 1)[1].strip()
    target = target_languages(request_text)[0]
    translation = Writer(writer).translate(text, target, request_text)
    for pattern in expected:
        assert re.search(pattern, translation), (pattern, translation)
    assert copied_share(translation, text, n=3) == 0.0  # not the English back


def test_a_question_is_answered_from_the_text(writer):
    answer = Writer(writer).answer("Where will the second factory open?", NOTES)
    assert "Valencia" in answer


def test_a_general_question_with_no_passage_is_answered(writer):
    assert "Paris" in Writer(writer).answer("What is the capital of France?", "")


def test_lengths_and_languages_are_read_from_the_request():
    assert summary_length("Summarize notes.txt in two sentences").sentences == 2
    assert summary_length("give me a 50-word summary").words == 50
    assert summary_length("Summarize this").asked is False
    assert target_languages("Translate into German: the train leaves") == ["German"]
    assert target_languages("Translate the German letter into English") == ["English"]
    assert target_languages("Say it in French and Spanish") == ["French", "Spanish"]
    assert target_languages("Übersetze das auf Deutsch") == ["German"]
    assert target_languages("Translate notes.txt") == []
