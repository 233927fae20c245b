"""The benchmark's expert section on the real default models: every expert loads and says where it
runs, a second use reloads nothing, independent tasks overlap, int8 ONNX stays close to fp32.

Speeds are not asserted (benchmarks measure them); what is asserted holds on any machine.
"""

from __future__ import annotations

import importlib.util

from helpers import ROOT


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench", ROOT / "scripts" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_expert_section_measures_loads_devices_reuse_and_overlap(shared_assistant):
    bench = _bench_module()
    experts = bench.bench_experts(shared_assistant, threads=2, runs=1)
    loads = experts["first_load_s"]
    assert "rhasspy/piper-en_US-joe-medium" in loads and "openai/whisper-tiny.en" in loads
    assert all(isinstance(seconds, float) for seconds in loads.values()), loads
    assert set(experts["device"]) == set(loads)
    assert set(experts["device"].values()) <= {"cpu", "gpu"}
    assert experts["second_use"]["reloads"] == 0
    parallel = experts["parallel_tasks"]
    assert parallel["overlap_s"]["median"] > 0  # both tasks were running at the same moment
    assert experts["minilm_onnx_int8_vs_torch_fp32"]["min_cosine_vs_fp32"] >= 0.98

    report = {"machine": {"device_setting": "auto"}, "experts": experts,
              "controller": {"ours_prompt_tps": {"median": 500}, "bare_prompt_tps": {"median": 490},
                             "prompt_ratio": 1.02, "ours_generated_tps": {"median": 60},
                             "bare_generated_tps": {"median": 30}, "generated_ratio": 2.0,
                             "device": "cpu"},
              "planning": {"warm_s": {"median": 0.5}, "cold_s": {"median": 2.0},
                           "warm_over_cold": 0.25},
              "end_to_end": {"stages_s": {"wall_s": {"median": 4.0}}, "peak_rss_mb": 1000},
              "startup": {"help_s": {"median": 0.05}}}
    table = bench.markdown(report)
    assert 50 < bench.peak_mb() < 24 * 1024  # this process's own peak, in MB
    assert "| device the models ran on (setting) | cpu | auto |" in table
    assert "two at a time / one at a time" in table and "0 reloads" in table
