"""The import path: sources, weights, task inference, int8 drift check, registry rows, removal.

Models are tiny random-weight ones built locally (tests/tiny_models.py) and imported into a
registry under tmp_path, never into the shared default cache. The selector test uses the real
controller to choose between two imported models for one task.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tiny_models

from core.hashing import hash_path
from core.importer import (
    DEFAULT_DRIFT_TOLERANCE,
    ImportModelError,
    OfflineError,
    PickleRefusedError,
    card_description,
    file_changes,
    import_model,
    infer_task,
    read_card,
    remove_model,
)
from core.registry import ModelNotFoundError, Registry

pytestmark = pytest.mark.timeout(600)


@pytest.fixture()
def registry_tmp(tmp_path) -> Registry:
    return Registry(tmp_path / "cache")


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory) -> Path:
    return tmp_path_factory.getbasetemp()


def _leftovers(registry: Registry) -> list[str]:
    return [p.name for p in registry.cache_dir.iterdir() if p.name.startswith(".importing-")]


def _op_types(folder: Path) -> set[str]:
    import onnx

    ops: set[str] = set()
    for graph in folder.glob("*.onnx"):
        ops |= {node.op_type for node in onnx.load(str(graph), load_external_data=False)
                .graph.node}
    return ops


# ---------------------------------------------------------------- model cards and tasks


CARD = """---
license: apache-2.0
language:
- en
tags:
- sentiment
- distilbert
pipeline_tag: text-classification
datasets:
- sst2
---

# DistilBERT SST-2

[![badge](https://img.shields.io/badge/x-y-z)](https://example.com)

This model is a fine-tuned checkpoint of [DistilBERT-base-uncased](https://huggingface.co/x),
fine-tuned on **SST-2**. It reaches an accuracy of 91.3 on the dev set.

```python
print("not a description")
```
"""


def test_card_metadata_and_first_prose_paragraph(tmp_path):
    (tmp_path / "README.md").write_text(CARD, encoding="utf-8")
    meta, body = read_card(tmp_path)
    assert meta["license"] == "apache-2.0" and meta["pipeline_tag"] == "text-classification"
    assert meta["tags"] == ["sentiment", "distilbert"]
    description = card_description(body)
    assert description.startswith("This model is a fine-tuned checkpoint of "
                                  "DistilBERT-base-uncased, fine-tuned on SST-2.")
    assert "badge" not in description and "print" not in description
    assert read_card(tmp_path / "missing") == ({}, "")


def test_card_with_broken_yaml_still_imports_its_prose(tmp_path):
    (tmp_path / "README.md").write_text("---\nlicense: [unclosed\n---\n\nA model that labels "
                                        "the sentiment of English product reviews.\n")
    meta, body = read_card(tmp_path)
    assert meta == {}
    assert card_description(body).startswith("A model that labels")


@pytest.mark.parametrize("config,card,requested,expected", [
    ({"model_type": "bert", "architectures": ["BertForTokenClassification"]}, {}, None,
     "token-classification"),
    ({"model_type": "distilbert", "architectures": ["DistilBertForSequenceClassification"]},
     {"pipeline_tag": "sentiment-analysis"}, None, "text-classification"),
    ({"model_type": "bart", "architectures": ["BartForSequenceClassification"],
      "id2label": {"0": "contradiction", "1": "neutral", "2": "entailment"}}, {}, None,
     "zero-shot-classification"),
    ({"model_type": "whisper", "architectures": ["WhisperForConditionalGeneration"]}, {}, None,
     "automatic-speech-recognition"),
    ({"model_type": "marian", "architectures": ["MarianMTModel"]}, {}, None, "translation"),
    ({"model_type": "t5", "architectures": ["T5ForConditionalGeneration"]},
     {"pipeline_tag": "translation_en_to_de"}, None, "translation"),
    ({"model_type": "bart", "architectures": ["BartForConditionalGeneration"]}, {},
     "summarization", "summarization"),
    ({"model_type": "wav2vec2", "architectures": ["Wav2Vec2ForSequenceClassification"]}, {},
     None, "audio-classification"),
    ({"model_type": "vision-encoder-decoder", "architectures": ["VisionEncoderDecoderModel"]},
     {"pipeline_tag": "image-to-text"}, None, "image-to-text"),
    ({"model_type": "yolos", "architectures": ["YolosForObjectDetection"]}, {}, None,
     "object-detection"),
    ({"model_type": "dpt", "architectures": ["DPTForDepthEstimation"]}, {}, None,
     "depth-estimation"),
])
def test_task_comes_from_request_card_or_architecture(config, card, requested, expected):
    assert infer_task(config, card, requested) == expected


def test_unknown_or_unsupported_tasks_are_refused_clearly():
    with pytest.raises(ImportModelError, match="pass --task"):
        infer_task({"model_type": "mystery", "architectures": ["MysteryThing"]}, {}, None)
    with pytest.raises(ImportModelError, match="not supported"):
        infer_task({"model_type": "bert"}, {}, "text-to-image")
    with pytest.raises(ImportModelError, match="GGUF"):
        infer_task({"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"]}, {},
                   "text-generation")


# ---------------------------------------------------------------- importing


def test_import_registers_a_complete_row(registry_tmp, tiny_root):
    folder = tiny_models.build("distilbert", tiny_root)
    steps: list[tuple[str, float]] = []
    record = import_model(folder, registry_tmp, model_id="tiny/distilbert-sst2",
                          progress=lambda step, fraction: steps.append((step, fraction)))
    row = registry_tmp.get("tiny/distilbert-sst2")
    assert row.runtime == "onnx-transformers" and row.task == "text-classification"
    assert row.license == "mit"  # from the card's YAML
    assert "tiny" in row.tags and "onnx" in row.tags and "int8" in row.tags
    assert row.description.startswith("A tiny random-weight distilbert")
    assert "Labels: NEGATIVE, POSITIVE." in row.description
    assert row.source == str(folder.resolve())
    assert row.path == "onnx/tiny--distilbert-sst2"
    assert (row.sha256, row.size_bytes) == hash_path(registry_tmp.resolve(row))
    assert row.sha256 == record.sha256 and row.size_bytes > 50_000
    params = row.params
    assert params["onnx_class"] == "ORTModelForSequenceClassification"
    assert params["pipeline_task"] == "text-classification"
    assert params["quantized"] is True and 0.0 <= params["drift"] <= DEFAULT_DRIFT_TOLERANCE
    assert row.quantization.startswith("int8")
    files = {p.name for p in registry_tmp.resolve(row).iterdir()}
    assert {"model.onnx", "config.json", "tokenizer.json", "tokenizer_config.json",
            "README.md"} <= files
    assert not any(name.endswith(".safetensors") for name in files)
    assert "MatMulInteger" in _op_types(registry_tmp.resolve(row))
    names = [step for step, _ in steps]
    for step in ("check", "export", "copy files", "quantize", "check int8", "register"):
        assert step in names and (step, 1.0) in steps
    assert registry_tmp.verify("tiny/distilbert-sst2")[0]["status"] == "ok"
    assert set(params["file_sha256"]) == files
    assert file_changes(registry_tmp, row) == {"missing": [], "changed": [], "extra": []}
    assert _leftovers(registry_tmp) == []


def test_verify_names_missing_changed_and_extra_files(registry_tmp, tiny_root):
    record = import_model(tiny_models.build("vit", tiny_root), registry_tmp)
    folder = registry_tmp.resolve(record)
    (folder / "README.md").unlink()
    (folder / "config.json").write_text("{}")
    (folder / "stray.txt").write_text("?")
    assert registry_tmp.verify(record.id)[0]["status"] == "changed"
    assert file_changes(registry_tmp, record) == {
        "missing": ["README.md"], "changed": ["config.json"], "extra": ["stray.txt"]}
    import shutil

    shutil.rmtree(folder)
    assert file_changes(registry_tmp, record)["missing"] == sorted(
        record.params["file_sha256"])


def test_int8_refused_when_outputs_drift_past_the_tolerance(registry_tmp, tiny_root):
    folder = tiny_models.build("bert", tiny_root, head="text-classification")
    strict = import_model(folder, registry_tmp, model_id="tiny/strict", drift_tolerance=0.0)
    assert strict.params["quantized"] is False
    assert strict.params["drift"] > 0.0
    assert "kept fp32" in strict.params["int8_refused"]
    assert strict.quantization == "none (fp32)" and "fp32" in strict.tags
    assert "MatMulInteger" not in _op_types(registry_tmp.resolve(strict))
    lenient = import_model(folder, registry_tmp, model_id="tiny/lenient")
    assert lenient.params["quantized"] is True
    assert lenient.params["drift"] == pytest.approx(strict.params["drift"], rel=1e-3)
    assert lenient.size_bytes < strict.size_bytes


def test_the_int8_check_runs_the_cached_decoding_step(registry_tmp, tiny_root, monkeypatch):
    """Generation runs decoder_with_past_model.onnx after the first token; a quantiser fault in
    that graph alone (its weight scales 30% off) must make the import keep fp32."""
    import onnx
    from onnx import numpy_helper

    import core.importer as importer

    folder = tiny_models.build("bart", tiny_root)
    assert import_model(folder, registry_tmp, model_id="tiny/good").params["quantized"] is True
    quantize = importer.drift.quantize_folder

    def faulty_with_past(source, dest, progress=None):
        names = quantize(source, dest, progress)
        graph = onnx.load(str(dest / "decoder_with_past_model.onnx"))
        for weight in graph.graph.initializer:
            if weight.name.endswith("_scale") and weight.data_type == onnx.TensorProto.FLOAT:
                weight.CopyFrom(numpy_helper.from_array(
                    numpy_helper.to_array(weight) * 1.3, weight.name))
        onnx.save(graph, str(dest / "decoder_with_past_model.onnx"))
        return names

    monkeypatch.setattr(importer.onnx_export, "quantize_folder", faulty_with_past)
    record = import_model(folder, registry_tmp, model_id="tiny/faulty")
    assert record.params["quantized"] is False and "kept fp32" in record.params["int8_refused"]
    assert record.params["drift"] > DEFAULT_DRIFT_TOLERANCE


def test_quantize_none_keeps_fp32_without_measuring(registry_tmp, tiny_root):
    folder = tiny_models.build("vit", tiny_root)
    record = import_model(folder, registry_tmp, quantize="none")
    assert record.id == "local/vit"
    assert record.params["quantized"] is False and record.params["drift"] is None
    with pytest.raises(ImportModelError, match="int8 or none"):
        import_model(folder, registry_tmp, quantize="int4")


def test_dense_pixel_tasks_stay_fp32(registry_tmp, tiny_root):
    record = import_model(tiny_models.build("glpn", tiny_root), registry_tmp)
    assert record.params["quantized"] is False and "int8_skipped" in record.params


def test_pickle_weights_are_refused_unless_trusted(registry_tmp, tiny_root, tmp_path):
    import shutil

    import torch
    from safetensors.torch import load_file

    source = tiny_models.build("distilbert", tiny_root)
    folder = tmp_path / "pickled"
    shutil.copytree(source, folder)
    weights = load_file(str(folder / "model.safetensors"))
    (folder / "model.safetensors").unlink()
    torch.save(weights, folder / "pytorch_model.bin")
    with pytest.raises(PickleRefusedError, match="pytorch_model.bin.*--trust-pickle"):
        import_model(folder, registry_tmp)
    assert registry_tmp.all() == [] and _leftovers(registry_tmp) == []
    assert not (registry_tmp.cache_dir / "onnx").exists()
    record = import_model(folder, registry_tmp, trust_pickle=True)
    assert record.id == "local/pickled" and record.params["quantized"] is True


def test_folders_without_weights_or_config_are_refused(registry_tmp, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImportModelError, match="no model weights"):
        import_model(tmp_path / "empty", registry_tmp)
    (tmp_path / "noconfig").mkdir()
    (tmp_path / "noconfig" / "model.safetensors").write_bytes(b"x")
    with pytest.raises(ImportModelError, match="no config.json"):
        import_model(tmp_path / "noconfig", registry_tmp)
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ImportModelError, match="not a .gguf"):
        import_model(tmp_path / "notes.txt", registry_tmp)
    with pytest.raises(ImportModelError, match="does not exist"):
        import_model(tmp_path / "nowhere", registry_tmp)


def test_hub_ids_offline_fail_clearly(registry_tmp, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(OfflineError, match="HF_HUB_OFFLINE=1.*HF_HUB_OFFLINE=0"):
        import_model("distilbert/distilbert-base-uncased-finetuned-sst-2-english",
                     registry_tmp)
    with pytest.raises(ImportModelError, match="neither"):
        import_model("not a valid id!", registry_tmp)
    assert registry_tmp.all() == []


def test_hub_errors_become_one_clear_line(registry_tmp, monkeypatch):
    """Online but unreachable (simulated: tests never touch the network)."""
    import huggingface_hub

    import core.importer as importer

    class Unreachable:
        def model_info(self, repo_id, **kwargs):
            raise ConnectionError("Failed to resolve 'huggingface.co'")

    monkeypatch.setattr(importer, "hub_offline", lambda: False)
    monkeypatch.setattr(importer.sources, "hub_offline", lambda: False)
    monkeypatch.setattr(huggingface_hub, "HfApi", Unreachable)
    with pytest.raises(ImportModelError, match="could not fetch org/model.*ConnectionError"):
        import_model("org/model", registry_tmp)


def test_ids_already_registered_need_replace(registry_tmp, tiny_root):
    folder = tiny_models.build("distilbert", tiny_root)
    first = import_model(folder, registry_tmp, model_id="tiny/x")
    with pytest.raises(ImportModelError, match="already registered"):
        import_model(folder, registry_tmp, model_id="tiny/x")
    again = import_model(folder, registry_tmp, model_id="tiny/x", quantize="none", replace=True)
    assert again.params["quantized"] is False and first.params["quantized"] is True
    assert registry_tmp.verify("tiny/x")[0]["status"] == "ok"
    with pytest.raises(ImportModelError, match="may hold only"):
        import_model(folder, registry_tmp, model_id="../escape")


def test_a_failed_export_leaves_nothing_behind(registry_tmp, tiny_root):
    folder = tiny_models.build("distilbert", tiny_root)
    with pytest.raises(ImportModelError, match="only for Pix2Struct"):
        import_model(folder, registry_tmp, task="visual-question-answering")
    with pytest.raises(ImportModelError, match="no ONNX export of distilbert for object"):
        import_model(folder, registry_tmp, task="object-detection")
    assert registry_tmp.all() == [] and _leftovers(registry_tmp) == []
    assert not (registry_tmp.cache_dir / "onnx").exists()


def test_already_exported_onnx_folders_import_without_export(registry_tmp, tiny_root,
                                                             tmp_path):
    """A transformers.js-style folder (graphs in onnx/, quantised variants beside them)."""
    import shutil

    first = import_model(tiny_models.build("vit", tiny_root), registry_tmp, quantize="none",
                         model_id="tiny/vit-fp32")
    exported = tmp_path / "vit-onnx"
    shutil.copytree(registry_tmp.resolve(first), exported)
    (exported / "onnx").mkdir()
    (exported / "model.onnx").rename(exported / "onnx" / "model.onnx")
    (exported / "onnx" / "model_quantized.onnx").write_bytes(b"not used")
    record = import_model(exported, registry_tmp, model_id="tiny/vit-preexported")
    assert record.params["files"] == ["model.onnx"] and record.params["quantized"] is True
    assert record.task == "image-classification"


# ---------------------------------------------------------------- GGUF controllers


def _tiny_gguf(path: Path, license_name: str = "apache-2.0") -> Path:
    import gguf
    import numpy as np

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("Tiny Test LLM")
    writer.add_license(license_name)
    writer.add_context_length(8192)
    writer.add_chat_template("{% for m in messages %}{{ m.content }}{% endfor %}")
    writer.add_tensor("token_embd.weight", np.zeros((4, 4), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_gguf_imports_as_a_controller(registry_tmp, tmp_path):
    path = _tiny_gguf(tmp_path / "tiny-llm-Q8_0.gguf")
    record = import_model(path, registry_tmp)
    assert record.id == "gguf/tiny-llm-Q8_0"
    assert record.runtime == "llama.cpp" and record.task == "text-generation"
    assert {"summarization", "conversational"} <= set(record.all_tasks())
    assert record.license == "apache-2.0" and record.quantization == "Q8_0"
    assert record.params["chat_template"] == "gguf-metadata"
    assert record.params["n_ctx"] == 4096 and record.params["context_length"] == 8192
    assert record.path == "llm/tiny-llm-Q8_0.gguf"
    assert (registry_tmp.cache_dir / record.path).read_bytes() == path.read_bytes()
    assert registry_tmp.controllers()[0].id == record.id
    assert registry_tmp.candidates("summarization") == []  # controllers are not experts
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"NOPE" + b"\0" * 64)
    with pytest.raises(ImportModelError, match="not a GGUF"):
        import_model(bad, registry_tmp)


# ---------------------------------------------------------------- removing


def test_remove_deletes_files_inside_the_cache_only(registry_tmp, tiny_root, tmp_path):
    import dataclasses

    record = import_model(tiny_models.build("distilbert", tiny_root), registry_tmp)
    folder = registry_tmp.resolve(record)
    remove_model(registry_tmp, record.id)
    assert not folder.exists()
    with pytest.raises(ModelNotFoundError):
        registry_tmp.get(record.id)
    outside = tmp_path / "users-own-model.bin"
    outside.write_bytes(b"keep me")
    registry_tmp.register(dataclasses.replace(record, id="own/model", path=str(outside)))
    remove_model(registry_tmp, "own/model")
    assert outside.read_bytes() == b"keep me"
    with pytest.raises(ModelNotFoundError):
        remove_model(registry_tmp, "own/model")


# ---------------------------------------------------------------- selection


def test_selector_sees_imported_models_and_the_llm_chooses(registry_tmp, tiny_root, tmp_path,
                                                           controller):
    """Two imported models for one task: the controller picks the one whose card fits the
    request, and the reason is a clause of that card."""
    import shutil

    from core.plan import TaskNode
    from core.selector import Selector, description_clauses

    cards = {
        "reviews": "A sentiment classifier for English movie and product reviews: says "
                   "whether a review is positive or negative.",
        "tweets": "Un clasificador de sentimiento para tuits en español, entrenado con "
                  "publicaciones cortas de Twitter con emojis.",
    }
    for name, text in cards.items():
        folder = tmp_path / name
        shutil.copytree(tiny_models.build("distilbert", tiny_root), folder)
        (folder / "README.md").write_text(f"---\nlicense: mit\n---\n\n{text}\n")
        import_model(folder, registry_tmp, model_id=f"tiny/{name}")
    selector = Selector(registry_tmp, controller, writer_record=None)
    assert len(registry_tmp.candidates("text-classification")) == 2
    for request, right in (("Is this movie review positive? I loved this movie!", "reviews"),
                           ("¿Es positivo este tuit? ¡Qué día tan bonito! ☀️", "tweets")):
        text = request.split("? ", 1)[1]
        choice = selector.select_one(request, TaskNode("text-classification", 0, [-1],
                                                       {"text": text}))
        assert choice.llm_decided is True and choice.model_id == f"tiny/{right}", request
        assert sorted(choice.candidates) == ["tiny/reviews", "tiny/tweets"]
        # the reason is a clause of the chosen model's own description, never invented text
        assert choice.reason in description_clauses(cards[right])
        assert choice.to_json()["reason"] == choice.reason


# ---------------------------------------------------------------- the CLI


def test_cli_import_list_remove_and_offline_hub_id(tmp_path, tiny_root):
    from helpers import run_cli

    folder = tiny_models.build("distilbert", tiny_root)
    cache, data, log = tmp_path / "cache", tmp_path / "data", tmp_path / "net.log"
    done = run_cli(["models", "import", str(folder), "--id", "tiny/cli", "--json"], data, cache,
                   log)
    assert done.returncode == 0, done.stderr
    row = json.loads(done.stdout)
    assert row["id"] == "tiny/cli" and row["params"]["quantized"] is True
    for step in ("export", "quantize", "register"):
        assert step in done.stderr  # one progress bar per step
    listed = run_cli(["models", "list", "--task", "text-classification"], data, cache, log)
    assert "tiny/cli" in listed.stdout
    offline = run_cli(["models", "import", "hustvl/yolos-tiny"], data, cache, log)
    assert offline.returncode == 2 and "HF_HUB_OFFLINE=1" in offline.stderr
    refused = run_cli(["models", "import", str(folder), "--id", "tiny/cli"], data, cache, log)
    assert refused.returncode == 2 and "already registered" in refused.stderr
    (cache / "onnx" / "tiny--cli" / "tokenizer.json").write_text("{}")
    verified = run_cli(["models", "verify", "tiny/cli"], data, cache, log)
    assert verified.returncode == 1
    assert "changed  tiny/cli" in verified.stdout and "changed: tokenizer.json" in verified.stdout
    removed = run_cli(["models", "remove", "tiny/cli"], data, cache, log)
    assert removed.returncode == 0 and "removed tiny/cli" in removed.stdout
    assert not (cache / "onnx" / "tiny--cli").exists()
    assert not log.exists() or not log.read_text().strip()


# ---------------------------------------------------------------- the standard set script


def _standard_set_script():
    import importlib.util
    import sys

    path = Path(__file__).resolve().parent.parent / "scripts" / "import_standard_set.py"
    spec = importlib.util.spec_from_file_location("import_standard_set", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_standard_set_script_fails_clearly_offline(tmp_path, monkeypatch, capsys):
    script = _standard_set_script()
    families = {m.task for m in script.STANDARD_SET}
    assert {"image-classification", "object-detection", "image-to-text",
            "automatic-speech-recognition", "text-classification", "token-classification",
            "summarization", "translation"} <= families
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cache = tmp_path / "cache"
    assert script.main(["--cache", str(cache)]) == script.EXIT_OFFLINE
    assert "HF_HUB_OFFLINE=1" in capsys.readouterr().err
    assert not cache.exists()


def test_standard_set_script_stops_when_the_hub_is_unreachable(tmp_path, monkeypatch, capsys):
    import huggingface_hub

    import core.importer as importer

    class Unreachable:
        def model_info(self, repo_id, **kwargs):
            raise ConnectionError("Failed to resolve 'huggingface.co'")

    script = _standard_set_script()
    monkeypatch.setattr(importer, "hub_offline", lambda: False)
    monkeypatch.setattr(importer.sources, "hub_offline", lambda: False)
    monkeypatch.setattr(huggingface_hub, "HfApi", Unreachable)
    cache = tmp_path / "cache"
    assert script.main(["--cache", str(cache), "--extras"]) == script.EXIT_OFFLINE
    assert "cannot reach the Hugging Face hub" in capsys.readouterr().err
    assert not cache.exists()


def test_an_imported_models_skill_inside_its_task_is_recorded():
    from core.importer import card_skill

    assert card_skill("Helsinki-NLP/opus-mt-en-de", "translation", {"model_type": "marian"}, {}) \
        == "en-de"
    assert card_skill("my/translator", "translation", {}, {"language": ["en", "fr"]}) == "en-fr"
    assert card_skill("microsoft/trocr-small-printed", "image-to-text",
                  {"model_type": "vision-encoder-decoder", "decoder": {"model_type": "trocr"}},
                  {}) == "ocr"
    assert card_skill("Salesforce/blip-image-captioning-base", "image-to-text",
                  {"model_type": "blip"}, {}) == "captioning"
    assert card_skill("some/classifier", "text-classification", {}, {}) == ""
