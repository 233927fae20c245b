"""Conductor in the desktop's application menu: a freedesktop ``.desktop`` entry and an icon.

Installed per user under ``$XDG_DATA_HOME`` (``~/.local/share``), where menus look for them, so
no root is needed. The entry starts the window with the Python that ran this (the venv's), so it
works without the venv on the menu's PATH.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ICON = Path(__file__).resolve().parent / "data" / "conductor.svg"
APP_ID = "conductor"


def desktop_entry(python: str) -> str:
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.5",
        "Name=Conductor",
        "GenericName=Offline assistant",
        "Comment=Local models plan, run and answer: fully offline",
        f'Exec="{python}" -m conductor gui',
        f"Icon={APP_ID}",
        "Terminal=false",
        "Categories=Utility;Office;",
        "Keywords=assistant;offline;speech;ocr;translate;",
        "",
    ])


def install(data_home: Path, python: str = sys.executable) -> list[Path]:
    """Write the menu entry and the icon; returns the files written (a second run rewrites
    the same two files)."""
    entry = data_home / "applications" / f"{APP_ID}.desktop"
    icon = data_home / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"
    for path in (entry, icon):
        path.parent.mkdir(parents=True, exist_ok=True)
    entry.write_text(desktop_entry(python), encoding="utf-8")
    shutil.copyfile(ICON, icon)
    return [entry, icon]
