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

from helpers import heard, missing, run_cli, text_image  # noqa: E402

try:  # any import error (no PySide6, or a system library such as libEGL) is a broken install
    import PySide6.QtWidgets  # noqa: F401
except ImportError as error:
    missing(f"the Qt GUI's libraries (PySide6: {error})", module_level=True)

from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, QUrl  # noqa: E402
from PySide6.QtGui import QColor, QDropEvent, QImage  # noqa: E402
from PySide6.QtWidgets import QApplication, QLabel  # noqa: E402

from core.events import Event, EventKind, RunResult  # noqa: E402

DEMO = ("Read this aloud, then transcribe the recording: offline assistants keep your data "
        "private")
RUN_TIMEOUT_MS = 300_000  # two shared CPU cores: a full run can take a minute or two


def _audio_outputs() -> list:
    try:
        from PySide6.QtMultimedia import QMediaDevices
    except ImportError:
        return []
    return list(QMediaDevices.audioOutputs())


def _events(window) -> list[tuple[str, dict]]:
    seen: list[tuple[str, dict]] = []
    window.bridge.event.connect(lambda event: seen.append((event.kind, event.data)))
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
    for choice in result.choices:
        card = window.work.cards[choice["task_id"]]
        assert choice["model"] in card.model.text() and card.status == "done"
        assert card.reason.text().startswith("Why:")
    assert [c.state for c in window.work.stages.chips.values()] == ["done"] * 4

    # the answer streamed token by token into the message, and ends as the final answer
    message = window.chat.assistant_messages()[-1]
    tokens = [d["text"] for k, d in events if k == "token"]
    assert message.tokens == len(tokens) >= 2  # the summary (in pieces), then the results
    assert message.answer.text() == result.answer
    assert "".join(tokens).strip() == result.answer
    assert "\nResults:\n" in result.answer  # several lines, all of them laid out
    assert message.answer.height() >= message.answer.heightForWidth(message.answer.width())
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
    qtbot.mouseClick(player.play_button, Qt.MouseButton.LeftButton)
    if _audio_outputs():  # a machine with a sound card: it plays
        from PySide6.QtMultimedia import QMediaPlayer

        qtbot.waitUntil(lambda: player._player.playbackState()
                        == QMediaPlayer.PlaybackState.PlayingState, timeout=5000)
    else:  # no device (CI, servers): a note says so and points to the file, nothing crashes
        assert player._player is None and player.note.isVisible()
        assert "use Save as or Show in folder" in player.note.text()
    saved = message.cards[0].findChildren(FileActions)[0].save_as(str(tmp_path / "a.wav"))
    assert saved.read_bytes() == player.path.read_bytes()

    # history: the conversation is in the sidebar, searchable, and reopens with its results
    conversation = result.conversation_id
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
    assert len(reopened) == 1 and reopened[0].answer.text() == result.answer
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
    run = window.services.runs(window.conversation_id)[-1]
    assert run["status"] == "cancelled"
    qtbot.keyClicks(editor, "next request")
    assert editor.toPlainText() == "next request"


def test_models_page_lists_searches_and_verifies(make_window, qtbot, registry):
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


def test_models_page_imports_a_model_with_progress(qtbot, tmp_path, registry):
    from core.config import Settings
    from core.services import Services
    from gui.models_page import ModelsPage

    private = Settings(data_dir=str(tmp_path / "data"), model_cache=str(tmp_path / "cache"))
    page = ModelsPage(Services(private))  # a private cache: the shared one stays untouched
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


def _combo_data(combo) -> list[str]:
    return [combo.itemData(i) for i in range(combo.count())]


def test_settings_are_saved_between_runs(make_window, qtbot, settings, registry):
    from core.config import Settings
    from gui.settings_dialog import AUTO_CONTROLLER

    window = make_window()
    controllers = [r.id for r in registry.controllers()]
    by_role = {role: next(r.id for r in registry.controllers() if role in r.tags)
               for role in ("planner", "writer")}

    def edit(dialog) -> None:
        assert dialog.device.count() == 3
        for role in ("planner", "writer"):  # both roles: automatic, then every controller
            combo = getattr(dialog, role)
            assert combo.itemText(0) == AUTO_CONTROLLER and combo.currentData() == ""
            assert sorted(_combo_data(combo)) == sorted(["", *controllers])
            assert combo.toolTip() and combo.itemData(1) == by_role[role]  # its own kind first
        assert "answer" in dialog.writer.toolTip() and "plan" in dialog.planner.toolTip().lower()
        assert not dialog.one_model_note.isVisible()
        dialog.planner.setCurrentIndex(dialog.planner.findData(by_role["planner"]))
        dialog.writer.setCurrentIndex(dialog.writer.findData(by_role["writer"]))
        dialog.device.setCurrentIndex(dialog.device.findData("cpu"))
        dialog.threads.setValue(1)
        dialog.memory.setValue(2048)
        QTimer.singleShot(0, dialog.accept)

    window.open_settings(dialog_ready=edit)
    loaded = Settings.load(settings.data_path)
    assert (loaded.threads, loaded.memory_budget_mb, loaded.device) == (1, 2048, "cpu")
    assert (loaded.planner, loaded.writer, loaded.controller) == (
        by_role["planner"], by_role["writer"], "")
    assert "1 threads" in window.config_text.text()
    assert window.settings.threads == 1 and window.settings.writer == by_role["writer"]
    assert by_role["writer"].split("/")[-1] in window.config_text.text()


def test_settings_dialog_shows_one_model_for_both_roles_and_saving_clears_it(qtbot, settings,
                                                                           registry):
    from gui.settings_dialog import SettingsDialog

    writer = next(r.id for r in registry.controllers() if "writer" in r.tags)
    one = dataclasses.replace(settings, controller=writer, planner="", writer="")
    dialog = SettingsDialog(one, registry.controllers(), gpu=False)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.planner.currentData() == dialog.writer.currentData() == writer
    assert dialog.one_model_note.isVisible() and writer in dialog.one_model_note.text()
    chosen = dialog.chosen()
    assert (chosen.controller, chosen.planner, chosen.writer) == ("", writer, writer)

    # a chosen model that is not in the cache stays chosen (and says so), never silently "auto"
    gone = dataclasses.replace(settings, planner="someone/removed-model")
    dialog = SettingsDialog(gone, registry.controllers(), gpu=False)
    qtbot.addWidget(dialog)
    assert dialog.planner.currentData() == "someone/removed-model"
    assert "not in the model cache" in dialog.planner.currentText()
    assert dialog.writer.currentData() == "" and dialog.chosen().planner == "someone/removed-model"


def test_warm_up_loads_both_roles_while_the_window_shows(make_window, qtbot, registry):
    window = make_window()
    # said at once, from the UI thread; the loading itself happens on the bridge's thread
    assert window.status_text.text() == "Loading the planner and the writer…"
    assert window.busy.isVisible()
    qtbot.keyClicks(window.chat.composer.editor, "typing works while the models load")
    assert window.chat.composer.editor.toPlainText().startswith("typing works")
    qtbot.waitUntil(lambda: window.status_text.text().startswith("Ready ("), timeout=180_000)
    expected = {role: next(r.id for r in registry.controllers() if role in r.tags)
                for role in ("planner", "writer")}
    assert window.roles == expected
    assert set(window.warm_seconds) == {"planner", "writer"}
    assert all(seconds >= 0 for seconds in window.warm_seconds.values())
    assert "planner" in window.status_text.text() and " s" in window.status_text.text()
    assert not window.busy.isVisible()
    assert expected["planner"].split("/")[-1] in window.config_text.text()
    assert expected["writer"] in window.config_text.toolTip()


def test_loading_text_names_what_is_still_loading():
    from gui.bridge import loading_text

    ids = {"planner": "google/gemma-3-270m", "writer": "Qwen/Qwen2.5-Coder-1.5B-Instruct"}
    assert loading_text(ids, set()) == "Loading the planner and the writer…"
    assert loading_text(ids, {"planner"}) == ("Loading the writer "
                                              "(Qwen/Qwen2.5-Coder-1.5B-Instruct)…")
    assert "the planner and the writer" in loading_text({"planner": "a/b", "writer": "a/b"},
                                                        set())


class _Record:
    def __init__(self, model_id: str) -> None:
        self.id = model_id


class _NoModels:
    """An Assistant whose cache has no controller: warming up fails as the real one does."""

    def role_record(self, role: str):
        from core.assistant import NoControllerError

        raise NoControllerError("no controller model is installed; run `make setup` first")


class _SlowSummary:
    """An Assistant whose one task reports progress from a worker thread, as the executor does."""

    def __init__(self) -> None:
        import threading

        self.release = threading.Event()

    def role_record(self, role: str):
        return _Record("test/planner" if role == "planner" else "test/writer")

    def warm_up(self, on_event=None):
        return {"planner": 0.1, "writer": 0.2}

    def ask(self, request, files, conversation_id, on_event, cancel, recording=None):
        import threading

        plan = [{"id": 0, "task": "summarization", "dep": [-1], "args": {"text": request}}]
        on_event(Event(EventKind.STAGE, {"stage": "planning", "status": "start"}))
        on_event(Event(EventKind.PLAN, {"plan": plan, "seconds": 0.1}))
        on_event(Event(EventKind.STAGE, {"stage": "execution", "status": "start"}))
        on_event(Event(EventKind.TASK_START,
                       {"id": 0, "task": "summarization", "model": "test/writer"}))

        def work() -> None:  # the executor emits task_progress from its task threads
            for done in (1, 2):
                on_event(Event(EventKind.TASK_PROGRESS, {"id": 0, "done": done, "total": 5,
                                                         "what": f"summarizing part {done} of 5"}))

        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
        self.release.wait(60)
        task = {"id": 0, "task": "summarization", "model": "test/writer", "status": "done",
                "seconds": 1.0, "args": plan[0]["args"], "outputs": {"text": "short"}}
        on_event(Event(EventKind.TASK_END, task))
        return RunResult("r1", "c1", request, [], "", answer="short", tasks=[task],
                         timings={"planning": 0.1, "execution": 1.0, "total": 1.2},
                         models=["test/writer"])


def test_warm_up_failure_shows_in_the_status_bar(make_window, qtbot):
    window = make_window(assistant_factory=lambda settings: _NoModels())
    qtbot.waitUntil(lambda: "no controller" in window.status_text.text(), timeout=10_000)
    assert window.status_text.text().startswith("Could not load the models")
    assert not window.busy.isVisible() and window.isVisible()
    qtbot.keyClicks(window.chat.composer.editor, "still usable")
    assert window.chat.composer.editor.toPlainText() == "still usable"


def test_task_progress_shows_on_the_task_card(make_window, qtbot):
    fake = _SlowSummary()
    window = make_window(assistant_factory=lambda settings: fake)
    qtbot.waitUntil(lambda: window.status_text.text().startswith("Ready ("), timeout=10_000)
    assert window.roles == {"planner": "test/planner", "writer": "test/writer"}
    assert window.send("Summarize this long text")
    qtbot.waitUntil(lambda: 0 in window.work.cards
                    and window.work.cards[0].progress.text() == "summarizing part 2 of 5"
                    and window.work.cards[0].progress.isVisible(), timeout=10_000)
    card = window.work.cards[0]
    assert card.status == "running"
    assert window.work.graph.nodes[0].detail == "summarizing part 2 of 5"
    assert "summarizing part 2 of 5" in window.work.summary.text()
    assert window.message.status_label.text().endswith("summarizing part 2 of 5")
    with qtbot.waitSignal(window.run_finished, timeout=10_000):
        fake.release.set()
    assert card.status == "done" and not card.progress.isVisible()
    assert window.work.graph.nodes[0].detail == ""


def test_multi_line_answer_shows_whole(qtbot, tmp_path):
    from gui.chat import ChatView
    from gui.theme import apply_theme

    apply_theme(QApplication.instance())  # the bubble's padding and font, as in the app
    view = ChatView(tmp_path / "attachments")
    qtbot.addWidget(view)
    view.resize(700, 700)
    view.show()
    view.add_user("Who is mentioned in: Marie Curie moved to Paris in 1891", [])
    message = view.add_assistant()
    # results lines of every length, so that at any width some of them wrap, and wrap
    # differently at a slightly larger width (which is how the last lines used to be cut off)
    names = ["Marie Curie (PERSON)", "Paris (GPE)", "1891 (DATE)", "Pierre Curie (PERSON)",
             "Sorbonne (ORG)", "Warsaw (GPE)", "radium (PRODUCT)", "1903 (DATE)"]
    lines = ["Marie Curie and Paris are mentioned.", "", "Results:"]
    lines += [f"{i}. token-classification with spacy/en_core_web_sm (0.{i} s): "
              + ", ".join((names * 3)[: i + 1]) for i in range(1, 13)]
    lines.append("Files: none")
    answer = "\n".join(lines)
    message.finish(RunResult("r1", "c1", "list the names", [], "", answer=answer,
                             timings={"total": 1.2}, models=["spacy/en_core_web_sm"]))
    label = message.answer
    for width in (700, 520, 900):
        view.resize(width, 700)
        qtbot.wait(100)  # let every layout settle
        assert label.text() == answer and all(line in label.text() for line in lines)
        needed = label.heightForWidth(label.width())
        assert label.height() >= needed, (width, label.height(), needed)
        assert needed >= label.fontMetrics().lineSpacing() * len(lines)
        assert message.bubble.height() >= label.geometry().bottom()


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


def test_screenshot_after_asking_runs_the_request_first(tmp_path, cache_dir):
    """``gui --ask REQUEST --screenshot PNG``: the request runs in the window (it is in the
    history, done) before the picture is taken."""
    from core.store import Store

    shot, data = tmp_path / "answered.png", tmp_path / "data"
    done = run_cli(["gui", "--ask", "Hello!", "--screenshot", str(shot)], data, cache_dir,
                   tmp_path / "net.log", timeout=300)
    assert done.returncode == 0, done.stderr
    assert not QImage(str(shot)).isNull()
    [run] = Store(data / "history.db").runs()
    assert (run["request"], run["status"]) == ("Hello!", "done") and run["answer"]
