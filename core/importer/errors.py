"""The importer's errors and its progress callback type.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, float], None]
"""``progress(step, fraction)``: ``fraction`` runs from 0.0 to 1.0 within each named step."""


class ImportModelError(ValueError):
    """A model that cannot be imported as given (source, weights, task or architecture)."""


class PickleRefusedError(ImportModelError):
    """Weights only in pickle formats, which run code when loaded, and no ``--trust-pickle``."""


class OfflineError(ImportModelError):
    """A hub id was given while the machine (or the environment) is offline."""
