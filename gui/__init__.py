"""Conductor's desktop app (PySide6). Talks to ``core`` only through ``Assistant`` and its events."""
