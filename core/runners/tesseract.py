"""OCR with the Tesseract 5 program (LSTM engine, English traineddata), run as a subprocess.

Tesseract is the classic document OCR engine: strong on clean scans and printed pages, weaker on
photos and slanted text than PP-OCR. It ships as a Debian package, not a Python wheel, so the model
here is its ``eng.traineddata`` copied into the cache; the program is given ``--tessdata-dir`` so it
reads that copy, and the registry's checksum covers the data it actually uses.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.registry import ModelRecord
from core.runners.base import DefaultModel, Runner, TaskInputError, Workspace, require_image

RUNTIME = "tesseract"
LANGUAGE = "eng"
TIMEOUT_SECONDS = 120

# Where distributions put tessdata (Debian/Ubuntu versioned folder first, then others).
TESSDATA_GLOBS = (
    "/usr/share/tesseract-ocr/*/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
    "/usr/local/share/tesseract-ocr/*/tessdata",
    "/opt/homebrew/share/tessdata",
)


@dataclass
class TesseractModel:
    binary: str
    tessdata_dir: Path
    language: str = LANGUAGE
    psm: int = 3  # page segmentation mode 3: find text blocks automatically


class TesseractRunner(Runner):
    """image-to-text via Tesseract's TSV output: words with boxes, grouped into lines."""

    runtime = RUNTIME

    def load(self, record: ModelRecord, model_path: Path) -> TesseractModel:
        binary = shutil.which("tesseract")
        if binary is None:
            raise FileNotFoundError("the tesseract program is not installed "
                                    "(Debian: apt-get install tesseract-ocr)")
        language = record.params.get("language", LANGUAGE)
        folder = Path(model_path)
        if not (folder / f"{language}.traineddata").is_file():
            raise FileNotFoundError(f"{language}.traineddata missing from {folder}")
        return TesseractModel(binary, folder, language, int(record.params.get("psm", 3)))

    def run(self, model: TesseractModel, task: str, args: dict[str, Any],
            workspace: Workspace) -> dict:
        if task != "image-to-text":
            raise TaskInputError(f"{RUNTIME} models do not do {task!r}")
        image = require_image(args, workspace)
        with tempfile.TemporaryDirectory(prefix="conductor-tesseract-") as tmp:
            # Re-encode as PNG: Tesseract's image library (Leptonica) reads fewer formats than
            # Pillow, and require_image has already checked the file is a real image.
            png = Path(tmp) / "input.png"
            image.save(png)
            # One OpenMP thread: on a few cores Tesseract's threading costs more than it saves,
            # and the executor may run other models at the same time.
            env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
            completed = subprocess.run(
                [model.binary, str(png), "stdout", "--tessdata-dir", str(model.tessdata_dir),
                 "-l", model.language, "--psm", str(model.psm),
                 # TSV output set directly: the "tsv" config file lives in the system tessdata
                 # folder, which --tessdata-dir points away from.
                 "-c", "tessedit_create_tsv=1"],
                capture_output=True, text=True, timeout=TIMEOUT_SECONDS, env=env, check=False,
            )
        if completed.returncode != 0:
            raise RuntimeError(f"tesseract failed ({completed.returncode}): "
                               f"{completed.stderr.strip()[-500:]}")
        boxes = parse_tsv(completed.stdout)
        text = "\n".join(box["label"] for box in boxes)
        return {"text": text, "boxes": boxes}


def parse_tsv(tsv: str) -> list[dict]:
    """Tesseract's TSV (one row per word, with block/paragraph/line numbers) to line boxes.

    A line's score is the mean word confidence (Tesseract gives 0-100) scaled to 0-1.
    """
    rows = tsv.splitlines()
    if not rows:
        return []
    header = rows[0].split("\t")
    lines: dict[tuple[str, ...], dict[str, Any]] = {}
    for row in rows[1:]:
        fields = row.split("\t")
        if len(fields) != len(header):
            continue
        item = dict(zip(header, fields, strict=True))
        word = item.get("text", "").strip()
        if item.get("level") != "5" or not word:
            continue
        try:
            left, top = int(item["left"]), int(item["top"])
            right, bottom = left + int(item["width"]), top + int(item["height"])
            confidence = max(0.0, float(item["conf"]))
        except (KeyError, ValueError):
            continue
        key = (item["page_num"], item["block_num"], item["par_num"], item["line_num"])
        line = lines.setdefault(key, {"words": [], "confs": [], "box": [left, top, right, bottom]})
        line["words"].append(word)
        line["confs"].append(confidence)
        box = line["box"]
        line["box"] = [min(box[0], left), min(box[1], top), max(box[2], right),
                       max(box[3], bottom)]
    return [
        {"label": " ".join(line["words"]),
         "score": round(sum(line["confs"]) / len(line["confs"]) / 100.0, 4),
         "box": line["box"]}
        for line in lines.values()
    ]


# ---------------------------------------------------------------- installing


def system_traineddata(language: str = LANGUAGE) -> Path | None:
    """The system's ``<language>.traineddata`` ($TESSDATA_PREFIX first), or None."""
    candidates = []
    prefix = os.environ.get("TESSDATA_PREFIX")
    if prefix:
        candidates += [Path(prefix), Path(prefix) / "tessdata"]
    for pattern in TESSDATA_GLOBS:
        candidates += [Path(p) for p in sorted(glob.glob(pattern), reverse=True)]
    for folder in candidates:
        if (folder / f"{language}.traineddata").is_file():
            return folder / f"{language}.traineddata"
    return None


def _available() -> bool:
    return shutil.which("tesseract") is not None and system_traineddata() is not None


def install_eng(dest: Path) -> None:
    """Copy the system's English traineddata into the cache folder ``dest``."""
    source = system_traineddata()
    if source is None:
        raise FileNotFoundError("eng.traineddata not found (Debian: apt-get install "
                                "tesseract-ocr-eng)")
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, dest / source.name)


RUNNER = TesseractRunner

DEFAULT_MODELS: list[DefaultModel] = [
    DefaultModel(
        record=ModelRecord(
            id="tesseract-ocr/tessdata-eng",
            task="image-to-text",
            runtime=RUNTIME,
            path="tesseract/eng",
            description=(
                "Reads the text in an image (OCR) with the Tesseract 5 LSTM engine, English. "
                "Best on clean, straight, printed documents and scans (pages, receipts, "
                "letters); weaker than neural detectors on photos, signs and slanted text. "
                "Returns lines with boxes. Does not describe what an image shows."
            ),
            license="apache-2.0",
            source="debian:tesseract-ocr-eng (traineddata 4.1.0, engine tesseract-ocr 5.3)",
            skill="ocr",
            tags=["ocr", "text-recognition", "tesseract", "documents", "scans", "english"],
            quantization="",
            # Not hosted on the Hugging Face hub; a modest figure keeps it ranked below
            # PP-OCR, which reads photos better, while remaining a real choice for documents.
            preference=2_000,
            params={"language": LANGUAGE, "psm": 3, "engine": "lstm"},
        ),
        install=install_eng,
        available=_available,
    ),
]
