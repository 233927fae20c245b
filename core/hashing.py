"""sha256 digests of model files: the one place weights are hashed and copies are verified.

A model is a file or a folder. A folder's digest covers its sorted relative file names with
their contents, so a renamed or changed file changes it; the per-file digests beside it let
``models verify`` name which file went missing or changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20


def model_files(path: Path) -> list[Path]:
    """The files of a model: the file itself, or a folder's files in sorted order."""
    return [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())


def hash_with_files(path: Path) -> tuple[str, int, dict[str, str]]:
    """A model's digest and total size, and each file's own sha256, in one read."""
    whole = hashlib.sha256()
    total = 0
    per_file: dict[str, str] = {}
    for file in model_files(path):
        name = file.name if path.is_file() else file.relative_to(path).as_posix()
        if path.is_dir():
            whole.update(name.encode() + b"\0")
        own = hashlib.sha256()
        with open(file, "rb") as handle:
            while chunk := handle.read(CHUNK):
                whole.update(chunk)
                own.update(chunk)
        per_file[name] = own.hexdigest()
        total += file.stat().st_size
    return whole.hexdigest(), total, per_file


def hash_path(path: Path) -> tuple[str, int]:
    """A model's digest and total size."""
    digest, total, _ = hash_with_files(path)
    return digest, total


def sha256_file(path: Path) -> str:
    return copy_hashed([path], None)


def copy_hashed(sources: Iterable[Path | BinaryIO], dest: Path | None,
                on_bytes: Callable[[int], None] | None = None) -> str:
    """The sha256 of the sources' bytes in order, written on to ``dest`` when given (assembling
    chunks, unpacking a pack), so a copy is verified in the same read that makes it."""
    digest = hashlib.sha256()
    out = open(dest, "wb") if dest is not None else None  # noqa: SIM115 - closed below
    try:
        for source in sources:
            handle = open(source, "rb") if isinstance(source, Path) else source  # noqa: SIM115
            try:
                while chunk := handle.read(CHUNK):
                    digest.update(chunk)
                    if out is not None:
                        out.write(chunk)
                    if on_bytes is not None:
                        on_bytes(len(chunk))
            finally:
                if isinstance(source, Path):
                    handle.close()
    finally:
        if out is not None:
            out.close()
    return digest.hexdigest()
