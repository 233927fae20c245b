"""Opening Conductor's SQLite databases: checked, migrated, and failing with the way out.

Each database keeps an ordered list of migration functions (the simonw/llm style); each is
applied once, in order, and recorded by name in ``_migrations``, so an old database upgrades in
place and a new one is built by the same steps. A database that cannot be read (damaged,
truncated, not SQLite) or a folder that cannot be written is a ``DatabaseFileError`` naming the
file and what to do, never SQLite's bare "file is not a database".
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import sqlite3
from collections.abc import Callable
from pathlib import Path

import sqlite_utils

Migration = Callable[[sqlite_utils.Database], None]


class Migrations(list):
    """An ordered list of migrations; use an instance as a decorator to append one."""

    def __call__(self, fn: Migration) -> Migration:
        self.append(fn)
        return fn


class DatabaseFileError(OSError):
    """A database file Conductor cannot read or write, with the way out in the message."""


def open_database(path: Path, migrations: list[Migration], what: str, way_out: str,
                  setting: str, wal: bool = False) -> sqlite_utils.Database:
    """The database at ``path``, checked (``quick_check``) and migrated.

    ``what`` names it for the user ("the history"), ``way_out`` says what to do when it is
    damaged, ``setting`` the variable that moves its folder when that cannot be written.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseFileError(f"cannot write {what} in {path.parent} ({exc.strerror or exc}); "
                                f"set {setting} to a writable folder") from None
    try:
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
    except sqlite3.OperationalError as exc:
        if "readonly" in str(exc) or "unable to open" in str(exc):
            raise DatabaseFileError(f"cannot write {what} {path} ({exc}); set {setting} to a "
                                    "writable folder") from None
        raise DatabaseFileError(f"{what} {path} cannot be read ({exc}); {way_out}") from None
    except sqlite3.DatabaseError as exc:
        raise DatabaseFileError(f"{what} {path} cannot be read ({exc}); {way_out}") from None
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
