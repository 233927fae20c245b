"""The registry: migrations, registration with checksums, search, ranking, verification."""

from __future__ import annotations

import sqlite_utils

from core.hashing import hash_path
from core.registry import MIGRATIONS, ModelNotFoundError, ModelRecord, Registry


def _record(model_id: str, task: str, downloads: int, path: str, **extra) -> ModelRecord:
    return ModelRecord(id=model_id, task=task, runtime="vader", path=path,
                       description=f"{model_id} does {task}", license="MIT", source="test",
                       downloads=downloads, **extra)


def _registry_with_models(tmp_path):
    registry = Registry(tmp_path)
    for name, downloads in (("org/small", 10), ("org/big", 1000)):
        folder = tmp_path / name.split("/")[1]
        folder.mkdir()
        (folder / "weights.bin").write_bytes(name.encode() * 100)
        registry.register(_record(name, "text-classification", downloads, folder.name,
                                  tags=["sentiment", name], tasks=["zero-shot-classification"]))
    return registry


def test_migrations_apply_once_and_are_recorded(tmp_path):
    Registry(tmp_path)
    Registry(tmp_path)  # a second open applies nothing again
    db = sqlite_utils.Database(tmp_path / "registry.db")
    names = [row["name"] for row in db["_migrations"].rows]
    assert names == [fn.__name__ for fn in MIGRATIONS]
    assert {"models", "model_tasks", "models_fts"} <= set(db.table_names())


def test_register_computes_size_and_sha256(tmp_path):
    registry = _registry_with_models(tmp_path)
    record = registry.get("org/big")
    digest, size = hash_path(tmp_path / "big")
    assert record.sha256 == digest and len(digest) == 64
    assert record.size_bytes == size == len(b"org/big" * 100)
    assert record.installed_at
    assert set(record.all_tasks()) == {"text-classification", "zero-shot-classification"}


def test_candidates_rank_by_downloads_and_respect_memory(tmp_path):
    registry = _registry_with_models(tmp_path)
    ids = [r.id for r in registry.candidates("text-classification")]
    assert ids == ["org/big", "org/small"]
    assert [r.id for r in registry.candidates("zero-shot-classification")] == ids
    assert registry.candidates("text-classification", memory_budget_bytes=100) == []
    assert registry.candidates("image-to-text") == []


def test_search_uses_full_text_index(tmp_path):
    registry = _registry_with_models(tmp_path)
    assert [r.id for r in registry.search("big")] == ["org/big"]
    assert {r.id for r in registry.search("sentim")} == {"org/big", "org/small"}
    assert registry.search("nothing-like-this") == []


def test_verify_reports_changed_and_missing_files(tmp_path):
    registry = _registry_with_models(tmp_path)
    (tmp_path / "big" / "weights.bin").write_bytes(b"tampered")
    import shutil

    shutil.rmtree(tmp_path / "small")
    report = {row["id"]: row["status"] for row in registry.verify()}
    assert report == {"org/big": "changed", "org/small": "missing"}


def test_remove_and_unknown_model(tmp_path):
    registry = _registry_with_models(tmp_path)
    registry.remove("org/small")
    try:
        registry.get("org/small")
    except ModelNotFoundError as exc:
        assert "org/small" in str(exc)
    else:
        raise AssertionError("removed model still registered")


def test_default_cache_registers_every_model_with_licence_and_checksum(registry):
    records = registry.all()
    assert len(records) >= 12
    for record in records:
        assert record.license and record.source and record.description
        assert len(record.sha256) == 64 and record.size_bytes > 0
    tasks = {t for r in records for t in r.all_tasks()}
    for task in ("text-to-speech", "automatic-speech-recognition", "image-to-text",
                 "token-classification", "text-classification", "object-detection",
                 "sentence-similarity", "zero-shot-classification", "text-generation"):
        assert task in tasks
    # two models for a task make selection a real choice from the first day
    for task in ("text-to-speech", "automatic-speech-recognition", "image-to-text",
                 "object-detection"):
        assert len(registry.candidates(task)) >= 2, task
    assert all(row["status"] == "ok" for row in registry.verify())


def test_settings_come_from_environment_over_the_saved_file(tmp_path, monkeypatch):
    from core.config import Settings

    Settings(data_dir=str(tmp_path), threads=3, memory_budget_mb=1000).save()
    monkeypatch.setenv("CONDUCTOR_THREADS", "1")
    loaded = Settings.load(tmp_path)
    assert loaded.threads == 1 and loaded.memory_budget_mb == 1000
    monkeypatch.setenv("CONDUCTOR_THREADS", "many")
    import pytest

    with pytest.raises(ValueError, match="CONDUCTOR_THREADS"):
        Settings.load(tmp_path)
