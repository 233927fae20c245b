"""Which task a model is imported for, and how each task is exported (the optimum export task,
the ORTModel class, the pipeline task).
"""

from __future__ import annotations

from typing import Any

from core.importer.errors import ImportModelError
from core.tasks import CATALOGUE, OnnxExport

# Each catalogue task that an imported Hugging Face model can do names its export recipe.
TASK_SPECS: dict[str, OnnxExport] = {t.name: t.onnx for t in CATALOGUE if t.onnx is not None}


SUPPORTED_TASKS: tuple[str, ...] = tuple(TASK_SPECS)


TASK_ALIASES = {
    "sentiment-analysis": "text-classification",
    "ner": "token-classification",
    "image-captioning": "image-to-text",
    "vqa": "visual-question-answering",
    "asr": "automatic-speech-recognition",
    "text-generation": "text2text-generation",  # only for encoder-decoder models; checked below
}


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


def task_spec(task: str, config: dict[str, Any]) -> OnnxExport:
    """The export recipe for a task, adjusted for the architecture where it matters."""
    spec = TASK_SPECS[task]
    model_type = str(config.get("model_type", ""))
    architectures = [str(a) for a in config.get("architectures") or []]
    if task == "automatic-speech-recognition" and any(a.endswith("ForCTC") for a in architectures):
        return OnnxExport("automatic-speech-recognition", "ORTModelForCTC",
                        "automatic-speech-recognition")
    if task == "image-to-text" and model_type == "pix2struct":
        return OnnxExport("image-to-text", "ORTModelForPix2Struct", "image-to-text",
                        with_past=True)
    if task == "visual-question-answering" and model_type != "pix2struct":
        raise ImportModelError(
            f"visual question answering exports to ONNX only for Pix2Struct models here; "
            f"{model_type} (e.g. ViLT, BLIP) has no ONNX export in optimum")
    if task == "image-segmentation" and not exporter_supports(model_type,
                                                               "semantic-segmentation"):
        return OnnxExport("image-segmentation", "ORTModelForCustomTasks", "image-segmentation",
                        int8=False)
    if task == "text-classification" and _is_nli(config):
        return OnnxExport(spec.export_task, spec.onnx_class, spec.pipeline_task,
                        extra_tasks=("zero-shot-classification",))
    return spec


def exporter_supports(model_type: str, export_task: str) -> bool:
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
