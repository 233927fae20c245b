"""Speech recognition with CMU PocketSphinx and its bundled US English model.

A small fallback beside Whisper: an HMM acoustic model with a trigram language model and the
CMU pronouncing dictionary, all inside the ``pocketsphinx`` wheel (BSD). It is much less accurate
(lower-case words, no punctuation, frequent substitutions) and, measured here, not faster than
Whisper tiny.en with int8 on two cores; it stays as the recognizer that needs no CTranslate2 and
half the disk, and so that selection between recognizers is a real choice.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from core.registry import ModelRecord
from core.runners.base import DefaultModel, Runner, Workspace, require_audio, resample

RUNTIME = "pocketsphinx"
SAMPLE_RATE = 16000
ACOUSTIC_MODEL = "en-us"  # folder of the HMM (means, variances, mdef, ...)
LANGUAGE_MODEL = "en-us.lm.bin"
DICTIONARY = "cmudict-en-us.dict"


class PocketsphinxRunner(Runner):
    """Runs a model folder holding an acoustic model folder, an ``.lm.bin`` and a ``.dict``."""

    runtime = RUNTIME

    def load(self, record: ModelRecord, model_path: Path) -> Any:
        from pocketsphinx import Decoder

        folder = Path(model_path)
        params = record.params
        return Decoder(
            hmm=str(folder / params.get("hmm", ACOUSTIC_MODEL)),
            lm=str(folder / params.get("lm", LANGUAGE_MODEL)),
            dict=str(folder / params.get("dict", DICTIONARY)),
            samprate=SAMPLE_RATE,
            # its C logger writes pages of configuration to stderr on every load
            logfn=os.devnull,
        )

    def run(self, model: Any, task: str, args: dict[str, Any], workspace: Workspace) -> dict:
        import numpy as np

        samples, rate = require_audio(args, workspace)
        audio = resample(samples, rate, SAMPLE_RATE)
        pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        model.start_utt()
        model.process_raw(pcm, no_search=False, full_utt=True)
        model.end_utt()
        hypothesis = model.hyp()
        text = hypothesis.hypstr.strip() if hypothesis is not None else ""
        return {"text": text, "duration_s": round(audio.size / SAMPLE_RATE, 3)}


RUNNER = PocketsphinxRunner


# ---------------------------------------------------------------- default model


def _available() -> bool:
    import importlib.util

    return importlib.util.find_spec("pocketsphinx") is not None


def _install_en_us(dest: Path) -> None:
    """Copy the en-us acoustic model, language model and dictionary out of the wheel."""
    import pocketsphinx

    source = Path(pocketsphinx.get_model_path()) / "en-us"
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source / ACOUSTIC_MODEL, dest / ACOUSTIC_MODEL)
    for name in (LANGUAGE_MODEL, DICTIONARY):
        shutil.copy2(source / name, dest / name)


DEFAULT_MODELS: list[DefaultModel] = [
    DefaultModel(
        record=ModelRecord(
            id="cmusphinx/en-us-ptm",
            task="automatic-speech-recognition",
            runtime=RUNTIME,
            path="pocketsphinx/en-us",
            description=(
                "CMU PocketSphinx US English recognizer (HMM acoustic model, trigram language "
                "model, CMU dictionary). Small (37 MB) but rough: lower-case words, no "
                "punctuation, many misheard words, fails on robotic or noisy speech, and no "
                "faster than Whisper on 2 CPU cores (about 9x real time). Use only when Whisper "
                "is not installed. English only."
            ),
            license="BSD-2-Clause",
            source="pypi:pocketsphinx==5.1.1",
            skill="english",
            tags=["asr", "speech-to-text", "english", "pocketsphinx", "cmu-sphinx",
                  "lightweight", "hmm"],
            preference=2_000,
            quantization="none",
            params={"hmm": ACOUSTIC_MODEL, "lm": LANGUAGE_MODEL, "dict": DICTIONARY},
        ),
        install=_install_en_us,
        available=_available,
    ),
]
