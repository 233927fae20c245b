"""A data folder that is full or cannot be written, whichever library hit it, in the user's words.

Python raises ``OSError(ENOSPC)`` or ``EROFS``, SQLite says "database or disk is full" or
"attempt to write a readonly database", libsndfile and Pillow wrap the system's "No space left
on device" in their own errors. The history, the registry, a run's workspace and the executor
all tell the user the same thing, with the folder and the way out, so they ask here. And the
one way a new file or folder gets a name that is free (``unused_path``).
"""

from __future__ import annotations

import errno
from pathlib import Path

_FULL_WORDS = ("disk is full", "no space left")
_UNWRITABLE_ERRNOS = (errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR, errno.EEXIST)
_UNWRITABLE_WORDS = ("readonly", "read-only", "unable to open")


class StorageError(OSError):
    """A folder Conductor cannot write (full, read-only), with the way out in the message."""


def no_space_message(what: str, folder: Path, setting: str) -> str:
    return (f"no space left for {what} in {folder}: free some space on that disk, or set "
            f"{setting} to a folder on a disk with room")


def storage_error(exc: BaseException, what: str, folder: Path, setting: str
                  ) -> StorageError | None:
    """The user's words when ``exc`` is a full disk or a folder that cannot be written; None
    when it is something else (a damaged file, a bug), which its caller tells."""
    if is_disk_full(exc):
        return StorageError(no_space_message(what, folder, setting))
    if (getattr(exc, "errno", None) in _UNWRITABLE_ERRNOS
            or any(words in str(exc).lower() for words in _UNWRITABLE_WORDS)):
        reason = getattr(exc, "strerror", None) or str(exc)
        return StorageError(f"cannot write {what} in {folder} ({reason}); set {setting} to a "
                            "writable folder")
    return None


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or an error it wraps) is a full disk."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if getattr(current, "errno", None) == errno.ENOSPC:
            return True
        if any(words in str(current).lower() for words in _FULL_WORDS):
            return True
        current = current.__cause__ or current.__context__
    return False


def unused_path(path: Path) -> Path:
    """``path``, or the first of ``name-2.ext``, ``name-3.ext``... that does not exist yet, so
    nothing already there is overwritten (an attachment, an upload, a run's folder)."""
    candidate, counter = path, 1
    while candidate.exists():
        counter += 1
        candidate = path.with_name(f"{path.stem}-{counter}{path.suffix}")
    return candidate
