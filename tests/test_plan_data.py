"""Back-instructed planning data (scripts/make_plan_data.py): the graphs it samples, the checks a
written request must pass, and the committed data file."""

from __future__ import annotations

import collections
import json
import random

import pytest

from core.plan import parse, validate
from core.task_cues import mentions, strongly_mentioned
from core.tasks import TASK_NAMES, get_task, produces
from scripts import make_plan_data as mpd
from scripts.train_templates import check


@pytest.fixture(scope="module")
def drafts() -> list[mpd.Draft]:
    drawn = [mpd.sample_draft(random.Random(f"7-{i}")) for i in range(3000)]
    return [d for d in drawn if d is not None]


def test_sampled_graphs_are_valid_plans_over_the_whole_catalogue(drafts):
    tasks = collections.Counter(n["task"] for d in drafts for n in d.plan)
    assert set(tasks) == set(TASK_NAMES)  # tasks with no installed model too
    for draft in drafts:
        nodes = validate(parse(draft.plan), draft.files)
        assert [n.to_json() for n in nodes] == draft.plan
        for node in draft.plan:  # an output feeds only an input of a kind it makes
            for key, value in node["args"].items():
                if value.startswith("<GENERATED>-"):
                    producer = draft.plan[int(value.rsplit("-", 1)[1])]["task"]
                    assert produces(get_task(producer), get_task(node["task"]).input_kind(key))
        assert len(draft.steps) == len(draft.plan)


def test_sampled_graphs_cover_the_shapes_and_sizes(drafts):
    shapes = collections.Counter(d.shape for d in drafts)
    assert shapes["single"] and shapes["chain"] and shapes["dag"]
    sizes = collections.Counter(len(d.plan) for d in drafts)
    assert set(sizes) == {1, 2, 3, 4, 5, 6}
    dags = [d for d in drafts if d.shape == "dag"]
    assert all(any(n["dep"] != [n["id"] - 1] for n in d.plan[1:]) for d in dags)
    assert any(len(n["dep"]) == 2 for d in dags for n in d.plan)  # fan-in


def test_sampling_is_reproducible_per_item():
    first = mpd.sample_draft(random.Random("0-41"))
    again = mpd.sample_draft(random.Random("0-41"))
    assert first is not None and first == again


def _translation_to_speech() -> mpd.Draft:
    for index in range(5000):
        draft = mpd.sample_draft(random.Random(f"3-{index}"))
        if draft and [n["task"] for n in draft.plan] == ["translation", "text-to-speech"]:
            return draft
    raise AssertionError("no translation -> speech chain drawn")


def _text(draft: mpd.Draft) -> str:
    """How a request written for ``draft`` carries its text: quoted, or as the placeholder."""
    return f'"{draft.quoted[0]}"' if draft.quoted else "[TEXT A]"


def test_a_request_that_asks_for_every_step_is_kept_with_the_text_put_in():
    draft = _translation_to_speech()
    text = (draft.quoted or draft.literals)[0]
    reason, sample = mpd.check_request(
        draft, f"Could you translate {_text(draft)} into {draft.languages[0]} and then read it "
               "aloud for me?")
    assert reason is None
    assert f'"{text}"' in sample.request
    assert sample.plan[0]["args"]["text"] == text
    assert check(sample)


def test_long_texts_are_placeholders_and_are_put_in_after_writing():
    assert mpd.fill_in('Please summarize "[TEXT A]".', ["One. Two."]) == \
        'Please summarize "One. Two.".'
    assert mpd.fill_in("Please summarize this: [TEXT A]", ["One. Two."]) == \
        'Please summarize this: "One. Two."'
    assert mpd.fill_in("Please summarize it.", ["One. Two."]) is None
    assert mpd.fill_in("[TEXT A] or [TEXT A]?", ["One."]) is None


@pytest.mark.parametrize("written, why", [
    ("Could you translate {text} into {language}?", "step not asked: text-to-speech"),
    ("Could you translate it into {language} and read it aloud?", "text changed"),
    ("Could you translate {text} into {language}, read it aloud and transcribe it?",
     "step added: automatic-speech-recognition"),
    ("Sure! Here is {text} in {language}, read aloud.", "answered instead of asking"),
    ("Please translate {text} into {language} (step 1) and read it aloud (step 2).",
     "step numbers"),
    ("I translated {text} into {language} and read it aloud, can you check?",
     "the person does a step themselves"),
    ("Could you translate {text} and read it aloud?", "language missing"),
])
def test_requests_that_drop_add_or_answer_steps_are_rejected(written, why):
    draft = _translation_to_speech()
    reason, sample = mpd.check_request(draft, written.format(language=draft.languages[0],
                                                             text=_text(draft)))
    assert reason is not None and reason.startswith(why) and sample is None


def test_a_file_goes_unnamed_only_when_it_is_the_only_one_of_its_kind():
    """"Transcribe my recording" with one recording attached is a request people write (the
    planner sees the attached files); with two recordings it does not say which."""
    def asr(index: int, name: str) -> dict:
        return {"task": "automatic-speech-recognition", "id": index, "dep": [-1],
                "args": {"audio": name}}

    one = mpd.Draft("single", [asr(0, "call.wav")], ["call.wav"], ["transcribe call.wav"],
                    [], [], [])
    reason, sample = mpd.check_request(one, "Could you transcribe my recording?")
    assert reason is None and sample.files == ["call.wav"]
    two = mpd.Draft("dag", [asr(0, "call.wav"), asr(1, "memo.mp3")], ["call.wav", "memo.mp3"],
                    ["transcribe call.wav", "transcribe memo.mp3"], [], [], [])
    reason, _ = mpd.check_request(two, "Could you transcribe call.wav and the other one?")
    assert reason == "file missing: memo.mp3"
    reason, _ = mpd.check_request(two, "Could you transcribe call.wav and memo.mp3?")
    assert reason is None


def test_task_cues_name_the_steps_of_a_request():
    assert mentions("automatic-speech-recognition", "what was said in call.wav")
    assert not mentions("text-to-speech", "what was said in call.wav")
    assert strongly_mentioned("Translate it, then read it out loud") == {"translation",
                                                                        "text-to-speech"}
    assert strongly_mentioned("Summarize the text and translate the summary into French") == \
        {"summarization", "translation"}


def test_a_question_about_a_picture_asks_for_question_answering_over_it():
    """A question about a picture names (document) question answering; questions other tasks
    answer (what is in it, the text it holds) do not."""
    assert strongly_mentioned("What color is the car in photo.jpg?") == \
        {"visual-question-answering"}
    assert strongly_mentioned("Please answer this question about note.png: is it raining?") \
        == {"visual-question-answering"}
    assert strongly_mentioned("What is the total amount on invoice.png?") == \
        {"document-question-answering"}
    assert strongly_mentioned("What is in the image?") == set()
    assert strongly_mentioned("What does the text in sign.png say?") == set()
    assert strongly_mentioned("Which objects are in the photo?") == set()


def _committed_rows() -> list[dict]:
    return [json.loads(line) for line in mpd.DEFAULT_OUT.read_text().splitlines() if line]


def test_the_committed_data_passes_todays_checks():
    """Every kept request still passes the checker as it is now, and its plan validates: the
    file is what training reads, and it is not regenerated."""
    rows = _committed_rows()
    kept = [r for r in rows if r["accepted"]]
    assert len(kept) >= 150
    assert {r["shape"] for r in kept} >= {"single", "chain", "dag"}
    for row in kept[:400]:
        draft = mpd.sample_draft(random.Random(f"0-{row['index']}"))
        reason, sample = mpd.check_request(draft, row["written"])
        assert reason is None, (row["index"], reason)
        assert sample.request == row["request"] and sample.plan == row["plan"]


def test_variants_keep_the_wording_and_the_graph_with_other_files_and_texts():
    kept = mpd.accepted_samples(held_out=False)[:60]
    changed = 0
    for sample in kept:
        other = mpd.variant(sample, random.Random(sample.request))
        if other is None:
            continue
        assert check(other)
        assert [(n["task"], n["dep"]) for n in other.plan] == \
            [(n["task"], n["dep"]) for n in sample.plan]
        assert len(other.files) == len(sample.files)
        # each file renamed to a name of its own: two files never become one
        assert len(set(other.files)) == len(other.files)
        assert not set(other.files) & set(sample.files)
        changed += other.request != sample.request
    assert changed >= len(kept) // 2  # some have no file, text or language to swap
