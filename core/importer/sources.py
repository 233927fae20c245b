"""Where a model comes from: a local folder or GGUF, or a hub id fetched when online; and the
pickle policy (pickle-only weights run code when loaded, so they are refused unless trusted).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.importer.errors import ImportModelError, OfflineError, PickleRefusedError, Progress

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")


SAFE_WEIGHT_SUFFIXES = (".safetensors", ".onnx")
# ONNX graph files: quantised variants beside a folder's graphs, and the graph names optimum
# writes (an already exported folder is imported as it is).
QUANTIZED_VARIANT = re.compile(r"_(quantized|int8|uint8|q4|q4f16|fp16|bnb4|quint8)\.onnx$")
STANDARD_GRAPHS = ("model.onnx", "encoder_model.onnx", "decoder_model.onnx",
                   "decoder_with_past_model.onnx", "decoder_model_merged.onnx")


@dataclass
class Source:
    """Where a model comes from once resolved: a local folder or file, and how to name it."""

    path: Path
    kind: str  # "folder" | "gguf"
    label: str  # what the registry's ``source`` column records
    hub_id: str | None = None
    hub_info: dict[str, Any] = field(default_factory=dict)


def resolve_source(source: str | Path, trust_pickle: bool = False,
                   progress: Progress | None = None) -> Source:
    """A local folder, a GGUF file, or a hub id (downloaded when online) to a local path."""
    text = str(source).strip()
    if not text:
        raise ImportModelError("give a model folder, a .gguf file or a hub id")
    path = Path(text).expanduser()
    if path.is_dir():
        label = str(path.resolve())
        return Source(path.resolve(), "folder", label, hub_id=_hub_id_from_cache_path(path))
    if path.is_file():
        if path.suffix.lower() == ".gguf":
            return Source(path.resolve(), "gguf", str(path.resolve()))
        raise ImportModelError(f"{path} is a file but not a .gguf; give the model's folder "
                               "(config.json, weights and tokenizer files) instead")
    if text.startswith((".", "/", "~")) or text.lower().endswith(".gguf") or os.sep in text[:1]:
        raise ImportModelError(f"{text} does not exist")
    if not re.fullmatch(r"[\w.-]+(/[\w.-]+)?(@[\w./-]+)?", text):
        raise ImportModelError(f"{text!r} is neither an existing folder or .gguf file nor a "
                               "Hugging Face hub id (org/name, or org/name@revision)")
    return _fetch_from_hub(text, trust_pickle, progress or (lambda s, f: None))


def hub_offline() -> bool:
    """Whether hub access is switched off (``HF_HUB_OFFLINE``, which ``main.py`` defaults to 1)."""
    value = os.environ.get("HF_HUB_OFFLINE", "").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    try:
        from huggingface_hub import constants

        return bool(constants.HF_HUB_OFFLINE)
    except ImportError:  # pragma: no cover - huggingface_hub is a dependency
        return True


def _fetch_from_hub(text: str, trust_pickle: bool, progress: Progress) -> Source:
    """Download the files an import needs (never pickles unless trusted) into the HF cache.

    ``org/name@revision`` picks a branch, tag or commit (e.g. ``facebook/detr-resnet-50@no_timm``,
    the DETR variant whose backbone needs no timm).
    """
    repo_id, _, revision = text.partition("@")
    if hub_offline():
        raise OfflineError(
            f"{repo_id!r} is not a local folder or .gguf file, and hub downloads are off "
            "(HF_HUB_OFFLINE=1; Conductor works offline by default). On a machine with "
            f"internet run: HF_HUB_OFFLINE=0 python main.py models import {repo_id} ... "
            "then move the model with `models pack` / `models unpack`, or download the folder "
            "elsewhere and import it from disk.")
    from huggingface_hub import HfApi, snapshot_download

    patterns = ["*.json", "*.safetensors", "*.txt", "*.model", "*.spm", "*.tiktoken",
                "README.md", "LICENSE*"]
    if trust_pickle:
        patterns += ["*.bin", "*.pt", "*.pth"]
    progress("download", 0.0)
    info: dict[str, Any] = {}
    try:
        api = HfApi()
        model_info = api.model_info(repo_id, revision=revision or None)
        info = {"downloads": int(getattr(model_info, "downloads", 0) or 0),
                "likes": int(getattr(model_info, "likes", 0) or 0),
                "pipeline_tag": getattr(model_info, "pipeline_tag", None)}
        names = [s.rfilename for s in (model_info.siblings or [])]
        if names and not any(n.endswith(".safetensors") for n in names):
            if any(n.endswith(".gguf") for n in names):
                raise ImportModelError(
                    f"{repo_id} holds GGUF files: download the one you want (e.g. with "
                    "`huggingface-cli download`) and import the .gguf file")
            if any(n.endswith(".onnx") for n in names):
                # fp32 graphs only, at the root or in onnx/ (not every quantised variant)
                patterns += [f"{folder}{graph}{suffix}" for folder in ("", "onnx/")
                             for graph in STANDARD_GRAPHS for suffix in ("", "_data")]
            elif not trust_pickle and any(n.endswith(PICKLE_SUFFIXES) for n in names):
                raise PickleRefusedError(_pickle_message(repo_id, names))
        folder = snapshot_download(repo_id, revision=revision or None,
                                   allow_patterns=patterns)
    except ImportModelError:
        raise
    except Exception as exc:  # network, auth, missing repo: one clear line
        raise ImportModelError(f"could not fetch {repo_id} from the Hugging Face hub: "
                               f"{type(exc).__name__}: {exc}") from None
    progress("download", 1.0)
    return Source(Path(folder), "folder", f"hf:{text}", hub_id=repo_id, hub_info=info)


def _hub_id_from_cache_path(path: Path) -> str | None:
    """``.../models--org--name/snapshots/<hash>`` (a hub cache folder) -> ``org/name``."""
    for part in reversed(path.resolve().parts):
        if part.startswith("models--"):
            return part[len("models--"):].replace("--", "/")
    return None


def _pickle_message(where: str, names: list[str]) -> str:
    found = sorted({Path(n).name for n in names if n.endswith(PICKLE_SUFFIXES)})[:3]
    return (f"{where} has only pickle weights ({', '.join(found)}); loading pickle can run "
            "arbitrary code. Use a safetensors or ONNX version of the model, or pass "
            "--trust-pickle if you trust its source.")


def check_weights(folder: Path, trust_pickle: bool) -> str:
    """Which weights a folder holds: ``"safetensors"``, ``"onnx"`` or ``"pickle"`` (if trusted).

    Safetensors and ONNX hold only tensors; ``.bin``/``.pt`` files are Python pickles, which
    execute code on load, so they are refused unless the user says they trust the source.
    """
    files = [p for p in folder.rglob("*") if p.is_file()]
    names = [p.name for p in files]
    if any(n.endswith(".safetensors") for n in names):
        return "safetensors"  # export fresh: graphs made for exactly the task asked
    if any(_is_plain_onnx(p, folder) for p in files):
        return "onnx"
    if any(n.endswith(PICKLE_SUFFIXES) for n in names):
        if not trust_pickle:
            raise PickleRefusedError(_pickle_message(str(folder), names))
        return "pickle"
    if any(n.endswith((".h5", ".msgpack")) for n in names):
        raise ImportModelError(f"{folder} has only TensorFlow or Flax weights; the exporter "
                               "needs PyTorch weights in safetensors (or ONNX graphs)")
    raise ImportModelError(f"{folder} holds no model weights (.safetensors or .onnx)")


def _is_plain_onnx(path: Path, root: Path) -> bool:
    """An fp32 ONNX graph at the root or in ``onnx/`` (transformers.js layout), not a variant."""
    if path.suffix != ".onnx" or QUANTIZED_VARIANT.search(path.name):
        return False
    return path.parent in (root, root / "onnx")
