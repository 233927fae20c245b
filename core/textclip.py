"""Shortening text for prompts and one-line displays, one rule everywhere.

Whitespace runs collapse to one space first, so a clipped transcript or OCR result reads as a
line and its length is what it costs in a prompt.
"""

from __future__ import annotations


def clip(text: object, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis when longer."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."
