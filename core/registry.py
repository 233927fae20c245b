"""The model registry: one SQLite row per installed model, queried by task, ranked for selection.

Built on sqlite-utils with numbered migrations in the simonw/llm style: each migration is a
function applied once and recorded in ``_migrations``, so an old ``registry.db`` upgrades in place.
A model can serve several tasks (an embedding model does similarity and zero-shot); the
``model_tasks`` table holds every task a model serves, ``models.task`` its main one.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from core.hashing import hash_path
from core.migrations import DatabaseFile, Migrations, now, open_database

MODEL_COLUMNS = {
    "id": str,
    "task": str,
    "runtime": str,
    "path": str,
    "description": str,
    "tags": str,
    "downloads": int,
    "likes": int,
    "license": str,
    "size_bytes": int,
    "sha256": str,
    "quantization": str,
    "source": str,
    "installed_at": str,
    "params": str,
}


# The LLM rows: controller GGUFs (planner, writer) and the LoRA adapters applied to them. They
# are the controller, never candidates for an expert task.
CONTROLLER_RUNTIME = "llama.cpp"
ADAPTER_RUNTIME = "llama.cpp-lora"
LLM_RUNTIMES = (CONTROLLER_RUNTIME, ADAPTER_RUNTIME)
RANKING = "preference desc, downloads desc, likes desc, id"
# Where the default set's files come from (``ModelRecord.source``), never the hub.
PACKAGED_SOURCES = ("pypi", "apt", "debian", "repo")


@dataclass
class ModelRecord:
    """A registry row. ``path`` is relative to the model cache; ``params`` is runtime-specific."""

    id: str
    task: str
    runtime: str
    path: str
    description: str
    license: str
    source: str
    tags: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    # Hub numbers, read from the model's hub page at import (0: not known, as for a local or
    # offline import and for the default set, which comes from packages, not the hub).
    downloads: int = 0
    likes: int = 0
    # Conductor's own ranking prior among models of one task, declared for its default set
    # (which voice, which recognizer to try first); ranked before hub downloads.
    preference: int = 0
    size_bytes: int = 0
    sha256: str = ""
    quantization: str = ""
    installed_at: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    # What the model is for inside a task that names several jobs (core.tasks.SKILLS): "ocr" or
    # "captioning" for image-to-text, a language pair such as "en-de" for translation.
    skill: str = ""

    def all_tasks(self) -> list[str]:
        return [self.task, *[t for t in self.tasks if t != self.task]]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["tasks"] = self.all_tasks()
        return data


# ---------------------------------------------------------------- migrations

MIGRATIONS = Migrations()


@MIGRATIONS
def m001_models(db: sqlite_utils.Database) -> None:
    db["models"].create(MODEL_COLUMNS, pk="id")
    db["models"].create_index(["task"])


@MIGRATIONS
def m002_model_tasks(db: sqlite_utils.Database) -> None:
    db["model_tasks"].create(
        {"model_id": str, "task": str}, pk=("model_id", "task"),
        foreign_keys=[("model_id", "models", "id")],
    )
    db["model_tasks"].create_index(["task"])


@MIGRATIONS
def m003_models_fts(db: sqlite_utils.Database) -> None:
    db["models"].enable_fts(["id", "description", "tags"], create_triggers=True)


@MIGRATIONS
def m004_model_skill(db: sqlite_utils.Database) -> None:
    db["models"].add_column("skill", str, not_null_default="")


@MIGRATIONS
def m005_model_preference(db: sqlite_utils.Database) -> None:
    """The default set's "downloads" and "likes" were numbers Conductor declared, not the hub's:
    they move to ``preference``, and the hub columns keep only what a hub said."""
    db["models"].add_column("preference", int, not_null_default=0)
    packaged = " or ".join(f"source like '{scheme}:%'" for scheme in PACKAGED_SOURCES)
    db.execute(f"update models set preference = downloads, downloads = 0, likes = 0 "
               f"where {packaged}")


_now = now


# ---------------------------------------------------------------- hashing


# ---------------------------------------------------------------- the registry


class ModelNotFoundError(KeyError):
    def __str__(self) -> str:
        return f"no model {self.args[0]!r} in the registry (see `main.py models list`)"


class Registry:
    """Queries and updates over ``registry.db`` in a model cache folder."""

    def __init__(self, cache_dir: Path | str, db_name: str = "registry.db") -> None:
        self.cache_dir = Path(cache_dir)
        self.db = open_database(DatabaseFile(
            self.cache_dir / db_name, "the model registry",
            "move it aside and run `make setup` (scripts/build_model_cache.py), which registers "
            "the default models again; imported models need importing again",
            "CONDUCTOR_MODEL_CACHE"), MIGRATIONS)

    # -- writes

    def register(self, record: ModelRecord, compute_hash: bool = True) -> ModelRecord:
        """Insert or replace a model row; fills size and sha256 from its files."""
        target = self.resolve(record)
        if not target.exists():
            raise FileNotFoundError(f"model files for {record.id} not found at {target}")
        if compute_hash or not record.sha256:
            record.sha256, record.size_bytes = hash_path(target)
        record.installed_at = record.installed_at or _now()
        row = asdict(record)
        row.pop("tasks")
        row["tags"] = json.dumps(record.tags)
        row["params"] = json.dumps(record.params)
        with self.db.conn:
            self.db["models"].upsert(row, pk="id")
            self.db["model_tasks"].delete_where("model_id = ?", [record.id])
            self.db["model_tasks"].insert_all(
                [{"model_id": record.id, "task": t} for t in record.all_tasks()]
            )
        return record

    def remove(self, model_id: str) -> ModelRecord:
        record = self.get(model_id)
        with self.db.conn:
            self.db["model_tasks"].delete_where("model_id = ?", [model_id])
            self.db["models"].delete(model_id)
        return record

    # -- reads

    def get(self, model_id: str) -> ModelRecord:
        rows = list(self.db["models"].rows_where("id = ?", [model_id]))
        if not rows:
            raise ModelNotFoundError(model_id)
        return self._record(rows[0])

    def all(self, task: str | None = None) -> list[ModelRecord]:
        if task is None:
            rows = self.db["models"].rows_where(order_by=f"task, {RANKING}")
        else:
            rows = self.db.query(
                "select models.* from models join model_tasks on model_tasks.model_id = models.id"
                f" where model_tasks.task = ? order by {RANKING}",
                [task],
            )
        return [self._record(row) for row in rows]

    def search(self, query: str) -> list[ModelRecord]:
        """Full-text search over id, description and tags (every word must match a prefix)."""
        words = [w for w in "".join(c if c.isalnum() else " " for c in query).split() if w]
        if not words:
            return self.all()
        fts = " ".join(f'"{w}"*' for w in words)
        rows = self.db.query(
            "select models.* from models join models_fts on models_fts.rowid = models.rowid"
            " where models_fts match ? order by rank",
            [fts],
        )
        return [self._record(row) for row in rows]

    def candidates(
        self,
        task: str,
        memory_budget_bytes: int | None = None,
        limit: int = 5,
    ) -> list[ModelRecord]:
        """Installed models for a task that fit the memory budget, best-ranked first.

        Ranked by Conductor's declared preference, then hub downloads and likes (HuggingGPT
        ranks by downloads). Controller rows
        (``runtime = llama.cpp``) are excluded: they are the controller, not experts.
        """
        result = []
        for record in self.all(task):
            if record.runtime in LLM_RUNTIMES:  # the controller, not an expert
                continue
            if not self.resolve(record).exists():
                continue
            if memory_budget_bytes is not None and record.size_bytes * 2 > memory_budget_bytes:
                continue
            result.append(record)
        return result[:limit]

    def controllers(self) -> list[ModelRecord]:
        return [r for r in self.all("text-generation") if r.runtime == CONTROLLER_RUNTIME]

    def resolve(self, record: ModelRecord) -> Path:
        """Absolute path of a model's files (registry paths are relative to the cache)."""
        path = Path(record.path)
        return path if path.is_absolute() else self.cache_dir / path

    def verify(self, model_id: str | None = None) -> list[dict[str, str]]:
        """Check each model's files against its recorded sha256: ok, missing or changed."""
        records = [self.get(model_id)] if model_id else self.all()
        report = []
        for record in records:
            target = self.resolve(record)
            if not target.exists():
                status = "missing"
            else:
                status = "ok" if hash_path(target)[0] == record.sha256 else "changed"
            report.append({"id": record.id, "status": status, "path": str(target)})
        return report

    def _record(self, row: dict[str, Any]) -> ModelRecord:
        tasks = [
            r["task"] for r in self.db["model_tasks"].rows_where("model_id = ?", [row["id"]])
        ]
        data = dict(row)
        data["tags"] = json.loads(data.get("tags") or "[]")
        data["params"] = json.loads(data.get("params") or "{}")
        data["tasks"] = sorted(tasks)
        known = ModelRecord.__dataclass_fields__
        return ModelRecord(**{k: v for k, v in data.items() if k in known})


def default_cache_dir() -> Path:
    """The model cache: ``$CONDUCTOR_MODEL_CACHE`` or ``model_cache/`` beside ``core/``."""
    env = os.environ.get("CONDUCTOR_MODEL_CACHE")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "model_cache"
