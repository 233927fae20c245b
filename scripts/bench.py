"""Benchmarks: measured medians and spreads, written to benchmarks/results/<date>.json.

    python scripts/bench.py [--quick]      (also: python main.py bench [--quick])

What it measures, each after a warm-up, several runs:
- controller: prompt and generated tokens/s through core/llm.py against bare llama-cpp-python on
  the same GGUF, prompt and threads, in the same process (their ratio is our overhead);
- planning: a cold plan (empty KV cache) against a warm one (fixed prompt prefix cached), and
  one whose prefix state is loaded from disk, as in a new process;
- experts: the int8 ONNX sentence encoder against the same model in PyTorch fp32 through a
  transformers pipeline, same input and threads, plus first-call load times of every default expert;
- writer: the answer-writing LLM's tokens/s and a 3,000-word report summarized;
- first request: a new process warms the planner and writer (as the app does while its window
  shows), then answers the demo request;
- end to end: the README demo request, wall time per stage and peak resident memory (a child
  process, so its peak is its own), and the same request as `main.py ask` in a new process each
  time (what a command-line user waits: start-up and loads included);
- start-up: `main.py --help` wall time (a child process), and the GUI window shown (if built).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

RESULTS = ROOT / "benchmarks" / "results"
DEMO = ("Read this aloud, then transcribe the recording: offline assistants keep your data "
        "private")
PROMPT = ("Conductor is an offline assistant. It plans tasks, picks local expert models and "
          "answers from their results. " * 12)


def stats(values: list[float]) -> dict[str, float]:
    """Median and spread (min, max, stdev) of repeated measurements."""
    return {"median": round(statistics.median(values), 4), "min": round(min(values), 4),
            "max": round(max(values), 4),
            "stdev": round(statistics.stdev(values), 4) if len(values) > 1 else 0.0,
            "runs": len(values)}


def repeat(fn: Callable[[], float], runs: int, warmup: int = 1) -> list[float]:
    for _ in range(warmup):
        fn()
    return [fn() for _ in range(runs)]


def repeat_alternating(first: Callable[[], float], second: Callable[[], float], runs: int,
                       warmup: int = 1) -> tuple[list[float], list[float]]:
    """Two measurements taken in turns (a, b, a, b, ...), so a machine that speeds up or slows
    down during the benchmark (other load, clocks) shifts both alike and their ratio stays fair."""
    for _ in range(warmup):
        first()
        second()
    pairs = [(first(), second()) for _ in range(runs)]
    return [a for a, _ in pairs], [b for _, b in pairs]


# ---------------------------------------------------------------- controller


def bench_controller(gguf: Path, threads: int, runs: int, gen_tokens: int) -> dict[str, Any]:
    """Tokens/s through core.llm against bare llama-cpp-python, same file, prompt, threads."""
    import llama_cpp
    import numpy as np

    from core.llm import Controller

    ours = Controller(gguf, threads=threads)
    bare = llama_cpp.Llama(model_path=str(gguf), n_ctx=4096, n_threads=threads,
                           n_threads_batch=threads, verbose=False)
    prompt_tokens = ours.tokenize(PROMPT, add_bos=True)

    def ours_prompt() -> float:
        ours.forget_context()
        started = time.perf_counter()
        ours.logits_for(prompt_tokens)
        return len(prompt_tokens) / (time.perf_counter() - started)

    def bare_prompt() -> float:
        bare.reset()
        started = time.perf_counter()
        bare.eval(prompt_tokens)
        return len(prompt_tokens) / (time.perf_counter() - started)

    def ours_generate() -> float:
        tokens = list(prompt_tokens)
        ours.logits_for(tokens)  # prompt outside the timing
        started = time.perf_counter()
        produced = 0
        for _ in range(gen_tokens):
            logits = ours.logits_for(tokens)
            tokens.append(int(np.argmax(logits)))
            produced += 1
        return produced / (time.perf_counter() - started)

    def bare_generate() -> float:
        bare.reset()
        bare.eval(prompt_tokens)
        started = time.perf_counter()
        produced = 0
        for _token in bare.generate(prompt_tokens, top_k=1, temp=0.0, reset=False):
            produced += 1
            if produced >= gen_tokens:
                break
        return produced / (time.perf_counter() - started)

    result = {}
    for ours_name, ours_fn, bare_name, bare_fn in (
            ("ours_prompt_tps", ours_prompt, "bare_prompt_tps", bare_prompt),
            ("ours_generated_tps", ours_generate, "bare_generated_tps", bare_generate)):
        ours_values, bare_values = repeat_alternating(ours_fn, bare_fn, runs)
        result[ours_name], result[bare_name] = stats(ours_values), stats(bare_values)
    result["prompt_ratio"] = round(result["ours_prompt_tps"]["median"]
                                   / result["bare_prompt_tps"]["median"], 3)
    result["generated_ratio"] = round(result["ours_generated_tps"]["median"]
                                      / result["bare_generated_tps"]["median"], 3)
    result["prompt_tokens"] = len(prompt_tokens)
    result["generated_tokens"] = gen_tokens
    result["device"] = ours.device
    result["gpu_offload_supported"] = bool(llama_cpp.llama_supports_gpu_offload())
    return result


# ---------------------------------------------------------------- planning


def bench_planning(assistant, runs: int) -> dict[str, Any]:
    """The same request planned with an empty KV cache (cold), with the fixed prefix's state
    loaded from disk (as a new process plans), and with the prefix cached in memory (warm)."""
    planner = assistant.planner
    controller = planner.controller
    store = controller.state_store
    request = "Describe photo.jpg, then read the description aloud"

    def empty_cache() -> None:
        controller.forget_context()

    def cold() -> float:
        empty_cache()
        controller.state_store = None  # nothing saved on disk either: truly cold
        try:
            started = time.perf_counter()
            planner.plan(request, ["photo.jpg"])
            return time.perf_counter() - started
        finally:
            controller.state_store = store

    def from_disk() -> float:
        empty_cache()
        started = time.perf_counter()
        planner.plan(request, ["photo.jpg"])
        return time.perf_counter() - started

    def warm() -> float:
        planner.plan(request, ["photo.jpg"])  # fills the cache with this very prompt's prefix
        started = time.perf_counter()
        planner.plan(request, ["photo.jpg"])
        return time.perf_counter() - started

    result = {"cold_s": stats(repeat(cold, runs)), "warm_s": stats(repeat(warm, runs))}
    result["warm_over_cold"] = round(result["warm_s"]["median"] / result["cold_s"]["median"], 3)
    if store is not None:
        result["prefix_from_disk_s"] = stats(repeat(from_disk, runs))
        result["from_disk_over_cold"] = round(
            result["prefix_from_disk_s"]["median"] / result["cold_s"]["median"], 3)
    return result


# ---------------------------------------------------------------- experts


def bench_experts(assistant, threads: int, runs: int) -> dict[str, Any]:
    """First-call load time and device of each default expert, its second use (no reload),
    ONNX int8 against PyTorch fp32, and two independent tasks run in parallel against in turn."""
    from core.model_pool import ModelPool
    from core.registry import LLM_RUNTIMES

    registry = assistant.registry
    pool = ModelPool(registry, device=assistant.settings.device, threads=threads)
    loads: dict[str, Any] = {}
    devices: dict[str, str | None] = {}
    for record in registry.all():
        if record.runtime in LLM_RUNTIMES:  # measured above
            continue
        started = time.perf_counter()
        try:
            pool.get(record)
            loads[record.id] = round(time.perf_counter() - started, 3)
            devices[record.id] = pool.device_of(record.id)
        except Exception as exc:  # a model that cannot load is reported, not fatal
            loads[record.id] = f"failed: {exc}"
    loaded_before = pool.loads
    second = []
    for model_id in devices:
        started = time.perf_counter()
        pool.get(registry.get(model_id))
        second.append(time.perf_counter() - started)
    return {"first_load_s": loads, "device": devices,
            "second_use": {"max_s": round(max(second, default=0.0), 6),
                           "reloads": pool.loads - loaded_before},
            "parallel_tasks": _parallel_against_serial(pool, registry, runs),
            "minilm_onnx_int8_vs_torch_fp32": _minilm_versus_torch(assistant, threads, runs)}


def _timed_inside(run, model_id: str, spans: dict[str, tuple[float, float]]):
    """A runner's ``run`` that records when it began and ended, by model."""
    def timed_run(*args, **kwargs):
        began = time.perf_counter()
        try:
            return run(*args, **kwargs)
        finally:
            spans[model_id] = (began, time.perf_counter())
    return timed_run


def _parallel_against_serial(pool, registry, runs: int) -> dict[str, Any]:
    """OCR of a picture and speech synthesis, independent in one plan: one at a time, then two
    at a time. On two cores both models use every core, so the gain is bounded; the measure
    shows the executor overlaps them (overlap_s > 0) and what that buys."""
    from PIL import Image, ImageDraw

    from core.executor import Executor
    from core.plan import parse, validate
    from core.runners.base import Workspace
    from core.selector import Choice

    workspace = Workspace(Path(tempfile.mkdtemp(prefix="conductor-bench-")))
    image = Image.new("RGB", (900, 160), "white")
    ImageDraw.Draw(image).text((30, 60), "Invoice total 42 EUR", fill="black")
    image.resize((1800, 320)).save(workspace.root / "sign.png")
    plan = validate(parse([
        {"task": "image-to-text", "id": 0, "dep": [-1], "args": {"image": "sign.png"}},
        {"task": "text-to-speech", "id": 1, "dep": [-1],
         "args": {"text": "Independent branches of a plan run at the same time."}},
    ]), ["sign.png"])
    models = ["SWHL/RapidOCR", "rhasspy/piper-en_US-joe-medium"]
    choices = [Choice(n.id, n.task, m, "bench", [m], registry.get(m))
               for n, m in zip(plan, models, strict=True)]
    overlaps: list[float] = []
    # The overlap is timed inside each model's run, not from the executor's own stamps: runs
    # serialised somewhere below the executor must show as no overlap.
    inside: dict[str, tuple[float, float]] = {}
    runners = [pool.get(choice.record).runner for choice in choices]
    for runner, model_id in zip(runners, models, strict=True):
        runner.run = _timed_inside(runner.run, model_id, inside)

    def timed(parallel: int) -> float:
        started = time.perf_counter()
        Executor(pool, workspace, max_parallel=parallel).execute(plan, choices)
        if parallel > 1:
            (a0, a1), (b0, b1) = (inside[m] for m in models)
            overlaps.append(max(0.0, min(a1, b1) - max(a0, b0)))
        return time.perf_counter() - started

    try:
        serial, parallel = repeat(lambda: timed(1), runs), repeat(lambda: timed(2), runs)
    finally:
        for runner in runners:
            del runner.run  # the class's own run again
    return {"serial_s": stats(serial), "parallel_s": stats(parallel),
            "overlap_s": stats(overlaps),
            "parallel_over_serial": round(statistics.median(parallel) / statistics.median(serial),
                                          3)}


def _minilm_versus_torch(assistant, threads: int, runs: int) -> dict[str, Any]:
    import numpy as np
    import torch
    from transformers import AutoModel, AutoTokenizer, pipeline

    from core.runners.sentence_onnx import _package_model_dir

    torch.set_num_threads(threads)
    record = assistant.registry.get("sentence-transformers/all-MiniLM-L6-v2")
    onnx = assistant.pool.get(record).model
    source = _package_model_dir()
    extractor = pipeline("feature-extraction", model=AutoModel.from_pretrained(source),
                         tokenizer=AutoTokenizer.from_pretrained(source), framework="pt",
                         device=-1)
    sentences = [f"Sentence number {i} about offline assistants and local models."
                 for i in range(32)]

    def onnx_run() -> float:
        started = time.perf_counter()
        onnx.embed(sentences)
        return time.perf_counter() - started

    def torch_run() -> float:
        started = time.perf_counter()
        with torch.inference_mode():
            extractor(sentences, batch_size=32)
        return time.perf_counter() - started

    onnx_s, torch_s = repeat(onnx_run, runs), repeat(torch_run, runs)
    ours = onnx.embed(sentences[:4])
    with torch.inference_mode():
        raw = [np.asarray(x[0]).mean(axis=0) for x in extractor(sentences[:4])]
    reference = np.stack([v / np.linalg.norm(v) for v in raw])
    cosine = float(np.min(np.sum(ours * reference, axis=1)))
    return {"onnx_int8_s": stats(onnx_s), "torch_fp32_s": stats(torch_s),
            "speedup": round(statistics.median(torch_s) / statistics.median(onnx_s), 2),
            "min_cosine_vs_fp32": round(cosine, 4), "sentences": len(sentences)}


# ---------------------------------------------------------------- end to end, start-up


def peak_mb() -> float:
    """This process's peak resident memory in MB.

    Linux's ``ru_maxrss`` survives ``exec``: a child started by a large parent (this benchmark,
    with torch and every expert loaded) reports the parent's size (2.2 GB seen against a true
    1.0 GB). ``VmHWM`` belongs to the process's own address space, so it is read where it exists.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_end_to_end(runs: int) -> dict[str, Any]:
    """The README demo in a child process: stage timings from --json, the child's peak RSS."""
    code = (
        f"import json, sys, time; sys.path.insert(0, {str(ROOT / 'scripts')!r}); "
        f"sys.path.insert(0, {str(ROOT)!r}); from bench import peak_mb; "
        "from core import Assistant; a = Assistant(); a.ask('Hello!'); "
        "out = []\n"
        f"for _ in range({runs}):\n"
        f"    t = time.perf_counter(); r = a.ask({DEMO!r}).to_json(); w = time.perf_counter() - t\n"
        "    out.append({'wall_s': w, **r['timings']})\n"
        "devices = {t['model']: t.get('device') for t in r['tasks']}\n"
        "devices[a.planner_record().id] = a.controller.device\n"
        "devices[a.writer_record().id] = a.writer.device\n"
        "print(json.dumps({'runs': out, 'devices': devices, 'peak_rss_mb': peak_mb()}))"
    )
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    total = time.perf_counter() - started
    data = json.loads(done.stdout.strip().splitlines()[-1])
    stages = {key: stats([r[key] for r in data["runs"]]) for key in data["runs"][0]}
    return {"request": DEMO, "stages_s": stages, "devices": data["devices"],
            "peak_rss_mb": round(data["peak_rss_mb"], 1),
            "process_s_including_loads": round(total, 2)}


def bench_cli_demo(runs: int) -> dict[str, Any]:
    """What a command-line user waits: `main.py ask DEMO --json` as a new process each time
    (start-up, model loads, the four stages), after one run that leaves the saved prompt states
    on disk as any earlier run does."""
    command = [sys.executable, str(ROOT / "main.py"), "ask", DEMO, "--json"]

    def once() -> tuple[float, dict[str, float]]:
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=True)
        return time.perf_counter() - started, json.loads(done.stdout)["timings"]

    once()
    measured = [once() for _ in range(runs)]
    stages = {key: stats([t[key] for _, t in measured]) for key in measured[0][1]}
    return {"request": DEMO, "process_wall_s": stats([w for w, _ in measured]),
            "stages_s": stages}


def bench_writer(assistant, runs: int) -> dict[str, Any]:
    """The writer LLM: its speed, the demo's answer, and a 3,000-word report summarized (the
    report the answer evaluation uses, scripts/eval_answers.py)."""
    import numpy as np
    from eval_answers import long_report

    from core.writer import Writer

    writer = assistant.writer
    prompt = writer.tokenize(PROMPT, add_bos=True)

    def prompt_rate() -> float:
        writer.forget_context()
        started = time.perf_counter()
        writer.logits_for(prompt)
        return len(prompt) / (time.perf_counter() - started)

    def generated_rate() -> float:
        tokens = list(prompt)
        writer.logits_for(tokens)
        started = time.perf_counter()
        for _ in range(32):
            tokens.append(int(np.argmax(writer.logits_for(tokens))))
        return 32 / (time.perf_counter() - started)

    report = long_report()

    def summary() -> float:
        started = time.perf_counter()
        Writer(writer).summarize(report, "Summarize the report")
        return time.perf_counter() - started

    return {"model": assistant.writer_record().id, "device": writer.device,
            "prompt_tps": stats(repeat(prompt_rate, runs)),
            "generated_tps": stats(repeat(generated_rate, runs)),
            "summary_3000_words_s": stats(repeat(summary, max(1, runs // 3), warmup=0)),
            "report_words": len(report.split())}


VOICE_REQUEST = ("Please transcribe the meeting recording and then write me a short summary "
                 "of what was decided about the budget.")  # about 5 s as Piper reads it


def bench_voice(assistant, runs: int) -> dict[str, Any]:
    """Voice, as the desktop app does it: from the end of a spoken request (the button let go)
    to its words in the box (the recording saved, Whisper run on it), and from an answer to
    its first sound (the summary synthesized; playback starts once the WAV is written)."""
    import tempfile

    from core.voice import record_file

    folder = Path(tempfile.mkdtemp(prefix="bench-voice-"))
    spoken = assistant.speak(VOICE_REQUEST, folder).path
    recording = record_file(spoken)

    def end_of_speech_to_text() -> float:
        started = time.perf_counter()
        saved = recording.save(folder / "recording.wav")
        assistant.transcribe(saved)
        return time.perf_counter() - started

    answered = assistant.ask("What is the sentiment of: the hotel staff were wonderful")

    def answer_to_first_sound() -> float:
        started = time.perf_counter()
        assistant.speak_answer(answered.run_id)
        return time.perf_counter() - started

    transcript = assistant.transcribe(recording.save(folder / "recording.wav"))
    return {"utterance_s": round(recording.seconds, 2), "heard": transcript.text,
            "recognizer": transcript.model, "voice": assistant.voice_record("text-to-speech").id,
            "end_of_speech_to_text_s": stats(repeat(end_of_speech_to_text, runs)),
            "answer_to_first_sound_s": stats(repeat(answer_to_first_sound, runs)),
            "answer_spoken": answered.summary}


def bench_server(runs: int) -> dict[str, Any]:
    """The local server's overhead: the same request through ``POST /hugginggpt`` on loopback
    and as a direct ``Assistant.ask`` on the same Assistant (the server's lane), alternated."""
    import socket
    import threading
    import urllib.request

    import uvicorn

    from conductor.server import ServerConfig, create_app
    from core.config import Settings

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(ServerConfig(Settings.load(), port=port))
    lane = app.state.lane_for("")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    request = "What is the sentiment of: the hotel staff were wonderful"
    body = json.dumps({"messages": [{"role": "user", "content": request}]}).encode()

    def direct() -> float:
        started = time.perf_counter()
        lane.submit(lambda assistant: assistant.ask(request)).result()
        return time.perf_counter() - started

    def over_http() -> float:
        started = time.perf_counter()
        urllib.request.urlopen(urllib.request.Request(
            f"http://127.0.0.1:{port}/hugginggpt", data=body,
            headers={"Content-Type": "application/json"}), timeout=600).read()
        return time.perf_counter() - started

    direct_s, http_s = repeat_alternating(direct, over_http, runs)
    server.should_exit = True
    median_direct, median_http = stats(direct_s)["median"], stats(http_s)["median"]
    return {"request": request, "direct_s": stats(direct_s), "http_s": stats(http_s),
            "overhead": round(median_http / median_direct - 1, 4)}


def bench_first_request(runs: int) -> dict[str, Any]:
    """What a user of the desktop app waits: a new process warms the planner and the writer (as
    the window does while it shows), then answers the demo request."""
    code = (
        f"import json, sys, time; sys.path.insert(0, {str(ROOT)!r}); "
        "from core import Assistant; t = time.perf_counter(); a = Assistant(); "
        "parts = a.warm_up(); w = time.perf_counter() - t; t = time.perf_counter(); "
        f"r = a.ask({DEMO!r}); f = time.perf_counter() - t; "
        "print(json.dumps({'warm_up_s': w, 'first_request_s': f, 'parts': parts}))"
    )

    def once() -> dict[str, float]:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              cwd=ROOT, check=True)
        return json.loads(done.stdout.strip().splitlines()[-1])

    measured = [once() for _ in range(runs)]
    return {"request": DEMO,
            "warm_up_s": stats([m["warm_up_s"] for m in measured]),
            "first_request_s": stats([m["first_request_s"] for m in measured]),
            "open_to_answer_s": stats([m["warm_up_s"] + m["first_request_s"]
                                       for m in measured])}


def bench_startup(runs: int) -> dict[str, Any]:
    def help_run() -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, str(ROOT / "main.py"), "--help"], check=True,
                       capture_output=True)
        return time.perf_counter() - started

    result: dict[str, Any] = {"help_s": stats(repeat(help_run, runs))}
    if (ROOT / "gui" / "app.py").exists():
        def gui_run() -> float:
            env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
            started = time.perf_counter()
            shot = Path(tempfile.gettempdir()) / "conductor-bench-window.png"
            subprocess.run([sys.executable, str(ROOT / "main.py"), "gui", "--screenshot",
                            str(shot)], check=True, capture_output=True, env=env)
            return time.perf_counter() - started

        try:
            result["gui_window_shown_s"] = stats(repeat(gui_run, max(2, runs // 2)))
        except subprocess.CalledProcessError as exc:
            result["gui_window_shown_s"] = f"failed: {exc.stderr[-300:]}"
    return result


# ---------------------------------------------------------------- main


def run(quick: bool = False, only: list[str] | None = None) -> dict[str, Any]:
    from core import Assistant
    from core.devices import available

    runs = 3 if quick else 7
    assistant = Assistant()
    threads = assistant.settings.threads
    gguf = assistant.registry.resolve(assistant.planner_record())
    report: dict[str, Any] = {
        "date": _dt.datetime.now().isoformat(timespec="seconds"),
        "machine": {"cpu_count": os.cpu_count(), "threads": threads,
                    "platform": platform.platform(), "python": platform.python_version(),
                    "device_setting": assistant.settings.device, "accelerators": available()},
        "quick": quick,
    }
    steps = [
        ("controller", lambda: bench_controller(gguf, threads, runs, 32 if quick else 64)),
        ("planning", lambda: bench_planning(assistant, runs)),
        ("experts", lambda: bench_experts(assistant, threads, runs)),
        ("writer", lambda: bench_writer(assistant, runs)),
        ("voice", lambda: bench_voice(assistant, runs)),
        ("server", lambda: bench_server(runs)),
        ("end_to_end", lambda: bench_end_to_end(2 if quick else 5)),
        ("first_request", lambda: bench_first_request(2 if quick else 3)),
        ("cli_demo", lambda: bench_cli_demo(2 if quick else 5)),
        ("startup", lambda: bench_startup(runs)),
    ]
    report["only"] = only or []
    for name, step in steps:
        if only and name not in only:
            continue
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        report[name] = step()
        print(f"bench: {name} done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    report["peak_rss_mb_this_process"] = round(peak_mb(), 1)
    return report


def save(report: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    parts = "".join(f"-{name}" for name in report.get("only") or [])
    path = RESULTS / (f"{_dt.date.today().isoformat()}{'-quick' if report['quick'] else ''}"
                      f"{parts}.json")
    path.write_text(json.dumps(report, indent=1))
    return path


def markdown(report: dict[str, Any]) -> str:
    """The README's benchmark table."""
    c, p = report["controller"], report["planning"]
    x = report["experts"]
    m = x["minilm_onnx_int8_vs_torch_fp32"]
    e, s = report["end_to_end"], report["startup"]
    ran_on = sorted({d for d in [*x.get("device", {}).values(), c.get("device")] if d})
    rows = [
        ("device the models ran on (setting)", " / ".join(ran_on) or "cpu",
         report["machine"].get("device_setting", "")),
        ("controller prompt tokens/s (ours / bare llama-cpp-python)",
         f"{c['ours_prompt_tps']['median']:.0f} / {c['bare_prompt_tps']['median']:.0f}",
         f"{c['prompt_ratio']:.2f}"),
        ("controller generated tokens/s (ours / bare)",
         f"{c['ours_generated_tps']['median']:.1f} / {c['bare_generated_tps']['median']:.1f}",
         f"{c['generated_ratio']:.2f}"),
        ("plan, warm / cold (s)",
         f"{p['warm_s']['median']:.2f} / {p['cold_s']['median']:.2f}",
         f"{p['warm_over_cold']:.2f}"),
    ]
    if "prefix_from_disk_s" in p:
        rows.append(("plan in a new process (fixed prefix loaded from disk) / cold (s)",
                     f"{p['prefix_from_disk_s']['median']:.2f} / {p['cold_s']['median']:.2f}",
                     f"{p['from_disk_over_cold']:.2f}"))
    rows += [
        ("MiniLM, 32 sentences: ONNX int8 / PyTorch fp32 (s)",
         f"{m['onnx_int8_s']['median']:.3f} / {m['torch_fp32_s']['median']:.3f}",
         f"{m['speedup']:.1f}x faster, cosine >= {m['min_cosine_vs_fp32']}"),
        ("second use of a loaded model (s, reloads)",
         f"{x['second_use']['max_s']:.6f}", f"{x['second_use']['reloads']} reloads"),
        ("OCR + speech, independent: two at a time / one at a time (s)",
         f"{x['parallel_tasks']['parallel_s']['median']:.2f} / "
         f"{x['parallel_tasks']['serial_s']['median']:.2f}",
         f"{x['parallel_tasks']['parallel_over_serial']:.2f}, overlapping "
         f"{x['parallel_tasks']['overlap_s']['median']:.2f} s"),
        ("demo request end to end (s, models loaded)",
         f"{e['stages_s']['wall_s']['median']:.2f}",
         ", ".join(f"{k} {v['median']:.2f}" for k, v in e["stages_s"].items()
                   if k not in ("wall_s", "total"))),
        ("peak RSS of the demo process (MB)", f"{e['peak_rss_mb']:.0f}", ""),
    ]
    if "writer" in report:
        wr = report["writer"]
        rows += [
            (f"writer ({wr['model']}) prompt / generated tokens/s",
             f"{wr['prompt_tps']['median']:.0f} / {wr['generated_tps']['median']:.1f}", ""),
            (f"summary of a {wr['report_words']:,}-word report (s)",
             f"{wr['summary_3000_words_s']['median']:.1f}", "from its key sentences"),
        ]
    if "voice" in report:
        v = report["voice"]
        rows += [
            (f"end of a {v['utterance_s']:.1f} s spoken request to its words in the box (s)",
             f"{v['end_of_speech_to_text_s']['median']:.2f}", f"{v['recognizer']}, target 1.5"),
            ("an answer to its first sound, read aloud (s)",
             f"{v['answer_to_first_sound_s']['median']:.2f}", f"{v['voice']}, target 1"),
        ]
    if "server" in report:
        sv = report["server"]
        rows.append(("a request through the server / direct `Assistant.ask` (s)",
                     f"{sv['http_s']['median']:.2f} / {sv['direct_s']['median']:.2f}",
                     f"overhead {sv['overhead']:+.1%}, target under 5%"))
    if "first_request" in report:
        fr = report["first_request"]
        rows.append(("app opened: planner and writer warmed, then the demo request (s)",
                     f"{fr['open_to_answer_s']['median']:.2f}",
                     f"warm-up {fr['warm_up_s']['median']:.2f}, first request "
                     f"{fr['first_request_s']['median']:.2f}"))
    if "cli_demo" in report:
        cli = report["cli_demo"]
        rows.append(("demo request as `main.py ask`, a new process each time (s)",
                     f"{cli['process_wall_s']['median']:.2f}",
                     ", ".join(f"{k} {v['median']:.2f}" for k, v in cli["stages_s"].items()
                               if k != "total") + ", the rest start-up and loads"))
    rows += [
        ("`main.py --help` (s)", f"{s['help_s']['median']:.2f}", ""),
    ]
    if isinstance(s.get("gui_window_shown_s"), dict):
        rows.append(("GUI window shown and saved (s)",
                     f"{s['gui_window_shown_s']['median']:.2f}", ""))
    lines = ["| measure | value | ratio / note |", "| --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c_} |" for a, b, c_ in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    parser.add_argument("--only", nargs="+", metavar="SECTION",
                        help="measure only these sections (controller, planning, experts, "
                             "writer, voice, server, end_to_end, first_request, cli_demo, startup)")
    args = parser.parse_args(argv)
    report = run(args.quick, args.only)
    path = save(report)
    print(json.dumps(report, indent=1) if args.only else markdown(report))
    print(f"\nwritten {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
