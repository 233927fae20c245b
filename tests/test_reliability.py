"""What a user's machine does to Conductor: two requests at once, damaged databases, a data
folder that cannot be written. Each gets a clear message or a right result, never a traceback
and never lost history."""

from __future__ import annotations

import json
import subprocess
import sys

from helpers import ROOT, assert_no_network, cli_env, run_cli


def test_two_asks_at_once_on_one_data_folder_both_land(tmp_path, cache_dir):
    data = tmp_path / "data"
    logs = [tmp_path / "net-1.log", tmp_path / "net-2.log"]
    requests = ["Hello!", "Read this aloud: the ferry leaves at noon"]
    children = [subprocess.Popen([sys.executable, str(ROOT / "main.py"), "ask", request, "--json"],
                                 env=cli_env(data, cache_dir, log), cwd=ROOT, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                for request, log in zip(requests, logs, strict=True)]
    outputs = [child.communicate(timeout=600) for child in children]
    for child, (out, err), log in zip(children, outputs, logs, strict=True):
        assert child.returncode == 0, err
        assert json.loads(out)["status"] == "done"
        assert_no_network(log)
    history = json.loads(run_cli(["history", "--json"], data, cache_dir, logs[0]).stdout)
    assert sorted(r["request"] for r in history) == sorted(requests)
    assert {r["status"] for r in history} == {"done"}


def _told(result, *phrases: str) -> None:
    """Exit 1 with a message holding each phrase (the file, the way out), never a traceback."""
    assert result.returncode == 1, result.stderr
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_a_damaged_history_database_is_named_with_the_way_out(tmp_path, cache_dir):
    data = tmp_path / "data"
    data.mkdir()
    (data / "history.db").write_bytes(b"garbage, not SQLite" * 200)
    log = tmp_path / "net.log"
    for args in (["history"], ["ask", "Hello!"]):
        _told(run_cli(args, data, cache_dir, log), str(data / "history.db"), "move it aside")
    assert (data / "history.db").read_bytes().startswith(b"garbage")  # nothing overwritten


def test_a_damaged_model_registry_is_named_with_the_way_out(tmp_path, private_cache):
    (private_cache / "registry.db").unlink()
    (private_cache / "registry.db").write_bytes(b"\0" * 4096)
    result = run_cli(["models", "list"], tmp_path / "data", private_cache, tmp_path / "net.log")
    _told(result, str(private_cache / "registry.db"), "make setup")


def test_an_unwritable_data_folder_is_a_clear_error(tmp_path, cache_dir):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    result = run_cli(["ask", "Hello!"], blocker / "data", cache_dir, tmp_path / "net.log")
    _told(result, str(blocker / "data"), "CONDUCTOR_DATA")


def test_the_app_with_a_damaged_history_says_so_and_exits(tmp_path, cache_dir):
    data = tmp_path / "data"
    data.mkdir()
    (data / "history.db").write_bytes(b"garbage, not SQLite" * 200)
    result = run_cli(["gui", "--screenshot", str(tmp_path / "x.png")], data, cache_dir,
                     tmp_path / "net.log", timeout=120)
    _told(result, str(data / "history.db"))
