"""Text-to-speech with the ``espeak-ng`` program (formant synthesis).

A second, very different text-to-speech model so that choosing a voice is a real decision:
robotic but tiny, instant and available for about a hundred languages, where the Piper voice is
natural but English only. espeak-ng is GPL-3.0-or-later; Conductor does not ship or link it, it
runs the system's program in a subprocess (``espeak-ng -w out.wav``).

The "model files" are a small JSON file naming the voice: the registry needs something to hash
and a path to check, and the voice settings belong with the model rather than in code.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.registry import ModelRecord
from core.runners.base import DefaultModel, Runner, TaskInputError, Workspace, require_text

RUNTIME = "espeak-ng"
VOICE_FILE = "voice.json"
TIMEOUT_S = 120


@dataclass
class EspeakVoice:
    program: str
    voice: str
    words_per_minute: int
    pitch: int


class EspeakRunner(Runner):
    """Runs a voice folder holding ``voice.json`` ({"voice", "words_per_minute", "pitch"})."""

    runtime = RUNTIME

    def load(self, record: ModelRecord, model_path: Path) -> EspeakVoice:
        program = shutil.which("espeak-ng")
        if program is None:
            raise RuntimeError("espeak-ng is not installed (Debian/Ubuntu: apt install espeak-ng)")
        path = Path(model_path)
        settings = json.loads((path / VOICE_FILE if path.is_dir() else path).read_text("utf-8"))
        settings = {**settings, **record.params}
        return EspeakVoice(program, str(settings.get("voice", "en-us")),
                           int(settings.get("words_per_minute", 165)),
                           int(settings.get("pitch", 50)))

    def run(self, model: EspeakVoice, task: str, args: dict[str, Any],
            workspace: Workspace) -> dict:
        text = require_text(args)
        path = workspace.new_file("speech", ".wav")
        # Text goes through stdin, never the command line: no option injection, no length limit.
        result = subprocess.run(
            [model.program, "-v", model.voice, "-s", str(model.words_per_minute),
             "-p", str(model.pitch), "-w", str(path), "--stdin"],
            input=text, capture_output=True, text=True, timeout=TIMEOUT_S, check=False,
        )
        if result.returncode != 0 or not path.exists():
            raise RuntimeError(f"espeak-ng failed ({result.returncode}): {result.stderr.strip()}")
        with wave.open(str(path), "rb") as wav:
            rate = wav.getframerate()
            frames = wav.getnframes()
        if frames == 0:
            path.unlink(missing_ok=True)
            raise TaskInputError(f"nothing speakable in {text[:60]!r}")
        return {
            "audio": workspace.relative(path),
            "text": text,
            "duration_s": round(frames / rate, 3),
            "sample_rate": rate,
        }


RUNNER = EspeakRunner


# ---------------------------------------------------------------- default model


def _available() -> bool:
    return shutil.which("espeak-ng") is not None


def _install_voice(dest: Path) -> None:
    """Write the voice description; the voice data itself lives with the system's espeak-ng."""
    dest.mkdir(parents=True, exist_ok=True)
    (dest / VOICE_FILE).write_text(
        json.dumps({"voice": "en-us", "words_per_minute": 165, "pitch": 50}, indent=2) + "\n",
        encoding="utf-8",
    )


DEFAULT_MODELS: list[DefaultModel] = [
    DefaultModel(
        record=ModelRecord(
            id="espeak-ng/en-us",
            task="text-to-speech",
            runtime=RUNTIME,
            path="espeak-ng/en-us",
            description=(
                "eSpeak NG formant synthesizer, US English voice. Robotic, less natural than "
                "Piper, but instant (over 100x real time) and with almost no memory; "
                "good for quick previews or long texts where speed matters more than quality."
            ),
            license="GPL-3.0-or-later",
            source="apt:espeak-ng",
            skill="english",
            tags=["tts", "speech-synthesis", "english", "en-US", "espeak", "formant",
                  "fast", "robotic"],
            preference=1_000,
            quantization="none",
            params={"voice": "en-us"},
        ),
        install=_install_voice,
        available=_available,
    ),
]
