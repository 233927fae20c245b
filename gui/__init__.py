"""Conductor's desktop app (PySide6).

It talks to ``core`` only through ``Assistant`` and its events.
"""
