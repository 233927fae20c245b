"""Registry housekeeping around imports: ids, staging, per-file checks, removal.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from core.hashing import hash_with_files
from core.importer.errors import ImportModelError
from core.registry import ModelNotFoundError, ModelRecord, Registry


def check_id(registry: Registry, model_id: str, replace: bool) -> None:
    parts = model_id.split("/")
    if (not re.fullmatch(r"[\w.-]+(/[\w.-]+)*", model_id)
            or any(part.startswith(".") for part in parts)):
        raise ImportModelError(f"model id {model_id!r} may hold only letters, digits, '.', '-', "
                               "'_' and '/' (no part may start with '.')")
    if replace:
        return
    try:
        registry.get(model_id)
    except ModelNotFoundError:
        return
    raise ImportModelError(f"{model_id} is already registered; remove it first "
                           f"(`main.py models remove {model_id}`), pass --replace, or give "
                           "another --id")


def safe_name(model_id: str) -> str:
    return re.sub(r"[^\w.-]+", "--", model_id).strip("-") or "model"


def move_into_place(staged: Path, dest: Path) -> None:
    """Replace ``dest`` with ``staged`` (same filesystem: a rename, never a half-copied folder)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
        os.replace(dest, old)
        os.replace(staged, dest)
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)
    else:
        os.replace(staged, dest)


def file_changes(registry: Registry, record: ModelRecord) -> dict[str, list[str]]:
    """Which of a model's files are missing, changed or unexpected, by its per-file digests.

    Empty lists when all match; ``{}`` for rows registered without per-file digests (the
    default set), whose ``models verify`` status alone says ok, missing or changed.
    """
    expected = record.params.get("file_sha256")
    if not isinstance(expected, dict):
        return {}
    target = registry.resolve(record)
    if not target.exists():
        return {"missing": sorted(expected), "changed": [], "extra": []}
    _, _, actual = hash_with_files(target)
    return {
        "missing": sorted(name for name in expected if name not in actual),
        "changed": sorted(name for name in expected
                          if name in actual and actual[name] != expected[name]),
        "extra": sorted(name for name in actual if name not in expected),
    }


def remove_model(registry: Registry, model_id: str, delete_files: bool = True) -> ModelRecord:
    """Unregister a model and delete its files from the cache.

    Files are deleted only when they lie inside the model cache and no other registry row
    points at the same path, so removing a row never breaks another model or touches a
    user's own folder.
    """
    record = registry.get(model_id)
    target = registry.resolve(record)
    registry.remove(model_id)
    if not delete_files or not target.exists():
        return record
    cache = registry.cache_dir.resolve()
    resolved = target.resolve()
    if resolved == cache or not resolved.is_relative_to(cache):
        return record
    if any(registry.resolve(other).resolve() == resolved for other in registry.all()):
        return record
    if resolved.is_dir():
        shutil.rmtree(resolved)
    else:
        resolved.unlink()
    return record
