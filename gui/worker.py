"""Run one slow function off the UI thread and hear about it through Qt signals.

Hashing a model folder, building the model cache or importing a model takes seconds to minutes;
done on the UI thread it would freeze the window. A ``Job`` runs the function in a plain Python
thread and reports progress, its result or its error as signals, which Qt delivers on the UI
thread (queued connections), so slots may touch widgets freely.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

Work = Callable[[Callable[..., None]], Any]


class Job(QObject):
    """``work(report)`` in a background thread; ``report(*args)`` becomes ``progress(args)``."""

    progress = Signal(object)
    done = Signal(object)
    failed = Signal(str)

    def __init__(self, work: Work, name: str = "job", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._work = work
        self._name = name
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"gui-{self._name}", daemon=True)
        self._thread.start()

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the work ends (tests and shutdown only); True if it ended."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            result = self._work(self._report)
        except Exception as exc:  # shown to the user, never a traceback on the console
            _safe_emit(self.failed, f"{type(exc).__name__}: {exc}")
            return
        _safe_emit(self.done, result)

    def _report(self, *args: Any) -> None:
        _safe_emit(self.progress, args)


def _safe_emit(signal: Any, *args: Any) -> None:
    """Emit unless the receiving object was already deleted (the window closed mid-job)."""
    try:
        signal.emit(*args)
    except RuntimeError:
        pass


def progress_parts(args: tuple[Any, ...]) -> tuple[float | None, str]:
    """Read a progress report of any usual shape as (fraction or None, text).

    Accepts ``(fraction)``, ``(done, total)``, ``(done, total, text)``, ``(text)`` and
    ``(text, fraction)``, because the importer's callback shape is its own module's choice.
    """
    if len(args) == 1 and isinstance(args[0], dict):
        data = args[0]
        args = tuple(data[k] for k in ("fraction", "done", "total", "message", "stage")
                     if data.get(k) is not None)
    numbers = [a for a in args if isinstance(a, int | float) and not isinstance(a, bool)]
    texts = [str(a) for a in args if isinstance(a, str) and a]
    fraction: float | None = None
    if len(numbers) >= 2 and numbers[1]:
        fraction = float(numbers[0]) / float(numbers[1])
    elif len(numbers) == 1:
        value = float(numbers[0])
        fraction = value / 100.0 if value > 1.0 else value
    if fraction is not None:
        fraction = min(1.0, max(0.0, fraction))
    return fraction, " ".join(texts)
