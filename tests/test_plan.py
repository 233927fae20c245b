"""Plan checks and repairs (no model needed), and the demo bank's own validity."""

from __future__ import annotations

import pytest

from core.demos import DemoBank
from core.plan import PlanError, fix_dep, order, parse, validate
from core.tasks import CATALOGUE, TASK_NAMES, UnknownTaskError, get_task


def test_fix_dep_rebuilds_dependencies_from_references():
    plan = parse([
        {"task": "image-to-text", "id": 0, "dep": [5], "args": {"image": "a.jpg"}},
        {"task": "text-to-speech", "id": 1, "dep": [-1], "args": {"text": "<GENERATED>-0"}},
    ])
    fix_dep(plan)
    assert [n.dep for n in plan] == [[-1], [0]]


def test_validate_renumbers_ids_and_follows_references():
    plan = validate(parse([
        {"task": "automatic-speech-recognition", "id": 3, "dep": [-1], "args": {"audio": "a.wav"}},
        {"task": "summarization", "id": 7, "dep": [3], "args": {"text": "<GENERATED>-3"}},
    ]), ["a.wav"])
    assert [n.id for n in plan] == [0, 1]
    assert plan[1].args["text"] == "<GENERATED>-0" and plan[1].dep == [0]


@pytest.mark.parametrize("entry, files, message", [
    ({"task": "image-to-text", "args": {"image": "/etc/passwd"}}, [], "not an attached file"),
    ({"task": "image-to-text", "args": {"image": "a.wav"}}, ["a.wav"], "needs image"),
    ({"task": "image-to-text", "args": {}}, [], "lacks argument"),
    ({"task": "text-to-speech", "args": {"text": "<GENERATED>-0"}}, [], "does not come before"),
])
def test_validate_rejects_bad_plans(entry, files, message):
    with pytest.raises(PlanError, match=message):
        validate(parse([{"id": 0, "dep": [-1], **entry}]), files)


def test_validate_rejects_resource_of_wrong_kind_from_a_task():
    with pytest.raises(PlanError, match="needs audio"):
        validate(parse([
            {"task": "image-to-text", "id": 0, "dep": [-1], "args": {"image": "a.png"}},
            {"task": "automatic-speech-recognition", "id": 1, "dep": [0],
             "args": {"audio": "<GENERATED>-0"}},
        ]), ["a.png"])


def test_unknown_task_is_an_error_naming_the_known_ones():
    with pytest.raises(UnknownTaskError, match="text-to-speech"):
        validate(parse([{"task": "make-coffee", "id": 0, "dep": [-1], "args": {}}]), [])


def test_parse_reports_malformed_json():
    with pytest.raises(PlanError, match="not JSON"):
        parse("[{")
    with pytest.raises(PlanError, match="list"):
        parse('{"task": "x"}')


def test_order_groups_independent_tasks_into_waves():
    plan = validate(parse([
        {"task": "image-to-text", "id": 0, "dep": [-1], "args": {"image": "a.png"}},
        {"task": "object-detection", "id": 1, "dep": [-1], "args": {"image": "a.png"}},
        {"task": "text-to-speech", "id": 2, "dep": [0], "args": {"text": "<GENERATED>-0"}},
    ]), ["a.png"])
    assert [[n.id for n in wave] for wave in order(plan)] == [[0, 1], [2]]


def test_catalogue_is_consistent():
    assert len(set(TASK_NAMES)) == len(CATALOGUE)
    for task in CATALOGUE:
        assert task.inputs and task.outputs and task.description
        assert get_task(task.name) is task


def test_every_table_keyed_by_task_names_catalogue_tasks_and_covers_what_it_must():
    """The catalogue is the one list of tasks; the other tables keyed by task only add to it.
    A task with an ONNX recipe can be run by the generic runner; every task has the cue words
    the planner's coverage check and the data checker read; what a table names exists."""
    from core.importer.tasks import ARCHITECTURE_TASKS, TASK_ALIASES, TASK_SPECS
    from core.plan_metrics import TITLES
    from core.runners.transformers_onnx import HANDLERS
    from core.task_cues import STRONG_CUES, TASK_CUES
    from core.tasks import DEFAULT_SKILL, SKILL_WORDS, SKILLS
    from scripts.make_plan_data import FOLLOWS, TASK_WEIGHTS

    names = set(TASK_NAMES)
    assert set(TASK_SPECS) == {t.name for t in CATALOGUE if t.onnx is not None}
    assert set(HANDLERS) == set(TASK_SPECS)
    assert set(TASK_CUES) == names
    for task in CATALOGUE:
        if task.onnx is not None:
            assert set(task.onnx.extra_tasks) <= names, task.name
    for table in (STRONG_CUES, TITLES, SKILLS, SKILL_WORDS, DEFAULT_SKILL, FOLLOWS,
                  TASK_WEIGHTS):
        assert set(table) <= names
    assert set(TASK_ALIASES.values()) | {task for _, task in ARCHITECTURE_TASKS} <= names


def test_demo_bank_plans_are_valid_and_cover_every_task():
    bank = DemoBank.load()
    covered = set()
    for demo in bank.demos:
        validate(list(demo.plan), list(demo.files))
        covered.update(n.task for n in demo.plan)
    assert covered == set(TASK_NAMES) - {"feature-extraction"}
    assert any(not demo.plan for demo in bank.demos)  # chit-chat: no task


def test_demo_retrieval_prefers_similar_requests_with_the_same_file_kinds():
    bank = DemoBank.load()
    chosen = bank.select("Please transcribe the recording interview.wav", ["interview.wav"], k=3)
    assert chosen[-1].plan[0].task == "automatic-speech-recognition"


def test_chat_template_comes_from_gguf_metadata_else_the_family():
    from core.chat_templates import ChatMLTemplate, GemmaTemplate, JinjaTemplate, template_for

    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    chatml = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
              "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    own = template_for({"tokenizer.chat_template": chatml, "tokenizer.ggml.bos_token_id": "1",
                        "tokenizer.ggml.eos_token_id": "2"}, lambda i: {1: "<s>", 2: "</s>"}[i])
    assert isinstance(own, JinjaTemplate)
    assert own.render(messages).endswith("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
    gemma = template_for({"general.architecture": "gemma3"}, str)
    assert isinstance(gemma, GemmaTemplate)
    assert gemma.render(messages) == ("<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n"
                                      "<start_of_turn>model\n")
    assert isinstance(template_for({"general.architecture": "llama"}, str), ChatMLTemplate)


def test_a_media_file_name_as_text_means_what_an_earlier_task_read_from_it():
    from core.plan import TaskNode
    from core.planner import read_named_files

    nodes = [TaskNode("automatic-speech-recognition", 0, [-1], {"audio": "lecture.wav"}),
             TaskNode("summarization", 1, [-1], {"text": "lecture.wav"}),
             TaskNode("translation", 2, [-1], {"text": "photo.jpg"})]
    read_named_files(nodes, ["lecture.wav", "photo.jpg", "notes.txt"])
    assert nodes[1].args == {"text": "<GENERATED>-0"} and nodes[1].dep == [0]
    # no earlier task reads photo.jpg into text: nothing to point at, left as planned
    assert nodes[2].args == {"text": "photo.jpg"} and nodes[2].dep == [-1]
    text_file = [TaskNode("summarization", 0, [-1], {"text": "notes.txt"})]
    read_named_files(text_file, ["notes.txt"])
    assert text_file[0].args == {"text": "notes.txt"}  # a text file is text: kept
