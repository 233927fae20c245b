"""Runtime families: one module each, all behind the ``Runner`` interface in ``base``.

Modules are imported lazily by runtime name so that heavy libraries load only when a model of
that family first runs.
"""

from __future__ import annotations

import importlib
import inspect
from types import ModuleType
from typing import Any

from core.runners.base import DefaultModel, Runner

# The one registration point: every runtime module, in the order the default set installs its
# models. Each defines RUNTIME (its registry name), RUNNER (a Runner subclass) and
# DEFAULT_MODELS; adding a runtime is one module and one line here. The modules import their
# heavy libraries only when a model loads, so listing them here costs nothing at start-up.
RUNTIME_MODULE_NAMES: tuple[str, ...] = (
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
    "core.runners.transformers_onnx",
)


def runtime_modules() -> dict[str, ModuleType]:
    """Runtime name -> its module."""
    modules = [importlib.import_module(name) for name in RUNTIME_MODULE_NAMES]
    return {module.RUNTIME: module for module in modules}


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
    modules = runtime_modules()
    if runtime not in modules:
        raise UnknownRuntimeError(runtime)
    runner_class = modules[runtime].RUNNER
    accepted = inspect.signature(runner_class).parameters
    options = {k: v for k, v in kwargs.items() if k not in COMMON_OPTIONS or k in accepted}
    key = (runtime, tuple(sorted(options.items())))
    if key not in _instances:
        _instances[key] = runner_class(**options)
    return _instances[key]


def default_models() -> list[DefaultModel]:
    """Every model of the default set, from every runtime module."""
    return [model for module in runtime_modules().values() for model in module.DEFAULT_MODELS]
