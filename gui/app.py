"""Start the desktop app: ``run_app(argv)`` returns the process exit code.

``--screenshot PATH`` opens the window, runs ``--ask REQUEST`` if given, saves a PNG of the
finished window and exits: a way to see (and to check in CI, offscreen) how the app looks after a
real run, and the source of the screenshot in the README.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="main.py gui", description="Conductor's desktop app")
    parser.add_argument("--screenshot", type=Path, metavar="PATH",
                        help="save a PNG of the window (after --ask finishes) and exit")
    parser.add_argument("--ask", metavar="REQUEST", help="send this request on start")
    parser.add_argument("--timeout", type=float, default=900.0,
                        help="with --screenshot: give up waiting after this many seconds")
    return parser.parse_args(argv or [])


def run_app(argv: list[str] | None = None) -> int:
    """Open the window; with ``--screenshot``, capture it and return (0 if all went well)."""
    options = parse_args(argv)
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from core.config import Settings, default_data_dir
    from core.migrations import DatabaseFileError
    from gui.main_window import MainWindow
    from gui.theme import apply_theme

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "conductor"])
    app.setApplicationName("Conductor")
    app.setApplicationDisplayName("Conductor")
    app.setDesktopFileName("conductor")
    apply_theme(app)
    settings = Settings.load()
    try:
        window = MainWindow(settings, settings_home=default_data_dir())
    except DatabaseFileError as exc:  # a damaged history: say which file and what to do
        print(f"error: {exc}", file=sys.stderr)
        if options.screenshot is None:
            from PySide6.QtWidgets import QMessageBox

            QMessageBox.critical(None, "Conductor cannot start", str(exc))
        return 1
    window.show()
    outcome = {"code": 0}

    if options.screenshot is not None:
        target = options.screenshot

        def capture(code: int) -> None:
            app.processEvents()
            target.parent.mkdir(parents=True, exist_ok=True)
            if not window.grab().save(str(target), "PNG"):
                print(f"error: could not write {target}", file=sys.stderr)
                code = 1
            else:
                print(f"screenshot: {target}", file=sys.stderr)
            outcome["code"] = code
            app.exit(code)

        if options.ask and window.first_start is None:
            window.run_finished.connect(
                lambda status: QTimer.singleShot(600, lambda: capture(0 if status == "done"
                                                                      else 1)))
            QTimer.singleShot(0, lambda: window.send(options.ask))
        else:
            QTimer.singleShot(1200, lambda: capture(1 if options.ask else 0))
        QTimer.singleShot(int(options.timeout * 1000), lambda: capture(1))
    elif options.ask:
        QTimer.singleShot(0, lambda: window.send(options.ask))

    code = app.exec()
    window.close()
    return outcome["code"] if options.screenshot is not None else code
