"""The generic runner: any imported Hugging Face model, as ONNX graphs in a transformers pipeline.

``core.importer`` exports a model with optimum and records, in its registry row, which
``optimum.onnxruntime`` class loads it (``params.onnx_class``) and which transformers pipeline
wraps it (``params.pipeline_task``). This runner only follows that record: the pipeline does the
pre- and post-processing the model was trained with (tokenisation, resizing, mel features, box
decoding, beam search), ONNX Runtime does the compute. Outputs follow DESIGN.md's typed outputs;
boxes are also drawn onto a copy of the image, depth maps and segmentation masks are PNG files in
the run's workspace.

Nothing ships offline for this runtime (``DEFAULT_MODELS`` is empty): models come in through
``main.py models import`` or ``models unpack``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.languages import code_of
from core.registry import ModelRecord
from core.runners.base import (
    DefaultModel,
    Runner,
    TaskInputError,
    Workspace,
    require_audio,
    require_image,
    require_text,
    resample,
)
from core.tasks import TARGET_LANGUAGE

RUNTIME = "onnx-transformers"
MAX_NEW_TOKENS = 128
TOP_K = 5
DETECTION_THRESHOLD = 0.5
MASK_TOKENS = ("[MASK]", "<mask>", "[mask]", "<MASK>", "___")
# Distinct colours for segmentation overlays (label index modulo the list).
PALETTE = [(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48),
           (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212),
           (0, 128, 128), (220, 190, 255), (170, 110, 40), (128, 0, 0), (128, 128, 0)]


# Tasks whose pipeline differs from the one a model was imported for (an NLI model imported for
# text-classification also does zero-shot; an encoder does both embedding tasks).
TASK_PIPELINES = {
    "text-classification": "text-classification",
    "zero-shot-classification": "zero-shot-classification",
    "feature-extraction": "feature-extraction",
    "sentence-similarity": "feature-extraction",
}


@dataclass
class LoadedPipeline:
    """A loaded model: its ONNX graphs and processors once, a pipeline per pipeline task."""

    model: Any
    components: dict[str, Any]
    pipeline_task: str
    model_type: str
    tasks: list[str]
    params: dict[str, Any] = field(default_factory=dict)
    pipelines: dict[str, Any] = field(default_factory=dict)

    def pipeline_for(self, task: str) -> Any:
        """The pipeline for a task, built on first use around the already-loaded graphs."""
        name = TASK_PIPELINES.get(task, self.pipeline_task)
        if name not in self.pipelines:
            from optimum.onnxruntime import pipeline

            self.pipelines[name] = pipeline(name, model=self.model, device=self.model.device,
                                            **self.components)
        return self.pipelines[name]

    @property
    def pipeline(self) -> Any:
        return self.pipeline_for(self.pipeline_task)

    @property
    def tokenizer(self) -> Any:
        return self.components.get("tokenizer")


class TransformersOnnxRunner(Runner):
    """Loads ``ORTModelFor...`` + pipeline per registry row; runs every task it was made for."""

    runtime = RUNTIME

    def __init__(self, threads: int | None = None, device: str = "auto") -> None:
        self.threads = threads
        self.device = device

    def load(self, record: ModelRecord, model_path: Path) -> LoadedPipeline:
        from core.runners.onnx_loading import load_onnx_model

        quiet_library_logs()
        params = record.params
        onnx_class = params.get("onnx_class")
        pipeline_task = params.get("pipeline_task")
        if not onnx_class or not pipeline_task:
            raise TaskInputError(f"{record.id}: registry row lacks params.onnx_class or "
                                 "params.pipeline_task; re-import the model")
        model_path = Path(model_path)
        model = load_onnx_model(model_path, onnx_class, self.threads, self.device)
        loaded = LoadedPipeline(model, load_components(model_path), pipeline_task,
                                str(params.get("model_type", "")), record.all_tasks(),
                                dict(params))
        loaded.pipeline_for(pipeline_task)  # build it now: load errors belong to load()
        return loaded

    def device_of(self, model: LoadedPipeline) -> str:
        return "cpu" if str(model.model.device) == "cpu" else "gpu"

    def run(self, model: LoadedPipeline, task: str, args: dict[str, Any],
            workspace: Workspace) -> dict:
        if task not in model.tasks:
            raise TaskInputError(f"this model does {', '.join(model.tasks)}, not {task!r}")
        handler = HANDLERS.get(task)
        if handler is None:
            raise TaskInputError(f"{RUNTIME} does not run {task!r}")
        return handler(_View(model, task), args, workspace)


@dataclass
class _View:
    """A loaded model seen through one task: ``pipeline`` is that task's pipeline."""

    loaded: LoadedPipeline
    task: str

    @property
    def pipeline(self) -> Any:
        return self.loaded.pipeline_for(self.task)

    @property
    def pipeline_task(self) -> str:
        return TASK_PIPELINES.get(self.task, self.loaded.pipeline_task)

    @property
    def model_type(self) -> str:
        return self.loaded.model_type

    @property
    def tokenizer(self) -> Any:
        return self.loaded.tokenizer


# Library messages that are expected here and say nothing to a user: ORTModelForCustomTasks is
# "not supported" by the object-detection pipeline's class check (it works: same outputs), every
# pipeline announces its device, CTC models ignore the attention mask they are handed.
_QUIET_LOGGERS = {
    "transformers.pipelines.base": 50,  # CRITICAL: the class check logs at ERROR level
    "transformers.models.auto.image_processing_auto": 40,
    "transformers.models.whisper.feature_extraction_whisper": 40,
    "optimum.onnxruntime.modeling": 40,
}


def quiet_library_logs() -> None:
    import logging

    for name, level in _QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(level)


def load_components(folder: Path) -> dict[str, Any]:
    """Tokenizer, image processor and feature extractor saved beside the graphs, as present."""
    import json

    components: dict[str, Any] = {}
    names = {p.name for p in folder.iterdir()}
    if names & {"tokenizer.json", "tokenizer_config.json", "vocab.txt", "vocab.json",
                "spiece.model", "source.spm"}:
        from transformers import AutoTokenizer

        components["tokenizer"] = AutoTokenizer.from_pretrained(folder)
    processor_file = folder / "preprocessor_config.json"
    if processor_file.is_file():
        data = json.loads(processor_file.read_text(encoding="utf-8"))
        kind = str(data.get("image_processor_type") or data.get("feature_extractor_type") or "")
        if "ImageProcessor" in kind or "image_processor_type" in data or "do_resize" in data:
            from transformers import AutoImageProcessor

            components["image_processor"] = AutoImageProcessor.from_pretrained(folder)
        else:
            from transformers import AutoFeatureExtractor

            components["feature_extractor"] = AutoFeatureExtractor.from_pretrained(folder)
    return components


# ---------------------------------------------------------------- text tasks


def _labels(items: list[dict[str, Any]], key: str = "label") -> list[dict[str, Any]]:
    return [{"label": str(item[key]), "score": round(float(item["score"]), 4)} for item in items]


def _label_text(labels: list[dict[str, Any]], limit: int = 5) -> str:
    return ", ".join(f"{x['label']} ({x['score']:.2f})" for x in labels[:limit])


def _text_classification(model: _View, args: dict[str, Any], _: Workspace) -> dict:
    text = require_text(args)
    result = model.pipeline(text, top_k=None, truncation=True)
    if result and isinstance(result[0], list):
        result = result[0]
    labels = sorted(_labels(result), key=lambda x: -x["score"])
    return {"labels": labels, "text": _label_text(labels)}


def _zero_shot(model: _View, args: dict[str, Any], _: Workspace) -> dict:
    from core.runners.sentence_onnx import parse_labels

    text = require_text(args)
    candidates = parse_labels(args.get("labels"))
    options: dict[str, Any] = {"candidate_labels": candidates}
    template = args.get("hypothesis_template")
    if isinstance(template, str) and "{}" in template:
        options["hypothesis_template"] = template
    result = model.pipeline(text, **options)
    labels = [{"label": str(label), "score": round(float(score), 4)}
              for label, score in zip(result["labels"], result["scores"], strict=True)]
    return {"labels": labels, "text": _label_text(labels)}


def _token_classification(model: _View, args: dict[str, Any], _: Workspace) -> dict:
    text = require_text(args)
    result = model.pipeline(text, aggregation_strategy="simple")
    entities = [{"text": str(item.get("word", "")).strip(),
                 "label": str(item.get("entity_group") or item.get("entity")),
                 "score": round(float(item["score"]), 4),
                 "start": int(item["start"]) if item.get("start") is not None else None,
                 "end": int(item["end"]) if item.get("end") is not None else None}
                for item in result]
    summary = ", ".join(f"{e['text']} ({e['label']})" for e in entities)
    return {"text": summary or "no named entities found", "entities": entities}


def _question_answering(model: _View, args: dict[str, Any], _: Workspace) -> dict:
    question = require_text(args, "text")
    context = require_text(args, "context")
    result = model.pipeline(question=question, context=context)
    answer = str(result["answer"]).strip()
    return {"text": answer or "(no answer found in the passage)",
            "labels": [{"label": answer, "score": round(float(result["score"]), 4)}],
            "start": int(result["start"]), "end": int(result["end"])}


def _fill_mask(model: _View, args: dict[str, Any], _: Workspace) -> dict:
    text = require_text(args)
    mask = model.tokenizer.mask_token
    for token in MASK_TOKENS:
        text = text.replace(token, mask)
    if mask not in text:
        raise TaskInputError(f"the text must contain a gap to fill, written {mask}")
    if text.count(mask) > 1:
        raise TaskInputError(f"the text must contain exactly one {mask}")
    result = model.pipeline(text, top_k=TOP_K)
    labels = [{"label": str(r["token_str"]).strip(), "score": round(float(r["score"]), 4)}
              for r in result]
    return {"text": str(result[0]["sequence"]) if result else text, "labels": labels}


def position_limit(config: Any) -> int | None:
    """How many positions the decoder has (generation past it fails inside the graph)."""
    for holder in (config, getattr(config, "decoder", None), getattr(config, "text_config", None)):
        if holder is None:
            continue
        for key in ("max_target_positions", "n_positions", "max_position_embeddings"):
            value = getattr(holder, key, None)
            if isinstance(value, int) and value > 0:
                return value
    return None


def new_tokens(model: _View, args: dict[str, Any], default: int = MAX_NEW_TOKENS) -> int:
    """``max_new_tokens`` as asked (or the default), capped to fit the decoder's positions."""
    try:
        wanted = int(args.get("max_new_tokens") or default)
    except (TypeError, ValueError):
        raise TaskInputError("argument 'max_new_tokens' must be a whole number") from None
    limit = position_limit(getattr(model.loaded.model, "config", None))
    if limit:
        wanted = min(wanted, limit - 5)  # room for start, language, task and prompt tokens
    return max(wanted, 1)


def _generate(model: _View, args: dict[str, Any], _: Workspace) -> dict:
    """summarization, translation, text2text-generation on an encoder-decoder model."""
    text = require_text(args)
    options: dict[str, Any] = {"max_new_tokens": new_tokens(model, args), "truncation": True}
    for key in ("src_lang", TARGET_LANGUAGE):
        if isinstance(args.get(key), str) and model.pipeline_task == "translation":
            options[key] = code_of(args[key])  # the planner writes "German", models want codes
    result = model.pipeline(text, **options)
    item = result[0] if isinstance(result, list) else result
    output = next((str(v) for k, v in item.items() if k.endswith("_text")), "")
    return {"text": output.strip()}


def _embed(model: _View, text: str):
    """Mean-pooled, unit-length embedding of one text (no padding, so a plain mean is exact)."""
    import numpy as np

    features = np.asarray(model.pipeline(text, truncation=True), dtype=np.float32)
    vector = features.reshape(-1, features.shape[-1]).mean(axis=0)
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


def _feature_extraction(model: _View, args: dict[str, Any], _: Workspace) -> dict:
    vector = _embed(model, require_text(args))
    head = ", ".join(f"{v:.3f}" for v in vector[:4])
    return {"text": f"{vector.shape[0]}-dimensional embedding (unit length; starts {head}, ...)",
            "embedding": [round(float(v), 6) for v in vector]}


def _sentence_similarity(model: _View, args: dict[str, Any], _: Workspace) -> dict:
    first = _embed(model, require_text(args, "text"))
    second = _embed(model, require_text(args, "text2"))
    score = float(first @ second)
    return {"labels": [{"label": "similarity", "score": round(score, 4)}],
            "text": f"similarity {score:.2f}"}


# ---------------------------------------------------------------- vision tasks


def _image_classification(model: _View, args: dict[str, Any],
                          workspace: Workspace) -> dict:
    image = require_image(args, workspace)
    labels = _labels(model.pipeline(image, top_k=TOP_K))
    return {"labels": labels, "text": _label_text(labels)}


def _threshold(args: dict[str, Any], default: float) -> float:
    try:
        value = float(args.get("threshold", default))
    except (TypeError, ValueError):
        raise TaskInputError("argument 'threshold' must be a number between 0 and 1") from None
    if not 0.0 <= value <= 1.0:
        raise TaskInputError("argument 'threshold' must be a number between 0 and 1")
    return value


def _object_detection(model: _View, args: dict[str, Any],
                      workspace: Workspace) -> dict:
    from core.runners.opencv_cascade import draw_boxes

    image = require_image(args, workspace)
    result = model.pipeline(image, threshold=_threshold(args, DETECTION_THRESHOLD))
    width, height = image.size
    boxes = []
    for item in result:
        box = item["box"]
        coords = [max(0, min(width, int(round(box["xmin"])))),
                  max(0, min(height, int(round(box["ymin"])))),
                  max(0, min(width, int(round(box["xmax"])))),
                  max(0, min(height, int(round(box["ymax"]))))]
        boxes.append({"label": str(item["label"]), "score": round(float(item["score"]), 4),
                      "box": coords})
    boxes.sort(key=lambda b: -b["score"])
    annotated = workspace.new_file(f"{_stem(args)}-detections", ".png")
    draw_boxes(image, boxes).save(annotated)
    counts: dict[str, int] = {}
    for item in boxes:
        counts[item["label"]] = counts.get(item["label"], 0) + 1
    summary = ", ".join(f"{n} {label}" for label, n in counts.items()) or "no objects found"
    return {"boxes": boxes, "image": workspace.relative(annotated), "text": summary}


def _image_segmentation(model: _View, args: dict[str, Any],
                        workspace: Workspace) -> dict:
    import numpy as np
    from PIL import Image

    image = require_image(args, workspace)
    options: dict[str, Any] = {}
    if "threshold" in args:
        options["threshold"] = _threshold(args, 0.9)
    result = model.pipeline(image, **options)
    overlay = np.asarray(image, dtype=np.float32).copy()
    masks = []
    stem = _stem(args)
    for index, item in enumerate(result):
        mask_image = item["mask"].convert("L").resize(image.size)
        mask = np.asarray(mask_image) > 127
        label = str(item.get("label"))
        path = workspace.new_file(f"{stem}-mask-{label}", ".png")
        mask_image.save(path)
        colour = np.array(PALETTE[index % len(PALETTE)], dtype=np.float32)
        overlay[mask] = 0.45 * overlay[mask] + 0.55 * colour
        score = item.get("score")
        masks.append({"label": label, "score": None if score is None else round(float(score), 4),
                      "mask": workspace.relative(path),
                      "area": round(float(mask.mean()), 4)})
    masks.sort(key=lambda m: -m["area"])
    out = workspace.new_file(f"{stem}-segments", ".png")
    Image.fromarray(overlay.clip(0, 255).astype("uint8")).save(out)
    summary = ", ".join(f"{m['label']} ({m['area']:.0%})" for m in masks[:8])
    return {"image": workspace.relative(out), "masks": masks,
            "labels": [{"label": m["label"], "score": m["area"]} for m in masks],
            "text": summary or "no regions found"}


def _depth_estimation(model: _View, args: dict[str, Any],
                      workspace: Workspace) -> dict:
    import numpy as np
    from PIL import Image

    image = require_image(args, workspace)
    result = model.pipeline(image)
    depth = result["predicted_depth"]
    values = np.asarray(depth.detach().cpu().numpy() if hasattr(depth, "detach") else depth,
                        dtype=np.float32).squeeze()
    picture = result.get("depth")
    if picture is None:
        span = float(values.max() - values.min()) or 1.0
        picture = Image.fromarray(((values - values.min()) / span * 255).astype("uint8"))
    picture = picture.convert("L").resize(image.size)
    out = workspace.new_file(f"{_stem(args)}-depth", ".png")
    picture.save(out)
    return {"image": workspace.relative(out),
            "text": f"depth map {image.size[0]}x{image.size[1]} (brighter is nearer; raw range "
                    f"{float(values.min()):.2f} to {float(values.max()):.2f})",
            "depth_range": [round(float(values.min()), 4), round(float(values.max()), 4)]}


def _image_to_text(model: _View, args: dict[str, Any], workspace: Workspace) -> dict:
    image = require_image(args, workspace)
    options: dict[str, Any] = {"max_new_tokens": new_tokens(model, args, 48)}
    if model.model_type == "pix2struct" and isinstance(args.get("text"), str):
        options["prompt"] = args["text"]
    result = model.pipeline(image, generate_kwargs=options)
    item = result[0] if isinstance(result, list) else result
    return {"text": str(item.get("generated_text", "")).strip()}


def _visual_question_answering(model: _View, args: dict[str, Any],
                               workspace: Workspace) -> dict:
    """Pix2Struct renders the question as a header onto the image, then generates the answer.

    Done here rather than by the image-to-text pipeline, which cannot pass a font: the image
    processor would fetch Arial from the hub on every call, which fails offline.
    """
    import torch

    from core.runners.onnx_loading import font_kwargs

    image = require_image(args, workspace)
    question = require_text(args)
    loaded = model.loaded
    processor = loaded.components.get("image_processor")
    tokenizer = loaded.tokenizer
    if processor is None or tokenizer is None:
        raise TaskInputError("this model folder lacks its image processor or tokenizer")
    inputs = processor(images=image, header_text=question, return_tensors="pt",
                       **font_kwargs())
    with torch.no_grad():
        ids = loaded.model.generate(**inputs, max_new_tokens=new_tokens(model, args))
    answer = tokenizer.batch_decode(ids, skip_special_tokens=True)[0]
    return {"text": answer.strip()}


# ---------------------------------------------------------------- audio tasks


def _audio_input(model: _View, args: dict[str, Any], workspace: Workspace
                 ) -> dict[str, Any]:
    samples, rate = require_audio(args, workspace)
    extractor = getattr(model.pipeline, "feature_extractor", None)
    target = int(getattr(extractor, "sampling_rate", 16000) or 16000)
    return {"raw": resample(samples, rate, target), "sampling_rate": target}


def _speech_recognition(model: _View, args: dict[str, Any],
                        workspace: Workspace) -> dict:
    audio = _audio_input(model, args, workspace)
    seconds = audio["raw"].size / audio["sampling_rate"]
    options: dict[str, Any] = {}
    extractor = getattr(model.pipeline, "feature_extractor", None)
    window = float(getattr(extractor, "chunk_length", 30) or 30)
    if seconds > window:
        options["chunk_length_s"] = window  # long audio: overlapping windows, stitched
    if model.model_type == "whisper":
        options["generate_kwargs"] = {"max_new_tokens": new_tokens(model, args, 96)}
        language = args.get("language")
        if isinstance(language, str) and re.fullmatch(r"[a-z]{2,3}", language):
            options["generate_kwargs"]["language"] = language
    result = model.pipeline(audio, **options)
    return {"text": str(result.get("text", "")).strip(), "duration_s": round(seconds, 3)}


def _audio_classification(model: _View, args: dict[str, Any],
                          workspace: Workspace) -> dict:
    audio = _audio_input(model, args, workspace)
    labels = _labels(model.pipeline(audio, top_k=TOP_K))
    return {"labels": labels, "text": _label_text(labels)}


def _stem(args: dict[str, Any]) -> str:
    return Path(str(args.get("image") or "image")).stem


HANDLERS = {
    "text-classification": _text_classification,
    "zero-shot-classification": _zero_shot,
    "token-classification": _token_classification,
    "question-answering": _question_answering,
    "fill-mask": _fill_mask,
    "summarization": _generate,
    "translation": _generate,
    "text2text-generation": _generate,
    "feature-extraction": _feature_extraction,
    "sentence-similarity": _sentence_similarity,
    "image-classification": _image_classification,
    "object-detection": _object_detection,
    "image-segmentation": _image_segmentation,
    "depth-estimation": _depth_estimation,
    "image-to-text": _image_to_text,
    "visual-question-answering": _visual_question_answering,
    "automatic-speech-recognition": _speech_recognition,
    "audio-classification": _audio_classification,
}

RUNNER = TransformersOnnxRunner

DEFAULT_MODELS: list[DefaultModel] = []
