"""The microphone and the speaker: push to talk, the hands-free listener, answers read aloud.

``VoiceInput`` records the default input device with QtMultimedia into a ``core.voice.Recording``
(16 kHz mono 16-bit, the format Whisper and Silero read) and reports the level and the elapsed
time as it goes; ``feed`` is the one way audio comes in, so a WAV file fed through ``feed_file``
(the tests; there is no audio device in CI) takes the microphone's path exactly. In hands-free
mode the recording ends by itself when Silero VAD hears the speaker stop.

``AnswerPlayer`` plays a spoken answer on the default output device and says when it stopped,
so the hands-free loop can listen again.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, QUrl, Signal

from core.voice import SAMPLE_RATE, Recording, wav_chunks


def microphone_problem() -> str | None:
    """Why push to talk cannot work here (no input device), or None when it can."""
    from PySide6.QtMultimedia import QMediaDevices

    if not QMediaDevices.audioInputs():
        return ("No microphone was found: connect one (or enable it in the system's sound "
                "settings) and restart Conductor. You can still attach a recording with +.")
    return None


class VoiceInput(QObject):
    """One recording at a time, from the microphone or fed from a file."""

    level = Signal(float)  # 0 (silence) to 1, for the meter
    elapsed = Signal(float)  # seconds recorded so far
    finished = Signal(object)  # the saved WAV (a Path)
    cancelled = Signal()

    def __init__(self, folder: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.folder = Path(folder)
        self.recording: Recording | None = None
        self.hands_free = False
        self._source = None
        self._device = None

    @property
    def active(self) -> bool:
        return self.recording is not None

    def start(self, hands_free: bool = False, microphone: bool = True) -> None:
        """Begin a recording; from the microphone unless the audio will come through ``feed``
        (a file). In hands-free mode it ends when the speaker stops talking."""
        if self.active:
            return
        self.recording = Recording()
        self.hands_free = hands_free
        if microphone:
            self._open_microphone()

    def feed(self, chunk: bytes) -> None:
        """Audio in: the microphone's reads and a file's chunks both come here."""
        recording = self.recording
        if recording is None:
            return
        recording.feed(chunk)
        self.level.emit(recording.level())
        self.elapsed.emit(recording.seconds)
        if self.hands_free and recording.check_speech().ended:
            self.stop()

    def feed_file(self, path: Path) -> None:
        """Feed a sound file into the recording started with ``microphone=False``, chunk by
        chunk as the microphone would (for tests; there is no audio device in CI)."""
        for chunk in wav_chunks(Path(path)):
            if not self.active:  # hands-free: the detector ended the turn
                break
            self.feed(chunk)

    def stop(self) -> Path | None:
        """End the recording and save it (``finished``); None when nothing was heard."""
        recording = self._close()
        if recording is None:
            return None
        if recording.seconds < 0.3:  # a tap on the button, not speech
            self.cancelled.emit()
            return None
        path = recording.save(self.folder / f"recording-{time.strftime('%Y%m%d-%H%M%S')}.wav")
        self.finished.emit(path)
        return path

    def cancel(self) -> None:
        """Esc: drop the recording."""
        if self._close() is not None:
            self.cancelled.emit()

    def _close(self) -> Recording | None:
        recording, self.recording = self.recording, None
        if self._source is not None:
            self._source.stop()
            self._source, self._device = None, None
        return recording

    def _open_microphone(self) -> None:
        from PySide6.QtMultimedia import QAudioFormat, QAudioSource, QMediaDevices

        audio_format = QAudioFormat()
        audio_format.setSampleRate(SAMPLE_RATE)
        audio_format.setChannelCount(1)
        audio_format.setSampleFormat(QAudioFormat.SampleFormat.Int16)
        self._source = QAudioSource(QMediaDevices.defaultAudioInput(), audio_format, self)
        self._device = self._source.start()
        self._device.readyRead.connect(lambda: self.feed(bytes(self._device.readAll())))


class AnswerPlayer(QObject):
    """Plays one WAV at a time; ``stopped`` when it ends or is stopped."""

    started = Signal(object)  # the Path playing
    stopped = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path: Path | None = None
        self._player = None

    @property
    def playing(self) -> bool:
        return self.path is not None

    def play(self, path: Path) -> None:
        """Play ``path`` on the default speaker; with no output device, say it ended at once
        (the WAV is kept either way)."""
        from PySide6.QtMultimedia import QAudioOutput, QMediaDevices, QMediaPlayer

        self.stop()
        self.path = Path(path)
        self.started.emit(self.path)
        if not QMediaDevices.audioOutputs():
            QTimer.singleShot(0, self.stop)
            return
        player = QMediaPlayer(self)
        output = QAudioOutput(player)
        player.setAudioOutput(output)
        player.mediaStatusChanged.connect(
            lambda status: self.stop() if status == QMediaPlayer.MediaStatus.EndOfMedia else None)
        player.setSource(QUrl.fromLocalFile(str(self.path)))
        player.play()
        self._player = player

    def stop(self) -> None:
        if self.path is None:
            return
        if self._player is not None:
            self._player.stop()
            self._player.deleteLater()
            self._player = None
        self.path = None
        self.stopped.emit()
