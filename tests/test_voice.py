"""Voice in and out: Piper speaks a request, the microphone's path records it, Whisper hears it,
Conductor plans and answers it, and reads the answer back; in the app, from the CLI, and with
the hands-free loop's voice activity detector. There is no audio device in CI, so recordings
are fed from WAV files through the code the microphone feeds (``VoiceInput.feed``)."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest

from core.voice import SAMPLE_RATE, Recording, record_file, wav_chunks
from helpers import heard, missing, run_cli, words

REQUEST = "What is the sentiment of this sentence: I really love my new phone."
RUN_TIMEOUT_MS = 300_000


@pytest.fixture(scope="module")
def spoken_request(shared_assistant, tmp_path_factory) -> Path:
    """The request read by Piper, with 1.5 s of silence after it (a speaker who stopped)."""
    folder = tmp_path_factory.mktemp("spoken")
    speech = shared_assistant.speak(REQUEST, folder).path
    with wave.open(str(speech)) as source:
        rate, frames = source.getframerate(), source.readframes(source.getnframes())
    padded = folder / "request.wav"
    with wave.open(str(padded), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames + b"\0\0" * int(rate * 1.5))
    return padded


def test_a_recording_keeps_the_audio_its_level_and_length(tmp_path):
    recording = Recording()
    tone = (0.5 * np.sin(np.linspace(0, 2 * np.pi * 440, SAMPLE_RATE))).astype(np.float32)
    recording.feed((tone * 32767).astype("<i2").tobytes())
    assert recording.seconds == pytest.approx(1.0)
    assert -10 < recording.level_db < -5 and 0.8 < recording.level() < 0.95  # RMS of 0.5 sine
    recording.feed(b"\0\0" * 1600)
    assert recording.level() == 0.0
    saved = recording.save(tmp_path / "r.wav")
    with wave.open(str(saved)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getnframes()) == (16000, 1, 17600)


def test_silero_hears_speech_begin_and_end_and_ignores_silence(spoken_request):
    recording = Recording()
    states = []
    for chunk in wav_chunks(spoken_request):
        recording.feed(chunk)
        states.append(recording.check_speech())
    assert states[0].started is False  # no speech in the first 0.1 s
    assert any(s.started and not s.ended for s in states)  # talking
    assert states[-1].started and states[-1].ended  # the 1.5 s pause ended the turn
    assert 2.5 < states[-1].speech_s < 6.0
    silence = Recording()
    silence.feed(b"\0\0" * SAMPLE_RATE * 3)
    quiet_hiss = (np.random.default_rng(0).normal(0, 0.01, SAMPLE_RATE * 2) * 32767)
    silence.feed(quiet_hiss.astype("<i2").tobytes())
    assert not silence.check_speech().started  # silence and low noise are not speech


def test_a_spoken_request_is_heard_planned_answered_and_kept(shared_assistant, spoken_request):
    recording = record_file(spoken_request)
    assert recording.check_speech().ended
    saved = recording.save(spoken_request.with_name("fed.wav"))
    transcript = shared_assistant.transcribe(saved)
    assert transcript.model == "openai/whisper-tiny.en"
    assert heard(transcript.text, {"sentiment", "sentence", "really", "love", "new", "phone"})
    result = shared_assistant.ask(transcript.text, recording=saved)
    assert [n["task"] for n in result.plan] == ["text-classification"]
    assert "positive" in result.answer
    assert result.recording == "spoken-request.wav"
    stored = shared_assistant.store.run(result.run_id)
    assert stored["recording"] == "spoken-request.wav" and stored["files"] == []
    assert (Path(result.workspace) / "spoken-request.wav").read_bytes() == saved.read_bytes()

    speech = shared_assistant.speak_answer(result.run_id)
    assert speech.path.parent == Path(result.workspace)
    said = shared_assistant.transcribe(speech.path).text
    assert {"sentiment", "positive"} <= words(said), said  # the summary, not the results list
    assert "text classification" not in said.lower()
    artifacts = shared_assistant.store.run(result.run_id)["artifacts"]
    assert {"kind": "audio", "path": speech.path.name} in [
        {k: a[k] for k in ("kind", "path")} for a in artifacts]


def test_cli_voice_in_and_speak(tmp_path, cache_dir, spoken_request):
    result = run_cli(["ask", "--voice-in", str(spoken_request), "--speak", "--json"],
                     tmp_path / "data", cache_dir, tmp_path / "net.log")
    assert result.returncode == 0, result.stderr
    assert "== heard (openai/whisper-tiny.en" in result.stderr
    data = json.loads(result.stdout)
    assert heard(data["request"], {"sentiment", "love", "phone"})
    assert data["recording"] == "spoken-request.wav"
    assert Path(data["speech"]).is_file() and data["speech"].startswith(data["workspace"])
    assert "== spoken (rhasspy/piper-en_US-joe-medium" in result.stderr


def test_cli_voice_in_refuses_silence_and_a_double_request(tmp_path, cache_dir):
    silent = tmp_path / "silent.wav"
    with wave.open(str(silent), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\0\0" * 32000)
    log = tmp_path / "net.log"
    quiet = run_cli(["ask", "--voice-in", str(silent)], tmp_path / "data", cache_dir, log)
    assert quiet.returncode == 2 and "no speech found in the recording" in quiet.stderr
    both = run_cli(["ask", "Hello", "--voice-in", str(silent)], tmp_path / "data", cache_dir, log)
    assert both.returncode == 2 and "one of them" in both.stderr


# -- the desktop app

def _qt():
    try:
        import PySide6.QtMultimedia  # noqa: F401
    except ImportError as error:
        missing(f"QtMultimedia (PySide6-Addons: {error})")


def test_no_microphone_disables_push_to_talk_and_says_why(make_window):
    _qt()
    from PySide6.QtMultimedia import QMediaDevices

    window = make_window()
    button = window.chat.composer.mic_button
    if QMediaDevices.audioInputs():
        pytest.skip("this machine has a microphone: the disabled state cannot be seen")
    assert not button.isEnabled()
    assert button.toolTip().startswith("No microphone was found")
    window.chat.composer.start_talking()  # Ctrl+Space does nothing either
    assert not window.chat.composer.voice.active


def test_push_to_talk_puts_the_words_in_the_box_then_sends_with_the_recording(
        make_window, qtbot, spoken_request, settings):
    _qt()
    window = make_window()
    composer = window.chat.composer
    levels = []
    composer.voice.level.connect(levels.append)
    with qtbot.waitSignal(window.bridge.transcribed, timeout=120_000):
        composer.dictate_file(spoken_request)
    assert max(levels) > 0.5 and min(levels) == 0.0  # the meter moved, and fell in the pause
    assert not composer.recording_bar.isVisible()
    text = composer.editor.toPlainText()
    assert heard(text, {"sentiment", "sentence", "really", "love", "new", "phone"}), text
    assert composer.recording is not None and composer.recording.parent == (
        settings.data_path / "attachments")
    assert not window.running  # dictation waits for the user to send (the default)
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        composer.submit()
    assert window.last_result.recording == "spoken-request.wav"
    assert "positive" in window.last_result.answer


def test_the_speaker_button_reads_the_answer_aloud(make_window, qtbot, shared_assistant):
    _qt()
    window = make_window()
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.send("What is the sentiment of: the hotel staff were wonderful and kind")
    message = window.chat.assistant_messages()[-1]
    assert message.speak_button.isVisible() and message.speak_button.text() == "▶ Read aloud"
    with qtbot.waitSignal(window.bridge.spoken, timeout=120_000) as spoken:
        message.speak_button.click()
    run_id, speech = spoken.args[0]
    assert run_id == window.last_result.run_id and speech.path.is_file()
    qtbot.waitUntil(lambda: not message.speaking, timeout=30_000)  # no speaker: ends at once
    said = shared_assistant.transcribe(speech.path).text
    assert {"sentiment", "positive"} <= words(said), said


def test_hands_free_turn_ends_on_silence_and_is_sent(make_window, qtbot, settings,
                                                     spoken_request):
    _qt()
    settings.hands_free = True
    window = make_window(settings)
    composer = window.chat.composer
    assert composer.hands_free
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        composer.dictate_file(spoken_request)  # no release: the pause ends the turn
        assert not composer.voice.active
    assert window.last_result.recording == "spoken-request.wav"
    assert heard(window.last_result.request, {"sentiment", "love", "phone"})


def test_voice_settings_are_saved_and_take_effect(make_window, qtbot, settings, registry):
    _qt()
    from PySide6.QtCore import QTimer

    from core.config import Settings

    window = make_window()
    voices = [r.id for r in registry.candidates("text-to-speech", None, limit=10)]
    assert len(voices) >= 2  # Piper and eSpeak NG

    def edit(dialog) -> None:
        assert [dialog.voice.itemData(i) for i in range(dialog.voice.count())] == ["", *voices]
        dialog.voice.setCurrentIndex(dialog.voice.findData(voices[-1]))
        dialog.hands_free.setChecked(True)
        dialog.speak_answers.setChecked(True)
        QTimer.singleShot(0, dialog.accept)

    window.open_settings(dialog_ready=edit)
    loaded = Settings.load(settings.data_path)
    assert (loaded.voice, loaded.hands_free, loaded.speak_answers,
            loaded.send_after_dictation) == (voices[-1], True, True, False)
    assert window.chat.composer.hands_free
    from core.assistant import Assistant

    assert Assistant(loaded).voice_record("text-to-speech").id == voices[-1]
