"""Shared fixtures: the real default model cache, a scratch workspace, and no network at all.

Every test runs with the network blocked (tests/netblock): any attempt fails the test that made
it, so the suite proves Conductor never reaches the network. The suite also runs apart from the
user's own set-up: their ``CONDUCTOR_*`` settings, hub cache and data folders are not read, the
hub is offline whatever was exported, and the repository's model cache must end the session as
it began (tests that import or remove models use a private copy).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "tests" / "netblock"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import netblock  # noqa: E402

from helpers import SKIP_MISSING, missing, private_copy, run_child  # noqa: E402

for name in [n for n in os.environ if n.startswith("CONDUCTOR_") and n != SKIP_MISSING]:
    del os.environ[name]  # the user's settings would point the suite at their own data
_HOME = Path(tempfile.mkdtemp(prefix="conductor-tests-"))
os.environ.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                   "QT_QPA_PLATFORM": "offscreen", "HF_HOME": str(_HOME / "hf"),
                   "XDG_DATA_HOME": str(_HOME / "data"),
                   "XDG_CONFIG_HOME": str(_HOME / "config")})

NETWORK_ATTEMPTS: list[str] = []
NetworkBlockedError = netblock.NetworkBlockedError
_CACHE_AT_START: dict[str, object] = {}


def pytest_addoption(parser):
    parser.addoption("--run-bundle", action="store_true",
                     help="also build the offline bundle and install it with no network (slow)")


def pytest_configure(config):
    netblock.install(NETWORK_ATTEMPTS.append)


def pytest_sessionfinish(session, exitstatus):
    if NETWORK_ATTEMPTS and exitstatus == 0:
        print(f"\nnetwork attempts during tests: {NETWORK_ATTEMPTS}")
        session.exitstatus = 1
    if _CACHE_AT_START and cache_state(Path(str(_CACHE_AT_START["path"]))) != _CACHE_AT_START:
        print("\nthe tests changed the repository's model cache (use private_cache)")
        session.exitstatus = 1


def pytest_unconfigure(config):
    shutil.rmtree(_HOME, ignore_errors=True)


@pytest.fixture(autouse=True)
def _no_network_attempts():
    """Fail the test in which a network attempt happened, even if the code swallowed the error."""
    before = len(NETWORK_ATTEMPTS)
    yield
    new = NETWORK_ATTEMPTS[before:]
    assert not new, f"test tried to reach the network: {new}"


def cache_state(path: Path) -> dict[str, object]:
    """What a model cache holds: its registry rows and the files beside them, by size."""
    from core.registry import Registry

    files = sorted((p.relative_to(path).as_posix(), p.stat().st_size)
                   for p in path.rglob("*") if p.is_file() and not p.name.startswith("registry."))
    rows = sorted(str(r.to_json()) for r in Registry(path).all())
    return {"path": str(path), "rows": rows, "files": files}


@pytest.fixture(scope="session")
def cache_dir() -> Path:
    """The real default model cache, built by `make setup` (built here if it is missing)."""
    from core.registry import default_cache_dir

    path = default_cache_dir()
    if not (path / "registry.db").exists() or not any(path.iterdir()):
        built = run_child([sys.executable, str(ROOT / "scripts" / "build_model_cache.py")],
                          _HOME / "build-net.log")
        assert built.returncode == 0, built.stderr
    _CACHE_AT_START.update(cache_state(path))
    from core.registry import Registry
    from core.runners import default_models

    registered = {r.id for r in Registry(path).all()}
    absent = [f"{m.record.id} (from {m.record.source})" for m in default_models()
              if m.record.id not in registered]
    if absent and os.environ.get(SKIP_MISSING) != "1":
        missing("part of the default model set: " + "; ".join(absent))
    return path


@pytest.fixture()
def private_cache(tmp_path, cache_dir) -> Path:
    """A writable model cache of the test's own holding the default models (see
    ``helpers.private_copy``)."""
    return private_copy(cache_dir, tmp_path / "model-cache")


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


@pytest.fixture()
def make_window(qtbot, settings):
    """Open real windows on the test's settings; each is closed (and its worker joined) after."""
    from PySide6.QtWidgets import QApplication

    from gui.main_window import MainWindow
    from gui.theme import apply_theme

    apply_theme(QApplication.instance())

    def make(window_settings=None, **kwargs):
        window = MainWindow(window_settings or settings,
                            settings_home=(window_settings or settings).data_path, **kwargs)
        qtbot.addWidget(window)
        window.show()
        return window

    return make


@pytest.fixture(scope="session")
def shared_assistant(tmp_path_factory, cache_dir):
    """One Assistant for the session (models stay loaded across tests)."""
    from core.assistant import Assistant
    from core.config import Settings

    data = tmp_path_factory.mktemp("assistant-data")
    return Assistant(Settings(data_dir=str(data), model_cache=str(cache_dir)))
