"""Saved llama.cpp prefix states on disk, so a new process skips the fixed prompt's evaluation.

The planner's instructions and catalogue (556 tokens) and each task's selection candidates
are the same in every run; in memory their evaluated state is kept after the first use
(``Controller.remember_prefix``), but every ``main.py ask`` is a new process, and evaluating them
again cost 1.4 s of a 9.5 s demo. A state is a few MB and loads in milliseconds.

A state is only valid for the exact model file, adapter, context size and llama.cpp build that
made it, so the file name is a hash of all of them and of the prefix tokens; the tokens are also
stored in the file and compared on load. The format is raw bytes and an int32 array: nothing is
unpickled. A damaged or foreign file is ignored (and removed), never trusted.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import struct
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

MAGIC = b"CNDSTATE1"
HEADER = struct.Struct("<9sII")  # magic, number of prefix tokens, length of the state bytes
KEEP_FILES = 24  # the planner's prefix, one per task's selection candidates, a few spare


def _file_identity(path: Path | None) -> str:
    if path is None:
        return "-"
    stat = path.stat()
    return f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


class PrefixStateStore:
    """A folder of saved prefix states for one model file (and adapter, context, build)."""

    def __init__(self, folder: Path, model_path: Path, lora_path: Path | None, n_ctx: int,
                 build: str, keep: int = KEEP_FILES) -> None:
        self.folder = Path(folder)
        self.keep = keep
        identity = "|".join((_file_identity(model_path), _file_identity(lora_path), str(n_ctx),
                             build))
        self._model_key = hashlib.sha256(identity.encode()).hexdigest()[:16]

    def _path(self, kind: str, key: bytes) -> Path:
        digest = hashlib.sha256(key).hexdigest()[:24]
        return self.folder / f"{self._model_key}-{kind}-{digest}.state"

    def load(self, adapter_on: bool, tokens: Sequence[int]) -> bytes | None:
        """The saved state after exactly ``tokens``, or None when there is none (or it is bad)."""
        array = np.asarray(tokens, dtype=np.int32)
        found = self._read(self._path(f"kv{int(adapter_on)}", array.tobytes()))
        if found is None or not np.array_equal(found[0], array):
            return None
        return found[1]

    def save(self, adapter_on: bool, tokens: Sequence[int], state: bytes) -> None:
        array = np.asarray(tokens, dtype=np.int32)
        self._write(self._path(f"kv{int(adapter_on)}", array.tobytes()), array, state)

    def load_tokens(self, name: str) -> list[int] | None:
        """A saved list of token ids (e.g. every vocabulary token starting with a quote)."""
        found = self._read(self._path("ids", name.encode()))
        return None if found is None else found[0].tolist()

    def save_tokens(self, name: str, tokens: Sequence[int]) -> None:
        self._write(self._path("ids", name.encode()), np.asarray(tokens, dtype=np.int32), b"")

    # -- the file format: header, int32 tokens, raw payload

    def _read(self, path: Path) -> tuple[np.ndarray, bytes] | None:
        try:
            data = path.read_bytes()
        except OSError:
            return None
        try:
            magic, count, size = HEADER.unpack_from(data)
            start = HEADER.size + 4 * count
            if magic != MAGIC or len(data) != start + size:
                raise ValueError("not a saved state")
            tokens = np.frombuffer(data, dtype=np.int32, count=count, offset=HEADER.size)
        except (struct.error, ValueError):
            with contextlib.suppress(OSError):  # a read-only folder keeps it; it stays ignored
                path.unlink(missing_ok=True)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: kept when older files are pruned
        return tokens, data[start:]

    def _write(self, path: Path, tokens: np.ndarray, payload: bytes) -> None:
        """Write atomically (a reader never sees half a file), then prune old files. A folder
        that cannot be written only costs the speed-up."""
        temporary = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".part")
            with os.fdopen(handle, "wb") as out:
                out.write(HEADER.pack(MAGIC, len(tokens), len(payload)))
                out.write(tokens.tobytes())
                out.write(payload)
            os.replace(temporary, path)
            temporary = None
            self._prune()
        except OSError:
            pass
        finally:
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)

    def _prune(self) -> None:
        files = sorted(self.folder.glob("*.state"), key=lambda p: p.stat().st_mtime)
        for old in files[: max(0, len(files) - self.keep)]:
            old.unlink(missing_ok=True)
