"""int8 and its drift: quantise every graph, then run fp32 and int8 on the same sanity input
(one cached decoding step further for encoder-decoders) and measure how far the outputs move.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.importer.cards import read_config
from core.importer.errors import ImportModelError
from core.runners.onnx_loading import font_kwargs, load_onnx_model
from core.tasks import OnnxExport

DEFAULT_DRIFT_TOLERANCE = 0.05
"""Largest relative drift of int8 outputs from fp32 that is accepted (max |a - b| / max |a|).

Per-channel int8 MatMul weights typically move outputs by 0.5-3 % of their range; beyond 5 % a
classifier's ranking or a generator's next token starts to change on ordinary inputs.
"""


SANITY_TEXT = "The quick brown fox jumps over the lazy dog in Paris."


SANITY_CONTEXT = "Paris is the capital of France. The fox lives in Paris."


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


def sanity_inputs(folder: Path, spec: OnnxExport) -> dict[str, Any]:
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


def _input_kind(spec: OnnxExport, config: dict[str, Any]) -> str:
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


def sanity_image():
    """A 96x72 picture with gradients and a block of colour: exercises every channel."""
    import numpy as np
    from PIL import Image

    y, x = np.mgrid[0:72, 0:96]
    pixels = np.stack([x * 255 // 96, y * 255 // 72, (x * y) % 256], axis=-1).astype("uint8")
    pixels[20:50, 30:70] = [220, 40, 40]
    return Image.fromarray(pixels)


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


def measure_drift(fp32_dir: Path, int8_dir: Path, spec: OnnxExport) -> float:
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
