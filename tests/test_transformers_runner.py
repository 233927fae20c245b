"""The generic ONNX runner on tiny random-weight models of every supported architecture family.

Each case builds a tiny model locally (tests/tiny_models.py), imports it into a private registry
(int8 where the drift check allows), then runs it through the model pool, as the executor does,
and checks the typed outputs DESIGN.md promises: labels, entities, text, boxes drawn onto a
copy of the image, depth maps and masks as PNG files. Random weights make the content
meaningless, so the checks are about kinds, shapes and files. The second half checks that the
ONNX graphs compute what the PyTorch model computes, within the int8 tolerance.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import tiny_models

from core.importer import DEFAULT_DRIFT_TOLERANCE, import_model

pytestmark = pytest.mark.timeout(600)


@dataclass
class Lab:
    """A private model cache with tiny models imported on first use (once per module)."""

    root: Path
    records: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from core.model_pool import ModelPool
        from core.registry import Registry

        self.registry = Registry(self.root / "cache")
        self.pool = ModelPool(self.registry)

    def record(self, key: str, family: str, task: str | None = None, **build_kwargs: Any):
        if key not in self.records:
            folder = tiny_models.build(family, self.root.parent, **build_kwargs)
            self.records[key] = import_model(folder, self.registry, task=task,
                                             model_id=f"tiny/{key}")
        return self.records[key]


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Lab:
    return Lab(tmp_path_factory.mktemp("runner-lab"))


@pytest.fixture()
def inputs(workspace):
    tiny_models.make_image(workspace.root / "pic.png")
    tiny_models.make_audio(workspace.root / "speech.wav")
    return workspace


def _labels(out: dict, allowed: set[str] | None = None) -> None:
    assert isinstance(out["labels"], list) and out["labels"]
    for item in out["labels"]:
        assert set(item) == {"label", "score"}
        assert isinstance(item["label"], str) and isinstance(item["score"], float)
        assert 0.0 <= item["score"] <= 1.0
        if allowed is not None:
            assert item["label"] in allowed
    scores = [item["score"] for item in out["labels"]]
    assert scores == sorted(scores, reverse=True)
    assert isinstance(out["text"], str) and out["text"]


def _png(workspace, name: str, size: tuple[int, int] | None = None):
    from PIL import Image

    path = workspace.resolve(name)
    assert path.is_file() and path.suffix == ".png"
    with Image.open(path) as image:
        if size is not None:
            assert image.size == size
        return image.copy()


# (case key, family, build kwargs, --task, onnx class, task, args, check)
CASES = [
    ("bert-sst", "bert", {"head": "text-classification"}, None,
     "ORTModelForSequenceClassification", "text-classification", {"text": "i love this movie"},
     lambda out, ws: _labels(out, {"NEGATIVE", "POSITIVE"})),
    ("distilbert-sst", "distilbert", {}, None, "ORTModelForSequenceClassification",
     "text-classification", {"text": "it was a terrible film"},
     lambda out, ws: _labels(out, {"NEGATIVE", "POSITIVE"})),
    ("bert-ner", "bert", {"head": "token-classification"}, None,
     "ORTModelForTokenClassification", "token-classification",
     {"text": "paris is in france"}, "entities"),
    ("bert-qa", "bert", {"head": "question-answering"}, None, "ORTModelForQuestionAnswering",
     "question-answering", {"text": "where is paris?", "context": "paris is in france"}, "qa"),
    ("bert-mlm", "bert", {"head": "fill-mask"}, None, "ORTModelForMaskedLM", "fill-mask",
     {"text": "the quick brown [MASK] jumps"}, "fill"),
    ("bert-nli", "bert", {"head": "zero-shot-classification"}, None,
     "ORTModelForSequenceClassification", "zero-shot-classification",
     {"text": "i love this movie", "labels": "film, cooking, politics"},
     lambda out, ws: _labels(out, {"film", "cooking", "politics"})),
    ("bert-embed", "bert", {"head": "text-classification"}, "sentence-similarity",
     "ORTModelForFeatureExtraction", "sentence-similarity",
     {"text": "a cat on a sofa", "text2": "the dog"}, "similarity"),
    ("bart-cnn", "bart", {}, None, "ORTModelForSeq2SeqLM", "summarization",
     {"text": "the quick brown fox jumps over the lazy dog. paris is in france."}, "text"),
    ("vit", "vit", {}, None, "ORTModelForImageClassification", "image-classification",
     {"image": "pic.png"}, lambda out, ws: _labels(out, {"cat", "dog", "sofa"})),
    ("yolos", "yolos", {}, None, "ORTModelForCustomTasks", "object-detection",
     {"image": "pic.png", "threshold": 0.0}, "boxes"),
    ("vit-gpt2", "vision-encoder-decoder", {}, None, "ORTModelForVision2Seq", "image-to-text",
     {"image": "pic.png"}, "text"),
    ("whisper", "whisper", {}, None, "ORTModelForSpeechSeq2Seq", "automatic-speech-recognition",
     {"audio": "speech.wav"}, "asr"),
    ("wav2vec2", "wav2vec2", {}, None, "ORTModelForCTC", "automatic-speech-recognition",
     {"audio": "speech.wav"}, "asr"),
    ("wav2vec2-audio", "wav2vec2-audio", {}, None, "ORTModelForAudioClassification",
     "audio-classification", {"audio": "speech.wav"},
     lambda out, ws: _labels(out, {"speech", "music", "dog bark"})),
    ("pix2struct-vqa", "pix2struct", {}, None, "ORTModelForPix2Struct",
     "visual-question-answering", {"image": "pic.png", "text": "what does it show?"}, "text"),
    ("glpn", "glpn", {}, None, "ORTModelForCustomTasks", "depth-estimation",
     {"image": "pic.png"}, "depth"),
    ("segformer", "segformer", {}, None, "ORTModelForSemanticSegmentation",
     "image-segmentation", {"image": "pic.png"}, "segments"),
]


def _check(kind: Any, out: dict, workspace) -> None:
    if callable(kind):
        kind(out, workspace)
    elif kind == "text":
        assert isinstance(out["text"], str)
    elif kind == "entities":
        assert isinstance(out["text"], str) and isinstance(out["entities"], list)
        for entity in out["entities"]:
            assert {"text", "label", "score", "start", "end"} <= set(entity)
    elif kind == "qa":
        assert isinstance(out["text"], str) and out["text"]
        assert 0 <= out["start"] <= out["end"] <= len("paris is in france")
    elif kind == "fill":
        assert len(out["labels"]) == 5 and all(isinstance(x["label"], str) for x in out["labels"])
        assert "[MASK]" not in out["text"]
    elif kind == "similarity":
        score = out["labels"][0]["score"]
        assert out["labels"][0]["label"] == "similarity" and -1.0 <= score <= 1.0
    elif kind == "asr":
        assert isinstance(out["text"], str) and out["duration_s"] == pytest.approx(1.0)
    elif kind == "boxes":
        assert out["boxes"], "threshold 0 keeps every detection"
        for item in out["boxes"]:
            x0, y0, x1, y1 = item["box"]
            assert all(isinstance(v, int) for v in item["box"])
            assert 0 <= x0 <= x1 <= 64 and 0 <= y0 <= y1 <= 48
            assert item["label"] in {"N/A", "cat", "sofa"}
        drawn = _png(workspace, out["image"], (64, 48))
        original = _png(workspace, "pic.png")
        assert drawn.tobytes() != original.tobytes(), "boxes are drawn onto a copy"
        assert original.tobytes() == _png(workspace, "pic.png").tobytes()
    elif kind == "depth":
        depth = _png(workspace, out["image"], (64, 48))
        assert depth.mode == "L"
        low, high = out["depth_range"]
        assert low <= high
    elif kind == "segments":
        _png(workspace, out["image"], (64, 48))
        assert out["masks"]
        for mask in out["masks"]:
            assert mask["label"] in {"background", "cat", "sofa"}
            assert _png(workspace, mask["mask"], (64, 48)).mode == "L"
            assert 0.0 < mask["area"] <= 1.0
    else:  # pragma: no cover - a typo in CASES
        raise AssertionError(kind)


@pytest.mark.parametrize("key,family,build_kwargs,task,onnx_class,run_task,args,kind", CASES,
                         ids=[case[0] for case in CASES])
def test_import_and_run(lab, inputs, key, family, build_kwargs, task, onnx_class, run_task,
                        args, kind):
    record = lab.record(key, family, task, **build_kwargs)
    assert record.runtime == "onnx-transformers"
    assert record.params["onnx_class"] == onnx_class
    assert run_task in record.all_tasks()
    out = lab.pool.run(record, run_task, dict(args), inputs)
    _check(kind, out, inputs)


def test_seq2seq_families_export_encoder_and_both_decoders(lab):
    for key, family in (("bart-cnn", "bart"), ("vit-gpt2", "vision-encoder-decoder"),
                        ("whisper", "whisper")):
        record = lab.record(key, family)
        files = set(record.params["files"])
        assert files == {"encoder_model.onnx", "decoder_model.onnx",
                         "decoder_with_past_model.onnx"}, key
        folder = lab.registry.resolve(record)
        assert (folder / "generation_config.json").is_file()
        assert (folder / "tokenizer.json").is_file() or (folder / "vocab.json").is_file()


def test_embedding_model_does_both_embedding_tasks(lab, inputs):
    record = lab.record("bert-embed", "bert", "sentence-similarity", head="text-classification")
    assert record.all_tasks() == ["sentence-similarity", "feature-extraction"]
    out = lab.pool.run(record, "feature-extraction", {"text": "a cat"}, inputs)
    assert len(out["embedding"]) == tiny_models.HIDDEN
    norm = sum(v * v for v in out["embedding"]) ** 0.5
    assert norm == pytest.approx(1.0, abs=1e-3)
    same = lab.pool.run(record, "sentence-similarity", {"text": "a cat", "text2": "a cat"},
                        inputs)
    assert same["labels"][0]["score"] == pytest.approx(1.0, abs=1e-3)


def test_nli_model_also_classifies(lab, inputs):
    record = lab.record("bert-nli", "bert", head="zero-shot-classification")
    assert record.task == "zero-shot-classification"
    assert "text-classification" in record.all_tasks()
    out = lab.pool.run(record, "text-classification", {"text": "a cat"}, inputs)
    _labels(out, {"contradiction", "neutral", "entailment"})


def test_bad_inputs_fail_with_task_input_errors(lab, inputs):
    from core.runners.base import TaskInputError

    text_model = lab.record("bert-mlm", "bert", head="fill-mask")
    with pytest.raises(TaskInputError, match="gap"):
        lab.pool.run(text_model, "fill-mask", {"text": "no gap here"}, inputs)
    with pytest.raises(TaskInputError, match="not 'summarization'"):
        lab.pool.run(text_model, "summarization", {"text": "hello"}, inputs)
    tiny_models.make_audio(inputs.root / "not-an-image.png")
    vision = lab.record("vit", "vit")
    with pytest.raises(TaskInputError, match="not a readable image"):
        lab.pool.run(vision, "image-classification", {"image": "not-an-image.png"}, inputs)
    detector = lab.record("yolos", "yolos")
    with pytest.raises(TaskInputError, match="threshold"):
        lab.pool.run(detector, "object-detection", {"image": "pic.png", "threshold": 3}, inputs)


def test_generation_is_capped_to_the_decoder_positions(lab, inputs):
    """Asking for more tokens than the decoder has positions must not crash inside the graph."""
    record = lab.record("bart-cnn", "bart")
    out = lab.pool.run(record, "summarization", {"text": "hello world", "max_new_tokens": 500},
                       inputs)
    assert isinstance(out["text"], str)


# ---------------------------------------------------------------- ONNX against PyTorch


AUTO_CLASSES = {
    "bert-sst": "AutoModelForSequenceClassification",
    "vit": "AutoModelForImageClassification",
    "yolos": "AutoModelForObjectDetection",
    "bart-cnn": "AutoModelForSeq2SeqLM",
    "vit-gpt2": "VisionEncoderDecoderModel",
    "whisper": "AutoModelForSpeechSeq2Seq",
    "wav2vec2": "AutoModelForCTC",
}


@pytest.mark.parametrize("key", list(AUTO_CLASSES))
def test_onnx_int8_matches_pytorch(lab, key):
    """The registered (int8) graphs give the PyTorch model's outputs, within the tolerance."""
    import torch
    import transformers

    from core.importer import (
        load_onnx_model,
        output_arrays,
        read_config,
        relative_drift,
        sanity_inputs,
        task_spec,
    )

    case = next(c for c in CASES if c[0] == key)
    record = lab.record(key, case[1], case[3], **case[2])
    assert record.params["quantized"] is True, record.params
    folder = lab.registry.resolve(record)
    source = tiny_models.build(case[1], lab.root.parent, **case[2])
    spec = task_spec(record.task, read_config(folder))
    inputs = sanity_inputs(folder, spec)
    reference_model = getattr(transformers, AUTO_CLASSES[key]).from_pretrained(source).eval()
    accepted = inspect.signature(reference_model.forward).parameters
    with torch.no_grad():
        reference = output_arrays(reference_model(**{k: v for k, v in inputs.items()
                                                     if k in accepted}))
        onnx = output_arrays(load_onnx_model(folder, spec.onnx_class)(**inputs))
    main = "pred_boxes" if key == "yolos" else "logits"
    assert main in reference and main in onnx
    assert onnx[main].shape == reference[main].shape
    drift = relative_drift({main: reference[main]}, onnx)
    assert drift <= DEFAULT_DRIFT_TOLERANCE, f"{key}: int8 drifted {drift:.4f} from PyTorch"
