"""Planning with the real controller: every plan valid, the right tasks for clear requests."""

from __future__ import annotations

import random

import pytest

from core.plan import parse, validate
from core.planner import Replay
from core.tasks import AUDIO, IMAGE, TASK_NAMES, get_task, kind_of_file, produces


def _tasks(result):
    return [node.task for node in result.plan]


def test_demo_request_plans_speech_then_transcription(planner):
    result = planner.plan("Read this aloud, then transcribe the recording: offline assistants "
                          "keep your data private")
    assert _tasks(result) == ["text-to-speech", "automatic-speech-recognition"]
    assert "offline assistants keep your data private" in result.plan[0].args["text"]
    assert result.plan[1].args["audio"] == "<GENERATED>-0"
    assert result.plan[1].dep == [0]


def test_image_request_uses_the_attached_image(planner):
    result = planner.plan("Describe the photo garden.jpg, then read the description aloud",
                          ["garden.jpg"])
    assert _tasks(result) == ["image-to-text", "text-to-speech"]
    assert result.plan[0].args["image"] == "garden.jpg"
    assert result.plan[1].args["text"] == "<GENERATED>-0"


def test_audio_request_uses_the_attached_audio(planner):
    result = planner.plan("Please transcribe standup.wav", ["standup.wav"])
    assert _tasks(result) == ["automatic-speech-recognition"]
    assert result.plan[0].args["audio"] == "standup.wav"


def test_greeting_needs_no_task(planner):
    assert planner.plan("Hi there!").plan == []


def test_demos_replay_to_their_own_plans(planner):
    """The decoder, driven by a known plan, must reproduce it (so demos teach real sequences),
    and copied text is written as the request's own tokens, as live copying writes it."""
    copied = 0
    for demo in planner.demos.demos:
        tokens: list[int] = []
        replay = Replay(planner.controller, demo.plan, demo.request)
        nodes = planner.decode(tokens, list(demo.files), replay)
        for node in demo.plan:
            for key, value in node.args.items():
                span = replay._span(value) if key != "labels" else None
                if span and not value.startswith("<GENERATED>") and value not in demo.files:
                    assert _contains(tokens, span), (demo.request, value)
                    copied += 1
        assert [n.to_json() for n in nodes] == [n.to_json() for n in demo.plan], demo.request
        text = planner.controller.llama.detokenize(tokens).decode()
        decoded = [{**n.to_json(), "args": {k: v.strip() for k, v in n.args.items()}}
                   for n in parse(text)]
        assert decoded == [n.to_json() for n in demo.plan]
    assert copied >= 20  # the bank has many demos with text copied from the request


def _contains(tokens: list[int], part: list[int]) -> bool:
    return any(tokens[i:i + len(part)] == part for i in range(len(tokens) - len(part) + 1))


WORDS = ("photo report song meeting cat translate read aloud summary invoice voice people city "
         "describe detect faces music speech german text label similar depth draw answer call "
         "please now then and the of in what who where is this my quickly").split()
EXTENSIONS = (".jpg", ".png", ".wav", ".flac", ".txt")


def _random_request(rng: random.Random) -> tuple[str, list[str]]:
    files = [f"file{i}{rng.choice(EXTENSIONS)}" for i in range(rng.choice((0, 0, 1, 1, 2)))]
    words = rng.choices(WORDS, k=rng.randint(2, 14)) + files
    rng.shuffle(words)
    return " ".join(words).capitalize() + rng.choice((".", "?", "!", "")), files


def test_two_hundred_random_requests_all_give_schema_valid_plans(planner):
    """Whatever the request, the plan parses, names catalogue tasks, and types check: the
    planner as the Assistant runs it (default task and text limits), and most plans do work."""
    rng = random.Random(20261125)
    planned = []
    for _ in range(200):
        request, files = _random_request(rng)
        result = planner.plan(request, files)
        planned.append(result.plan)
        plan = validate(parse([n.to_json() for n in result.plan]), files)  # round trip
        for node in plan:
            assert node.task in TASK_NAMES
            task = get_task(node.task)
            assert set(task.input_keys) <= set(node.args) <= {*task.input_keys, *task.options}
            for key, kind in task.inputs:
                value = node.args[key]
                if kind in (IMAGE, AUDIO):
                    if value.startswith("<GENERATED>-"):
                        source = plan[int(value.split("-")[-1])]
                        assert produces(get_task(source.task), kind)
                    else:
                        assert value in files and kind_of_file(value) == kind
            assert all(d < node.id for d in node.dep)
    with_tasks = [plan for plan in planned if plan]
    assert len(with_tasks) >= 150  # the word salads name tasks; an empty plan is no escape
    assert len({n.task for plan in planned for n in plan}) >= 12
    assert max(map(len, planned)) >= 3  # chains and fan-outs, not only single steps


@pytest.mark.parametrize("request_text, files, expected", [
    ("Find the names of people and places in: Angela met Pierre in Lyon.", [],
     "token-classification"),
    ("Is this review positive or negative: the screen broke on day one", [],
     "text-classification"),
    ("Find the faces in portrait.png", ["portrait.png"], "object-detection"),
])
def test_single_task_requests(planner, request_text, files, expected):
    assert _tasks(planner.plan(request_text, files)) == [expected]


def test_a_translation_carries_the_language_the_request_asks_for(planner):
    result = planner.plan("Translate into French: the museum opens at ten")
    assert _tasks(result) == ["translation"]
    assert result.plan[0].args == {"text": "the museum opens at ten", "tgt_lang": "French"}


def test_an_attached_text_no_task_reads_becomes_the_passage_of_the_question():
    from core.plan import TaskNode
    from core.planner import read_unread_text_files

    chat = [TaskNode("conversational", 0, [-1], {"text": "What time does it close?"})]
    read_unread_text_files(chat, ["library.txt"])
    assert (chat[0].task, chat[0].args) == (
        "question-answering", {"text": "What time does it close?", "context": "library.txt"})
    summary = [TaskNode("summarization", 0, [-1], {"text": "Summarize this please"})]
    read_unread_text_files(summary, ["notes.txt"])
    assert summary[0].args == {"text": "notes.txt"}
    read = [TaskNode("summarization", 0, [-1], {"text": "notes.txt"}),
            TaskNode("conversational", 1, [-1], {"text": "hello"})]
    read_unread_text_files(read, ["notes.txt"])  # already read: nothing changes
    assert read[1].task == "conversational"


def test_coverage_leans_towards_a_task_the_request_names_and_the_plan_lacks():
    """Before the plan ends, a feasible task the request asks for by a word that names it alone
    ("aloud") pulls the "another task?" choice towards going on, and the next choice to it."""
    from core.planner import CoveragePrior, CoverageWeights

    weights = CoverageWeights(task=2.0, go_on=2.0, unasked=0.0, steps=0.0)
    coverage = CoveragePrior("Translate 'good night' into German and read it aloud", weights)
    feasible = ("translation", "text-to-speech", "summarization")
    more = ("more", 1, ("translation",), feasible)
    assert coverage.bias(["]", ', {"task": "'], more) == [-2.0, 2.0]
    task = ("task", 1, ("translation",), feasible)
    assert coverage.bias(['summarization"', 'text-to-speech"'], task) == [0.0, 2.0]
    # covered, infeasible or switched off: no bias
    assert coverage.bias(["]", ", "], ("more", 2, ("translation", "text-to-speech"),
                                       feasible)) is None
    assert coverage.bias(["]", ", "], ("more", 1, ("translation",), ("translation",))) is None
    off = CoverageWeights(task=0.0, go_on=0.0, unasked=0.0, steps=0.0)
    assert CoveragePrior("read it aloud", off).bias(["]", ", "], more) is None


def test_going_on_and_choosing_the_named_task_have_their_own_weights():
    """A strong pull at the "which task?" choice puts a named later step first (speech before
    the translation it should read), so going on can lean harder than choosing."""
    from core.planner import CoveragePrior, CoverageWeights

    weights = CoverageWeights(task=2.0, go_on=4.0, unasked=0.0, steps=0.0)
    coverage = CoveragePrior("Translate 'good night' into German and read it aloud", weights)
    feasible = ("translation", "text-to-speech")
    assert coverage.bias(["]", ', {"task": "'], ("more", 1, ("translation",), feasible)) == \
        [-4.0, 4.0]
    assert coverage.bias(['translation"', 'text-to-speech"'],
                         ("task", 1, ("translation",), feasible)) == [0.0, 2.0]
    choosing_off = CoveragePrior("read it aloud", CoverageWeights(task=0.0, go_on=4.0,
                                                                  unasked=0.0))
    assert choosing_off.bias(['text-to-speech"'], ("task", 0, (), feasible)) is None
    assert choosing_off.bias(["]", ", "], ("more", 0, (), feasible)) == [-4.0, 4.0]


def test_a_copied_text_cut_at_a_file_names_dot_goes_on_to_the_names_end():
    from core.plan import TaskNode
    from core.planner import finish_cut_file_names

    request = "How many dogs are in park.jpg? Then read the answer aloud."
    cut = [TaskNode("visual-question-answering", 0, [-1],
                    {"image": "park.jpg", "text": "How many dogs are in park."})]
    finish_cut_file_names(cut, request, ["park.jpg"])
    assert cut[0].args["text"] == "How many dogs are in park.jpg?"
    # a sentence that really ends there, or a name that is not an attached file: unchanged
    whole = [TaskNode("summarization", 0, [-1], {"text": "The park was full."})]
    finish_cut_file_names(whole, "The park was full. Summarize it.", [])
    assert whole[0].args["text"] == "The park was full."
    other = [TaskNode("summarization", 0, [-1], {"text": "See notes."})]
    finish_cut_file_names(other, "See notes.txt please", ["park.jpg"])
    assert other[0].args["text"] == "See notes."


def test_a_task_no_word_of_the_request_points_to_leans_away():
    """With a photo attached, a question about what is in it is not a request to describe it:
    image-to-text, which no word asks for, leans away; the asked task does not."""
    from core.planner import CoveragePrior, CoverageWeights

    request = "How many dogs are in park.jpg?"
    coverage = CoveragePrior(request, CoverageWeights(task=0.0, go_on=0.0, unasked=4.0, steps=0.0))
    options = ['image-to-text"', 'object-detection"', 'visual-question-answering"']
    feasible = ("image-to-text", "object-detection", "visual-question-answering")
    assert coverage.bias(options, ("task", 0, (), feasible)) == [-4.0, 0.0, 0.0]
    assert coverage.bias(["]", ", "], ("more", 1, ("object-detection",), feasible)) is None
    off = CoveragePrior(request, CoverageWeights(task=0.0, go_on=0.0, unasked=0.0, steps=0.0))
    assert off.bias(options, ("task", 0, (), feasible)) is None


def test_asked_steps_counts_the_actions_a_request_asks_for():
    """The action verbs where a request asks, not those describing its files or inside the
    quoted text to work on."""
    from core.task_cues import asked_steps

    assert asked_steps("Transcribe talk.wav") == 1
    assert asked_steps("I recorded a lecture as talk.wav. Could you transcribe it, summarize "
                       "the transcript and then read the summary aloud?") == 3
    assert asked_steps("Please translate 'I will write and read and draw every day' into "
                       "French") == 1
    assert asked_steps("Hello there!") == 0


def test_steps_check_leans_on_until_the_asked_steps_are_planned_then_towards_the_end():
    """After the first task, fewer tasks than asked steps lean towards another one; as many
    lean towards ending, unless a named task is still missing."""
    from core.planner import CoveragePrior, CoverageWeights

    request = "Could you transcribe talk.wav, summarize it and draw a picture of it?"
    coverage = CoveragePrior(request, CoverageWeights(task=0.0, go_on=0.0, steps=2.0))
    feasible = ("summarization", "text-to-image", "automatic-speech-recognition")
    options = ["]", ', {"task": "']
    assert coverage.bias(options, ("more", 0, (), feasible)) is None  # the first task: no push
    assert coverage.bias(options, ("more", 2, ("automatic-speech-recognition",
                                               "summarization"), feasible)) == [-2.0, 2.0]
    done = ("automatic-speech-recognition", "summarization", "text-to-image")
    assert coverage.bias(options, ("more", 3, done, feasible)) == [2.0, -2.0]
    # a named task still missing outweighs the count
    named = CoveragePrior("Could you transcribe talk.wav and read it aloud?",
                          CoverageWeights(task=2.0, go_on=2.0, steps=2.0))
    assert named.bias(options, ("more", 2, ("automatic-speech-recognition", "summarization"),
                                ("text-to-speech",))) == [-2.0, 2.0]
