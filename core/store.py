"""Conversations, runs, tasks and artifacts in SQLite, so every run can be seen, searched, replayed.

A run is written when it starts (status ``running``) and updated as stages finish, each write in
its own transaction, in WAL mode: a process killed mid-run leaves a consistent database whose
unfinished run is marked ``interrupted`` the next time the store opens. Migrations follow the
registry's numbered style.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from core.migrations import DatabaseFile, Migrations, open_database
from core.tasks import output_files

MIGRATIONS = Migrations()


@MIGRATIONS
def m001_tables(db: sqlite_utils.Database) -> None:
    db["conversations"].create({"id": str, "title": str, "created_at": str}, pk="id")
    db["runs"].create({
        "id": str, "conversation_id": str, "request": str, "files": str, "plan": str,
        "choices": str, "answer": str, "status": str, "error": str, "timings": str,
        "workspace": str, "pid": int, "started_at": str, "ended_at": str,
    }, pk="id", foreign_keys=[("conversation_id", "conversations", "id")])
    db["runs"].create_index(["conversation_id"])
    db["tasks"].create({
        "run_id": str, "task_id": int, "task": str, "model": str, "reason": str,
        "status": str, "seconds": float, "error": str, "args": str, "outputs": str,
    }, pk=("run_id", "task_id"), foreign_keys=[("run_id", "runs", "id")])
    db["artifacts"].create({"run_id": str, "task_id": int, "kind": str, "path": str},
                           pk=("run_id", "path"), foreign_keys=[("run_id", "runs", "id")])


@MIGRATIONS
def m002_runs_fts(db: sqlite_utils.Database) -> None:
    db["runs"].enable_fts(["request", "answer"], create_triggers=True)


@MIGRATIONS
def m003_run_voice(db: sqlite_utils.Database) -> None:
    """A spoken request's recording (a file in the run's workspace, not an input the planner
    sees) and the answer's summary (what "read it aloud" speaks, without the results list)."""
    db["runs"].add_column("recording", str)
    db["runs"].add_column("summary", str)


class UnknownRunError(ValueError):
    """A run id the history does not hold (a typo, or another data folder)."""


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds")


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Store:
    """The history database (``history.db`` in the data folder)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.file = DatabaseFile(self.path, "the history",
                                 "move it aside (Conductor then starts a new, empty history)",
                                 "CONDUCTOR_DATA")
        self.db = open_database(self.file, MIGRATIONS, wal=True)
        self._mark_interrupted()

    def _mark_interrupted(self) -> None:
        """Runs left ``running`` by a process that no longer exists were killed mid-run."""
        for row in self.db["runs"].rows_where("status = 'running'"):
            if not _alive(row["pid"]) or row["pid"] == os.getpid():
                with self._writing():
                    self.db["runs"].update(row["id"], {"status": "interrupted",
                                                       "ended_at": _now()})

    # -- writes

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One write, holding the write lock from its start (BEGIN IMMEDIATE): a transaction
        that reads first and writes later cannot wait for another process's write, SQLite
        refuses it at once ("database is locked"); two `ask` processes write side by side.
        A full disk or a folder turned read-only rolls the write back and says so
        (``DatabaseFileError``)."""
        try:
            self.db.conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                if self.db.conn.in_transaction:
                    self.db.conn.rollback()
                raise
            self.db.conn.commit()
        except sqlite3.OperationalError as exc:
            raise self.file.error(exc) from None

    def new_conversation(self, title: str) -> str:
        conversation_id = uuid.uuid4().hex[:12]
        with self._writing():
            self.db["conversations"].insert({"id": conversation_id, "title": title[:80],
                                             "created_at": _now()})
        return conversation_id

    def start_run(self, conversation_id: str, request: str, files: list[str],
                  workspace: Path, recording: str | None = None) -> str:
        run_id = uuid.uuid4().hex[:12]
        with self._writing():
            self.db["runs"].insert({
                "id": run_id, "conversation_id": conversation_id, "request": request,
                "files": json.dumps(files), "status": "running", "workspace": str(workspace),
                "recording": recording, "pid": os.getpid(), "started_at": _now(),
            })
        return run_id

    def update_run(self, run_id: str, **fields: Any) -> None:
        values = {k: json.dumps(v) if isinstance(v, list | dict) else v
                  for k, v in fields.items()}
        if values.get("status") in ("done", "failed", "cancelled"):
            values["ended_at"] = _now()
        with self._writing():
            self.db["runs"].update(run_id, values)

    def save_task(self, run_id: str, result: dict[str, Any], reason: str = "") -> None:
        with self._writing():
            self.db["tasks"].upsert({
                "run_id": run_id, "task_id": result["id"], "task": result["task"],
                "model": result.get("model"), "reason": reason, "status": result["status"],
                "seconds": result.get("seconds"), "error": result.get("error"),
                "args": json.dumps(result.get("args", {})),
                "outputs": json.dumps(result.get("outputs", {})),
            }, pk=("run_id", "task_id"))
            if result["status"] == "done":
                for kind, path in output_files(result.get("outputs", {})):
                    self.db["artifacts"].upsert({"run_id": run_id, "task_id": result["id"],
                                                 "kind": kind, "path": path},
                                                pk=("run_id", "path"))

    # -- reads

    def add_artifact(self, run_id: str, kind: str, path: str) -> None:
        """A file made for a run outside its tasks (the answer read aloud); task id -1."""
        with self._writing():
            self.db["artifacts"].upsert({"run_id": run_id, "task_id": -1, "kind": kind,
                                         "path": path}, pk=("run_id", "path"))

    def run(self, run_id: str) -> dict[str, Any]:
        try:
            row = dict(self.db["runs"].get(run_id))
        except sqlite_utils.db.NotFoundError:
            raise UnknownRunError(f"no run {run_id!r} in the history (`main.py history` lists "
                                  "them)") from None
        for key in ("files", "plan", "choices", "timings"):
            row[key] = json.loads(row[key]) if row.get(key) else None
        row["tasks"] = [
            {**t, "args": json.loads(t["args"] or "{}"),
             "outputs": json.loads(t["outputs"] or "{}")}
            for t in self.db["tasks"].rows_where("run_id = ?", [run_id], order_by="task_id")
        ]
        row["artifacts"] = list(self.db["artifacts"].rows_where("run_id = ?", [run_id]))
        return row

    def runs(self, conversation_id: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """The latest ``limit`` runs: of one conversation in the order they ran (its history),
        else of all conversations, newest first."""
        where = "conversation_id = ?" if conversation_id else None
        params = [conversation_id] if conversation_id else []
        latest = list(self.db["runs"].rows_where(where, params, limit=limit,
                                                 order_by="started_at desc, rowid desc"))
        return latest[::-1] if conversation_id else latest

    def conversations(self, query: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Conversations, newest first; with ``query``, those whose runs match it (FTS)."""
        if query:
            words = [w for w in "".join(c if c.isalnum() else " " for c in query).split()]
            if not words:
                return self.conversations(limit=limit)
            fts = " ".join(f'"{w}"*' for w in words)
            sql = ("select distinct conversations.* from conversations join runs on "
                   "runs.conversation_id = conversations.id join runs_fts on "
                   "runs_fts.rowid = runs.rowid where runs_fts match ? "
                   "order by conversations.created_at desc limit ?")
            return list(self.db.query(sql, [fts, limit]))
        return list(self.db["conversations"].rows_where(order_by="created_at desc", limit=limit))

    def integrity_ok(self) -> bool:
        return self.db.execute("pragma integrity_check").fetchone()[0] == "ok"
