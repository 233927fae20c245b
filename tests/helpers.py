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
SKIP_MISSING = "CONDUCTOR_TESTS_SKIP_MISSING"  # the one opt-out; .ci/run never sets it
NETBLOCK = ROOT / "tests" / "netblock"


def child_env(log: Path, **overrides: str) -> dict[str, str]:
    """A child process's environment: offline, none of the user's ``CONDUCTOR_*`` settings, and
    the network block on (``tests/netblock/sitecustomize.py``), writing attempts to ``log``."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDUCTOR_")}
    env.update({"PYTHONPATH": str(NETBLOCK), "CONDUCTOR_NETBLOCK_LOG": str(log),
                "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    env.update(overrides)
    return env


def assert_no_network(log: Path) -> None:
    """The child ran with the block on (it creates the log) and tried no network access."""
    assert log.exists(), "the network block was not on in the child process"
    attempts = log.read_text(encoding="utf-8").strip()
    assert not attempts, f"the child process tried to reach the network: {attempts}"


def run_child(argv: list[str], log: Path, env: dict[str, str] | None = None, timeout: int = 600,
              stdin: str | None = None):
    """Run a command with the network blocked; fails the test on any attempt it made."""
    import subprocess

    log.unlink(missing_ok=True)  # the log proves this child's block, not an earlier one's
    result = subprocess.run(argv, capture_output=True, text=True, env=env or child_env(log),
                            timeout=timeout, input=stdin, cwd=ROOT)
    assert_no_network(log)
    return result


def cli_env(data_dir: Path, cache_dir: Path, log: Path, **overrides: str) -> dict[str, str]:
    return child_env(log, CONDUCTOR_DATA=str(data_dir), CONDUCTOR_MODEL_CACHE=str(cache_dir),
                     **overrides)


def run_cli(args: list[str], data_dir: Path, cache_dir: Path, log: Path, timeout: int = 600,
            stdin: str | None = None, **env: str):
    """Run main.py in a child process with its own data folder, the network blocked there too."""
    import sys

    return run_child([sys.executable, str(ROOT / "main.py"), *args], log,
                     cli_env(data_dir, cache_dir, log, **env), timeout, stdin)


def missing(what: str, module_level: bool = False) -> None:
    """A piece of the install is not here: the test fails naming it, so a broken install can
    never pass as a skip; only ``CONDUCTOR_TESTS_SKIP_MISSING=1`` turns the failure into a skip
    (for a deliberately partial install)."""
    import os

    import pytest

    message = (f"{what} is missing: `make setup` installs it ({SKIP_MISSING}=1 skips the tests "
               "that need it instead)")
    if os.environ.get(SKIP_MISSING) == "1":
        pytest.skip(message, allow_module_level=module_level)
    pytest.fail(message, pytrace=False)


def installed_model(registry, model_id: str):
    """A default model's registry row; one whose package or program is missing fails the test
    that needs it, naming the piece (the tests of the other models still run)."""
    if model_id not in {r.id for r in registry.all()}:
        from core.runners import default_models

        source = next(m.record.source for m in default_models() if m.record.id == model_id)
        missing(f"{model_id} (from {source})")
    return registry.get(model_id)


def private_copy(cache_dir: Path, private: Path) -> Path:
    """A model cache holding the default models that a test may import into and remove from: a
    copy of the registry with each model's files linked, so the shared cache stays as it was."""
    import sqlite3

    from core.registry import Registry

    private.mkdir(parents=True)
    with sqlite3.connect(cache_dir / "registry.db") as source, \
            sqlite3.connect(private / "registry.db") as copy:
        source.backup(copy)
    for record in Registry(cache_dir).all():
        if not Path(record.path).is_absolute():
            link = private / record.path
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(cache_dir / record.path)
    return private
