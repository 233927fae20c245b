"""The history store on its own: order and limits, and damaged or unwritable files."""

from __future__ import annotations

import sqlite3

import pytest

from core.migrations import DatabaseFileError
from core.store import Store


def _finished_runs(store: Store, conversation: str, count: int) -> list[str]:
    ids = []
    for number in range(1, count + 1):
        run_id = store.start_run(conversation, f"turn {number}", [], store.path.parent / "ws")
        store.update_run(run_id, answer=f"answer {number}", status="done")
        ids.append(run_id)
    return ids


def test_a_long_conversation_lists_its_latest_runs_oldest_first(tmp_path):
    store = Store(tmp_path / "history.db")
    conversation = store.new_conversation("a long one")
    ids = _finished_runs(store, conversation, 60)
    listed = store.runs(conversation)
    assert [r["id"] for r in listed] == ids[-50:]  # the last 50, in the order they ran
    assert [r["id"] for r in store.runs(conversation, limit=3)] == ids[-3:]
    assert [r["id"] for r in store.runs(limit=2)] == [ids[-1], ids[-2]]  # all runs: newest first


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_damaged_history_is_named_with_the_way_out(tmp_path, damage):
    path = tmp_path / "history.db"
    if damage == "garbage":
        path.write_bytes(b"this is not a database" * 100)
    else:
        store = Store(path)
        _finished_runs(store, store.new_conversation("x"), 30)
        store.db.conn.execute("pragma wal_checkpoint(truncate)")
        store.db.conn.close()
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 3])
    with pytest.raises(DatabaseFileError) as error:
        Store(path).runs()
    message = str(error.value)
    assert str(path) in message and "move it aside" in message


def test_an_unwritable_data_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    with pytest.raises(DatabaseFileError, match="cannot write the history.*not-a-folder"):
        Store(blocker / "history.db")
    assert blocker.read_text() == "a file where the data folder should be"


def test_sqlite_itself_refuses_garbage(tmp_path):
    """The damage above is real: SQLite cannot read these files."""
    path = tmp_path / "x.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(path).execute("select * from sqlite_master").fetchall()


def _open_and_write(path) -> None:
    Store(path).new_conversation("one of several starting at once")


def test_processes_starting_together_on_a_new_history_all_open_it(tmp_path):
    """Several processes opening a history that does not exist yet: one sets it up, the others
    wait for it (without the lock, about one in seven failed: 'table already exists')."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    for round_ in range(5):
        path = tmp_path / f"round-{round_}" / "history.db"
        workers = [context.Process(target=_open_and_write, args=(path,)) for _ in range(4)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
        assert [w.exitcode for w in workers] == [0, 0, 0, 0]
        assert len(Store(path).conversations()) == 4
