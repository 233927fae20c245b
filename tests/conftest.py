"""Shared fixtures: the real default model cache, a scratch workspace, and no network at all.

Every test runs with sockets to IP addresses blocked: any attempt fails the test that made it,
so the suite proves Conductor never reaches the network (Qt's local Unix sockets stay allowed).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

NETWORK_ATTEMPTS: list[str] = []


class NetworkBlockedError(OSError):
    """Raised for any attempt to open a network connection during tests."""


def _is_network(sock: socket.socket) -> bool:
    return sock.family in (socket.AF_INET, socket.AF_INET6)


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_sendto = socket.socket.sendto


def _blocked_connect(self, address, *args):
    if _is_network(self):
        NETWORK_ATTEMPTS.append(repr(address))
        raise NetworkBlockedError(f"network access blocked in tests: {address!r}")
    return _real_connect(self, address, *args)


def _blocked_connect_ex(self, address, *args):
    if _is_network(self):
        NETWORK_ATTEMPTS.append(repr(address))
        raise NetworkBlockedError(f"network access blocked in tests: {address!r}")
    return _real_connect_ex(self, address, *args)


def _blocked_sendto(self, data, *args):
    if _is_network(self):
        NETWORK_ATTEMPTS.append(repr(args[-1]))
        raise NetworkBlockedError(f"network access blocked in tests: {args[-1]!r}")
    return _real_sendto(self, data, *args)


def _blocked_getaddrinfo(host, *args, **kwargs):
    if host not in (None, "localhost", "127.0.0.1", "::1"):
        NETWORK_ATTEMPTS.append(f"dns:{host}")
        raise NetworkBlockedError(f"DNS lookup blocked in tests: {host!r}")
    return _real_getaddrinfo(host, *args, **kwargs)


_real_getaddrinfo = socket.getaddrinfo


def pytest_configure(config):
    socket.socket.connect = _blocked_connect
    socket.socket.connect_ex = _blocked_connect_ex
    socket.socket.sendto = _blocked_sendto
    socket.getaddrinfo = _blocked_getaddrinfo


def pytest_sessionfinish(session, exitstatus):
    if NETWORK_ATTEMPTS and exitstatus == 0:
        print(f"\nnetwork attempts during tests: {NETWORK_ATTEMPTS}")
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def _no_network_attempts():
    """Fail the test in which a network attempt happened, even if the code swallowed the error."""
    before = len(NETWORK_ATTEMPTS)
    yield
    new = NETWORK_ATTEMPTS[before:]
    assert not new, f"test tried to reach the network: {new}"


@pytest.fixture(scope="session")
def cache_dir() -> Path:
    """The real default model cache, built by `make setup` (built here if it is missing)."""
    from core.registry import default_cache_dir

    path = default_cache_dir()
    if not (path / "registry.db").exists() or not any(path.iterdir()):
        subprocess.run([sys.executable, str(ROOT / "scripts" / "build_model_cache.py")],
                       check=True)
    return path


@pytest.fixture(scope="session")
def registry(cache_dir):
    from core.registry import Registry

    return Registry(cache_dir)


@pytest.fixture(scope="session")
def pool(registry):
    from core.model_pool import ModelPool

    return ModelPool(registry)


@pytest.fixture()
def workspace(tmp_path):
    from core.runners.base import Workspace

    return Workspace(tmp_path / "workspace")


def _role(registry, role: str):
    return next(r for r in registry.controllers() if role in r.tags)


@pytest.fixture(scope="session")
def controller(registry, pool):
    """The default planner GGUF with its planning adapter, loaded as the Assistant loads it."""
    return pool.get(_role(registry, "planner")).model


@pytest.fixture(scope="session")
def writer_record(registry):
    return _role(registry, "writer")


@pytest.fixture(scope="session")
def writer(pool, writer_record):
    """The default writer GGUF (a chat model), loaded as the Assistant loads it."""
    return pool.get(writer_record).model


@pytest.fixture(scope="session")
def embedder(registry, pool):
    return pool.get(registry.get("sentence-transformers/all-MiniLM-L6-v2")).model


@pytest.fixture(scope="session")
def planner(controller, embedder):
    from core.demos import DemoBank
    from core.planner import Planner

    return Planner(controller, DemoBank.load(embedder=embedder))


@pytest.fixture()
def settings(tmp_path, cache_dir):
    """Settings with a private data folder and the shared model cache."""
    from core.config import Settings

    return Settings(data_dir=str(tmp_path / "data"), model_cache=str(cache_dir))


@pytest.fixture(scope="session")
def shared_assistant(tmp_path_factory, cache_dir):
    """One Assistant for the session (models stay loaded across tests)."""
    from core.assistant import Assistant
    from core.config import Settings

    data = tmp_path_factory.mktemp("assistant-data")
    return Assistant(Settings(data_dir=str(data), model_cache=str(cache_dir)))
