"""Conductor, an offline HuggingGPT: the ``conductor`` command and ``python -m conductor``."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path


def _version() -> str:
    """The installed package's version; in a checkout that was never installed, pyproject's."""
    try:
        return metadata.version("conductor")
    except metadata.PackageNotFoundError:
        import tomllib

        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        return tomllib.loads(pyproject.read_text())["project"]["version"]


__version__ = _version()
