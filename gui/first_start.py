"""First start: when the model cache has no planner or writer, say what is missing and build it.

Without a controller GGUF nothing can plan or answer, and the alternative is a traceback on the
first request. This page lists the default model set with what is present, missing, or impossible
(its package is not installed), and runs ``Services.build_cache`` in the background with a
progress bar; when it ends the window switches to the chat.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.services import CacheBuilder, Services
from gui.theme import status_color
from gui.worker import Job


class FirstStartPage(QWidget):
    """Explains what is missing, builds the cache with progress, then emits ``ready``."""

    ready = Signal()

    def __init__(self, services: Services, reason: str, builder: CacheBuilder | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.builder = builder
        self.job: Job | None = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(40, 30, 40, 30)
        card = QFrame()
        card.setObjectName("card")
        card.setMinimumWidth(720)
        card.setMaximumWidth(860)
        layout = QVBoxLayout(card)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.setSpacing(12)
        title = QLabel("Conductor needs its models")
        title.setObjectName("pageTitle")
        self.reason = QLabel(reason)
        self.reason.setWordWrap(True)
        explain = QLabel("Conductor runs fully offline: it installs its default models from the "
                         "packages already on this computer into the model cache (about 1.5 GB "
                         "on disk). Nothing is downloaded. This takes a few minutes, once.")
        explain.setObjectName("muted")
        explain.setWordWrap(True)
        self.list = QTreeWidget()
        self.list.setHeaderLabels(["Model", "Task", "State"])
        self.list.setRootIsDecorated(False)
        self.list.setMinimumHeight(300)
        self.progress = QProgressBar()
        self.progress.hide()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setObjectName("muted")
        buttons = QHBoxLayout()
        self.build_button = QPushButton("Build the model cache")
        self.build_button.setObjectName("primary")
        self.build_button.clicked.connect(self.build)
        self.continue_button = QPushButton("Open Conductor")
        self.continue_button.setObjectName("primary")
        self.continue_button.clicked.connect(self.ready)
        self.continue_button.hide()
        buttons.addStretch(1)
        buttons.addWidget(self.build_button)
        buttons.addWidget(self.continue_button)
        for widget in (title, self.reason, explain, self.list, self.progress, self.status):
            layout.addWidget(widget)
        layout.addLayout(buttons)
        outer.addWidget(card, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(1)
        self.show_states()

    def show_states(self) -> None:
        self.list.clear()
        words = {"installed": ("✓ installed", "done"), "missing": ("missing", "waiting"),
                 "unavailable": ("package not installed: cannot be built", "failed")}
        for model_id, task, state in self.services.default_model_states():
            text, color = words[state]
            item = QTreeWidgetItem([model_id, task, text])
            item.setForeground(2, status_color(color))
            self.list.addTopLevelItem(item)
        for column in range(3):
            self.list.resizeColumnToContents(column)

    def states(self) -> list[str]:
        """The state column, top to bottom (tests read it)."""
        return [self.list.topLevelItem(i).text(2) for i in range(self.list.topLevelItemCount())]

    def build(self) -> Job:
        """Run the cache build in the background; progress goes to the bar."""
        services, builder = self.services, self.builder

        def work(report: Any) -> list[dict]:
            return services.build_cache(progress=report, builder=builder)

        self.build_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.status.setText("Starting…")
        self.job = Job(work, "build-cache", self)
        self.job.progress.connect(self._on_progress)
        self.job.done.connect(self._built)
        self.job.failed.connect(self._build_failed)
        self.job.start()
        return self.job

    def _on_progress(self, args: tuple) -> None:
        done, total, model_id = (list(args) + [0, 0, ""])[:3]
        if total:
            self.progress.setRange(0, int(total))
            self.progress.setValue(int(done))
        self.status.setText(f"Installing {model_id} ({int(done) + 1} of {total})…" if model_id
                            else "Finishing…")

    def _built(self, report: list[dict]) -> None:
        self.progress.hide()
        self.show_states()
        self.services.reopen_registry()  # the build wrote through the job thread's connection
        problem = self.services.missing_controller()
        if problem:
            self.status.setText(f"The build finished but Conductor still cannot start: {problem}")
            self.status.setStyleSheet(f"color: {status_color('failed').name()};")
            self.build_button.setEnabled(True)
            self.build_button.setText("Try again")
            return
        installed = sum(1 for r in report if r.get("status") == "installed")
        self.status.setText(f"Done: {installed} models installed. Everything stays on this "
                            "computer.")
        self.status.setStyleSheet("")
        self.build_button.hide()
        self.continue_button.show()

    def _build_failed(self, message: str) -> None:
        self.progress.hide()
        self.status.setText(f"The build stopped: {message}")
        self.status.setStyleSheet(f"color: {status_color('failed').name()};")
        self.build_button.setEnabled(True)
        self.build_button.setText("Try again")
        self.show_states()
