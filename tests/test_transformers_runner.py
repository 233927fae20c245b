"""The generic ONNX runner on tiny random-weight models of every supported architecture family.

Each case builds a tiny model locally (tests/tiny_models.py), imports it into a private registry
(int8 where the drift check allows), then runs it through the model pool, as the executor does,
and checks the typed outputs DESIGN.md promises: labels, entities, text, boxes drawn onto a
copy of the image, depth maps and masks as PNG files. Random weights make the content
meaningless, so the checks are about kinds, shapes and files. The second half checks, for every
case, that the registered ONNX graphs (decoder_with_past included) compute what the PyTorch model
computes: int8 within the import tolerance, the fp32 ones to float rounding.
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
#
# The importer keeps int8 when its int8 graphs stay close to its fp32 graphs on its own sanity
# input, run through optimum's classes. None of that is reused here, so a fault in it cannot hide
# itself: the inputs are made below with each model's own processor, the registered graph files
# run in bare ONNX Runtime sessions, the reference is the PyTorch model of the source folder, and
# the drift formula is written out below.

INT8_TOLERANCE = DEFAULT_DRIFT_TOLERANCE
"""README's promise: int8 outputs within max |PyTorch - ONNX| / max |PyTorch| <= 0.05."""
FP32_TOLERANCE = 1e-3
"""Graphs kept fp32 differ from PyTorch only by float rounding and fused kernels (~1e-6)."""
FP32_CASES = {"glpn", "segformer"}  # per-pixel maps, kept fp32 by the importer (README)
SEQ2SEQ_CASES = ("bart-cnn", "vit-gpt2", "whisper", "pix2struct-vqa")
DECODER_TEXT = tiny_models.CORPUS[0]
"""Its first DECODER_STEPS tokens, after the start token, are fed to the decoders (teacher forcing:
fixed tokens, so PyTorch and ONNX are compared at the same positions whatever they would pick)."""
DECODER_STEPS = 4
CASE_BY_KEY = {case[0]: case for case in CASES}

# case key -> (transformers class of the PyTorch reference, the outputs the runner's pipeline
# reads). Encoder-decoders compare the encoder's states and the decoder's logits instead.
REFERENCES = {
    "bert-sst": ("AutoModelForSequenceClassification", ("logits",)),
    "distilbert-sst": ("AutoModelForSequenceClassification", ("logits",)),
    "bert-ner": ("AutoModelForTokenClassification", ("logits",)),
    "bert-qa": ("AutoModelForQuestionAnswering", ("start_logits", "end_logits")),
    "bert-mlm": ("AutoModelForMaskedLM", ("logits",)),
    "bert-nli": ("AutoModelForSequenceClassification", ("logits",)),
    "bert-embed": ("AutoModel", ("last_hidden_state",)),
    "bart-cnn": ("AutoModelForSeq2SeqLM", ()),
    "vit": ("AutoModelForImageClassification", ("logits",)),
    "yolos": ("AutoModelForObjectDetection", ("logits", "pred_boxes")),
    "vit-gpt2": ("VisionEncoderDecoderModel", ()),
    "whisper": ("AutoModelForSpeechSeq2Seq", ()),
    "wav2vec2": ("AutoModelForCTC", ("logits",)),
    "wav2vec2-audio": ("AutoModelForAudioClassification", ("logits",)),
    "pix2struct-vqa": ("Pix2StructForConditionalGeneration", ()),
    "glpn": ("AutoModelForDepthEstimation", ("predicted_depth",)),
    "segformer": ("AutoModelForSemanticSegmentation", ("logits",)),
}


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    """The picture and the sound the runner cases use, under the names their args give."""
    folder = tmp_path_factory.mktemp("media")
    tiny_models.make_image(folder / "pic.png")
    tiny_models.make_audio(folder / "speech.wav")
    return folder


def _imported(lab: Lab, key: str) -> tuple[Any, Path, Path]:
    """A case's registry row, its imported folder and the source folder it was imported from."""
    _, family, build_kwargs, task, *_ = CASE_BY_KEY[key]
    record = lab.record(key, family, task, **build_kwargs)
    source = tiny_models.build(family, lab.root.parent, **build_kwargs)
    return record, lab.registry.resolve(record), source


def _has_int8_weights(graph: Path) -> bool:
    import onnx

    model = onnx.load(str(graph), load_external_data=False)
    return any(tensor.data_type == onnx.TensorProto.INT8 for tensor in model.graph.initializer)


def _tolerance(key: str, record: Any, folder: Path) -> float:
    """The promise that applies: int8 for every family but the per-pixel maps, which the importer
    keeps fp32. What the row says is checked against the graph files themselves."""
    params = record.params
    int8_graphs = [name for name in params["files"] if _has_int8_weights(folder / name)]
    if key in FP32_CASES:
        assert params["quantized"] is False and "int8_skipped" in params, params
        assert int8_graphs == [], "a model recorded as fp32 ships int8 graphs"
        return FP32_TOLERANCE
    assert params["quantized"] is True and "int8_refused" not in params, params
    assert int8_graphs == params["files"], "a model recorded as int8 ships fp32 graphs"
    return INT8_TOLERANCE


def _model_inputs(key: str, folder: Path, media: Path) -> dict[str, Any]:
    """The case's own text, picture or sound through the processor saved in the imported folder
    (NumPy, as ONNX Runtime takes it). The zero-shot pipeline feeds premise/hypothesis pairs, so
    the NLI case does too, with the pipeline's default hypothesis for its first label."""
    args = CASE_BY_KEY[key][6]
    if "audio" in args:
        import soundfile
        from transformers import AutoFeatureExtractor

        samples, rate = soundfile.read(media / args["audio"], dtype="float32")
        batch = AutoFeatureExtractor.from_pretrained(folder)(samples, sampling_rate=rate,
                                                             return_tensors="np")
    elif "image" in args:
        from PIL import Image
        from transformers import AutoImageProcessor

        from core.runners.onnx_loading import font_kwargs

        # Pix2Struct VQA renders the question onto the picture, with a local font (offline).
        extra = {"header_text": args["text"], **font_kwargs()} if "text" in args else {}
        with Image.open(media / args["image"]) as image:
            batch = AutoImageProcessor.from_pretrained(folder)(
                images=image.convert("RGB"), return_tensors="np", **extra)
    else:
        from transformers import AutoTokenizer

        second = args.get("context")
        if "labels" in args:
            second = f"This example is {args['labels'].split(',')[0].strip()}."
        batch = AutoTokenizer.from_pretrained(folder)(args["text"], second, return_tensors="np")
    return dict(batch)


def _session(graph: Path) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3  # quantised graphs log harmless warnings otherwise
    return ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])


def _run_graph(session: Any, feeds: dict[str, Any]) -> dict[str, Any]:
    """Every output of one graph by name; each input the graph declares must be in ``feeds``,
    cast to the declared type (Pix2Struct's processor makes a float mask, the graph takes int64).
    """
    declared = {item.name: item.type for item in session.get_inputs()}
    missing = [name for name in declared if name not in feeds]
    assert not missing, f"the graph wants {missing}, which the test does not make"
    types = {"tensor(int64)": "int64", "tensor(float)": "float32"}
    values = session.run(None, {name: feeds[name].astype(types[kind])
                                for name, kind in declared.items()})
    return dict(zip([item.name for item in session.get_outputs()], values, strict=True))


def _run_pytorch(key: str, source: Path, inputs: dict[str, Any]) -> dict[str, Any]:
    """The PyTorch model of the source folder on the same inputs; its tensor outputs as NumPy."""
    import torch
    import transformers

    model = getattr(transformers, REFERENCES[key][0]).from_pretrained(source).eval()
    accepted = inspect.signature(model.forward).parameters
    with torch.no_grad():
        outputs = model(**{name: torch.from_numpy(value) for name, value in inputs.items()
                           if name in accepted})
    return {name: value.numpy() for name, value in outputs.items()
            if isinstance(value, torch.Tensor)}


def _drift(reference: Any, candidate: Any) -> float:
    """max |reference - candidate| / max |reference|: the README's measure, 0 when identical."""
    import numpy as np

    assert candidate.shape == reference.shape
    scale = float(np.abs(reference).max())
    assert scale > 0, "an all-zero reference compares nothing"
    return float(np.abs(reference.astype(np.float64) - candidate).max()) / scale


def _embedding(hidden: Any) -> Any:
    """The runner's embedding: token states mean-pooled (one unpadded text), unit length."""
    import numpy as np

    vector = hidden.reshape(-1, hidden.shape[-1]).mean(axis=0)
    return vector / np.linalg.norm(vector)


def _decoder_tokens(folder: Path) -> Any:
    """The generation config's start token, then the first tokens of DECODER_TEXT."""
    import numpy as np
    from transformers import AutoTokenizer, GenerationConfig

    start = GenerationConfig.from_pretrained(folder).decoder_start_token_id
    words = AutoTokenizer.from_pretrained(folder)(DECODER_TEXT, add_special_tokens=False)
    tokens = [start, *words["input_ids"][:DECODER_STEPS]]
    assert len(tokens) == DECODER_STEPS + 1
    return np.array([tokens], dtype=np.int64)


def _decoder_feeds(tokens: Any, encoder: dict[str, Any], inputs: dict[str, Any],
                   past: dict[str, Any] | None = None, done: int = 0) -> dict[str, Any]:
    """What a decoder graph may ask for: the new tokens, the encoder's states and mask, a decoder
    mask over the ``done`` earlier tokens and the new ones, and the cache under its input names."""
    import numpy as np

    feeds = {"input_ids": tokens, "encoder_hidden_states": encoder["last_hidden_state"],
             "attention_mask": np.ones((1, done + tokens.shape[1]), dtype=np.int64),
             **(past or {})}
    if "attention_mask" in inputs:  # BART's tokens, Pix2Struct's patches (some are padding)
        feeds["encoder_attention_mask"] = inputs["attention_mask"]
    return feeds


def _cache(outputs: dict[str, Any]) -> dict[str, Any]:
    """A decoder's ``present.*`` outputs renamed to the ``past_key_values.*`` inputs they feed."""
    return {name.replace("present", "past_key_values", 1): value
            for name, value in outputs.items() if name.startswith("present")}


def _assert_within(key: str, drifts: dict[str, float], tolerance: float) -> None:
    worst = max(drifts, key=drifts.__getitem__)
    assert drifts[worst] <= tolerance, (f"{key}: {worst} drifted {drifts[worst]:.4g} from "
                                        f"PyTorch (tolerance {tolerance}); all: {drifts}")


@pytest.mark.parametrize("key", list(CASE_BY_KEY))
def test_onnx_matches_pytorch(lab, media, key):
    """The registered graphs compute what the PyTorch source model computes on the case's input:
    int8 within the import tolerance, fp32 to float rounding. Encoder-decoders: the encoder's
    states, then decoder_model.onnx's logits over fixed tokens on the ONNX encoder's states."""
    record, folder, source = _imported(lab, key)
    tolerance = _tolerance(key, record, folder)
    inputs = _model_inputs(key, folder, media)
    if key in SEQ2SEQ_CASES:
        tokens = _decoder_tokens(folder)
        reference = _run_pytorch(key, source, {**inputs, "decoder_input_ids": tokens})
        encoder = _run_graph(_session(folder / "encoder_model.onnx"), inputs)
        decoder = _run_graph(_session(folder / "decoder_model.onnx"),
                             _decoder_feeds(tokens, encoder, inputs))
        drifts = {"encoder states": _drift(reference["encoder_last_hidden_state"],
                                           encoder["last_hidden_state"]),
                  "decoder logits": _drift(reference["logits"], decoder["logits"])}
    else:
        assert record.params["files"] == ["model.onnx"]
        onnx = _run_graph(_session(folder / "model.onnx"), inputs)
        reference = _run_pytorch(key, source, inputs)
        drifts = {name: _drift(reference[name], onnx[name]) for name in REFERENCES[key][1]}
        if key == "bert-embed":
            drifts["embedding"] = _drift(_embedding(reference["last_hidden_state"]),
                                         _embedding(onnx["last_hidden_state"]))
    _assert_within(key, drifts, tolerance)


@pytest.mark.parametrize("key", SEQ2SEQ_CASES)
def test_decoder_with_past_matches_pytorch_step_by_step(lab, media, key):
    """Generation runs decoder_with_past_model.onnx for every token after the first, a graph the
    importer's drift check never runs. Fixed tokens go through it one step at a time, each on
    the cache the previous step returned; each step's logits must match PyTorch's logits at
    that position (one teacher-forced pass over all the tokens)."""
    record, folder, source = _imported(lab, key)
    assert "decoder_with_past_model.onnx" in record.params["files"]
    tolerance = _tolerance(key, record, folder)
    inputs = _model_inputs(key, folder, media)
    tokens = _decoder_tokens(folder)
    reference = _run_pytorch(key, source, {**inputs, "decoder_input_ids": tokens})["logits"]
    encoder = _run_graph(_session(folder / "encoder_model.onnx"), inputs)
    first = _run_graph(_session(folder / "decoder_model.onnx"),
                       _decoder_feeds(tokens[:, :1], encoder, inputs))
    cache = _cache(first)
    with_past = _session(folder / "decoder_with_past_model.onnx")
    drifts = {}
    for step in range(1, tokens.shape[1]):
        outputs = _run_graph(with_past, _decoder_feeds(tokens[:, step:step + 1], encoder,
                                                       inputs, cache, done=step))
        grown = _cache(outputs)
        assert grown and all(value.shape[2] == step + 1 for name, value in grown.items()
                             if "encoder" not in name), "the cache grows by one per step"
        cache.update(grown)  # encoder-attention keys/values come once, from the first step
        drifts[f"step {step} logits"] = _drift(reference[:, step:step + 1], outputs["logits"])
    _assert_within(key, drifts, tolerance)
