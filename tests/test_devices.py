"""The device setting reaches every runtime: GPU providers first when present, CPU otherwise.

This machine has no GPU, so the GPU branches are checked through what each runtime would be
told (providers list, offload flag, CTranslate2 device) given what a GPU build reports; the CPU
branches are checked on real loaded models.
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
CUDA_BUILD = ["TensorrtExecutionProvider", "CUDAExecutionProvider", CPU_PROVIDER]


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
