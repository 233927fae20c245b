"""Transformers models in: export to ONNX with optimum, int8 where it holds up, companions
copied, the registry row written; all in a staging folder moved into place last.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from core.hashing import hash_with_files
from core.importer.cards import (
    card_description,
    card_license,
    card_skill,
    card_tags,
    read_card,
    read_config,
)
from core.importer.drift import measure_drift, quantize_folder
from core.importer.errors import ImportModelError, Progress
from core.importer.manage import check_id, move_into_place, safe_name
from core.importer.sources import QUANTIZED_VARIANT, Source, check_weights
from core.importer.tasks import exporter_supports, infer_task, task_spec
from core.registry import ModelRecord, Registry
from core.runners.onnx_loading import require_import_extra
from core.tasks import OnnxExport

RUNTIME = "onnx-transformers"


COMPANION_PATTERNS = ("*.json", "*.txt", "*.model", "*.spm", "*.tiktoken", "*.py.txt",
                      "README.md", "LICENSE*", "NOTICE*")


COMPANION_SKIP = re.compile(r"(\.index\.json$|^onnx_config\.json$|^ort_config\.json$)")






def import_transformers(source: Source, registry: Registry, task: str | None, quantize: str,
                         model_id: str | None, trust_pickle: bool, report: Progress,
                         drift_tolerance: float, replace: bool) -> ModelRecord:
    require_import_extra("importing a Hugging Face transformers model")
    report("check", 0.0)
    weights = check_weights(source.path, trust_pickle)
    config = read_config(source.path)
    card, body = read_card(source.path)
    chosen = infer_task(config, card, task, source.hub_info.get("pipeline_tag"))
    spec = task_spec(chosen, config)
    model_id = model_id or source.hub_id or f"local/{source.path.name}"
    check_id(registry, model_id, replace)
    report("check", 1.0)

    dest_rel = Path("onnx") / safe_name(model_id)
    staging_root = Path(tempfile.mkdtemp(prefix=".importing-", dir=registry.cache_dir))
    try:
        fp32_dir = staging_root / "fp32"
        report("export", 0.0)
        started = time.perf_counter()
        if weights == "onnx":
            _copy_onnx_graphs(source.path, fp32_dir)
        else:
            _export(source.path, fp32_dir, spec, config)
        export_seconds = time.perf_counter() - started
        report("export", 1.0)
        report("copy files", 0.0)
        copy_companions(source.path, fp32_dir)
        report("copy files", 1.0)

        params: dict[str, Any] = {
            "onnx_class": spec.onnx_class, "pipeline_task": spec.pipeline_task,
            "export_task": spec.export_task, "model_type": config.get("model_type", ""),
            "quantized": False, "drift": None, "drift_tolerance": drift_tolerance,
            "export_seconds": round(export_seconds, 2),
        }
        final_dir = fp32_dir
        if quantize == "int8" and not spec.int8:
            params["int8_skipped"] = f"{chosen} outputs are per-pixel maps; kept fp32"
        elif quantize == "int8":
            int8_dir = staging_root / "int8"
            quantize_folder(fp32_dir, int8_dir, progress=lambda f: report("quantize", f))
            report("check int8", 0.0)
            drift = measure_drift(fp32_dir, int8_dir, spec)
            report("check int8", 1.0)
            params["drift"] = round(drift, 6)
            if drift <= drift_tolerance:
                params["quantized"] = True
                final_dir = int8_dir
            else:
                params["int8_refused"] = (f"int8 outputs drifted {drift:.4f} from fp32 on a "
                                          f"sanity input (tolerance {drift_tolerance}); "
                                          "kept fp32")
        params["files"] = sorted(p.name for p in final_dir.glob("*.onnx"))

        record = _transformers_record(model_id, chosen, spec, config, card, body, source,
                                      dest_rel, params)
        report("register", 0.0)
        record.sha256, record.size_bytes, files = hash_with_files(final_dir)
        record.params["file_sha256"] = files
        dest = registry.cache_dir / dest_rel
        move_into_place(final_dir, dest)
        try:
            registry.register(record, compute_hash=False)
        except Exception:
            shutil.rmtree(dest, ignore_errors=True)
            raise
        report("register", 1.0)
        return record
    finally:
        shutil.rmtree(staging_root, ignore_errors=True)


def _export(folder: Path, output: Path, spec: OnnxExport, config: dict[str, Any]) -> None:
    """Export a PyTorch folder to ONNX graphs with optimum (decoders unmerged, so each graph
    quantises on its own and ``ORTModelFor...`` loads them by their standard names)."""
    from optimum.exporters.onnx import main_export

    task = spec.export_task + ("-with-past" if spec.with_past else "")
    model_type = str(config.get("model_type", ""))
    if not exporter_supports(model_type, spec.export_task):
        raise ImportModelError(
            f"optimum has no ONNX export of {model_type or 'this architecture'} for "
            f"{spec.export_task}; see docs/importing.md for models per task that export")
    shapes: dict[str, int] = {}
    if config.get("model_type") == "whisper" and config.get("max_source_positions"):
        # The exporter's dummy audio is 30 s (3000 frames); Whisper checks the length against
        # its encoder's positions, so derive it (3000 for every released Whisper).
        shapes["nb_max_frames"] = 2 * int(config["max_source_positions"])
    try:
        with warnings.catch_warnings():
            # torch.onnx tracing warns about every Python-level constant; none is actionable.
            warnings.simplefilter("ignore")
            main_export(str(folder), output=str(output), task=task, device="cpu",
                        do_validation=False, no_post_process=True, local_files_only=True,
                        library_name="transformers", **shapes)
    except (KeyError, ValueError, NotImplementedError) as exc:
        raise ImportModelError(f"optimum cannot export this model for {spec.export_task}: "
                               f"{exc}") from None
    if not any(output.glob("*.onnx")):
        raise ImportModelError(f"the ONNX export of {folder} wrote no graph")


def _copy_onnx_graphs(folder: Path, output: Path) -> None:
    """Take the fp32 graphs of an already-exported folder (root or ``onnx/``)."""
    output.mkdir(parents=True, exist_ok=True)
    for sub in (folder, folder / "onnx"):
        if not sub.is_dir():
            continue
        unmerged = all((sub / n).is_file() for n in ("decoder_model.onnx",
                                                     "decoder_with_past_model.onnx"))
        for graph in sub.glob("*.onnx"):
            if QUANTIZED_VARIANT.search(graph.name):
                continue
            if unmerged and graph.name == "decoder_model_merged.onnx":
                continue  # the unmerged pair quantises; a merged graph's branches do not
            shutil.copy2(graph, output / graph.name)
            for data in sub.glob(graph.name + "_data*"):
                shutil.copy2(data, output / data.name)


def copy_companions(source: Path, dest: Path) -> list[str]:
    """Copy tokenizer, processor, config and card files (the exporter saves only some)."""
    copied = []
    for pattern in COMPANION_PATTERNS:
        for path in source.glob(pattern):
            if not path.is_file() or COMPANION_SKIP.search(path.name):
                continue
            shutil.copy2(path, dest / path.name)
            copied.append(path.name)
    return sorted(set(copied))


def _transformers_record(model_id: str, task: str, spec: OnnxExport, config: dict[str, Any],
                         card: dict[str, Any], body: str, source: Source, dest_rel: Path,
                         params: dict[str, Any]) -> ModelRecord:
    model_type = str(config.get("model_type", "") or "transformers")
    quantized = params["quantized"]
    description = card_description(body)
    if not description:
        description = (f"{model_type} model for {task.replace('-', ' ')}, imported from "
                       f"{source.label}.")
    labels = [str(v) for v in (config.get("id2label") or {}).values()]
    meaningful = [label for label in labels if not re.fullmatch(r"LABEL_\d+", label)]
    if meaningful and len(meaningful) <= 12 and task in ("text-classification",
                                                         "image-classification",
                                                         "audio-classification",
                                                         "token-classification"):
        description += f" Labels: {', '.join(meaningful)}."
    description += " ONNX " + ("int8." if quantized else "fp32.")
    tags = card_tags(card, model_type, task, quantized)
    tasks = [task, *[t for t in spec.extra_tasks if t != task]]
    return ModelRecord(skill=card_skill(model_id, task, config, card),
        id=model_id, task=task, tasks=tasks, runtime=RUNTIME, path=dest_rel.as_posix(),
        description=description, license=card_license(card), source=source.label, tags=tags,
        downloads=int(source.hub_info.get("downloads", 0)),
        likes=int(source.hub_info.get("likes", 0)),
        quantization=("int8 (onnxruntime dynamic, per-channel QInt8 MatMul and embedding "
                      "weights)"
                      if quantized else "none (fp32)"),
        params=params,
    )
