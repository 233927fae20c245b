"""OCR with PaddleOCR's PP-OCRv4 models run by RapidOCR on onnxruntime.

Three small ONNX networks: a text detector (finds text regions), a direction classifier (turns
upside-down lines) and a recogniser (reads each region). They handle photos, screenshots and
slanted text better than Tesseract; their recogniser is trained on Chinese and English.
``install`` copies the package's model files into the cache so the registry hashes and owns them,
and ``load`` points RapidOCR at those copies rather than at the package's own folder.
"""

from __future__ import annotations

import os
import shutil
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from core.registry import ModelRecord
from core.runners.base import DefaultModel, Runner, TaskInputError, Workspace, require_image

RUNTIME = "rapidocr"

DET_FILE = "ch_PP-OCRv4_det_infer.onnx"
REC_FILE = "ch_PP-OCRv4_rec_infer.onnx"
CLS_FILE = "ch_ppocr_mobile_v2.0_cls_infer.onnx"


class RapidOCRRunner(Runner):
    """image-to-text: lines of text in reading order, with a box per detected line."""

    runtime = RUNTIME

    def __init__(self, device: str = "auto") -> None:
        self.device = device

    def load(self, record: ModelRecord, model_path: Path) -> Any:
        from rapidocr_onnxruntime import RapidOCR

        from core.devices import onnx_providers

        folder = Path(model_path)
        for name in (DET_FILE, REC_FILE, CLS_FILE):
            if not (folder / name).is_file():
                raise FileNotFoundError(f"{name} missing from {folder}; reinstall the model")
        threads = os.cpu_count() or 1
        first = onnx_providers(self.device)[0]  # RapidOCR takes CUDA and DirectML switches
        gpu = {f"{part}_use_{name}": True for part in ("det", "cls", "rec")
               for name, provider in (("cuda", "CUDAExecutionProvider"),
                                      ("dml", "DmlExecutionProvider")) if first == provider}
        return RapidOCR(det_model_path=str(folder / DET_FILE),
                        rec_model_path=str(folder / REC_FILE),
                        cls_model_path=str(folder / CLS_FILE),
                        intra_op_num_threads=threads, inter_op_num_threads=1, **gpu)

    def device_of(self, model: Any) -> str:
        from core.devices import session_device

        session = getattr(getattr(model.text_det, "infer", None), "session", None)
        return session_device(session) if session is not None else "cpu"

    def run(self, model: Any, task: str, args: dict[str, Any], workspace: Workspace) -> dict:
        import numpy as np

        if task != "image-to-text":
            raise TaskInputError(f"{RUNTIME} models do not do {task!r}")
        image = require_image(args, workspace)
        # RapidOCR expects OpenCV's BGR channel order for arrays.
        pixels = np.ascontiguousarray(np.asarray(image)[:, :, ::-1])
        result, _elapsed = model(pixels)
        boxes = []
        for points, text, score in result or []:
            xs = [float(p[0]) for p in points]
            ys = [float(p[1]) for p in points]
            boxes.append({"label": str(text), "score": round(float(score), 4),
                          "box": [round(min(xs)), round(min(ys)), round(max(xs)), round(max(ys))]})
        text = reading_order_text(boxes)
        return {"text": text, "boxes": boxes}


def reading_order_text(boxes: list[dict]) -> str:
    """Join recognised pieces into lines: top to bottom, pieces sharing a line left to right.

    The detector often splits one printed line into several regions ("Invoice total: 42", "EUR");
    pieces whose vertical centres lie within half a line height of each other are one line.
    """
    pieces = sorted(boxes, key=lambda b: (b["box"][1] + b["box"][3]) / 2)
    lines: list[list[dict]] = []
    for piece in pieces:
        _, y0, _, y1 = piece["box"]
        centre, height = (y0 + y1) / 2, max(1, y1 - y0)
        if lines:
            last = lines[-1][-1]["box"]
            last_centre, last_height = (last[1] + last[3]) / 2, max(1, last[3] - last[1])
            if abs(centre - last_centre) <= 0.5 * min(height, last_height):
                lines[-1].append(piece)
                continue
        lines.append([piece])
    return "\n".join(
        " ".join(p["label"].strip() for p in sorted(line, key=lambda p: p["box"][0]))
        for line in lines
    ).strip()


# ---------------------------------------------------------------- installing


def _package_models_dir() -> Path:
    spec = find_spec("rapidocr_onnxruntime")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("package rapidocr-onnxruntime is not installed")
    return Path(spec.origin).parent / "models"


def _available() -> bool:
    try:
        folder = _package_models_dir()
    except FileNotFoundError:
        return False
    return all((folder / name).is_file() for name in (DET_FILE, REC_FILE, CLS_FILE))


def install_ppocr(dest: Path) -> None:
    """Copy the three ONNX files shipped in the rapidocr-onnxruntime wheel."""
    source = _package_models_dir()
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for name in (DET_FILE, REC_FILE, CLS_FILE):
        shutil.copy2(source / name, dest / name)


RUNNER = RapidOCRRunner

DEFAULT_MODELS: list[DefaultModel] = [
    DefaultModel(
        record=ModelRecord(
            id="SWHL/RapidOCR",
            task="image-to-text",
            runtime=RUNTIME,
            path="onnx/rapidocr-ppocrv4",
            description=(
                "Reads the text written in an image (OCR) with PaddleOCR PP-OCRv4 neural "
                "detection and recognition, ONNX. Robust on photos, screenshots, signs, "
                "rotated or slanted lines; English and Chinese. Returns lines in reading order "
                "with a box per line. Does not describe what an image shows."
            ),
            license="apache-2.0",
            source="pypi:rapidocr-onnxruntime==1.4.4",
            skill="ocr",
            tags=["ocr", "text-recognition", "paddleocr", "pp-ocrv4", "onnx", "english",
                  "chinese"],
            quantization="fp32",
            preference=5_000,
            params={"det": DET_FILE, "rec": REC_FILE, "cls": CLS_FILE},
        ),
        install=install_ppocr,
        available=_available,
    ),
]
