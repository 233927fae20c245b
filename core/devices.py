"""Which processor a model runs on: the user's one device setting, in each runtime's own terms.

Users choose ``auto`` (the default: a GPU wherever the installed build of a runtime can use one),
``cpu`` (never a GPU, e.g. to leave it to a game) or ``gpu`` (as ``auto``, but say so loudly when
no GPU can be used). Each runtime learns of GPUs differently: llama.cpp by how it was built,
ONNX Runtime by its execution providers (``onnxruntime-gpu`` adds CUDA, ``onnxruntime-directml``
DirectML, ...), CTranslate2 by the CUDA devices it sees. This module asks each of them, so runners
never hard-code a device and a CPU-only install needs nothing special.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

log = logging.getLogger(__name__)

AUTO, CPU, GPU = "auto", "cpu", "gpu"
DEVICES = (AUTO, CPU, GPU)

CPU_PROVIDER = "CPUExecutionProvider"
# ONNX Runtime's GPU providers, best first. TensorRT is left out on purpose: it compiles an
# engine per input shape (minutes), which a desktop assistant with varied inputs cannot afford.
GPU_PROVIDERS = ("CUDAExecutionProvider", "ROCMExecutionProvider", "DmlExecutionProvider",
                 "CoreMLExecutionProvider")

_warned: set[str] = set()


class DeviceSettingError(ValueError):
    """A device setting that is none of ``auto``, ``cpu``, ``gpu``."""


def check_device(device: str) -> str:
    """The setting, lower-cased, or a clear error naming the choices."""
    value = (device or AUTO).strip().lower()
    if value not in DEVICES:
        raise DeviceSettingError(f"device {device!r} is not one of {', '.join(DEVICES)}")
    return value


def _no_gpu(device: str, runtime: str, why: str) -> None:
    """Tell a user who asked for ``gpu`` that this runtime stays on the CPU (once per runtime)."""
    if device == GPU and runtime not in _warned:
        _warned.add(runtime)
        log.warning("device is 'gpu' but %s will run on the CPU: %s", runtime, why)


# ---------------------------------------------------------------- per runtime


def onnx_providers(device: str, available: Sequence[str] | None = None) -> list[str]:
    """The execution providers for an ONNX Runtime session, GPU first when one may be used.

    The CPU provider always comes last so operators a GPU provider lacks still run.
    """
    device = check_device(device)
    if device == CPU:
        return [CPU_PROVIDER]
    if available is None:
        import onnxruntime

        available = onnxruntime.get_available_providers()
    gpu = [p for p in GPU_PROVIDERS if p in available]
    if not gpu:
        _no_gpu(device, "onnxruntime", "this onnxruntime build has no GPU provider "
                "(install onnxruntime-gpu for CUDA)")
    return gpu[:1] + [CPU_PROVIDER]


def llama_offload(device: str, supported: bool | None = None) -> bool:
    """Whether llama.cpp should offload every layer to the GPU (``n_gpu_layers=-1``)."""
    device = check_device(device)
    if device == CPU:
        return False
    if supported is None:
        supported = _llama_supports_gpu()
    if not supported:
        _no_gpu(device, "llama.cpp", "llama-cpp-python was built without a GPU backend "
                "(rebuild with CMAKE_ARGS=-DGGML_CUDA=on)")
    return bool(supported)


def _llama_supports_gpu() -> bool:
    try:
        import llama_cpp

        return bool(llama_cpp.llama_supports_gpu_offload())
    except Exception:  # no llama.cpp, or a build without the query
        return False


def ctranslate2_device(device: str, cuda_devices: int | None = None) -> str:
    """``"cuda"`` or ``"cpu"`` for CTranslate2 models (faster-whisper)."""
    device = check_device(device)
    if device == CPU:
        return "cpu"
    if cuda_devices is None:
        try:
            import ctranslate2

            cuda_devices = ctranslate2.get_cuda_device_count()
        except Exception:
            cuda_devices = 0
    if cuda_devices <= 0:
        _no_gpu(device, "ctranslate2", "no CUDA device is visible to CTranslate2")
        return "cpu"
    return "cuda"


def ctranslate2_compute_type(compute_type: str, ct2_device: str) -> str:
    """Int8 weights stay int8 on a GPU, with float16 activations (CTranslate2's GPU int8 mode)."""
    if ct2_device == "cuda" and compute_type == "int8":
        return "int8_float16"
    return compute_type


def session_device(session: Any) -> str:
    """``"gpu"`` when an ONNX Runtime session's first provider is a GPU provider, else ``"cpu"``."""
    providers = session.get_providers() if hasattr(session, "get_providers") else []
    return GPU if providers and providers[0] != CPU_PROVIDER else CPU


def available() -> dict[str, Any]:
    """What the installed runtimes can use, for ``main.py devices`` and the benchmark."""
    try:
        import onnxruntime

        providers = list(onnxruntime.get_available_providers())
    except Exception:
        providers = []
    try:
        import ctranslate2

        cuda = int(ctranslate2.get_cuda_device_count())
    except Exception:
        cuda = 0
    return {"llama.cpp_gpu_offload": _llama_supports_gpu(),
            "onnxruntime_providers": providers,
            "ctranslate2_cuda_devices": cuda}
