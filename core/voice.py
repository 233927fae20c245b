"""Voice in: a recording as it grows, its level, and where the speaker stopped talking.

The microphone (``gui/voice.py``, QtMultimedia) and a WAV file (tests, ``main.py ask
--voice-in``) feed the same ``Recording`` the same way: 16 kHz mono 16-bit chunks as they come.
It keeps the samples, says how loud the last chunk was (the level meter) and how long it has
run, writes the WAV, and, for the hands-free loop, asks a real voice activity detector whether
speech began and has since ended: Silero VAD, the ONNX model faster-whisper ships (already
installed for Whisper), not a volume threshold.
"""

from __future__ import annotations

import math
import wave
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
SAMPLE_BYTES = 2  # 16-bit PCM
CHUNK_SECONDS = 0.1  # what a microphone delivers at a time; a file is fed in the same steps
SILENT_DB = -90.0
# A turn ends after this much silence following speech (Silero's own default is 2 s, which
# feels slow in conversation; 0.8 s still lets a speaker pause for breath).
END_SILENCE_S = 0.8
# Look for speech at most this often: Silero reads the whole recording each time (about 2 ms
# a second of audio on two cores).
VAD_EVERY_S = 0.3


@dataclass
class SpeechState:
    """What the detector found so far: whether speech began, and whether it has ended."""

    started: bool = False
    ended: bool = False
    speech_s: float = 0.0


@dataclass
class Recording:
    """16 kHz mono 16-bit audio as it arrives, with its level and the speech detector."""

    sample_rate: int = SAMPLE_RATE
    end_silence_s: float = END_SILENCE_S
    _chunks: list[bytes] = field(default_factory=list)
    _bytes: int = 0
    level_db: float = SILENT_DB
    speech: SpeechState = field(default_factory=SpeechState)
    _checked_at: float = 0.0

    def feed(self, chunk: bytes) -> None:
        """Add PCM bytes (an odd trailing byte is kept for the next chunk's sake: dropped)."""
        chunk = chunk[: len(chunk) - len(chunk) % SAMPLE_BYTES]
        if not chunk:
            return
        self._chunks.append(chunk)
        self._bytes += len(chunk)
        samples = np.frombuffer(chunk, dtype="<i2").astype(np.float32) / 32768.0
        rms = float(np.sqrt(np.mean(samples * samples))) if samples.size else 0.0
        self.level_db = 20 * math.log10(rms) if rms > 1e-9 else SILENT_DB

    @property
    def seconds(self) -> float:
        return self._bytes / (SAMPLE_BYTES * self.sample_rate)

    def samples(self) -> np.ndarray:
        """Everything so far as float32 in [-1, 1] (what Whisper and Silero read)."""
        data = b"".join(self._chunks)
        return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0

    def level(self) -> float:
        """The last chunk's loudness for a meter: 0 (silence, -60 dBFS or less) to 1 (0 dBFS)."""
        return max(0.0, min(1.0, (self.level_db + 60.0) / 60.0))

    def check_speech(self) -> SpeechState:
        """Run the detector on the recording (at most every ``VAD_EVERY_S`` of new audio):
        speech began when Silero finds any, and ended once ``end_silence_s`` of silence
        follows the last of it."""
        if self.seconds - self._checked_at < VAD_EVERY_S and not self.speech.ended:
            return self.speech
        self._checked_at = self.seconds
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        options = VadOptions(min_silence_duration_ms=int(self.end_silence_s * 1000 / 2),
                             speech_pad_ms=100, min_speech_duration_ms=200)
        spans = get_speech_timestamps(self.samples(), options, sampling_rate=self.sample_rate)
        if spans:
            last_end = spans[-1]["end"] / self.sample_rate
            self.speech = SpeechState(
                started=True, ended=self.seconds - last_end >= self.end_silence_s,
                speech_s=sum(s["end"] - s["start"] for s in spans) / self.sample_rate)
        return self.speech

    def save(self, path: Path) -> Path:
        """Write the recording as a WAV (the turn's attachment, Whisper's input)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(SAMPLE_BYTES)
            out.setframerate(self.sample_rate)
            out.writeframes(b"".join(self._chunks))
        return path


def wav_chunks(path: Path, chunk_seconds: float = CHUNK_SECONDS) -> Iterator[bytes]:
    """A sound file as the microphone would deliver it: 16 kHz mono 16-bit, chunk by chunk."""
    import soundfile

    from core.runners.base import resample

    samples, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    mono = resample(samples.mean(axis=1), rate, SAMPLE_RATE)
    pcm = (np.clip(mono, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    step = int(SAMPLE_RATE * chunk_seconds) * SAMPLE_BYTES
    for start in range(0, len(pcm), step):
        yield pcm[start:start + step]


def record_file(path: Path) -> Recording:
    """A whole sound file fed through a ``Recording`` (``main.py ask --voice-in``)."""
    recording = Recording()
    for chunk in wav_chunks(path):
        recording.feed(chunk)
    return recording
