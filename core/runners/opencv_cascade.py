"""Object detection with OpenCV's Haar cascades: human frontal faces and cat faces.

A Haar cascade is a boosted chain of simple brightness-pattern tests slid over the image at many
scales; it needs no neural network and runs in about 0.1 s on a CPU, but knows only one object
class each and only frontal views. Two cascades are registered so the planner makes a real choice
(people vs cats). They ship inside opencv-python 4.x (``cv2.data.haarcascades``; OpenCV 5 dropped
both the files and ``CascadeClassifier``); ``install`` copies the XML into the cache.

Cascades give no probability. The score reported is ``n / (n + min_neighbors)`` where ``n`` is how
many overlapping raw detections were merged into the box: a box backed by many neighbours is far
more reliable than one just over the threshold, and the ratio keeps that order within 0-1.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from core.registry import ModelRecord
from core.runners.base import DefaultModel, Runner, TaskInputError, Workspace, require_image

RUNTIME = "opencv-cascade"


class CascadeRunner(Runner):
    """object-detection: boxes for one object class plus an annotated copy of the image."""

    runtime = RUNTIME

    def load(self, record: ModelRecord, model_path: Path) -> dict[str, Any]:
        import cv2

        if not hasattr(cv2, "CascadeClassifier"):
            raise RuntimeError(f"OpenCV {cv2.__version__} has no CascadeClassifier; "
                               "install opencv-python-headless<5")
        xml = Path(model_path) / record.params["cascade"]
        classifier = cv2.CascadeClassifier(str(xml))
        if classifier.empty():
            raise FileNotFoundError(f"cascade {xml} is missing or unreadable")
        return {"classifier": classifier, "params": dict(record.params)}

    def run(self, model: dict[str, Any], task: str, args: dict[str, Any],
            workspace: Workspace) -> dict:
        import cv2
        import numpy as np

        if task != "object-detection":
            raise TaskInputError(f"{RUNTIME} models do not do {task!r}")
        image = require_image(args, workspace)
        params = model["params"]
        gray = cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2GRAY)
        if params.get("equalize", False):
            gray = cv2.equalizeHist(gray)
        min_neighbors = int(params.get("min_neighbors", 5))
        min_size = int(params.get("min_size", 30))
        rects, neighbours = model["classifier"].detectMultiScale2(
            gray, scaleFactor=float(params.get("scale_factor", 1.1)),
            minNeighbors=min_neighbors, minSize=(min_size, min_size),
        )
        label = params.get("label", "object")
        boxes = []
        for (x, y, w, h), n in zip(np.asarray(rects).reshape(-1, 4), np.ravel(neighbours),
                                   strict=True):
            score = float(n) / (float(n) + min_neighbors)
            boxes.append({"label": label, "score": round(score, 4),
                          "box": [int(x), int(y), int(x + w), int(y + h)]})
        boxes.sort(key=lambda b: -b["score"])
        stem = Path(str(args["image"])).stem
        annotated = workspace.new_file(f"{stem}-{label}", ".png")
        draw_boxes(image, boxes).save(annotated)
        count = len(boxes)
        noun = label if count == 1 else f"{label}s"
        summary = f"{count} {noun} found" if count else f"no {label}s found"
        return {"boxes": boxes, "image": workspace.relative(annotated), "text": summary}


def draw_boxes(image: Any, boxes: list[dict]) -> Any:
    """A copy of a PIL image with each box outlined and labelled with its score."""
    from PIL import ImageDraw

    copy = image.copy()
    draw = ImageDraw.Draw(copy)
    width = max(2, round(min(copy.size) / 200))
    for item in boxes:
        x0, y0, x1, y1 = item["box"]
        draw.rectangle([x0, y0, x1, y1], outline=(255, 40, 40), width=width)
        caption = f"{item['label']} {item['score']:.2f}"
        left, top, right, bottom = draw.textbbox((x0, y0), caption)
        lift = bottom - top + 4
        ty = y0 - lift if y0 - lift >= 0 else y1 + 2
        draw.rectangle([x0, ty, x0 + right - left + 4, ty + lift], fill=(255, 40, 40))
        draw.text((x0 + 2, ty + 1), caption, fill=(255, 255, 255))
    return copy


# ---------------------------------------------------------------- installing


def _cascade_dir() -> Path | None:
    try:
        import cv2
    except ImportError:
        return None
    if not hasattr(cv2, "CascadeClassifier"):
        return None
    folder = Path(getattr(getattr(cv2, "data", None), "haarcascades", "") or "")
    return folder if folder.is_dir() else None


def _installer(filename: str):
    def install(dest: Path) -> None:
        """Copy one cascade XML from OpenCV's data folder into the folder ``dest``."""
        folder = _cascade_dir()
        if folder is None or not (folder / filename).is_file():
            raise FileNotFoundError(f"{filename} not found: install opencv-python-headless<5")
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy2(folder / filename, dest / filename)

    return install


def _availability(filename: str):
    def available() -> bool:
        folder = _cascade_dir()
        return folder is not None and (folder / filename).is_file()

    return available


FACE_XML = "haarcascade_frontalface_default.xml"
CAT_XML = "haarcascade_frontalcatface.xml"

RUNNER = CascadeRunner

DEFAULT_MODELS: list[DefaultModel] = [
    DefaultModel(
        record=ModelRecord(
            id="opencv/haarcascade_frontalface_default",
            task="object-detection",
            runtime=RUNTIME,
            path="opencv/haarcascade_frontalface_default",
            description=(
                "Finds human faces seen from the front in a photo (Viola-Jones Haar cascade, "
                "OpenCV) and draws boxes around them. Only people's frontal faces: misses "
                "profiles and tilted heads, and detects no other objects or animals."
            ),
            license="BSD-3-Clause",
            source="pypi:opencv-python-headless==4.11.0.86",
            skill="faces",
            tags=["face-detection", "faces", "people", "person", "haar-cascade", "opencv"],
            quantization="",
            preference=3_000,
            # Histogram equalisation helps on faces under uneven light; the settings are
            # OpenCV's documented defaults for this cascade.
            params={"cascade": FACE_XML, "label": "face", "scale_factor": 1.1,
                    "min_neighbors": 5, "min_size": 30, "equalize": True},
        ),
        install=_installer(FACE_XML),
        available=_availability(FACE_XML),
    ),
    DefaultModel(
        record=ModelRecord(
            id="opencv/haarcascade_frontalcatface",
            task="object-detection",
            runtime=RUNTIME,
            path="opencv/haarcascade_frontalcatface",
            description=(
                "Finds cat faces seen from the front in a photo (Haar cascade, OpenCV) and draws "
                "boxes around them. Cats only, not people or other animals; on close-ups it "
                "may box just the nose and mouth."
            ),
            license="BSD-3-Clause",
            source="pypi:opencv-python-headless==4.11.0.86",
            skill="cat-faces",
            tags=["cat", "cats", "animal", "pet", "face-detection", "haar-cascade", "opencv"],
            quantization="",
            preference=800,
            # A finer scale step and fewer neighbours than for human faces: this cascade fires
            # less often, and with 1.1/5 it found nothing on scikit-image's cat photo.
            params={"cascade": CAT_XML, "label": "cat face", "scale_factor": 1.05,
                    "min_neighbors": 3, "min_size": 30, "equalize": False},
        ),
        install=_installer(CAT_XML),
        available=_availability(CAT_XML),
    ),
]
