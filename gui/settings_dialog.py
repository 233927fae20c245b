"""Settings: the planner and writer models, threads, device, memory budget, data folder, voice.

Conductor's LLM has two roles: the planner plans each request and picks the models, the writer
writes the answer and does the text tasks no expert model covers. Each has its own combo;
``settings.controller`` (one model for both, e.g. from ``--controller``) is shown as both combos
set to it, and saving clears it so that the two choices take effect.

``Settings.load()`` reads ``settings.json`` from the default data folder, so that is where the
settings must be written for the next start to see them, even when the user moves the data folder
elsewhere (then the file is written in both places: the new folder keeps its own copy).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.config import Settings

AUTO_CONTROLLER = "Best installed (automatic)"
ROLE_TIPS = {
    "planner": "Plans each request as a graph of tasks and picks the model for each task. "
               "Small and fast is enough: it only chooses among valid options.",
    "writer": "Writes the answer from the results, and does the text tasks no expert model "
              "covers: summaries, translation, questions about a text, chat.",
}


def gpu_available() -> bool:
    """True when any installed runtime (llama.cpp, ONNX Runtime, CTranslate2) can use a GPU."""
    from core.devices import GPU_PROVIDERS, available

    found = available()
    return bool(found["llama.cpp_gpu_offload"] or found["ctranslate2_cuda_devices"]
                or set(GPU_PROVIDERS) & set(found["onnxruntime_providers"]))


def save_settings(settings: Settings, home: Path) -> Path:
    """Write the settings where the next ``Settings.load()`` looks, and into the data folder."""
    written = settings.save()
    home = Path(home)
    if written.parent.resolve() != home.resolve():
        home.mkdir(parents=True, exist_ok=True)
        (home / "settings.json").write_text(json.dumps(dataclasses.asdict(settings), indent=2))
    return home / "settings.json"


class SettingsDialog(QDialog):
    """A form over ``Settings``; ``chosen()`` is the edited copy after Save."""

    def __init__(self, settings: Settings, controllers: Sequence[Any], gpu: bool | None = None,
                 parent: QWidget | None = None, voices: Sequence[Any] = ()) -> None:
        """``controllers``: the registry's controller rows (or just their ids); ``voices``:
        the installed text-to-speech models, best-ranked first."""
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(520)
        self.original = settings
        layout = QVBoxLayout(self)
        form = QFormLayout()
        form.setVerticalSpacing(10)

        self.planner = self._role_combo("planner", controllers,
                                        settings.controller or settings.planner)
        self.writer = self._role_combo("writer", controllers,
                                       settings.controller or settings.writer)
        form.addRow("Planner model", self.planner)
        form.addRow("Writer model", self.writer)
        self.one_model_note = QLabel()
        self.one_model_note.setObjectName("caption")
        self.one_model_note.setWordWrap(True)
        if settings.controller:
            self.one_model_note.setText(
                f"One model does both jobs now: {settings.controller} (the controller "
                "setting, as --controller sets it). Saving replaces it with the two choices "
                "above.")
        else:
            self.one_model_note.hide()
        form.addRow("", self.one_model_note)

        self.threads = QSpinBox()
        self.threads.setRange(1, max(64, (os.cpu_count() or 2) * 2))
        self.threads.setValue(settings.threads)
        self.threads.setToolTip(f"This computer has {os.cpu_count()} logical cores")
        form.addRow("Threads", self.threads)

        self.device = QComboBox()
        self.device.addItem("Automatic (GPU where available)", "auto")
        self.device.addItem("CPU only", "cpu")
        self.device.addItem("GPU", "gpu")
        has_gpu = gpu_available() if gpu is None else gpu
        if not has_gpu:
            item = self.device.model().item(2)
            item.setEnabled(False)
            self.device.setItemText(2, "GPU (not available on this computer)")
        wanted = settings.device if settings.device != "gpu" or has_gpu else "auto"
        self.device.setCurrentIndex(max(0, self.device.findData(wanted)))
        form.addRow("Device", self.device)

        self.memory = QSpinBox()
        self.memory.setRange(256, 1 << 20)
        self.memory.setSingleStep(256)
        self.memory.setSuffix(" MB")
        self.memory.setValue(settings.memory_budget_mb)
        self.memory.setToolTip("Loaded models are unloaded (least recently used first) to stay "
                               "under this budget")
        form.addRow("Memory budget", self.memory)

        self.voice = QComboBox()
        self.voice.addItem("Best installed (automatic)", "")
        for voice in voices:
            model_id = getattr(voice, "id", voice)
            self.voice.addItem(model_id, model_id)
        if settings.voice and self.voice.findData(settings.voice) < 0:
            self.voice.addItem(f"{settings.voice}  (not in the model cache)", settings.voice)
        self.voice.setCurrentIndex(max(0, self.voice.findData(settings.voice)))
        self.voice.setToolTip("The voice that reads answers aloud (the speaker button)")
        form.addRow("Voice", self.voice)
        self.speak_answers = QCheckBox("Read every answer aloud")
        self.speak_answers.setChecked(settings.speak_answers)
        self.send_after_dictation = QCheckBox("Send a dictated request at once (no editing)")
        self.send_after_dictation.setChecked(settings.send_after_dictation)
        self.hands_free = QCheckBox("Hands-free: a pause ends what you say, it is sent, the "
                                    "answer is read, then Conductor listens again")
        self.hands_free.setChecked(settings.hands_free)
        for box in (self.speak_answers, self.send_after_dictation, self.hands_free):
            form.addRow("", box)
        folder_row = QHBoxLayout()
        self.data_dir = QLineEdit(settings.data_dir)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        folder_row.addWidget(self.data_dir, 1)
        folder_row.addWidget(browse)
        form.addRow("Data folder", folder_row)
        layout.addLayout(form)
        note = QLabel("History, run outputs and these settings are kept in the data folder. "
                      "Changes apply from the next request.")
        note.setObjectName("caption")
        note.setWordWrap(True)
        layout.addWidget(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    @staticmethod
    def _role_combo(role: str, controllers: Sequence[Any], current: str) -> QComboBox:
        """Automatic, then every controller (the ones tagged for this role first)."""
        combo = QComboBox()
        combo.setToolTip(ROLE_TIPS[role])
        combo.addItem(AUTO_CONTROLLER, "")
        rows = [(getattr(c, "id", c), list(getattr(c, "tags", []) or [])) for c in controllers]
        rows.sort(key=lambda row: role not in row[1])
        for model_id, tags in rows:
            roles = [r for r in ("planner", "writer") if r in tags]
            combo.addItem(f"{model_id}  ({', '.join(roles)})" if roles else model_id, model_id)
        if current and combo.findData(current) < 0:  # kept, not silently made automatic
            combo.addItem(f"{current}  (not in the model cache)", current)
        combo.setCurrentIndex(max(0, combo.findData(current)))
        return combo

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Data folder", self.data_dir.text())
        if folder:
            self.data_dir.setText(folder)

    def chosen(self) -> Settings:
        """The settings as edited (unchanged fields are kept from the original)."""
        return dataclasses.replace(
            self.original, controller="", planner=self.planner.currentData() or "",
            writer=self.writer.currentData() or "",
            threads=self.threads.value(), device=self.device.currentData(),
            memory_budget_mb=self.memory.value(), voice=self.voice.currentData() or "",
            speak_answers=self.speak_answers.isChecked(),
            send_after_dictation=self.send_after_dictation.isChecked(),
            hands_free=self.hands_free.isChecked(),
            data_dir=self.data_dir.text().strip() or self.original.data_dir)
