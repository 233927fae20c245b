"""Opening Conductor's SQLite databases: checked, migrated, and failing with the way out.

Each database keeps an ordered list of migration functions (the simonw/llm style); each is
applied once, in order, and recorded by name in ``_migrations``, so an old database upgrades in
place and a new one is built by the same steps. A database that cannot be read (damaged,
truncated, not SQLite), a folder that cannot be written and a full disk are each a
``DatabaseFileError`` naming the file and what to do, never SQLite's bare "file is not a
database" or "database or disk is full".
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from core.disk import StorageError, storage_error

Migration = Callable[[sqlite_utils.Database], None]


class Migrations(list):
    """An ordered list of migrations; use an instance as a decorator to append one."""

    def __call__(self, fn: Migration) -> Migration:
        self.append(fn)
        return fn


class DatabaseFileError(StorageError):
    """A database file Conductor cannot read or write, with the way out in the message."""


@dataclass(frozen=True)
class DatabaseFile:
    """A database and how to tell the user about it: ``what`` names it ("the history"),
    ``way_out`` says what to do when it is damaged, ``setting`` is the variable that moves its
    folder when that folder cannot be written or is full."""

    path: Path
    what: str
    way_out: str
    setting: str

    def error(self, exc: BaseException) -> DatabaseFileError:
        """The user's words for what went wrong with this file: a full disk, a folder that
        cannot be written (SQLite rolls the change back: nothing is half-written), or a file
        that cannot be read."""
        full_or_unwritable = storage_error(exc, self.what, self.path.parent, self.setting)
        if full_or_unwritable is not None:
            return DatabaseFileError(str(full_or_unwritable))
        reason = getattr(exc, "strerror", None) or str(exc)
        return DatabaseFileError(f"{self.what} {self.path} cannot be read ({reason}); "
                                 f"{self.way_out}")


def open_database(file: DatabaseFile, migrations: list[Migration],
                  wal: bool = False) -> sqlite_utils.Database:
    """The database at ``file.path``, checked (``quick_check``) and migrated."""
    path = file.path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite_utils.Database(path)
        db.execute("pragma busy_timeout = 30000")  # another process's write: wait, not fail
        # One process at a time sets the database up: two `ask` processes starting on a new
        # history would otherwise both create its tables, and the second fail.
        with open(path.with_name(path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if wal:
                db.execute("pragma journal_mode = wal")
            db.execute("pragma foreign_keys = on")
            checked = db.execute("pragma quick_check").fetchone()[0]
            if checked != "ok":
                raise sqlite3.DatabaseError(checked)
            migrate(db, migrations)
    except (sqlite3.DatabaseError, OSError) as exc:
        raise file.error(exc) from None
    return db


def migrate(db: sqlite_utils.Database, migrations: list[Migration]) -> None:
    """Apply every migration not yet recorded, in order, each in its own transaction."""
    if "_migrations" not in db.table_names():
        db["_migrations"].create({"name": str, "applied_at": str}, pk="name")
    applied = {row["name"] for row in db["_migrations"].rows}
    for fn in migrations:
        if fn.__name__ in applied:
            continue
        with db.conn:
            fn(db)
            db["_migrations"].insert({"name": fn.__name__, "applied_at": now()})


def now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
