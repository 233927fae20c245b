"""Import any Hugging Face model into the registry: exported to ONNX, int8 where it holds up.

HuggingGPT runs experts in PyTorch from a hub cache of hundreds of gigabytes; Conductor keeps each
expert as an ONNX graph (int8 where the outputs survive it), run by ONNX Runtime with a
transformers ``pipeline`` for pre- and post-processing. This module is the one way in:

- a local model folder (``config.json`` + safetensors weights + tokenizer/processor files, or a
  folder that already holds ONNX graphs),
- a GGUF file (a controller LLM; copied, its metadata read, registered for llama.cpp),
- a hub id, fetched with ``huggingface_hub`` when the machine is online (offline: a clear error).

For transformers models: check the weights (pickle-only ``.bin``/``.pt`` is refused unless
trusted: unpickling runs arbitrary code), pick the task (``--task``, else the model card's
``pipeline_tag``, else the architecture), export with ``optimum.exporters.onnx``, quantise each
graph with ONNX Runtime's dynamic int8 and measure the drift against fp32 on a sanity input
(past a tolerance the fp32 graphs are kept, and why is recorded), copy the tokenizer and
processor files, read description, licence and tags from the model card, then hash and register.
Everything is built in a staging folder inside the cache and moved into place last, so a failed
import leaves neither files nor a registry row behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.hashing import hash_with_files
from core.registry import CONTROLLER_RUNTIME, ModelNotFoundError, ModelRecord, Registry

Progress = Callable[[str, float], None]
"""``progress(step, fraction)``: ``fraction`` runs from 0.0 to 1.0 within each named step."""

RUNTIME = "onnx-transformers"
DEFAULT_DRIFT_TOLERANCE = 0.05
"""Largest relative drift of int8 outputs from fp32 that is accepted (max |a - b| / max |a|).

Per-channel int8 MatMul weights typically move outputs by 0.5-3 % of their range; beyond 5 % a
classifier's ranking or a generator's next token starts to change on ordinary inputs.
"""

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
SAFE_WEIGHT_SUFFIXES = (".safetensors", ".onnx")
# Files that describe a model to the tokenizer, the processors and ``generate``; copied as they are.
COMPANION_PATTERNS = ("*.json", "*.txt", "*.model", "*.spm", "*.tiktoken", "*.py.txt",
                      "README.md", "LICENSE*", "NOTICE*")
COMPANION_SKIP = re.compile(r"(\.index\.json$|^onnx_config\.json$|^ort_config\.json$)")
QUANTIZED_VARIANT = re.compile(r"_(quantized|int8|uint8|q4|q4f16|fp16|bnb4|quint8)\.onnx$")
STANDARD_GRAPHS = ("model.onnx", "encoder_model.onnx", "decoder_model.onnx",
                   "decoder_with_past_model.onnx", "decoder_model_merged.onnx")
SANITY_TEXT = "The quick brown fox jumps over the lazy dog in Paris."
SANITY_CONTEXT = "Paris is the capital of France. The fox lives in Paris."


class ImportModelError(ValueError):
    """A model that cannot be imported as given (source, weights, task or architecture)."""


class PickleRefusedError(ImportModelError):
    """Weights only in pickle formats, which run code when loaded, and no ``--trust-pickle``."""


class OfflineError(ImportModelError):
    """A hub id was given while the machine (or the environment) is offline."""


@dataclass(frozen=True)
class TaskSpec:
    """How one Conductor task is exported and run.

    ``export_task`` is optimum's exporter task, ``onnx_class`` the ``optimum.onnxruntime`` class
    that loads the result, ``pipeline_task`` the transformers pipeline that wraps it. ``int8``
    says whether the task tolerates dynamic quantisation at all (dense per-pixel outputs do not
    gain much, as convolutions stay fp32, and show its errors as visible artefacts).
    """

    export_task: str
    onnx_class: str
    pipeline_task: str
    with_past: bool = False
    int8: bool = True
    extra_tasks: tuple[str, ...] = ()


_SEQ2SEQ = "ORTModelForSeq2SeqLM"
TASK_SPECS: dict[str, TaskSpec] = {
    "text-classification": TaskSpec("text-classification", "ORTModelForSequenceClassification",
                                    "text-classification"),
    "zero-shot-classification": TaskSpec("text-classification",
                                         "ORTModelForSequenceClassification",
                                         "zero-shot-classification",
                                         extra_tasks=("text-classification",)),
    "token-classification": TaskSpec("token-classification", "ORTModelForTokenClassification",
                                     "token-classification"),
    "question-answering": TaskSpec("question-answering", "ORTModelForQuestionAnswering",
                                   "question-answering"),
    "fill-mask": TaskSpec("fill-mask", "ORTModelForMaskedLM", "fill-mask"),
    "summarization": TaskSpec("text2text-generation", _SEQ2SEQ, "summarization", with_past=True),
    "translation": TaskSpec("text2text-generation", _SEQ2SEQ, "translation", with_past=True),
    "text2text-generation": TaskSpec("text2text-generation", _SEQ2SEQ, "text2text-generation",
                                     with_past=True),
    "feature-extraction": TaskSpec("feature-extraction", "ORTModelForFeatureExtraction",
                                   "feature-extraction", extra_tasks=("sentence-similarity",)),
    "sentence-similarity": TaskSpec("feature-extraction", "ORTModelForFeatureExtraction",
                                    "feature-extraction", extra_tasks=("feature-extraction",)),
    "image-classification": TaskSpec("image-classification", "ORTModelForImageClassification",
                                     "image-classification"),
    "object-detection": TaskSpec("object-detection", "ORTModelForCustomTasks",
                                 "object-detection"),
    "image-segmentation": TaskSpec("semantic-segmentation", "ORTModelForSemanticSegmentation",
                                   "image-segmentation", int8=False),
    "depth-estimation": TaskSpec("depth-estimation", "ORTModelForCustomTasks", "depth-estimation",
                                 int8=False),
    "image-to-text": TaskSpec("image-to-text", "ORTModelForVision2Seq", "image-to-text",
                              with_past=True),
    "visual-question-answering": TaskSpec("image-to-text", "ORTModelForPix2Struct",
                                          "image-to-text", with_past=True),
    "automatic-speech-recognition": TaskSpec("automatic-speech-recognition",
                                             "ORTModelForSpeechSeq2Seq",
                                             "automatic-speech-recognition", with_past=True),
    "audio-classification": TaskSpec("audio-classification", "ORTModelForAudioClassification",
                                      "audio-classification"),
}
SUPPORTED_TASKS: tuple[str, ...] = tuple(TASK_SPECS)

# Hub pipeline tags that name a supported task differently.
TASK_ALIASES = {
    "sentiment-analysis": "text-classification",
    "ner": "token-classification",
    "image-captioning": "image-to-text",
    "vqa": "visual-question-answering",
    "asr": "automatic-speech-recognition",
    "text-generation": "text2text-generation",  # only for encoder-decoder models; checked below
}

# Architecture class-name endings -> task, for folders whose card names no pipeline_tag.
ARCHITECTURE_TASKS = (
    ("ForSequenceClassification", "text-classification"),
    ("ForTokenClassification", "token-classification"),
    ("ForQuestionAnswering", "question-answering"),
    ("ForMaskedLM", "fill-mask"),
    ("ForImageClassification", "image-classification"),
    ("ForObjectDetection", "object-detection"),
    ("ForSemanticSegmentation", "image-segmentation"),
    ("ForDepthEstimation", "depth-estimation"),
    ("ForCTC", "automatic-speech-recognition"),
    ("ForAudioClassification", "audio-classification"),
    ("VisionEncoderDecoderModel", "image-to-text"),
    ("ForConditionalGeneration", "text2text-generation"),
    ("MTModel", "translation"),
    ("Model", "feature-extraction"),
)
AUDIO_MODEL_TYPES = {"wav2vec2", "hubert", "wavlm", "data2vec-audio", "unispeech", "sew", "sew-d",
                     "audio-spectrogram-transformer", "whisper", "wav2vec2-conformer"}
SPEECH_SEQ2SEQ_TYPES = {"whisper", "speech_to_text", "speech-to-text", "moonshine"}
CONTROLLER_TASKS = ["summarization", "translation", "question-answering", "conversational",
                    "text2text-generation"]


@dataclass
class Source:
    """Where a model comes from once resolved: a local folder or file, and how to name it."""

    path: Path
    kind: str  # "folder" | "gguf"
    label: str  # what the registry's ``source`` column records
    hub_id: str | None = None
    hub_info: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- the entry point


def import_model(source: str | Path, registry: Registry, task: str | None = None,
                 quantize: str = "int8", model_id: str | None = None,
                 trust_pickle: bool = False, progress: Progress | None = None,
                 drift_tolerance: float = DEFAULT_DRIFT_TOLERANCE,
                 replace: bool = False) -> ModelRecord:
    """Import a model folder, GGUF file or hub id, and register it; returns the registry row.

    ``quantize`` is ``"int8"`` (kept only if the drift on a sanity input stays within
    ``drift_tolerance``) or ``"none"``. ``progress(step, fraction)`` reports each step from 0 to
    1 (the CLI draws a tqdm bar per step, the GUI a progress bar). An id that is already
    registered is refused unless ``replace``.
    """
    report = progress or (lambda step, fraction: None)
    if quantize not in ("int8", "none"):
        raise ImportModelError(f"--quantize must be int8 or none, not {quantize!r}")
    resolved = resolve_source(source, trust_pickle=trust_pickle, progress=report)
    if resolved.kind == "gguf":
        return _import_gguf(resolved, registry, model_id, report, replace)
    return _import_transformers(resolved, registry, task, quantize, model_id, trust_pickle,
                                report, drift_tolerance, replace)


# ---------------------------------------------------------------- sources


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


# ---------------------------------------------------------------- model cards and configs


def read_card(folder: Path) -> tuple[dict[str, Any], str]:
    """The model card's YAML metadata and its prose (README.md), or empty ones."""
    card_path = folder / "README.md"
    if not card_path.is_file():
        return {}, ""
    text = card_path.read_text(encoding="utf-8", errors="replace")
    meta: dict[str, Any] = {}
    body = text
    match = re.match(r"^---\s*\n(.*?)\n---\s*\n?", text, re.S)
    if match:
        body = text[match.end():]
        try:
            import yaml

            loaded = yaml.safe_load(match.group(1))
            meta = loaded if isinstance(loaded, dict) else {}
        except Exception:  # a malformed card must not stop an import
            meta = {}
    return meta, body


def card_description(body: str, limit: int = 400) -> str:
    """The first prose paragraph of a model card (no headings, badges, tables, code or HTML)."""
    paragraphs: list[str] = []
    current: list[str] = []
    in_code = False
    for raw in body.splitlines():
        line = raw.strip()
        if line.startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        if not line or line.startswith(("#", "|", "<", "!", "[!", "---", "- ", "* ", ">")):
            if current:
                paragraphs.append(" ".join(current))
                current = []
            continue
        current.append(line)
    if current:
        paragraphs.append(" ".join(current))
    for paragraph in paragraphs:
        cleaned = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", paragraph)  # markdown links -> text
        cleaned = re.sub(r"[*_`]{1,3}", "", cleaned).strip()
        if len(cleaned) >= 30 and not cleaned.lower().startswith(("license", "copyright")):
            if len(cleaned) > limit:
                cut = cleaned[:limit]
                stop = cut.rfind(". ")
                cleaned = cut[: stop + 1] if stop > limit // 2 else cut.rstrip() + "..."
            return cleaned
    return ""


def read_config(folder: Path) -> dict[str, Any]:
    path = folder / "config.json"
    if not path.is_file():
        raise ImportModelError(f"{folder} has no config.json; is it a Hugging Face model folder?")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ImportModelError(f"{path} is not valid JSON ({exc})") from None


def infer_task(config: dict[str, Any], card: dict[str, Any], requested: str | None,
               hub_tag: str | None = None) -> str:
    """The Conductor task: as asked, else the card's pipeline tag, else from the architecture."""
    model_type = str(config.get("model_type", ""))
    architectures = [str(a) for a in config.get("architectures") or []]
    is_encoder_decoder = bool(config.get("is_encoder_decoder")) or model_type in (
        "vision-encoder-decoder", "encoder-decoder")
    for candidate in (requested, card.get("pipeline_tag"), hub_tag):
        if not candidate:
            continue
        name = str(candidate)
        if name.startswith("translation"):
            name = "translation"
        if name == "text-generation" and not is_encoder_decoder:
            if requested:
                raise ImportModelError(
                    "text-generation (decoder-only LLMs) is the controller's job: import a GGUF "
                    "of the model instead (llama.cpp is much faster on CPU)")
            continue
        name = TASK_ALIASES.get(name, name)
        if name in TASK_SPECS:
            return name
        if requested:
            raise ImportModelError(f"task {requested!r} is not supported by the ONNX import; "
                                   f"supported: {', '.join(SUPPORTED_TASKS)}")
    for suffix, task in ARCHITECTURE_TASKS:
        for arch in architectures:
            if not arch.endswith(suffix):
                continue
            if task == "text-classification" and model_type in AUDIO_MODEL_TYPES:
                return "audio-classification"
            if task == "text2text-generation":
                if model_type in SPEECH_SEQ2SEQ_TYPES:
                    return "automatic-speech-recognition"
                if model_type == "pix2struct":
                    return "image-to-text"
                if model_type == "marian":
                    return "translation"
            if task == "text-classification" and _is_nli(config):
                return "zero-shot-classification"
            return task
    raise ImportModelError(
        f"cannot tell which task this {model_type or 'unknown'} model does "
        f"(architectures {architectures or 'not given'}); pass --task, one of "
        f"{', '.join(SUPPORTED_TASKS)}")


def _is_nli(config: dict[str, Any]) -> bool:
    labels = {str(v).lower() for v in (config.get("id2label") or {}).values()}
    return "entailment" in labels and ("contradiction" in labels or "not_entailment" in labels)


def task_spec(task: str, config: dict[str, Any]) -> TaskSpec:
    """The export recipe for a task, adjusted for the architecture where it matters."""
    spec = TASK_SPECS[task]
    model_type = str(config.get("model_type", ""))
    architectures = [str(a) for a in config.get("architectures") or []]
    if task == "automatic-speech-recognition" and any(a.endswith("ForCTC") for a in architectures):
        return TaskSpec("automatic-speech-recognition", "ORTModelForCTC",
                        "automatic-speech-recognition")
    if task == "image-to-text" and model_type == "pix2struct":
        return TaskSpec("image-to-text", "ORTModelForPix2Struct", "image-to-text",
                        with_past=True)
    if task == "visual-question-answering" and model_type != "pix2struct":
        raise ImportModelError(
            f"visual question answering exports to ONNX only for Pix2Struct models here; "
            f"{model_type} (e.g. ViLT, BLIP) has no ONNX export in optimum")
    if task == "image-segmentation" and not _exporter_supports(model_type,
                                                               "semantic-segmentation"):
        return TaskSpec("image-segmentation", "ORTModelForCustomTasks", "image-segmentation",
                        int8=False)
    if task == "text-classification" and _is_nli(config):
        return TaskSpec(spec.export_task, spec.onnx_class, spec.pipeline_task,
                        extra_tasks=("zero-shot-classification",))
    return spec


def _exporter_supports(model_type: str, export_task: str) -> bool:
    """Whether optimum's ONNX exporter knows this architecture for this task."""
    try:
        import optimum.exporters.onnx.model_configs  # noqa: F401  (registers the configs)
        from optimum.exporters.tasks import TasksManager
    except ImportError:  # pragma: no cover - optimum is a dependency
        return False
    for name in dict.fromkeys((model_type, model_type.replace("_", "-"))):
        try:
            tasks = TasksManager.get_supported_tasks_for_model_type(
                name, exporter="onnx", library_name="transformers")
        except Exception:  # "not supported yet": try the other spelling
            continue
        return export_task in tasks
    return False


# ---------------------------------------------------------------- transformers import


def _import_transformers(source: Source, registry: Registry, task: str | None, quantize: str,
                         model_id: str | None, trust_pickle: bool, report: Progress,
                         drift_tolerance: float, replace: bool) -> ModelRecord:
    report("check", 0.0)
    weights = check_weights(source.path, trust_pickle)
    config = read_config(source.path)
    card, body = read_card(source.path)
    chosen = infer_task(config, card, task, source.hub_info.get("pipeline_tag"))
    spec = task_spec(chosen, config)
    model_id = model_id or source.hub_id or f"local/{source.path.name}"
    _check_id(registry, model_id, replace)
    report("check", 1.0)

    dest_rel = Path("onnx") / _safe_name(model_id)
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
        _move_into_place(final_dir, dest)
        try:
            registry.register(record, compute_hash=False)
        except Exception:
            shutil.rmtree(dest, ignore_errors=True)
            raise
        report("register", 1.0)
        return record
    finally:
        shutil.rmtree(staging_root, ignore_errors=True)


def _check_id(registry: Registry, model_id: str, replace: bool) -> None:
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


def _safe_name(model_id: str) -> str:
    return re.sub(r"[^\w.-]+", "--", model_id).strip("-") or "model"


def _move_into_place(staged: Path, dest: Path) -> None:
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


def _export(folder: Path, output: Path, spec: TaskSpec, config: dict[str, Any]) -> None:
    """Export a PyTorch folder to ONNX graphs with optimum (decoders unmerged, so each graph
    quantises on its own and ``ORTModelFor...`` loads them by their standard names)."""
    from optimum.exporters.onnx import main_export

    task = spec.export_task + ("-with-past" if spec.with_past else "")
    model_type = str(config.get("model_type", ""))
    if not _exporter_supports(model_type, spec.export_task):
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


# ---------------------------------------------------------------- int8 and its drift


def quantize_folder(source: Path, dest: Path, progress: Callable[[float], None] | None = None
                    ) -> list[str]:
    """Dynamic int8 copies of every ONNX graph in ``source`` (other files copied as they are).

    MatMul weights (the compute) and embedding tables (Gather: a third of a DistilBERT's bytes,
    more for small multilingual models) are quantised, with one scale per channel: per-tensor
    scales moved sentence embeddings to cosine 0.95 of fp32, per-channel kept them above 0.99
    (see ``sentence_onnx``). On the tiny test models Gather cut 10-20 % more bytes and moved
    the drift by less than 0.002. Convolutions stay fp32 (ConvInteger is slow on CPU).
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    dest.mkdir(parents=True, exist_ok=True)
    graphs = sorted(source.glob("*.onnx"))
    for path in source.iterdir():
        if path.is_file() and path.suffix != ".onnx" and not path.name.endswith(".onnx_data"):
            shutil.copy2(path, dest / path.name)
    for index, graph in enumerate(graphs):
        if progress:
            progress(index / max(len(graphs), 1))
        external = any(source.glob(graph.name + "_data*")) or graph.stat().st_size > 1_900_000_000
        _quiet_quantize(quantize_dynamic, graph, dest / graph.name,
                        weight_type=QuantType.QInt8, per_channel=True,
                        op_types_to_quantize=["MatMul", "Gather"],
                        use_external_data_format=external)
    if progress:
        progress(1.0)
    return [g.name for g in graphs]


def _quiet_quantize(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Run the quantiser without its 'consider pre-processing' log line for every graph."""
    import logging

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        fn(*args, **kwargs)
    finally:
        root.setLevel(level)


def sanity_inputs(folder: Path, spec: TaskSpec) -> dict[str, Any]:
    """One input for the model's main forward pass, made with its own tokenizer or processor."""
    import numpy as np
    import torch

    config = read_config(folder)
    inputs: dict[str, Any] = {}
    kind = _input_kind(spec, config)
    if kind == "text":
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(folder)
        if spec.export_task == "question-answering":
            inputs = dict(tokenizer(SANITY_TEXT, SANITY_CONTEXT, return_tensors="pt"))
        else:
            inputs = dict(tokenizer(SANITY_TEXT, return_tensors="pt"))
    elif kind == "image":
        from transformers import AutoImageProcessor

        processor = AutoImageProcessor.from_pretrained(folder)
        extra: dict[str, Any] = {}
        if getattr(processor, "is_vqa", False):  # Pix2Struct VQA renders a question header
            extra = {"header_text": "What does the picture show?", **font_kwargs()}
        inputs = dict(processor(images=sanity_image(), return_tensors="pt", **extra))
    else:
        from transformers import AutoFeatureExtractor

        extractor = AutoFeatureExtractor.from_pretrained(folder)
        rate = int(getattr(extractor, "sampling_rate", 16000))
        t = np.arange(rate) / rate
        wave = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        inputs = dict(extractor(wave, sampling_rate=rate, return_tensors="pt"))
    if spec.with_past:
        start = _decoder_start(config)
        inputs["decoder_input_ids"] = torch.tensor([[start, start, start]], dtype=torch.long)
    return inputs


def _input_kind(spec: TaskSpec, config: dict[str, Any]) -> str:
    if spec.onnx_class in ("ORTModelForImageClassification", "ORTModelForVision2Seq",
                           "ORTModelForSemanticSegmentation", "ORTModelForPix2Struct"):
        return "image"
    if spec.export_task in ("object-detection", "depth-estimation", "image-segmentation",
                            "semantic-segmentation"):
        return "image"
    if spec.export_task in ("automatic-speech-recognition", "audio-classification"):
        return "audio"
    return "text"


def _decoder_start(config: dict[str, Any]) -> int:
    for holder in (config, config.get("decoder") or {}, config.get("text_config") or {}):
        for key in ("decoder_start_token_id", "bos_token_id", "pad_token_id"):
            value = holder.get(key)
            if isinstance(value, int):
                return value
    return 0


FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/Library/Fonts/Arial.ttf",
    "C:/Windows/Fonts/arial.ttf",
)


def font_kwargs() -> dict[str, str]:
    """A local TrueType font for Pix2Struct's question header.

    Without one, transformers downloads Arial from the hub at every call, which fails offline.
    """
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return {"font_path": candidate}
    try:
        import matplotlib

        bundled = Path(matplotlib.__file__).parent / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"
        if bundled.is_file():
            return {"font_path": str(bundled)}
    except ImportError:
        pass
    return {}


def sanity_image():
    """A 96x72 picture with gradients and a block of colour: exercises every channel."""
    import numpy as np
    from PIL import Image

    y, x = np.mgrid[0:72, 0:96]
    pixels = np.stack([x * 255 // 96, y * 255 // 72, (x * y) % 256], axis=-1).astype("uint8")
    pixels[20:50, 30:70] = [220, 40, 40]
    return Image.fromarray(pixels)


def load_onnx_model(folder: Path, onnx_class: str, threads: int | None = None,
                    device: str = "cpu") -> Any:
    """An ``optimum.onnxruntime`` model from a folder of exported graphs, on the CPU or a GPU."""
    import onnxruntime as ort
    import optimum.onnxruntime as ort_models

    from core.devices import onnx_providers

    options = ort.SessionOptions()
    options.log_severity_level = 3  # quantised graphs log harmless warnings otherwise
    if threads:
        options.intra_op_num_threads = threads
    cls = getattr(ort_models, onnx_class)
    kwargs: dict[str, Any] = {"providers": onnx_providers(device), "session_options": options}
    if onnx_class in ("ORTModelForSeq2SeqLM", "ORTModelForSpeechSeq2Seq",
                      "ORTModelForVision2Seq", "ORTModelForPix2Struct"):
        merged = (folder / "decoder_model_merged.onnx").is_file()
        kwargs["use_merged"] = merged
        kwargs["use_cache"] = merged or (folder / "decoder_with_past_model.onnx").is_file()
    model = cls.from_pretrained(folder, **kwargs)
    if not getattr(model, "main_input_name", None):
        # Pipelines address the first input by this name (CTC models lack it in optimum).
        model.main_input_name = next(iter(getattr(model, "input_names", None) or ["input_ids"]))
    return model


def output_arrays(outputs: Any) -> dict[str, Any]:
    """The float tensors of a model output (logits, boxes, depth, hidden states) as numpy."""
    import numpy as np

    items = outputs.items() if hasattr(outputs, "items") else enumerate(outputs)
    arrays = {}
    for name, value in items:
        if hasattr(value, "detach"):
            value = value.detach().cpu().numpy()
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            arrays[str(name)] = value
    return arrays


def relative_drift(reference: dict[str, Any], other: dict[str, Any]) -> float:
    """max |a - b| / max |a| over the outputs both have (scale-free, 0 = identical)."""
    import numpy as np

    drifts = []
    for name, ref in reference.items():
        if name not in other or other[name].shape != ref.shape:
            continue
        scale = float(np.abs(ref).max()) or 1.0
        drifts.append(float(np.abs(ref - other[name]).max()) / scale)
    if not drifts:
        raise ImportModelError("the int8 and fp32 models share no output to compare")
    return max(drifts)


def measure_drift(fp32_dir: Path, int8_dir: Path, spec: TaskSpec) -> float:
    """Run fp32 and int8 graphs on the same sanity input; their relative output drift.

    Encoder-decoders are also run one cached step further: after the first token a generator
    runs ``decoder_with_past_model.onnx``, a graph of its own that the main forward pass never
    touches, so a with-past graph quantised badly would otherwise be registered as int8.
    """
    import torch

    inputs = sanity_inputs(fp32_dir, spec)
    cached = (fp32_dir / "decoder_with_past_model.onnx").is_file()
    results = []
    for folder in (fp32_dir, int8_dir):
        model = load_onnx_model(folder, spec.onnx_class)
        with torch.no_grad():
            outputs = model(**inputs)
            arrays = output_arrays(outputs)
            if cached:
                step = {**inputs, "decoder_input_ids": inputs["decoder_input_ids"][:, -1:]}
                after = model(**step, past_key_values=outputs.past_key_values)
                arrays["logits_with_past"] = output_arrays(after)["logits"]
        results.append(arrays)
        del model
    keep = {k: v for k, v in results[0].items() if ("past" not in k and "present" not in k)
            or k == "logits_with_past"}
    return relative_drift(keep, results[1])


# ---------------------------------------------------------------- the registry row


def _transformers_record(model_id: str, task: str, spec: TaskSpec, config: dict[str, Any],
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
    tags = _tags(card, model_type, task, quantized)
    tasks = [task, *[t for t in spec.extra_tasks if t != task]]
    return ModelRecord(skill=_skill(model_id, task, config, card),
        id=model_id, task=task, tasks=tasks, runtime=RUNTIME, path=dest_rel.as_posix(),
        description=description, license=_license(card), source=source.label, tags=tags,
        downloads=int(source.hub_info.get("downloads", 0)),
        likes=int(source.hub_info.get("likes", 0)),
        quantization=("int8 (onnxruntime dynamic, per-channel QInt8 MatMul and embedding "
                      "weights)"
                      if quantized else "none (fp32)"),
        params=params,
    )


def _skill(model_id: str, task: str, config: dict[str, Any], card: dict[str, Any]) -> str:
    """What the model is for inside its task (core.tasks.SKILLS, the registry's ``skill``):
    text reading or captioning for image-to-text, the language pair for translation."""
    if task == "image-to-text":
        decoder = (config.get("decoder") or {}).get("model_type", "")
        named = f"{model_id} {config.get('model_type', '')} {decoder}".lower()
        return "ocr" if "ocr" in named or "donut" in named else "captioning"
    if task == "translation":
        pair = re.search(r"(?:^|[-_/])([a-z]{2,3})-([a-z]{2,3})$", model_id.lower())
        if pair:
            return f"{pair.group(1)}-{pair.group(2)}"
        languages = card.get("language") or []
        if isinstance(languages, list) and len(languages) == 2:
            return "-".join(map(str, languages))
    return ""


def _license(card: dict[str, Any]) -> str:
    value = card.get("license")
    if isinstance(value, list):
        value = value[0] if value else None
    if value == "other" and card.get("license_name"):
        value = card["license_name"]
    return str(value) if value else "unknown"


def _tags(card: dict[str, Any], model_type: str, task: str, quantized: bool) -> list[str]:
    tags: list[str] = []
    raw = card.get("tags") or []
    languages = card.get("language") or []
    if isinstance(raw, str):
        raw = [raw]
    if isinstance(languages, str):
        languages = [languages]
    for tag in [*map(str, raw), *map(str, languages), model_type, task, "onnx",
                "int8" if quantized else "fp32"]:
        tag = tag.strip()
        if tag and tag not in tags:
            tags.append(tag)
    return tags[:20]


# ---------------------------------------------------------------- GGUF controllers


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


def _import_gguf(source: Source, registry: Registry, model_id: str | None, report: Progress,
                 replace: bool) -> ModelRecord:
    """Copy a GGUF into ``llm/`` and register it as a controller (runtime llama.cpp)."""
    report("check", 0.0)
    meta = read_gguf_metadata(source.path)
    arch = str(meta.get("general.architecture", "") or "unknown")
    name = str(meta.get("general.name", "") or source.path.stem)
    model_id = model_id or f"gguf/{_safe_name(source.path.stem)}"
    _check_id(registry, model_id, replace)
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
        _move_into_place(staged, dest)
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


# ---------------------------------------------------------------- checksums


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


# ---------------------------------------------------------------- removing


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
