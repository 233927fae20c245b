"""The desktop app, driven like a person would (pytest-qt, offscreen), with the real models.

A request typed into the real window must stream its answer, draw its plan and show its audio; a
run must stop cleanly on Esc; the models page must search the registry; the first start must build
(here: register) a controller instead of failing; settings must survive a restart.
"""

from __future__ import annotations

import dataclasses
import wave
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, QUrl  # noqa: E402
from PySide6.QtGui import QColor, QDropEvent, QImage  # noqa: E402
from PySide6.QtWidgets import QApplication, QLabel  # noqa: E402

from helpers import ROOT, heard, run_cli, text_image  # noqa: E402

DEMO = ("Read this aloud, then transcribe the recording: offline assistants keep your data "
        "private")
RUN_TIMEOUT_MS = 300_000  # two shared CPU cores: a full run can take a minute or two


@pytest.fixture()
def make_window(qtbot, settings):
    """Open real windows on the test's settings; each is closed (and its worker joined) after."""
    from gui.main_window import MainWindow
    from gui.theme import apply_theme

    apply_theme(QApplication.instance())

    def make(window_settings=None, **kwargs):
        window = MainWindow(window_settings or settings,
                            settings_home=(window_settings or settings).data_path, **kwargs)
        qtbot.addWidget(window)
        window.show()
        return window

    return make


def _events(window) -> list[tuple[str, dict]]:
    seen: list[tuple[str, dict]] = []
    window.bridge.event.connect(lambda kind, data: seen.append((kind, data)))
    return seen


def test_request_streams_answer_draws_plan_and_plays_audio(make_window, qtbot, tmp_path):
    from gui.results import FileActions

    window = make_window()
    events = _events(window)
    editor = window.chat.composer.editor
    qtbot.keyClicks(editor, DEMO)
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS) as finished:
        qtbot.keyClick(editor, Qt.Key.Key_Return)
        assert window.running and window.chat.composer.send_button.text() == "Stop"
    assert finished.args == ["done"]
    result = window.last_result

    # the plan as a graph: two tasks, one arrow from text-to-speech to speech recognition
    graph = window.work.graph
    assert {i: n.node["task"] for i, n in graph.nodes.items()} == {
        0: "text-to-speech", 1: "automatic-speech-recognition"}
    assert [(e.source.task_id, e.target.task_id) for e in graph.edges] == [(0, 1)]
    assert all(n.status == "done" and n.model for n in graph.nodes.values())
    for choice in result["choices"]:
        card = window.work.cards[choice["task_id"]]
        assert choice["model"] in card.model.text() and card.status == "done"
        assert card.reason.text().startswith("Why:")
    assert [c.state for c in window.work.stages.chips.values()] == ["done"] * 4

    # the answer streamed token by token into the message, and ends as the final answer
    message = window.chat.assistant_messages()[-1]
    tokens = [d["text"] for k, d in events if k == "token"]
    assert message.tokens == len(tokens) > 3
    assert message.answer.text() == result["answer"]
    assert "".join(tokens).strip() == result["answer"]
    transcript = [c for c in message.cards if c.task["task"] == "automatic-speech-recognition"]
    assert heard(transcript[0].task["outputs"]["text"], {"offline", "data", "private"})

    # the audio: a play button and the duration read from the WAV header
    players = [p for card in message.cards for p in card.audio]
    assert len(players) == 1
    player = players[0]
    with wave.open(str(player.path)) as handle:
        seconds = handle.getnframes() / handle.getframerate()
    assert player.duration == pytest.approx(seconds)
    assert player.time_label.text().endswith(player.duration_text)
    assert player.play_button.isVisible()
    qtbot.mouseClick(player.play_button, Qt.MouseButton.LeftButton)  # no device here: no crash
    qtbot.wait(200)
    assert player.note.isVisible() or player._player is not None
    saved = message.cards[0].findChildren(FileActions)[0].save_as(str(tmp_path / "a.wav"))
    assert saved.read_bytes() == player.path.read_bytes()

    # history: the conversation is in the sidebar, searchable, and reopens with its results
    conversation = result["conversation_id"]
    assert window.sidebar.ids()[0] == conversation
    window.sidebar.search.setText("transcribe recording")
    qtbot.waitUntil(lambda: window.sidebar.ids() == [conversation], timeout=5000)
    window.sidebar.search.setText("zebra")
    qtbot.waitUntil(lambda: window.sidebar.ids() == [], timeout=5000)
    window.sidebar.search.clear()
    qtbot.keyClick(editor, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert window.conversation_id is None and window.chat.assistant_messages() == []
    window.open_conversation(conversation)
    reopened = window.chat.assistant_messages()
    assert len(reopened) == 1 and reopened[0].answer.text() == result["answer"]
    assert [len(c.audio) for c in reopened[0].cards] == [1, 0]
    assert set(window.work.graph.nodes) == {0, 1}


def test_escape_stops_a_run_and_the_window_stays_usable(make_window, qtbot):
    window = make_window()
    editor = window.chat.composer.editor
    qtbot.keyClicks(editor, DEMO)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.message is not None and window.message.workspace is not None,
                    timeout=RUN_TIMEOUT_MS)
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS) as finished:
        qtbot.keyClick(editor, Qt.Key.Key_Escape)
        assert window.chat.composer.send_button.text() == "Stopping…"
        assert window.work.stop_button.text() == "Stopping…"
    assert finished.args == ["cancelled"]
    assert window.message.status == "cancelled"
    assert window.message.answer.text() == "Stopped."
    assert window.work.summary.text().startswith("Stopped")
    assert {c.status for c in window.work.cards.values()} <= {"cancelled"}
    assert not window.running and window.chat.composer.send_button.text() == "Send"
    assert window.chat.composer.send_button.isEnabled()
    run = window.store.runs(window.conversation_id)[-1]
    assert run["status"] == "cancelled"
    qtbot.keyClicks(editor, "next request")
    assert editor.toPlainText() == "next request"


def test_models_page_lists_searches_and_verifies(make_window, qtbot, registry):
    from gui.models_page import importer_available

    window = make_window()
    qtbot.mouseClick(window.models_button, Qt.MouseButton.LeftButton)
    page = window.models_page
    assert window.stack.currentWidget() is page
    assert sorted(page.ids()) == sorted(r.id for r in registry.all())
    qtbot.keyClicks(page.search, "speech")
    expected = [r.id for r in registry.search("speech")]
    qtbot.waitUntil(lambda: page.ids() == expected, timeout=5000)
    assert "openai/whisper-tiny.en" in expected and "cjhutto/vaderSentiment" not in expected
    page.search.setText("vader")
    qtbot.waitUntil(lambda: page.ids() == ["cjhutto/vaderSentiment"], timeout=5000)
    page.table.selectRow(0)
    assert "cjhutto/vaderSentiment" in page.details.text()
    assert registry.get("cjhutto/vaderSentiment").license in page.details.text()
    assert page.verify() is not None
    qtbot.waitUntil(lambda: not page.is_busy(), timeout=60_000)
    assert page.checksums == {"cjhutto/vaderSentiment": "ok"}
    assert "match" in page.message.text() and page.verify_button.isEnabled()
    if not importer_available():
        assert page.import_model(ROOT / "README.md") is None
        assert "not available" in page.message.text()


def test_models_page_imports_a_model_with_progress(qtbot, tmp_path, registry):
    from gui.models_page import ModelsPage, importer_available

    if not importer_available():
        pytest.skip("core.importer is not in this checkout")
    page = ModelsPage(tmp_path / "cache")  # a private cache: the shared one stays untouched
    qtbot.addWidget(page)
    page.show()
    page.refresh()
    assert page.ids() == []
    assert page.import_model(Path("/nonexistent/model-folder")) is not None
    qtbot.waitUntil(lambda: not page.is_busy(), timeout=60_000)
    assert "Could not import model-folder" in page.message.text()
    assert page.import_button.isEnabled()

    gguf = registry.resolve(registry.controllers()[0])
    fractions: list[int] = []
    page.progress.valueChanged.connect(fractions.append)
    assert page.import_model(gguf) is not None
    qtbot.waitUntil(lambda: not page.is_busy(), timeout=120_000)
    assert page.ids() == [f"gguf/{gguf.stem}"]
    assert "Imported" in page.message.text() and not page.progress.isVisible()
    assert fractions and max(fractions) == 1000


def test_first_start_builds_the_cache_then_opens_the_chat(make_window, qtbot, tmp_path,
                                                         registry):
    from core.config import Settings
    from core.registry import Registry

    empty = Settings(data_dir=str(tmp_path / "fresh-data"), model_cache=str(tmp_path / "cache"))
    calls = []
    controller = registry.controllers()[0]
    controller = dataclasses.replace(controller, path=str(registry.resolve(controller)))

    def builder(cache: Path, progress) -> list[dict]:
        """Registers the real controller by absolute path instead of installing 1.5 GB."""
        progress(0, 1, controller.id)
        Registry(cache).register(controller, compute_hash=False)
        progress(1, 1, "")
        calls.append(cache)
        return [{"id": controller.id, "status": "installed"}]

    window = make_window(empty, builder=builder)
    page = window.first_start
    assert page is not None and window.stack.currentWidget() is page
    assert "no" in page.reason.text().lower() or "not been built" in page.reason.text()
    assert len(page.states()) >= 10 and set(page.states()) == {"missing"}
    assert not window.send("Hello")  # nothing runs without a controller
    qtbot.mouseClick(page.build_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.continue_button.isVisible(), timeout=30_000)
    assert calls == [empty.cache_path]
    assert page.states()[0] == "✓ installed"
    qtbot.mouseClick(page.continue_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.first_start is None, timeout=5000)
    assert window.stack.currentWidget() is window.chat_page and window.rail.isEnabled()


def test_settings_are_saved_between_runs(make_window, qtbot, settings):
    from core.config import Settings

    window = make_window()

    def edit(dialog) -> None:
        assert dialog.device.count() == 3
        dialog.device.setCurrentIndex(dialog.device.findData("cpu"))
        dialog.threads.setValue(1)
        dialog.memory.setValue(2048)
        QTimer.singleShot(0, dialog.accept)

    window.open_settings(dialog_ready=edit)
    loaded = Settings.load(settings.data_path)
    assert (loaded.threads, loaded.memory_budget_mb, loaded.device) == (1, 2048, "cpu")
    assert "1 threads" in window.config_text.text()
    assert window.settings.threads == 1


def test_composer_keys_and_attachments(make_window, qtbot, tmp_path):
    window = make_window()
    composer = window.chat.composer
    editor = composer.editor
    qtbot.keyClicks(editor, "first line")
    qtbot.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(editor, "second line")
    assert editor.toPlainText() == "first line\nsecond line" and not window.running
    qtbot.keyClick(editor, Qt.Key.Key_Escape)  # nothing running: nothing happens
    assert not window.running

    picture = text_image(tmp_path / "note.png", "hello")
    tool = tmp_path / "tool.exe"
    tool.write_bytes(b"MZ")
    assert composer.add_files([picture, tool]) == [tool]
    assert composer.files == [picture] and "tool.exe" in composer.note.text()

    mime = QMimeData()
    image = QImage(40, 30, QImage.Format.Format_RGB32)
    image.fill(QColor("orange"))
    mime.setImageData(image)
    editor.insertFromMimeData(mime)  # what Ctrl+V does with a copied picture
    assert len(composer.files) == 2 and composer.files[1].suffix == ".png"
    assert composer.files[1].parent == window.settings.data_path / "attachments"

    dropped = text_image(tmp_path / "dropped.png", "drop")
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(dropped))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, data,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.chat.dropEvent(event)
    assert composer.files[-1] == dropped


def test_result_widgets_draw_boxes_bars_and_open_images(qtbot, tmp_path):
    from PySide6.QtGui import QPixmap

    from gui.results import ClickableImage, LabelBars, ResultCard, TextResult

    picture = text_image(tmp_path / "photo.png", "boxes", size=(300, 200))
    task = {"id": 0, "task": "object-detection", "model": "opencv/x", "status": "done",
            "seconds": 0.2, "args": {"image": "photo.png"},
            "outputs": {"boxes": [{"label": "face", "score": 0.91, "box": [20, 30, 120, 150]}],
                        "labels": [{"label": "positive", "score": 0.8},
                                   {"label": "negative", "score": 0.2}],
                        "text": "1 face found"}}
    card = ResultCard(task, tmp_path)
    qtbot.addWidget(card)
    images = card.findChildren(ClickableImage)
    assert len(images) == 1
    drawn, original = images[0].full.toImage(), QPixmap(str(picture)).toImage()
    assert drawn.pixelColor(20, 90) != original.pixelColor(20, 90)  # the box's left edge
    viewer = images[0].open_full()
    qtbot.addWidget(viewer)
    assert viewer.isVisible()
    bars = card.findChildren(LabelBars)[0].bars
    assert [b.value() for b in bars] == [800, 200]
    assert card.findChildren(TextResult)[0].text == "1 face found"

    failed = ResultCard({"id": 1, "task": "image-to-text", "model": None, "status": "skipped",
                         "error": "depends on task 0, which failed", "args": {}, "outputs": {}},
                        tmp_path)
    qtbot.addWidget(failed)
    assert "which failed" in " ".join(w.text() for w in failed.findChildren(QLabel))


def test_screenshot_command_writes_a_png(tmp_path, cache_dir):
    shot = tmp_path / "window.png"
    done = run_cli(["gui", "--screenshot", str(shot)], tmp_path / "data", cache_dir,
                   tmp_path / "net.log", timeout=180)
    assert done.returncode == 0, done.stderr
    image = QImage(str(shot))
    assert not image.isNull() and image.width() >= 1000
