"""What a user's machine does to Conductor: two requests at once, damaged databases, a data
folder that cannot be written, is read-only or is full. Each gets a clear message or a right
result, never a traceback, never lost history and never a half-written file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from helpers import ROOT, assert_no_network, cli_env, run_child, run_cli


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


# -- a data folder on a small or read-only disk (a tmpfs mounted in a private mount namespace)

MAIN = f"{sys.executable} {ROOT / 'main.py'}"
SPEECH = ("Read this aloud: the quarterly report is due on Friday, and the budget meeting moved "
          "to Monday at nine in the large room.")


def _in_mount_namespace(script: str, mount: Path, data: Path, cache_dir: Path, log: Path):
    """Run a shell script with a fresh tmpfs at ``mount`` that only this script sees; skipped
    with the reason where mount namespaces are not allowed (not root, or a locked container)."""
    import pytest

    mount.mkdir(parents=True, exist_ok=True)
    probe = subprocess.run(["unshare", "-m", "sh", "-c", f"mount -t tmpfs tmpfs {mount}"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs in a private mount namespace here: "
                    f"{probe.stderr.strip() or probe.returncode}")
    return run_child(["unshare", "-m", "sh", "-c", script], log, cli_env(data, cache_dir, log))


def test_a_read_only_data_folder_is_named_with_the_way_out(tmp_path, cache_dir):
    mount, log = tmp_path / "mnt", tmp_path / "net.log"
    data = mount / "data"
    script = (f"mount -t tmpfs -o size=4m tmpfs {mount} && mkdir {data} "
              f"&& {MAIN} history > /dev/null "  # a history that exists, then the disk turns
              f"&& mount -o remount,ro {mount} "  # read-only
              f"&& {MAIN} ask 'Hello!'; echo rc=$?; {MAIN} history; echo rc=$?")
    result = _in_mount_namespace(script, mount, data, cache_dir, log)
    told = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.stdout.split() == ["rc=1", "rc=1"], (result.stdout, result.stderr)
    assert told == 2 * [f"error: cannot write the history in {data} (Read-only file system); "
                        "set CONDUCTOR_DATA to a writable folder"], result.stderr
    assert "Traceback" not in result.stderr


def test_a_full_data_folder_is_told_and_leaves_no_half_written_file(tmp_path, cache_dir):
    mount, log = tmp_path / "mnt", tmp_path / "net.log"
    data = mount / "data"
    # a history, then the disk filled to 150 KB short of full: the request's speech (about
    # 300 KB of WAV) cannot be written, nor perhaps the history's next change
    script = (f"mount -t tmpfs -o size=4m tmpfs {mount} && mkdir {data} "
              f"&& {MAIN} history > /dev/null "
              f"&& free=$(df --output=avail -k {mount} | tail -1) "
              f"&& dd if=/dev/zero of={mount}/filler bs=1k count=$((free - 150)) 2> /dev/null "
              f"&& {MAIN} ask --json '{SPEECH}' > {tmp_path}/ask.json; echo ask-rc=$? "
              f"&& rm {mount}/filler "
              f"&& find {data}/runs -type f > {tmp_path}/files.txt "
              f"&& {MAIN} history --json > {tmp_path}/history.json; echo history-rc=$? "
              f"&& {sys.executable} -c \"import sqlite3; print(sqlite3.connect("
              f"'{data}/history.db').execute('pragma integrity_check').fetchone()[0])\"")
    result = _in_mount_namespace(script, mount, data, cache_dir, log)
    assert "history-rc=0" in result.stdout and "ok" in result.stdout.split(), result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    assert (tmp_path / "files.txt").read_text() == ""  # no partly written WAV stayed behind
    if "ask-rc=0" in result.stdout:  # the history had room: the run landed, its task failed
        task = json.loads((tmp_path / "ask.json").read_text())["tasks"][0]
        assert task["status"] == "failed" and task["error"].startswith("no space left on the "
                                                                       "disk of "), task
        [run] = json.loads((tmp_path / "history.json").read_text())
        assert run["status"] == "done"
    else:  # the history itself was full: said so, with the folder and the way out
        assert "ask-rc=1" in result.stdout, result.stdout
        assert (f"error: no space left for the history in {data}: free some space on that "
                "disk, or set CONDUCTOR_DATA") in result.stderr, result.stderr
