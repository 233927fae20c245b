"""Inputs made in the tests themselves: speech, pictures of text, photos."""

from __future__ import annotations

import re
from pathlib import Path


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def heard(text: str, expected: set[str], misses: int = 1) -> bool:
    """All but ``misses`` of the expected words are in a transcript. Piper samples its voice
    noise afresh on every call, so tiny Whisper now and then mishears one word of the same
    sentence ("quit" for "quick"); two misses fail."""
    return len(expected - words(text)) <= misses


def text_image(path: Path, text: str, size: tuple[int, int] = (900, 160)) -> Path:
    """A white picture with large black text, for OCR."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = None
    for candidate in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",):
        if Path(candidate).exists():
            font = ImageFont.truetype(candidate, 56)
    if font is None:
        font = ImageFont.load_default(size=56)
    draw.text((30, 40), text, fill="black", font=font)
    image.save(path)
    return path


def astronaut(path: Path) -> Path:
    """scikit-image's astronaut photo (one clear face)."""
    from PIL import Image
    from skimage import data

    Image.fromarray(data.astronaut()).save(path)
    return path


def corrupt_file(path: Path) -> Path:
    path.write_bytes(b"\x00\x01not really a media file\xff" * 20)
    return path


ROOT = Path(__file__).resolve().parent.parent


def run_cli(args: list[str], data_dir: Path, cache_dir: Path, log: Path, timeout: int = 600,
            stdin: str | None = None):
    """Run main.py in a child process with its own data folder, the network blocked there too."""
    import os
    import subprocess
    import sys

    env = dict(os.environ)
    env.update({"CONDUCTOR_DATA": str(data_dir), "CONDUCTOR_MODEL_CACHE": str(cache_dir),
                "PYTHONPATH": str(ROOT / "tests" / "netblock"),
                "CONDUCTOR_NETBLOCK_LOG": str(log), "HF_HUB_OFFLINE": "1"})
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True,
                          text=True, env=env, timeout=timeout, input=stdin, cwd=ROOT)
