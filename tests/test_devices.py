"""The device setting reaches every runtime: GPU providers first when present, CPU otherwise.

The helper functions are checked on made-up provider lists, the CPU branches on real loaded
models. This machine has no GPU, so the GPU branches are checked at each runtime's boundary: every
runtime's own probe is made to report a GPU (``gpu_reported``), the constructor a runner calls is
wrapped to record what it is given (``record_calls``), and real models are loaded through the real
pool. The wrapper then builds the real object on the CPU, so each load completes as it would.
"""

from __future__ import annotations

import json
import logging

import pytest

from core import devices
from core.devices import (
    CPU_PROVIDER,
    DeviceSettingError,
    check_device,
    ctranslate2_compute_type,
    ctranslate2_device,
    llama_offload,
    onnx_providers,
)
from helpers import run_cli

MINILM = "sentence-transformers/all-MiniLM-L6-v2"
PIPER = "rhasspy/piper-en_US-joe-medium"
RAPIDOCR = "SWHL/RapidOCR"
WHISPER = "openai/whisper-tiny.en"
# What onnxruntime-gpu reports; TensorRT must be passed over (core.devices.GPU_PROVIDERS).
CUDA_BUILD = ["TensorrtExecutionProvider", "CUDAExecutionProvider", CPU_PROVIDER]
CUDA_FIRST = ["CUDAExecutionProvider", CPU_PROVIDER]
SETTINGS = ("auto", "gpu", "cpu")


def test_setting_is_checked_and_normalised():
    assert check_device(" GPU ") == "gpu"
    assert check_device("") == "auto"
    with pytest.raises(DeviceSettingError, match="auto, cpu, gpu"):
        check_device("tpu")


def test_onnx_providers_put_the_gpu_first_and_keep_the_cpu():
    assert onnx_providers("auto", CUDA_BUILD) == ["CUDAExecutionProvider", CPU_PROVIDER]
    assert onnx_providers("gpu", ["DmlExecutionProvider", CPU_PROVIDER]) == [
        "DmlExecutionProvider", CPU_PROVIDER]
    assert onnx_providers("cpu", CUDA_BUILD) == [CPU_PROVIDER]
    assert onnx_providers("auto", [CPU_PROVIDER]) == [CPU_PROVIDER]


def test_asking_for_a_gpu_that_is_not_there_warns_and_runs_on_the_cpu(caplog, monkeypatch):
    monkeypatch.setattr(devices, "_warned", set())
    with caplog.at_level(logging.WARNING, logger="core.devices"):
        assert onnx_providers("gpu", [CPU_PROVIDER]) == [CPU_PROVIDER]
        assert llama_offload("gpu", supported=False) is False
        assert ctranslate2_device("gpu", cuda_devices=0) == "cpu"
    text = caplog.text
    assert "onnxruntime-gpu" in text and "GGML_CUDA" in text and "CTranslate2" in text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="core.devices"):
        onnx_providers("auto", [CPU_PROVIDER])  # automatic: a CPU-only machine is no surprise
    assert caplog.text == ""


def test_llama_and_ctranslate2_follow_the_setting():
    assert llama_offload("auto", supported=True) is True
    assert llama_offload("cpu", supported=True) is False
    assert ctranslate2_device("auto", cuda_devices=1) == "cuda"
    assert ctranslate2_device("cpu", cuda_devices=1) == "cpu"
    assert ctranslate2_compute_type("int8", "cuda") == "int8_float16"
    assert ctranslate2_compute_type("int8", "cpu") == "int8"


def test_settings_reject_an_unknown_device(monkeypatch, tmp_path):
    from core.config import Settings

    monkeypatch.setenv("CONDUCTOR_DEVICE", "quantum")
    with pytest.raises(ValueError, match="quantum"):
        Settings.load(tmp_path)
    monkeypatch.setenv("CONDUCTOR_DEVICE", "CPU")
    assert Settings.load(tmp_path).device == "cpu"
    monkeypatch.delenv("CONDUCTOR_DEVICE")
    assert Settings.load(tmp_path).device == "auto"
    (tmp_path / "settings.json").write_text('{"device": "quantum", "threads": 1}')
    loaded = Settings.load(tmp_path)  # a bad saved value must not stop the app
    assert (loaded.device, loaded.threads) == ("auto", 1)


def test_runners_get_the_device_and_report_where_models_run(registry):
    from core.model_pool import ModelPool
    from core.runners import get_runner

    pool = ModelPool(registry, device="cpu")
    loaded = pool.get(registry.get(MINILM))
    assert loaded.runner.device == "cpu"
    assert loaded.model.session.get_providers() == [CPU_PROVIDER]
    assert pool.device_of(MINILM) == "cpu"
    # "auto" on this CPU-only machine: the same providers, another runner instance
    auto = get_runner("onnx-sentence-embedding", device="auto")
    assert auto.device == "auto" and auto is not loaded.runner
    assert get_runner("onnx-sentence-embedding", device="auto") is auto
    # runners without a device choice still accept the pool's common options
    assert get_runner("vader", device="gpu", threads=2).runtime == "vader"


def test_cli_reports_the_devices(tmp_path, cache_dir):
    done = run_cli(["devices", "--json"], tmp_path / "data", cache_dir, tmp_path / "net.log",
                   timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["setting"] in ("auto", "cpu", "gpu")
    assert report["onnx_session_providers"][-1] == CPU_PROVIDER
    assert CPU_PROVIDER in report["available"]["onnxruntime_providers"]


# ---------------------------------------------------------------- what each runtime is given


@pytest.fixture()
def gpu_reported(monkeypatch):
    """Each runtime's own probe (the ones ``core.devices`` asks) says a GPU is there."""
    import ctranslate2
    import llama_cpp
    import onnxruntime

    monkeypatch.setattr(devices, "_warned", set())
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: list(CUDA_BUILD))
    monkeypatch.setattr(llama_cpp, "llama_supports_gpu_offload", lambda: True)
    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 1)


def record_calls(monkeypatch, owner, name: str, **cpu_args) -> list[dict]:
    """Wrap the constructor ``owner.name``: record each call's keyword arguments, then build the
    real object with ``cpu_args`` over them, since this machine cannot honour GPU arguments."""
    real = getattr(owner, name)
    calls: list[dict] = []

    def build(*args, **kwargs):
        calls.append(dict(kwargs))
        return real(*args, **{**kwargs, **cpu_args})

    monkeypatch.setattr(owner, name, build)
    return calls


def load(registry, record, device: str):
    """A fresh pool (not the session's shared one) with the setting, and the record loaded in it."""
    from core.model_pool import ModelPool

    pool = ModelPool(registry, device=device)
    pool.get(record)
    return pool


def onnx_expected(device: str) -> list[str]:
    return [CPU_PROVIDER] if device == "cpu" else CUDA_FIRST


@pytest.mark.parametrize("device", SETTINGS)
@pytest.mark.parametrize("model_id", [MINILM, PIPER])
def test_onnx_sessions_get_the_gpu_first_unless_the_setting_is_cpu(registry, gpu_reported,
                                                                    monkeypatch, model_id, device):
    """Sentence embeddings and Piper voices create their InferenceSession themselves."""
    import onnxruntime

    calls = record_calls(monkeypatch, onnxruntime, "InferenceSession", providers=[CPU_PROVIDER])
    load(registry, registry.get(model_id), device)
    assert [call["providers"] for call in calls] == [onnx_expected(device)]
    assert not devices._warned  # "gpu" with a GPU present: no runtime told it runs on the CPU


@pytest.mark.parametrize("device", SETTINGS)
def test_rapidocr_sessions_get_the_gpu_first_unless_the_setting_is_cpu(registry, gpu_reported,
                                                                        monkeypatch, device):
    """RapidOCR takes on/off switches, not providers, and checks for CUDA with probes of its own
    (bound at its import, and ``get_device``, which says "GPU" only in onnxruntime-gpu); the
    sessions it then creates for its three networks must all put CUDA first."""
    from rapidocr_onnxruntime.utils import infer_engine

    monkeypatch.setattr(infer_engine, "get_available_providers", lambda: list(CUDA_BUILD))
    monkeypatch.setattr(infer_engine, "get_device", lambda: "GPU")
    calls = record_calls(monkeypatch, infer_engine, "InferenceSession", providers=[CPU_PROVIDER])
    load(registry, registry.get(RAPIDOCR), device)
    names = [[name for name, _options in call["providers"]] for call in calls]
    assert names == [onnx_expected(device)] * 3  # detector, direction classifier, recogniser


@pytest.fixture(scope="module")
def exported_minilm(cache_dir, tmp_path_factory):
    """MiniLM's ONNX folder with the ``config.json`` an optimum export has, so the generic
    runner can load a real graph without exporting one (torch export takes minutes here)."""
    import shutil

    folder = tmp_path_factory.mktemp("generic") / "minilm"
    shutil.copytree(cache_dir / "onnx" / "all-MiniLM-L6-v2-int8", folder)
    (folder / "config.json").write_text('{"model_type": "bert"}')
    return folder


@pytest.mark.parametrize("device", SETTINGS)
def test_generic_onnx_runner_gets_the_gpu_first_unless_the_setting_is_cpu(
        registry, gpu_reported, monkeypatch, exported_minilm, device):
    """Imported models load through optimum's ``ORTModel.from_pretrained(providers=...)``, with
    the whole list: the GPU first, the CPU behind it for operators the GPU provider lacks."""
    import optimum.onnxruntime.modeling as optimum_modeling

    from core.registry import ModelRecord

    calls = record_calls(monkeypatch, optimum_modeling, "InferenceSession",
                         providers=[CPU_PROVIDER])
    record = ModelRecord(id="local/minilm-onnx", task="feature-extraction",
                         runtime="onnx-transformers", path=str(exported_minilm),
                         description="", license="apache-2.0", source="test",
                         params={"onnx_class": "ORTModelForFeatureExtraction",
                                 "pipeline_task": "feature-extraction"})
    load(registry, record, device)
    assert [call["providers"] for call in calls] == [onnx_expected(device)]
    assert not devices._warned


@pytest.mark.parametrize("device", SETTINGS)
def test_llama_cpp_offloads_every_layer_unless_the_setting_is_cpu(registry, gpu_reported,
                                                                   monkeypatch, device):
    """The default planner GGUF, loaded as the Assistant loads it; the pool reports where."""
    import llama_cpp

    from core import llm

    # A controller of its own: not the session's CPU one, and none left behind built on fakes.
    monkeypatch.setattr(llm, "_shared", {})
    calls = record_calls(monkeypatch, llama_cpp, "Llama", n_gpu_layers=0)
    planner = next(r for r in registry.controllers() if "planner" in r.tags)
    pool = load(registry, planner, device)
    assert [call["n_gpu_layers"] for call in calls] == [0 if device == "cpu" else -1]
    assert pool.device_of(planner.id) == ("cpu" if device == "cpu" else "gpu")
    assert not devices._warned


@pytest.mark.parametrize("device", SETTINGS)
def test_whisper_runs_on_cuda_with_int8_float16_unless_the_setting_is_cpu(registry, gpu_reported,
                                                                           monkeypatch, device):
    """The int8 weights stay int8 on a GPU, with float16 activations (CTranslate2's GPU mode)."""
    import faster_whisper

    calls = record_calls(monkeypatch, faster_whisper, "WhisperModel", device="cpu",
                         compute_type="int8")
    pool = load(registry, registry.get(WHISPER), device)
    wanted = ("cpu", "int8") if device == "cpu" else ("cuda", "int8_float16")
    assert [(call["device"], call["compute_type"]) for call in calls] == [wanted]
    assert pool.device_of(WHISPER) == ("cpu" if device == "cpu" else "gpu")
    assert not devices._warned


@pytest.mark.parametrize("device", ["auto", "cpu"])
def test_cli_reports_what_a_gpu_build_offers(gpu_reported, monkeypatch, tmp_path, capsys, device):
    """``devices --json`` in this process, where the probes can be made to report a GPU."""
    from conductor import cli as main

    monkeypatch.setenv("CONDUCTOR_DATA", str(tmp_path))
    monkeypatch.setenv("CONDUCTOR_DEVICE", device)
    assert main.main(["devices", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["setting"] == device
    assert report["onnx_session_providers"] == onnx_expected(device)
    assert report["available"] == {"llama.cpp_gpu_offload": True,
                                   "onnxruntime_providers": CUDA_BUILD,
                                   "ctranslate2_cuda_devices": 1}
    if device == "cpu":  # what each runtime gets, not only what the build could do
        assert {report[r] for r in ("llama.cpp", "onnxruntime", "ctranslate2")} == {
            "cpu (the device setting is cpu)"}
    else:
        assert report["onnxruntime"] == "CUDAExecutionProvider"
        assert (report["llama.cpp"], report["ctranslate2"]) == ("gpu", "gpu (1 CUDA devices)")
