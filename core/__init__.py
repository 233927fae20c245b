"""Conductor's core: plan, select, execute, respond, with local models only.

``from core import Assistant`` is the Python API; it is imported lazily so that light users of
``core`` (the CLI's ``--help``) do not pay for heavy libraries. ``Event``, ``EventKind`` and
``RunResult`` are what it reports and returns (``core.events``).
"""

from __future__ import annotations

from typing import Any

from core.events import Event, EventKind, RunResult

__all__ = ["Assistant", "Event", "EventKind", "RunResult"]


def __getattr__(name: str) -> Any:
    if name == "Assistant":
        from core.assistant import Assistant

        return Assistant
    raise AttributeError(name)
