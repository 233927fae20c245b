"""The voice screenshots in docs/: the window while recording, and an answer's speaker button.

Run under a real X server: ``xvfb-run -a .venv/bin/python scripts/voice_screenshots.py`` (Debian's
``xvfb``). The recording is Piper reading a request, fed through the microphone's path
(``Composer.start_talking(microphone=False)`` and ``VoiceInput.feed``), stopped half way so the
level meter and the elapsed time show; then the whole request is said, sent and answered, and
the window is captured with the answer's "Read aloud" button.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from core.voice import wav_chunks  # noqa: E402

REQUEST = "What is the sentiment of this review: the hotel staff were wonderful and kind."


def wait(app, until, timeout_s: float = 300.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not until():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.02)


def main() -> int:
    from PySide6.QtWidgets import QApplication

    from core.config import Settings
    from gui.main_window import MainWindow
    from gui.theme import apply_theme

    app = QApplication(sys.argv)
    apply_theme(app)
    data = Path(tempfile.mkdtemp(prefix="conductor-shots-"))
    settings = Settings(data_dir=str(data))
    window = MainWindow(settings, settings_home=data)
    window.resize(1440, 900)
    window.show()
    wait(app, lambda: window.status_text.text().startswith("Ready"))
    from core import Assistant

    speech = Assistant(settings).speak(REQUEST, data).path  # this thread's own Assistant
    composer = window.chat.composer

    composer.start_talking(microphone=False)
    chunks = list(wav_chunks(speech))
    for index, chunk in enumerate(chunks):  # about half way, on a loud syllable
        composer.voice.feed(chunk)
        app.processEvents()
        if index > len(chunks) // 2 and composer.voice.recording.level() > 0.6:
            break
    window.grab().save(str(ROOT / "docs" / "voice-recording.png"))
    composer.cancel_talking()

    composer.dictate_file(speech)
    wait(app, lambda: bool(composer.editor.toPlainText()))
    composer.submit()
    wait(app, lambda: not window.running and window.last_result is not None)
    message = window.chat.assistant_messages()[-1]
    wait(app, lambda: message.speak_button.isVisible())
    app.processEvents()
    window.grab().save(str(ROOT / "docs" / "voice-speaker.png"))
    window.close()
    print("saved docs/voice-recording.png and docs/voice-speaker.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
