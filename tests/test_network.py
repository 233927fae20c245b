"""Nothing reaches the network: the block the suite runs under works, in this process and in the
children it starts, at the calls every network library ends in; and the suite ignores what the
user exported.

Each attempt below must fail with the block's own error, not any ``OSError``: on an offline
machine a real connection fails too, and a test accepting that would pass with no block at all.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

import conftest
from helpers import ROOT, child_env, run_child, run_cli

ADDRESS_V4 = ("192.0.2.1", 80)  # TEST-NET-1: routable nowhere
ADDRESS_V6 = ("2001:db8::1", 80)  # the IPv6 documentation prefix


@pytest.fixture()
def attempts():
    """The attempts this test makes on purpose, taken off the suite's record afterwards."""
    before = len(conftest.NETWORK_ATTEMPTS)
    made: list[str] = []
    yield made
    made.extend(conftest.NETWORK_ATTEMPTS[before:])
    del conftest.NETWORK_ATTEMPTS[before:]


def _udp() -> socket.socket:
    return socket.socket(socket.AF_INET, socket.SOCK_DGRAM)


@pytest.mark.parametrize("attempt", [
    lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM).connect(ADDRESS_V4),
    lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM).connect_ex(ADDRESS_V4),
    lambda: socket.socket(socket.AF_INET6, socket.SOCK_STREAM).connect(ADDRESS_V6),
    lambda: _udp().sendto(b"x", ADDRESS_V4),
    lambda: _udp().sendmsg([b"x"], [], 0, ADDRESS_V4),
    lambda: socket.getaddrinfo("huggingface.co", 443),
    lambda: socket.gethostbyname("huggingface.co"),
    lambda: socket.gethostbyname_ex("huggingface.co"),
    lambda: socket.create_connection(("huggingface.co", 443), timeout=1),
], ids=["connect", "connect_ex", "connect-ipv6", "sendto", "sendmsg", "getaddrinfo",
        "gethostbyname", "gethostbyname_ex", "create_connection"])
def test_every_way_out_is_refused_by_the_block_and_recorded(attempts, attempt):
    before = len(conftest.NETWORK_ATTEMPTS)
    with pytest.raises(conftest.NetworkBlockedError, match="network access blocked"):
        attempt()
    assert len(conftest.NETWORK_ATTEMPTS) == before + 1


def test_loopback_and_unix_sockets_stay_open(attempts):
    server = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(server.getsockname(), timeout=5)
    peer, _ = server.accept()
    client.sendall(b"ok")
    assert peer.recv(2) == b"ok"
    for sock in (client, peer, server):
        sock.close()
    left, right = socket.socketpair()
    left.sendall(b"ok")
    assert right.recv(2) == b"ok"
    left.close()
    right.close()
    assert attempts == []


CHILD = """
import socket
tries = {
    "connect": lambda: socket.socket().connect(("192.0.2.1", 80)),
    "connect_ex": lambda: socket.socket().connect_ex(("192.0.2.1", 80)),
    "sendto": lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(
        b"x", ("192.0.2.1", 53)),
    "dns": lambda: socket.getaddrinfo("huggingface.co", 443),
}
for name, attempt in tries.items():
    try:
        attempt()
        print(name, "went out")
    except OSError as error:
        print(name, type(error).__name__)
"""


def test_the_block_is_on_in_child_processes(tmp_path):
    log = tmp_path / "net.log"
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                          env=child_env(log), cwd=ROOT, timeout=60)
    assert done.stdout.split("\n")[:4] == ["connect NetworkBlockedError",
                                           "connect_ex NetworkBlockedError",
                                           "sendto NetworkBlockedError",
                                           "dns NetworkBlockedError"], done.stderr
    assert log.read_text().splitlines() == ["('192.0.2.1', 80)", "('192.0.2.1', 80)",
                                            "('192.0.2.1', 53)", "dns:huggingface.co"]


def test_a_cli_child_that_reaches_out_fails_its_test(tmp_path):
    """With the hub switched on, importing a hub id goes out: the child's block refuses it and
    ``run_cli`` fails the test, so a CLI test can only pass by staying offline."""
    with pytest.raises(AssertionError, match="dns:huggingface.co"):
        run_cli(["models", "import", "hustvl/yolos-tiny"], tmp_path / "data",
                tmp_path / "cache", tmp_path / "net.log", timeout=120, HF_HUB_OFFLINE="0")


def test_a_child_without_the_block_fails_its_test(tmp_path):
    log = tmp_path / "net.log"
    env = child_env(log, PYTHONPATH="")  # the block's folder left off the path
    with pytest.raises(AssertionError, match="block was not on"):
        run_child([sys.executable, "-c", "print('hello')"], log, env)


def test_the_suite_runs_offline_whatever_the_user_exported():
    """Checked from inside: ``test_a_user_environment_does_not_reach_the_tests`` runs this test
    in a pytest started with a hostile environment."""
    from core.config import Settings, default_data_dir
    from core.registry import default_cache_dir

    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TRANSFORMERS_OFFLINE"] == "1"
    assert not [name for name in os.environ if name.startswith("CONDUCTOR_")]
    assert default_cache_dir() == ROOT / "model_cache"
    home = default_data_dir()
    assert home.is_relative_to(conftest._HOME) and not home.is_relative_to(ROOT)
    settings = Settings.load()
    assert (settings.device, settings.controller) == ("auto", "")
    import huggingface_hub.constants

    assert huggingface_hub.constants.HF_HUB_OFFLINE is True
    assert settings.model_cache == str(ROOT / "model_cache")


def test_a_user_environment_does_not_reach_the_tests(tmp_path):
    hostile = dict(os.environ, HF_HUB_OFFLINE="0", TRANSFORMERS_OFFLINE="0",
                   CONDUCTOR_MODEL_CACHE=str(tmp_path / "elsewhere"), CONDUCTOR_DEVICE="gpu",
                   CONDUCTOR_CONTROLLER="someone/else", XDG_DATA_HOME=str(tmp_path / "home"))
    test = "tests/test_network.py::test_the_suite_runs_offline_whatever_the_user_exported"
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test],
                          capture_output=True, text=True, env=hostile, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "1 passed" in done.stdout
