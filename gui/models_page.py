"""The Models page: the registry as a searchable table, details, checksums, and import.

Search is the registry's full-text index (id, description, tags). Checksum checks and imports
hash whole model folders, so they run as background jobs with a progress bar. Everything goes
through ``core.services.Services``, which opens a connection per thread.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from core.services import Services
from gui.theme import status_color
from gui.worker import Job, progress_parts

COLUMNS = ("Model", "Task", "Runtime", "Size", "License", "Quantization", "Checksum")
ID_ROLE = Qt.ItemDataRole.UserRole


def human_size(size: int) -> str:
    value = float(size or 0)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def ranking_rows(record: Any) -> list[tuple[str, str]]:
    """What ranks the model among others of its task, named as what it is: Conductor's
    declared preference (the default set) and the hub's numbers (only when a hub gave them)."""
    rows = []
    if record.preference:
        rows.append(("Preference", f"{record.preference:,} (declared by Conductor; ranks it "
                                   "among models of the same task)"))
    if record.downloads or record.likes:
        rows.append(("Hub", f"{record.downloads:,} downloads, {record.likes:,} likes (read "
                            "at import)"))
    return rows or [("Ranking", "no preference declared and no hub numbers")]


class ModelsPage(QWidget):
    """Table, search, details pane and the verify/import actions."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.records: list[Any] = []
        self.checksums: dict[str, str] = {}
        self.job: Job | None = None
        self._job_title = ""
        self._working = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 16)
        layout.setSpacing(10)

        header = QHBoxLayout()
        title = QLabel("Models")
        title.setObjectName("pageTitle")
        self.count = QLabel()
        self.count.setObjectName("muted")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search id, description, tags (e.g. speech, ocr, int8)")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(320)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(150)
        self._debounce.timeout.connect(self.refresh)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self.verify_button = QPushButton("Verify checksums")
        self.verify_button.setToolTip("Hash the selected model's files (all models if none is "
                                      "selected) and compare with the registry")
        self.verify_button.clicked.connect(self.verify)
        self.import_button = QPushButton("Import…")
        self.import_button.setObjectName("primary")
        menu = QMenu(self.import_button)
        menu.addAction("Import a folder…", self.import_folder)
        menu.addAction("Import a file…", self.import_file)
        self.import_button.setMenu(menu)
        header.addWidget(title)
        header.addWidget(self.count)
        header.addStretch(1)
        header.addWidget(self.search)
        header.addWidget(self.verify_button)
        header.addWidget(self.import_button)
        layout.addLayout(header)

        self.banner = QFrame()
        self.banner.setObjectName("banner")
        banner_layout = QHBoxLayout(self.banner)
        banner_layout.setContentsMargins(12, 8, 12, 8)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(260)
        self.progress.hide()
        banner_layout.addWidget(self.message, 1)
        banner_layout.addWidget(self.progress)
        self.banner.hide()
        layout.addWidget(self.banner)

        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(COLUMNS)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().currentRowChanged.connect(lambda _c, _p: self.show_details())
        self.details = QLabel("Select a model to see its details.")
        self.details.setWordWrap(True)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setMinimumWidth(280)
        details_box = QFrame()
        details_box.setObjectName("card")
        box_layout = QVBoxLayout(details_box)
        box_layout.addWidget(self.details)
        box_layout.addStretch(1)
        splitter = QSplitter()
        splitter.addWidget(self.table)
        splitter.addWidget(details_box)
        splitter.setSizes([880, 340])
        layout.addWidget(splitter, 1)

    # -- data

    def set_services(self, services: Services) -> None:
        """Show another cache (the settings changed): checksums seen so far are forgotten."""
        if services.settings.cache_path != self.services.settings.cache_path:
            self.checksums = {}
        self.services = services
        self.refresh()

    def refresh(self) -> None:
        """Reload rows: full-text search when the box has text, else every model."""
        query = self.search.text().strip()
        self.records = self.services.models(query)
        selected = self.selected_id()
        self.model.removeRows(0, self.model.rowCount())
        for record in self.records:
            self.model.appendRow(self._row(record))
        self.table.resizeColumnsToContents()
        for column in range(len(COLUMNS) - 1):
            self.table.setColumnWidth(column, self.table.columnWidth(column) + 16)
        total = len(self.services.models()) if query else len(self.records)
        self.count.setText(f"{len(self.records)} of {total}" if query else f"{total} installed")
        for row, record in enumerate(self.records):
            if record.id == selected:
                self.table.selectRow(row)
        if not self.records:
            self.details.setText("No model matches." if query else "The registry is empty.")

    def _row(self, record: Any) -> list[QStandardItem]:
        values = (record.id, ", ".join(record.all_tasks()), record.runtime,
                  human_size(record.size_bytes), record.license, record.quantization or "—",
                  self.checksums.get(record.id, ""))
        items = [QStandardItem(str(v)) for v in values]
        items[0].setData(record.id, ID_ROLE)
        items[0].setToolTip(record.description)
        items[3].setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        status = self.checksums.get(record.id)
        if status:
            items[6].setForeground(status_color("done" if status == "ok" else "failed"))
        return items

    def ids(self) -> list[str]:
        return [self.model.item(r, 0).data(ID_ROLE) for r in range(self.model.rowCount())]

    def selected_id(self) -> str | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        return self.model.item(index.row(), 0).data(ID_ROLE)

    def show_details(self) -> None:
        model_id = self.selected_id()
        record = next((r for r in self.records if r.id == model_id), None)
        if record is None:
            return
        path = self.services.model_path(record)
        rows = [
            ("Tasks", ", ".join(record.all_tasks())), ("Runtime", record.runtime),
            ("Size", human_size(record.size_bytes)), ("License", record.license),
            ("Quantization", record.quantization or "—"), ("Tags", ", ".join(record.tags)),
            *ranking_rows(record), ("Source", record.source), ("Path", str(path)),
            ("Installed", record.installed_at),
            ("sha256", record.sha256), ("Checksum", self.checksums.get(record.id, "not checked")),
        ]
        table = "".join(f"<tr><td style='padding-right:10px'><b>{html.escape(k)}</b></td>"
                        f"<td>{html.escape(str(v))}</td></tr>" for k, v in rows)
        self.details.setText(f"<h3>{html.escape(record.id)}</h3>"
                             f"<p>{html.escape(record.description)}</p><table>{table}</table>")

    # -- background work

    def is_busy(self) -> bool:
        """A job started and its end not yet handled (its thread may still be winding down)."""
        return self._working

    def _start(self, job: Job, text: str) -> None:
        self.job = job
        self._job_title = text
        self._working = True
        self.verify_button.setEnabled(False)
        self.import_button.setEnabled(False)
        self.say(text)
        self.progress.setRange(0, 0)
        self.progress.show()
        job.progress.connect(self._on_progress)
        job.start()

    def _end(self) -> None:
        self._working = False
        self.verify_button.setEnabled(True)
        self.import_button.setEnabled(True)
        self.progress.hide()

    def _on_progress(self, args: tuple) -> None:
        fraction, text = progress_parts(args)
        if fraction is not None:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(fraction * 1000))
        if text:
            percent = f" {fraction:.0%}" if fraction is not None else ""
            self.message.setText(f"{self._job_title} {text}{percent}")

    def say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {status_color('failed').name()};" if error else "")
        self.banner.show()

    def verify(self) -> Job | None:
        """Check the selected model's files (or every model's) against their sha256."""
        if self.is_busy():
            return None
        model_id = self.selected_id()
        services = self.services
        ids = [model_id] if model_id else [r.id for r in services.models()]

        def work(report: Any) -> list[dict[str, Any]]:
            return services.verify(ids, progress=report)

        job = Job(work, "verify", self)
        job.done.connect(self._verified)
        job.failed.connect(lambda message: (self._end(), self.say(message, error=True)))
        self._start(job, f"Checking {len(ids)} model{'s' if len(ids) != 1 else ''}…")
        return job

    def _verified(self, rows: list[dict[str, str]]) -> None:
        self._end()
        for row in rows:
            self.checksums[row["id"]] = row["status"]
        bad = [r for r in rows if r["status"] != "ok"]
        if bad:
            self.say("Problems: " + ", ".join(f"{r['id']} ({r['status']})" for r in bad),
                     error=True)
        else:
            self.say(f"All {len(rows)} checked model{'s' if len(rows) != 1 else ''} match "
                     "their recorded checksums.")
        self.refresh()
        self.show_details()

    def import_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import a model folder", str(Path.home()))
        if folder:
            self.import_model(Path(folder))

    def import_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Import a model file", str(Path.home()),
                                              "Models (*.gguf *.onnx *.bin *.zip);;All files (*)")
        if name:
            self.import_model(Path(name))

    def import_model(self, source: Path) -> Job | None:
        """Register a model from a folder or file via ``core.importer`` (in the background)."""
        if self.is_busy():
            return None
        services = self.services

        def work(report: Any) -> Any:
            return services.import_model(source, progress=report)

        job = Job(work, "import", self)
        job.done.connect(lambda result: self._imported(source, result))
        job.failed.connect(lambda message: (self._end(), self.say(
            f"Could not import {source.name}: {message}", error=True)))
        self._start(job, f"Importing {source.name}…")
        return job

    def _imported(self, source: Path, result: Any) -> None:
        self._end()
        records = result if isinstance(result, list) else [result]
        names = [getattr(r, "id", None) or (r.get("id") if isinstance(r, dict) else None)
                 for r in records]
        names = [n for n in names if n]
        self.say(f"Imported {', '.join(names) if names else source.name}.")
        self.services.reopen_registry()  # the import wrote through the job's connection
        self.refresh()

