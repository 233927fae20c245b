"""Numbered schema migrations for SQLite databases, in the simonw/llm style.

Each database keeps an ordered list of migration functions; each is applied once, in order, and
recorded by name in ``_migrations``, so an old database upgrades in place and a new one is built
by the same steps.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable

import sqlite_utils

Migration = Callable[[sqlite_utils.Database], None]


class Migrations(list):
    """An ordered list of migrations; use an instance as a decorator to append one."""

    def __call__(self, fn: Migration) -> Migration:
        self.append(fn)
        return fn


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
