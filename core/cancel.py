"""Stopping a run: one exception that every stage raises when the user's stop Event is set.

A run is cancelled between any two model decisions, not only between stages, so Stop (or Esc in
the app) takes effect within a token or a task, and the run is recorded as ``cancelled``.
"""

from __future__ import annotations

import threading


class Cancelled(Exception):
    """The user stopped the run."""


def check(event: threading.Event | None) -> None:
    """Raise ``Cancelled`` if the stop Event is set."""
    if event is not None and event.is_set():
        raise Cancelled()
