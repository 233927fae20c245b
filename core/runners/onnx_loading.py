"""Loading exported ONNX models for the generic runner (optimum ORTModel classes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/Library/Fonts/Arial.ttf",
    "C:/Windows/Fonts/arial.ttf",
)


def font_kwargs() -> dict[str, str]:
    """A local TrueType font for Pix2Struct's question header.

    Without one, transformers downloads Arial from the hub at every call, which fails offline.
    """
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return {"font_path": candidate}
    try:
        import matplotlib

        bundled = Path(matplotlib.__file__).parent / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"
        if bundled.is_file():
            return {"font_path": str(bundled)}
    except ImportError:
        pass
    return {}


IMPORT_EXTRA_HINT = ("install the `import` extra (torch, optimum-onnx): `pip install "
                     "'conductor[import]'`, or build the offline bundle with "
                     "`make bundle BUNDLE_EXTRAS=import`")


class ImportExtraError(ImportError):
    """torch or optimum is not installed: Hugging Face transformers models cannot be exported
    or run (the default model set runs without them)."""


def require_import_extra(what: str) -> None:
    """Fail with the way out when the ``import`` extra is not installed."""
    import importlib.util

    missing = [name for name in ("torch", "optimum") if importlib.util.find_spec(name) is None]
    if missing:
        raise ImportExtraError(f"{what} needs {' and '.join(missing)}, which this "
                                 f"installation leaves out; {IMPORT_EXTRA_HINT}")


def load_onnx_model(folder: Path, onnx_class: str, threads: int | None = None,
                    device: str = "cpu") -> Any:
    """An ``optimum.onnxruntime`` model from a folder of exported graphs, on the CPU or a GPU."""
    require_import_extra("running an imported Hugging Face model")
    import onnxruntime as ort
    import optimum.onnxruntime as ort_models

    from core.devices import onnx_providers

    options = ort.SessionOptions()
    options.log_severity_level = 3  # quantised graphs log harmless warnings otherwise
    if threads:
        options.intra_op_num_threads = threads
    cls = getattr(ort_models, onnx_class)
    kwargs: dict[str, Any] = {"providers": onnx_providers(device), "session_options": options}
    if onnx_class in ("ORTModelForSeq2SeqLM", "ORTModelForSpeechSeq2Seq",
                      "ORTModelForVision2Seq", "ORTModelForPix2Struct"):
        merged = (folder / "decoder_model_merged.onnx").is_file()
        kwargs["use_merged"] = merged
        kwargs["use_cache"] = merged or (folder / "decoder_with_past_model.onnx").is_file()
    model = cls.from_pretrained(folder, **kwargs)
    if not getattr(model, "main_input_name", None):
        # Pipelines address the first input by this name (CTC models lack it in optimum).
        model.main_input_name = next(iter(getattr(model, "input_names", None) or ["input_ids"]))
    return model
