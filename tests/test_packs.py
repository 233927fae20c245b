"""Air-gapped packs: a round trip installs working models; a damaged pack changes nothing.

The source registry holds one tiny imported ONNX model (a folder) and one GGUF-like single-file
model; packs are written from it and installed into fresh registries under tmp_path.
"""

from __future__ import annotations

import dataclasses
import io
import json
import tarfile
from pathlib import Path

import pytest
import tiny_models

from core.importer import import_model
from core.packs import PackError, pack_models, read_manifest, unpack_models
from core.registry import ModelRecord, Registry

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Registry:
    """A registry with a tiny ONNX classifier (folder) and a single-file model."""
    registry = Registry(tmp_path_factory.mktemp("pack-source") / "cache")
    folder = tiny_models.build("distilbert", tmp_path_factory.getbasetemp())
    import_model(folder, registry, model_id="tiny/sst2")
    weights = registry.cache_dir / "llm" / "tiny-model.gguf"
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"GGUF" + bytes(range(256)) * 64)
    registry.register(ModelRecord(
        id="tiny/llm", task="text-generation", runtime="llama.cpp", path="llm/tiny-model.gguf",
        description="a stand-in controller file", license="apache-2.0", source="test",
        tasks=["summarization"], params={"n_ctx": 2048}))
    return registry


@pytest.fixture(scope="module")
def pack(source, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("packs") / "models.tar"
    pack_models(source, ["tiny/sst2", "tiny/llm"], path)
    return path


def _state(registry: Registry) -> tuple[list[str], list[str]]:
    """Registered ids and every file in the cache except the database (to prove no change)."""
    files = sorted(p.relative_to(registry.cache_dir).as_posix()
                   for p in registry.cache_dir.rglob("*")
                   if p.is_file() and not p.name.startswith("registry.db"))
    return [r.id for r in registry.all()], files


def test_manifest_lists_rows_and_checksums(pack, source):
    manifest = read_manifest(pack)
    assert manifest["format"] == "conductor-pack" and manifest["version"] == 1
    by_id = {m["id"]: m for m in manifest["models"]}
    assert set(by_id) == {"tiny/sst2", "tiny/llm"}
    sst2 = by_id["tiny/sst2"]
    assert sst2["sha256"] == source.get("tiny/sst2").sha256
    assert sst2["record"]["runtime"] == "onnx-transformers"
    assert sst2["record"]["params"]["onnx_class"] == "ORTModelForSequenceClassification"
    names = {f["name"] for f in sst2["files"]}
    assert "models/onnx/tiny--sst2/model.onnx" in names
    assert all(len(f["sha256"]) == 64 and f["size"] > 0 for f in sst2["files"])
    assert by_id["tiny/llm"]["files"][0]["name"] == "models/llm/tiny-model.gguf"
    with tarfile.open(pack) as tar:
        assert tar.getnames()[0] == "manifest.json"


def test_round_trip_installs_working_models(pack, source, tmp_path, workspace):
    from core.model_pool import ModelPool

    target = Registry(tmp_path / "offline-cache")
    steps: list[str] = []
    records = unpack_models(target, pack, progress=lambda step, f: steps.append(step))
    assert sorted(r.id for r in records) == ["tiny/llm", "tiny/sst2"]
    assert "verify" in steps and "register" in steps
    for model_id in ("tiny/sst2", "tiny/llm"):
        before, after = source.get(model_id), target.get(model_id)
        assert dataclasses.replace(after, installed_at="") == dataclasses.replace(
            before, installed_at="")
    assert all(row["status"] == "ok" for row in target.verify())
    out = ModelPool(target).run(target.get("tiny/sst2"), "text-classification",
                                {"text": "i love this movie"}, workspace)
    assert {x["label"] for x in out["labels"]} == {"NEGATIVE", "POSITIVE"}
    assert [p for p in target.cache_dir.iterdir() if p.name.startswith(".unpacking-")] == []
    again = unpack_models(target, pack)  # identical models already installed: kept as they are
    assert sorted(r.id for r in again) == ["tiny/llm", "tiny/sst2"]


def _corrupt_member(pack: Path, dest: Path, name: str) -> Path:
    """A copy of the pack with one byte of one member's data flipped (a bad disk or transfer)."""
    data = bytearray(pack.read_bytes())
    with tarfile.open(pack) as tar:
        member = tar.getmember(name)
        offset = member.offset_data + member.size // 2
    data[offset] ^= 0xFF
    dest.write_bytes(bytes(data))
    return dest


def test_a_corrupted_pack_changes_nothing(pack, tmp_path):
    target = Registry(tmp_path / "cache")
    before = _state(target)
    damaged = _corrupt_member(pack, tmp_path / "damaged.tar",
                              "models/onnx/tiny--sst2/model.onnx")
    with pytest.raises(PackError, match="checksum mismatch.*model.onnx.*nothing was installed"):
        unpack_models(target, damaged)
    assert _state(target) == before == ([], [])
    assert [p.name for p in target.cache_dir.iterdir() if p.is_dir()] == []


def test_a_corruption_in_the_last_model_registers_not_even_the_first(pack, tmp_path):
    target = Registry(tmp_path / "cache")
    damaged = _corrupt_member(pack, tmp_path / "damaged.tar", "models/llm/tiny-model.gguf")
    with pytest.raises(PackError, match="tiny-model.gguf"):
        unpack_models(target, damaged)
    assert _state(target) == ([], [])


def test_a_truncated_pack_changes_nothing(pack, tmp_path):
    target = Registry(tmp_path / "cache")
    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(pack.read_bytes()[: pack.stat().st_size // 2])
    with pytest.raises(PackError):
        unpack_models(target, truncated)
    assert _state(target) == ([], [])
    garbage = tmp_path / "garbage.tar"
    garbage.write_bytes(b"this is not a tar file at all" * 100)
    with pytest.raises(PackError, match="not a readable pack"):
        unpack_models(target, garbage)
    with pytest.raises(PackError, match="does not exist"):
        unpack_models(target, tmp_path / "missing.tar")


def _rewrite(pack: Path, dest: Path, edit_manifest=None, extra: dict[str, bytes] | None = None,
             extra_info: list[tarfile.TarInfo] | None = None) -> Path:
    """A copy of a pack with its manifest edited and/or members added."""
    with tarfile.open(pack) as src, tarfile.open(dest, "w") as out:
        for member in src.getmembers():
            if member.name == "manifest.json":
                manifest = json.loads(src.extractfile(member).read())
                if edit_manifest:
                    edit_manifest(manifest)
                data = json.dumps(manifest).encode()
                info = tarfile.TarInfo("manifest.json")
                info.size = len(data)
                out.addfile(info, io.BytesIO(data))
            else:
                out.addfile(member, src.extractfile(member))
        for name, data in (extra or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
        for info in extra_info or []:
            out.addfile(info)
    return dest


def test_tampered_or_unsafe_packs_are_refused(pack, tmp_path):
    target = Registry(tmp_path / "cache")

    def wrong_digest(manifest):
        manifest["models"][0]["sha256"] = "0" * 64

    with pytest.raises(PackError, match="do not add up"):
        unpack_models(target, _rewrite(pack, tmp_path / "a.tar", wrong_digest))

    def escape(manifest):
        manifest["models"][1]["files"][0]["name"] = "models/../../escape.gguf"

    with pytest.raises(PackError, match="unsafe path"):
        unpack_models(target, _rewrite(pack, tmp_path / "b.tar", escape))
    with pytest.raises(PackError, match="does not list"):
        unpack_models(target, _rewrite(pack, tmp_path / "c.tar",
                                       extra={"models/onnx/tiny--sst2/evil.py": b"print(1)"}))
    link = tarfile.TarInfo("models/onnx/tiny--sst2/link")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    with pytest.raises(PackError, match="link"):
        unpack_models(target, _rewrite(pack, tmp_path / "d.tar", extra_info=[link]))

    def other_format(manifest):
        manifest["format"] = "something-else"

    with pytest.raises(PackError, match="not a Conductor pack"):
        unpack_models(target, _rewrite(pack, tmp_path / "e.tar", other_format))
    assert _state(target) == ([], [])
    assert not (tmp_path / "escape.gguf").exists()


def test_registered_models_with_other_files_need_replace(pack, source, tmp_path):
    target = Registry(tmp_path / "cache")
    unpack_models(target, pack)
    changed = target.resolve(target.get("tiny/llm"))
    changed.write_bytes(b"GGUF a different model")
    with pytest.raises(PackError, match="already registered.*tiny/llm"):
        unpack_models(target, pack)
    assert changed.read_bytes() == b"GGUF a different model"
    unpack_models(target, pack, replace=True)
    assert all(row["status"] == "ok" for row in target.verify())


def test_pack_refuses_models_whose_files_changed(source, tmp_path):
    import shutil

    scratch = Registry(tmp_path / "cache")
    original = source.get("tiny/llm")
    (scratch.cache_dir / "llm").mkdir()
    shutil.copy2(source.resolve(original), scratch.cache_dir / original.path)
    scratch.register(dataclasses.replace(original))
    (scratch.cache_dir / original.path).write_bytes(b"GGUF tampered")
    with pytest.raises(PackError, match="changed since it was registered"):
        pack_models(scratch, ["tiny/llm"], tmp_path / "out.tar")
    assert not (tmp_path / "out.tar").exists()
    assert list(tmp_path.glob(".out.tar.*")) == []
    with pytest.raises(PackError, match="at least one"):
        pack_models(scratch, [], tmp_path / "out.tar")


def test_cli_pack_unpack_and_a_damaged_pack(source, tmp_path):
    from helpers import run_cli

    data, log = tmp_path / "data", tmp_path / "net.log"
    out = tmp_path / "cli.tar"
    done = run_cli(["models", "pack", "tiny/sst2", "-o", str(out)], data, source.cache_dir, log)
    assert done.returncode == 0, done.stderr
    assert "packed 1 model(s)" in done.stdout and out.is_file()
    offline = tmp_path / "offline"
    damaged = _corrupt_member(out, tmp_path / "damaged.tar", "models/onnx/tiny--sst2/model.onnx")
    refused = run_cli(["models", "unpack", str(damaged)], data, offline, log)
    assert refused.returncode == 2 and "checksum mismatch" in refused.stderr
    installed = run_cli(["models", "unpack", str(out)], data, offline, log)
    assert installed.returncode == 0, installed.stderr
    assert "installed tiny/sst2" in installed.stdout
    verified = run_cli(["models", "verify"], data, offline, log)
    assert verified.returncode == 0 and "ok       tiny/sst2" in verified.stdout
