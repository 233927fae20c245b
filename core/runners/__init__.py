"""Runtime families: one module each, all behind the ``Runner`` interface in ``base``.

Modules are imported lazily by runtime name so that heavy libraries load only when a model of
that family first runs.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from core.runners.base import DefaultModel, Runner

# runtime name -> module that defines RUNNER (a Runner class) and DEFAULT_MODELS
RUNTIME_MODULES: dict[str, str] = {
    "llama.cpp": "core.runners.llm_text",
    "piper-onnx": "core.runners.piper_onnx",
    "espeak-ng": "core.runners.espeak",
    "faster-whisper": "core.runners.whisper",
    "pocketsphinx": "core.runners.sphinx",
    "rapidocr": "core.runners.rapidocr",
    "tesseract": "core.runners.tesseract",
    "spacy": "core.runners.spacy_ner",
    "vader": "core.runners.vader",
    "opencv-cascade": "core.runners.opencv_cascade",
    "onnx-sentence-embedding": "core.runners.sentence_onnx",
    "onnx-transformers": "core.runners.transformers_onnx",
}

# Modules that contribute models to the default set, in install order.
DEFAULT_SET_MODULES: tuple[str, ...] = (
    "core.runners.llm_text",
    "core.runners.sentence_onnx",
    "core.runners.piper_onnx",
    "core.runners.espeak",
    "core.runners.whisper",
    "core.runners.sphinx",
    "core.runners.rapidocr",
    "core.runners.tesseract",
    "core.runners.spacy_ner",
    "core.runners.vader",
    "core.runners.opencv_cascade",
)

_instances: dict[tuple, Runner] = {}
# Settings every pool hands to every runner; a runner takes those its constructor names.
COMMON_OPTIONS = ("device", "threads")


class UnknownRuntimeError(KeyError):
    def __str__(self) -> str:
        return f"no runner for runtime {self.args[0]!r}"


def get_runner(runtime: str, **kwargs: Any) -> Runner:
    """The runner instance for a runtime name and options, shared by callers with equal options.

    ``COMMON_OPTIONS`` (device, threads) go only to runners whose constructor takes them, so a
    pool can hand them to every runtime; any other option must be one the runner takes.
    """
    if runtime not in RUNTIME_MODULES:
        raise UnknownRuntimeError(runtime)
    runner_class = importlib.import_module(RUNTIME_MODULES[runtime]).RUNNER
    accepted = inspect.signature(runner_class).parameters
    options = {k: v for k, v in kwargs.items() if k not in COMMON_OPTIONS or k in accepted}
    key = (runtime, tuple(sorted(options.items())))
    if key not in _instances:
        _instances[key] = runner_class(**options)
    return _instances[key]


def default_models() -> list[DefaultModel]:
    """Every model of the default set, from every runtime module."""
    models: list[DefaultModel] = []
    for name in DEFAULT_SET_MODULES:
        models.extend(importlib.import_module(name).DEFAULT_MODELS)
    return models
