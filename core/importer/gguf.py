"""GGUF controllers in: the file copied, its metadata read (architecture, context, chat
template, licence), registered for llama.cpp.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.hashing import hash_with_files
from core.importer.errors import ImportModelError, Progress
from core.importer.manage import check_id, move_into_place, safe_name
from core.importer.sources import Source
from core.registry import CONTROLLER_RUNTIME, ModelRecord, Registry

CONTROLLER_TASKS = ["summarization", "translation", "question-answering", "conversational",
                    "text2text-generation"]


def read_gguf_metadata(path: Path) -> dict[str, Any]:
    """The scalar metadata of a GGUF (name, architecture, licence, context length, ...)."""
    with open(path, "rb") as handle:
        if handle.read(4) != b"GGUF":
            raise ImportModelError(f"{path} is not a GGUF file (bad magic bytes)")
    try:
        from gguf import GGUFReader
        from gguf.constants import GGUFValueType
    except ImportError as exc:  # pragma: no cover - gguf is a dependency
        raise ImportModelError(f"the gguf package is needed to read {path} ({exc})") from None
    try:
        reader = GGUFReader(str(path))
    except Exception as exc:
        raise ImportModelError(f"{path} is not a readable GGUF ({exc})") from None
    meta: dict[str, Any] = {}
    for key, fld in reader.fields.items():
        if not fld.types or fld.types[0] == GGUFValueType.ARRAY:
            continue
        try:
            value = fld.contents()
        except Exception:  # an exotic field type: skip it, the rest still reads
            continue
        if isinstance(value, (bytes, bytearray)):
            value = value.decode("utf-8", errors="replace")
        meta[key] = value
    meta["_tensor_count"] = len(reader.tensors)
    return meta


def import_gguf(source: Source, registry: Registry, model_id: str | None, report: Progress,
                 replace: bool) -> ModelRecord:
    """Copy a GGUF into ``llm/`` and register it as a controller (runtime llama.cpp)."""
    report("check", 0.0)
    meta = read_gguf_metadata(source.path)
    arch = str(meta.get("general.architecture", "") or "unknown")
    name = str(meta.get("general.name", "") or source.path.stem)
    model_id = model_id or f"gguf/{safe_name(source.path.stem)}"
    check_id(registry, model_id, replace)
    report("check", 1.0)
    dest_rel = Path("llm") / source.path.name
    dest = registry.cache_dir / dest_rel
    staging = Path(tempfile.mkdtemp(prefix=".importing-", dir=registry.cache_dir))
    try:
        staged = staging / source.path.name
        _copy_with_progress(source.path, staged, lambda f: report("copy", f))
        quant = _gguf_quantization(source.path.name, meta)
        context = int(meta.get(f"{arch}.context_length", 0) or 0)
        size_label = meta.get("general.size_label") or ""
        description = str(meta.get("general.description", "") or "").strip()
        if not description:
            description = (f"{name} ({arch}{', ' + str(size_label) if size_label else ''}), "
                           f"GGUF {quant}: a controller LLM for planning and answering; does "
                           "short text tasks when no expert exists.")
        template = "gguf-metadata" if meta.get("tokenizer.chat_template") else (
            "gemma" if arch.startswith("gemma") else "chatml")
        record = ModelRecord(
            id=model_id, task="text-generation", tasks=list(CONTROLLER_TASKS),
            runtime=CONTROLLER_RUNTIME, path=dest_rel.as_posix(), description=description,
            license=str(meta.get("general.license", "") or "unknown"), source=source.label,
            tags=[t for t in ("controller", "gguf", arch, "llama.cpp", str(size_label)) if t],
            quantization=quant,
            params={"chat_template": template, "n_ctx": min(context or 4096, 4096),
                    "architecture": arch, "context_length": context},
        )
        report("register", 0.0)
        record.sha256, record.size_bytes, files = hash_with_files(staged)
        record.params["file_sha256"] = files
        move_into_place(staged, dest)
        try:
            registry.register(record, compute_hash=False)
        except Exception:
            dest.unlink(missing_ok=True)
            raise
        report("register", 1.0)
        return record
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _gguf_quantization(filename: str, meta: dict[str, Any]) -> str:
    match = re.search(r"(I?Q\d+_[A-Z0-9_]+|Q\d_\d|F16|BF16|F32)", filename.upper())
    if match:
        return match.group(1).rstrip("_")
    file_type = meta.get("general.file_type")
    return f"file_type {file_type}" if file_type is not None else "unknown"


def _copy_with_progress(source: Path, dest: Path, progress: Callable[[float], None]) -> None:
    total = max(source.stat().st_size, 1)
    done = 0
    progress(0.0)
    with open(source, "rb") as reader, open(dest, "wb") as writer:
        for chunk in iter(lambda: reader.read(8 << 20), b""):
            writer.write(chunk)
            done += len(chunk)
            progress(done / total)
    shutil.copystat(source, dest)
