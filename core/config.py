"""Settings every part reads: where data lives, how many threads, how much memory to use.

Values come from environment variables (``CONDUCTOR_*``) over a JSON settings file in the data
folder over defaults, so tests and scripts can point a whole run elsewhere with one variable.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from core.devices import DEVICES, check_device
from core.registry import default_cache_dir


def default_data_dir() -> Path:
    env = os.environ.get("CONDUCTOR_DATA")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "conductor"


@dataclass
class Settings:
    """User settings; saved as ``settings.json`` in the data folder."""

    data_dir: str = ""
    model_cache: str = ""
    # The two LLM roles, each a registry id of a controller GGUF (empty: the installed default).
    # The planner plans and selects models; the writer answers and does the text tasks that no
    # expert covers. ``controller`` overrides both: one model for everything.
    controller: str = ""
    planner: str = ""
    writer: str = ""
    threads: int = 0  # 0 = all cores
    device: str = "auto"  # "auto" (a GPU where a runtime can use one), "cpu" or "gpu"
    memory_budget_mb: int = 3072
    task_timeout_s: float = 300.0
    max_parallel_tasks: int = 2
    # Voice: the text-to-speech model that reads answers (empty: the best installed voice),
    # whether every answer is read aloud, whether dictation sends at once, and the hands-free
    # loop (listen again after an answer is spoken; a pause ends the turn).
    voice: str = ""
    speak_answers: bool = False
    send_after_dictation: bool = False
    hands_free: bool = False

    def __post_init__(self) -> None:
        self.data_dir = self.data_dir or str(default_data_dir())
        self.model_cache = self.model_cache or str(default_cache_dir())
        self.threads = self.threads or (os.cpu_count() or 2)

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @property
    def cache_path(self) -> Path:
        return Path(self.model_cache)

    @property
    def memory_budget_bytes(self) -> int:
        return self.memory_budget_mb << 20

    @classmethod
    def load(cls, data_dir: Path | None = None) -> Settings:
        """Defaults, then the saved file, then ``CONDUCTOR_*`` environment variables."""
        base = cls(data_dir=str(data_dir) if data_dir else "")
        values = asdict(base)
        saved = base.data_path / "settings.json"
        if saved.is_file():
            try:
                values.update(json.loads(saved.read_text()))
            except (OSError, ValueError):
                pass  # a damaged settings file must not stop the app; defaults apply
            if str(values.get("device", "")).strip().lower() not in DEVICES:
                values["device"] = base.device  # likewise an unknown saved device
        for item in fields(cls):
            env = os.environ.get(f"CONDUCTOR_{item.name.upper()}")
            if env:
                convert = {"int": int, "float": float, "bool": _flag}.get(str(item.type), str)
                try:
                    values[item.name] = convert(env)
                except ValueError:
                    raise ValueError(f"CONDUCTOR_{item.name.upper()}={env!r} is not a "
                                     f"{item.type}") from None
        for key in ("threads", "memory_budget_mb", "max_parallel_tasks"):
            values[key] = int(values[key])
        values["task_timeout_s"] = float(values["task_timeout_s"])
        for key in ("speak_answers", "send_after_dictation", "hands_free"):
            values[key] = values[key] if isinstance(values[key], bool) else _flag(values[key])
        values["device"] = check_device(str(values["device"]))
        if data_dir:
            values["data_dir"] = str(data_dir)
        return cls(**{k: v for k, v in values.items() if k in {f.name for f in fields(cls)}})

    def save(self) -> Path:
        self.data_path.mkdir(parents=True, exist_ok=True)
        path = self.data_path / "settings.json"
        path.write_text(json.dumps(asdict(self), indent=2))
        return path


def _flag(value: object) -> bool:
    """A yes/no setting from the environment or the file: 1/true/yes/on, 0/false/no/off."""
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"{value!r} is not yes or no")
