"""The ``conductor`` command: no arguments opens the desktop app; subcommands script it.

Heavy libraries load inside the commands that need them, so ``--help`` answers at once.
Exit codes: 0 success, 1 the run failed, 2 bad input (request, file, model id, arguments).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conductor import __version__
from core.events import DONE, Event, EventKind
from core.textclip import clip

if TYPE_CHECKING:
    from core.services import Services

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="conductor", description="Conductor: a local LLM plans, picks expert models, runs "
        "them and answers. Fully offline.")
    parser.add_argument("--version", action="version", version=f"conductor {__version__}")
    sub = parser.add_subparsers(dest="command")

    ask = sub.add_parser("ask", help="run a request through all four stages")
    ask.add_argument("request", nargs="?", help="what to do (or say it: --voice-in)")
    ask.add_argument("--voice-in", type=Path, metavar="FILE.wav",
                     help="take the request from a recording: transcribed, shown, then planned")
    ask.add_argument("--speak", action="store_true",
                     help="also read the answer aloud into a WAV in the run's folder")
    ask.add_argument("--file", "-f", action="append", default=[], help="attach a file")
    ask.add_argument("--json", action="store_true", help="print the whole result as JSON")
    ask.add_argument("--conversation", help="continue a conversation (id from `history`)")
    ask.add_argument("--controller", "-m", metavar="ID",
                     help="one LLM for everything in this run: plans, picks and writes "
                          "(registry id; default: the planner and writer settings)")
    ask.add_argument("--planner", metavar="ID", help="the LLM that plans and picks models")
    ask.add_argument("--writer", metavar="ID",
                     help="the LLM that writes the answer and does the text tasks")

    plan = sub.add_parser("plan", help="planning only: print the task graph")
    plan.add_argument("request", nargs="?")
    plan.add_argument("--file", "-f", action="append", default=[],
                      help="a file name (need not exist; its kind comes from the extension)")
    plan.add_argument("--json", action="store_true", help="print plan details as JSON")
    plan.add_argument("--batch", type=Path,
                      help="JSONL of {request, files}; prints one JSON plan per line")
    plan.add_argument("--controller", "-m", metavar="ID",
                      help="the LLM that plans this run (registry id; default: the planner "
                           "setting)")

    run = sub.add_parser("run", help="run one expert model on one input, no LLM")
    run.add_argument("task")
    run.add_argument("--model", required=True, help="registry id")
    run.add_argument("--text")
    run.add_argument("--file", "-f", help="image or audio input")
    run.add_argument("--arg", action="append", default=[], metavar="KEY=VALUE",
                     help="another argument (e.g. labels=a,b or text2=...)")
    run.add_argument("--json", action="store_true")

    models = sub.add_parser("models", help="the model registry")
    msub = models.add_subparsers(dest="models_command")
    mlist = msub.add_parser("list", help="installed models")
    mlist.add_argument("--task")
    mlist.add_argument("--search", help="full-text search over id, description, tags")
    mlist.add_argument("--json", action="store_true")
    mshow = msub.add_parser("show", help="one model's registry row")
    mshow.add_argument("id")
    mshow.add_argument("--json", action="store_true")
    mverify = msub.add_parser("verify", help="check files against recorded sha256")
    mverify.add_argument("id", nargs="?")
    mverify.add_argument("--json", action="store_true")
    mimport = msub.add_parser(
        "import", help="import a Hugging Face model folder, a GGUF file or a hub id (online)")
    mimport.add_argument("source", help="model folder, .gguf file, or hub id (org/name)")
    mimport.add_argument("--task", help="the task to import it for (default: from the card)")
    mimport.add_argument("--quantize", choices=["int8", "none"], default="int8",
                         help="int8 is kept only if outputs stay close to fp32 (default int8)")
    mimport.add_argument("--id", dest="model_id", help="registry id (default: hub id or "
                         "local/FOLDER)")
    mimport.add_argument("--trust-pickle", action="store_true",
                         help="allow .bin/.pt pickle weights (they can run code when loaded)")
    mimport.add_argument("--replace", action="store_true", help="replace a registered id")
    mimport.add_argument("--drift-tolerance", type=float, default=None,
                         help="largest relative int8 drift accepted (default 0.05)")
    mimport.add_argument("--json", action="store_true")
    mpack = msub.add_parser("pack", help="write installed models to a tar for air-gapped use")
    mpack.add_argument("ids", nargs="+")
    mpack.add_argument("-o", "--output", required=True, type=Path, help="FILE.tar")
    munpack = msub.add_parser("unpack", help="verify and install a pack (all or nothing)")
    munpack.add_argument("file", type=Path)
    munpack.add_argument("--replace", action="store_true",
                         help="replace registered models whose files differ")
    munpack.add_argument("--json", action="store_true")
    mremove = msub.add_parser("remove", help="unregister a model and delete its files")
    mremove.add_argument("id")
    mremove.add_argument("--keep-files", action="store_true")

    bench = sub.add_parser("bench", help="measure speed and memory (benchmarks/results/)")
    bench.add_argument("--quick", action="store_true", help="fewer runs")
    bench.add_argument("--only", nargs="+", metavar="SECTION", help="measure only these sections")

    devices = sub.add_parser("devices", help="which runtimes can use a GPU here, and the setting")
    devices.add_argument("--json", action="store_true")

    history = sub.add_parser("history", help="past runs")
    history.add_argument("--search", help="full-text search over requests and answers")
    history.add_argument("--run", help="show one run in full")
    history.add_argument("--limit", type=int, default=20)
    history.add_argument("--json", action="store_true")

    serve = sub.add_parser("serve", help="HuggingGPT's API and the OpenAI chat API on this "
                           "machine (loopback unless a token is set)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to bind (default 127.0.0.1; any other needs --token)")
    serve.add_argument("--port", type=int, default=8004)
    serve.add_argument("--token", default=os.environ.get("CONDUCTOR_SERVER_TOKEN", ""),
                       help="require 'Authorization: Bearer TOKEN' on every request (default: "
                            "$CONDUCTOR_SERVER_TOKEN)")
    serve.add_argument("--queue", type=int, default=4, metavar="N",
                       help="requests that may wait behind the running one (then 429)")
    serve.add_argument("--max-upload-mb", type=int, default=100, metavar="MB")

    desktop = sub.add_parser("install-desktop",
                             help="add Conductor to the desktop's application menu (this user)")
    desktop.add_argument("--data-home", type=Path, metavar="DIR",
                         help="where menus look (default: $XDG_DATA_HOME or ~/.local/share)")

    gui = sub.add_parser("gui", help="open the desktop app")
    gui.add_argument("--screenshot", type=Path, metavar="PATH",
                     help="save a PNG of the window (after --ask finishes) and exit")
    gui.add_argument("--ask", metavar="REQUEST", help="send this request when the window opens")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command in (None, "gui"):
        return _gui(args)
    handler = {"ask": cmd_ask, "plan": cmd_plan, "run": cmd_run, "models": cmd_models,
               "history": cmd_history, "bench": cmd_bench, "devices": cmd_devices,
               "install-desktop": cmd_install_desktop, "serve": cmd_serve}[args.command]
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # known input errors get exit code 2 with a one-line message
        code = EXIT_BAD_INPUT if _is_input_error(exc) else EXIT_FAILED
        print(f"error: {exc}", file=sys.stderr)
        return code


def _is_input_error(exc: Exception) -> bool:
    from core.plan import PlanError
    from core.registry import ModelNotFoundError
    from core.runners.base import TaskInputError
    from core.tasks import UnknownTaskError

    return isinstance(exc, ValueError | FileNotFoundError | TaskInputError | PlanError
                      | ModelNotFoundError | UnknownTaskError)


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


# ---------------------------------------------------------------- ask


class EventPrinter:
    """Shows each stage as it happens, on stderr; the answer streams to stdout unless --json."""

    def __init__(self, stream_answer: bool) -> None:
        self.stream_answer = stream_answer

    def __call__(self, event: Event) -> None:
        err, kind, data = sys.stderr, event.kind, event.data
        if kind == EventKind.STAGE:
            print(f"== {data['stage']}", file=err, flush=True)
        elif kind == EventKind.PLAN:
            if not data["plan"]:
                print("   (no task needed: answering directly)", file=err)
            for node in data["plan"]:
                deps = "" if node["dep"] == [-1] else f" after {node['dep']}"
                print(f"   task {node['id']}: {node['task']} {json.dumps(node['args'])}{deps}",
                      file=err)
            print(f"   planned in {data['seconds']:.2f} s", file=err, flush=True)
        elif kind == EventKind.CHOICE:
            model = data["model"] or "none"
            print(f"   task {data['task_id']} {data['task']} -> {model}: {data['reason']}",
                  file=err, flush=True)
        elif kind == EventKind.TASK_START:
            print(f"   task {data['id']} running on {data['model']}", file=err, flush=True)
        elif kind == EventKind.TASK_END:
            if data["status"] == DONE:
                out = data["outputs"]
                shown = out.get("audio") or out.get("image") or out.get("text", "")
                where = f" on {data['device']}" if data.get("device") else ""
                print(f"   task {data['id']} done in {data['seconds']:.2f} s{where}: "
                      f"{clip(shown, 100)}", file=err, flush=True)
            else:
                print(f"   task {data['id']} {data['status']}: {data['error']}", file=err,
                      flush=True)
        elif kind == EventKind.TASK_PROGRESS:
            print(f"   task {data['id']}: {data['what']}", file=err, flush=True)
        elif kind == EventKind.TOKEN and self.stream_answer:
            print(data["text"], end="", flush=True)
        elif kind == EventKind.DONE:
            if self.stream_answer:
                print()
            timings = ", ".join(f"{k} {v:.2f} s" for k, v in data["timings"].items())
            print(f"== done: {timings}", file=err)
            for path in data["files_made"]:
                print(f"   file: {path}", file=err)


def _assistant(controller: str | None = None, planner: str | None = None,
               writer: str | None = None):
    """An Assistant with the saved settings, the LLM roles overridden for this run if given."""
    from core import Assistant
    from core.config import Settings

    settings = Settings.load()
    if controller:
        settings.controller = controller
    if planner or writer:
        settings.controller = ""
        settings.planner = planner or settings.planner
        settings.writer = writer or settings.writer
    return Assistant(settings)


def cmd_ask(args: argparse.Namespace) -> int:
    if args.controller and (args.planner or args.writer):
        raise ValueError("--controller is one model for every role: give it, or --planner "
                         "and --writer, not both")
    if bool(args.request) == bool(args.voice_in):
        raise ValueError("give the request as text or as a recording (--voice-in), one of them")
    assistant = _assistant(args.controller, args.planner, args.writer)
    request = args.request
    if args.voice_in:
        from core.voice import record_file

        recording = record_file(args.voice_in)  # the microphone's path, fed from the file
        if not recording.check_speech().started:
            raise ValueError(f"{args.voice_in.name}: no speech found in the recording")
        heard = assistant.transcribe(args.voice_in)
        if not heard.text:
            raise ValueError(f"{args.voice_in.name}: the speech recognizer heard no words")
        print(f"== heard ({heard.model}, {heard.seconds:.2f} s): {heard.text}", file=sys.stderr,
              flush=True)
        request = heard.text
    result = assistant.ask(request, files=args.file, conversation_id=args.conversation,
                           on_event=EventPrinter(stream_answer=not args.json),
                           recording=args.voice_in)
    data = result.to_json()
    if args.speak and result.status == DONE:
        speech = assistant.speak_answer(result.run_id)
        data["speech"] = str(speech.path)
        print(f"== spoken ({speech.model}, {speech.seconds:.2f} s): {speech.path}",
              file=sys.stderr, flush=True)
    if args.json:
        _print_json(data)
    return EXIT_OK if result.status == DONE else EXIT_FAILED


# ---------------------------------------------------------------- plan


def cmd_plan(args: argparse.Namespace) -> int:
    assistant = _assistant(args.controller)
    if args.batch:
        with open(args.batch, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                row = json.loads(line)
                request = row.get("request") or row.get("instruction") or row.get("user_request")
                if not request:
                    raise ValueError(f"{args.batch}:{number}: no request")
                result = assistant.plan(request, row.get("files", []))
                print(json.dumps(result.to_json()["plan"], ensure_ascii=False), flush=True)
        return EXIT_OK
    if not args.request:
        raise ValueError("give a request, or --batch FILE.jsonl")
    result = assistant.plan(args.request, args.file)
    if args.json:
        _print_json(result.to_json())
    else:
        print(json.dumps(result.to_json()["plan"], ensure_ascii=False))
    return EXIT_OK


# ---------------------------------------------------------------- run


def cmd_run(args: argparse.Namespace) -> int:
    import shutil
    import tempfile

    from core.assistant import check_attachment
    from core.config import Settings
    from core.model_pool import ModelPool
    from core.registry import Registry
    from core.runners.base import Workspace
    from core.tasks import get_task, output_files

    settings = Settings.load()
    task = get_task(args.task)
    registry = Registry(settings.cache_path)
    record = registry.get(args.model)
    if args.task not in record.all_tasks():
        raise ValueError(f"{record.id} does not do {args.task}; it does "
                         f"{', '.join(record.all_tasks())}")
    out_dir = Path(tempfile.mkdtemp(prefix="run-", dir=_ensure(settings.data_path / "runs")))
    workspace = Workspace(out_dir)
    task_args: dict[str, Any] = {}
    if args.text is not None:
        task_args["text"] = args.text
    if args.file:
        source = Path(args.file)
        kind = check_attachment(source)
        shutil.copyfile(source, workspace.root / source.name)
        task_args[kind if kind in task.input_keys else task.input_keys[0]] = source.name
    for item in args.arg:
        key, _, value = item.partition("=")
        task_args[key] = value
    pool = ModelPool.from_settings(settings, registry)  # the user's device, threads, budget
    outputs = pool.run(record, args.task, task_args, workspace)
    for kind, path in output_files(outputs):
        outputs[kind] = str(workspace.root / path)
    if args.json:
        _print_json({"task": args.task, "model": record.id, "outputs": outputs})
    else:
        for key, value in outputs.items():
            print(f"{key}: {value}")
    return EXIT_OK


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


# ---------------------------------------------------------------- models


def cmd_models(args: argparse.Namespace) -> int:
    from core.config import Settings
    from core.services import Services

    services = Services(Settings.load())
    command = args.models_command or "list"
    if command == "list":
        records = services.models(getattr(args, "search", None) or "", getattr(args, "task", None))
        if getattr(args, "json", False):
            _print_json([r.to_json() for r in records])
        else:
            print(f"{'id':42} {'task':30} {'runtime':24} {'size':>9}  license")
            for r in records:
                print(f"{r.id:42} {r.task:30} {r.runtime:24} "
                      f"{r.size_bytes / 1e6:8.1f}M  {r.license}")
        return EXIT_OK
    if command in ("import", "pack", "unpack", "remove"):
        return _models_manage(services, args)
    if command == "show":
        record = services.model(args.id)
        data = record.to_json()
        data["absolute_path"] = str(services.model_path(record))
        if args.json:
            _print_json(data)
        else:
            for key, value in data.items():
                print(f"{key:14} {value}")
        return EXIT_OK
    report = services.verify([args.id] if args.id else None)
    if args.json:
        _print_json(report)
    else:
        for row in report:
            print(f"{row['status']:8} {row['id']}")
            for kind, names in row.get("files", {}).items():
                for name in names:
                    print(f"         {kind}: {name}")
    return EXIT_OK if all(r["status"] == "ok" for r in report) else EXIT_FAILED


class StepBars:
    """Progress callback for import, pack and unpack: one tqdm bar per named step, on stderr."""

    def __init__(self) -> None:
        self.step: str | None = None
        self.bar: Any = None

    def __call__(self, step: str, fraction: float) -> None:
        from tqdm import tqdm

        if step != self.step:
            self.close()
            self.step = step
            self.bar = tqdm(total=100, desc=f"{step:>10}", unit="%", file=sys.stderr,
                            bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}")
        target = round(max(0.0, min(1.0, fraction)) * 100)
        if self.bar is not None and target > self.bar.n:
            self.bar.update(target - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _models_manage(services: Services, args: argparse.Namespace) -> int:
    """models import / pack / unpack / remove."""
    command = args.models_command
    bars = StepBars()
    try:
        if command == "import":
            from core.importer import DEFAULT_DRIFT_TOLERANCE

            tolerance = (DEFAULT_DRIFT_TOLERANCE if args.drift_tolerance is None
                         else args.drift_tolerance)
            record = services.import_model(args.source, progress=bars, task=args.task,
                                           quantize=args.quantize, model_id=args.model_id,
                                           trust_pickle=args.trust_pickle,
                                           drift_tolerance=tolerance, replace=args.replace)
            bars.close()
            if args.json:
                _print_json(record.to_json())
            else:
                params = record.params
                note = params.get("int8_refused") or params.get("int8_skipped") or ""
                drift = params.get("drift")
                drift_text = f", int8 drift {drift:.4f}" if isinstance(drift, float) else ""
                print(f"imported {record.id}: {', '.join(record.all_tasks())} "
                      f"({record.size_bytes / 1e6:.1f} MB, {record.quantization}{drift_text})")
                if note:
                    print(f"  note: {note}")
            return EXIT_OK
        if command == "pack":
            manifest = services.pack_models(args.ids, args.output, progress=bars)
            bars.close()
            size = sum(m["size_bytes"] for m in manifest["models"])
            print(f"packed {len(manifest['models'])} model(s), {size / 1e6:.1f} MB, "
                  f"into {args.output}")
            return EXIT_OK
        if command == "unpack":
            records = services.unpack_models(args.file, replace=args.replace, progress=bars)
            bars.close()
            if args.json:
                _print_json([r.to_json() for r in records])
            else:
                for record in records:
                    print(f"installed {record.id} ({record.task}, "
                          f"{record.size_bytes / 1e6:.1f} MB)")
            return EXIT_OK
        record = services.remove_model(args.id, delete_files=not args.keep_files)
        print(f"removed {record.id}" + (" (files kept)" if args.keep_files else ""))
        return EXIT_OK
    finally:
        bars.close()


# ---------------------------------------------------------------- history


def cmd_history(args: argparse.Namespace) -> int:
    from core.config import Settings
    from core.services import Services

    history = Services(Settings.load())
    if args.run:
        _print_json(history.run(args.run)) if args.json else _print_run(history.run(args.run))
        return EXIT_OK
    rows = (history.matching_runs(args.search, args.limit) if args.search
            else history.runs(limit=args.limit))
    if args.json:
        _print_json(rows)
    else:
        for row in rows:
            print(f"{row['id']}  {row['started_at'][:19]}  {row['status']:11} "
                  f"{clip(row['request'], 70)}")
    return EXIT_OK


def _print_run(run: dict[str, Any]) -> None:
    print(f"run {run['id']} ({run['status']}) in conversation {run['conversation_id']}")
    print(f"request: {run['request']}")
    for task in run["tasks"]:
        print(f"  task {task['task_id']} {task['task']} on {task['model']}: {task['status']}"
              f" {task['error'] or ''}")
    print(f"answer: {run['answer']}")


# ---------------------------------------------------------------- bench


def cmd_devices(args: argparse.Namespace) -> int:
    """The device setting and, per runtime, what the installed build can use."""
    from core.config import Settings
    from core.devices import GPU_PROVIDERS, available, onnx_providers

    settings = Settings.load()
    found = available()
    gpu_providers = [p for p in found["onnxruntime_providers"] if p in GPU_PROVIDERS]

    def where(gpu: str, cpu_why: str) -> str:
        """Where a runtime's models run under the setting, and why not the GPU."""
        if settings.device == "cpu":
            return "cpu (the device setting is cpu)"
        return gpu or f"cpu ({cpu_why})"

    cuda = found["ctranslate2_cuda_devices"]
    report = {
        "setting": settings.device,
        "llama.cpp": where("gpu" if found["llama.cpp_gpu_offload"] else "",
                           "build without a GPU"),
        "onnxruntime": where(", ".join(gpu_providers), "no GPU provider installed"),
        "ctranslate2": where(f"gpu ({cuda} CUDA devices)" if cuda else "", "no CUDA device"),
        "onnx_session_providers": onnx_providers(settings.device),
        "available": found,
    }
    if args.json:
        _print_json(report)
        return EXIT_OK
    print(f"device setting: {settings.device}  (CONDUCTOR_DEVICE=auto|cpu|gpu, or the GUI's "
          "Settings)")
    for runtime in ("llama.cpp", "onnxruntime", "ctranslate2"):
        print(f"{runtime:>12}: {report[runtime]}")
    print(f"ONNX sessions get: {', '.join(report['onnx_session_providers'])}")
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from conductor.server import ServerConfig, check_bind, serve
    from core.config import Settings

    check_bind(args.host, args.token)  # before any model loads
    serve(ServerConfig(Settings.load(), host=args.host, port=args.port, token=args.token,
                       queue_size=args.queue, max_upload_bytes=args.max_upload_mb << 20))
    return EXIT_OK


def cmd_install_desktop(args: argparse.Namespace) -> int:
    from conductor.desktop import install

    home = args.data_home or Path(os.environ.get("XDG_DATA_HOME")
                                  or Path.home() / ".local" / "share")
    for path in install(home):
        print(f"wrote {path}")
    print("Conductor is in the application menu (log out and in if it does not show yet)")
    return EXIT_OK


def cmd_bench(args: argparse.Namespace) -> int:
    try:
        from scripts import bench  # a developer's tool: in a source checkout, not installed
    except ImportError:
        raise ValueError("the benchmark runs from a source checkout: python main.py bench") \
            from None

    return bench.main((["--quick"] if args.quick else [])
                      + (["--only", *args.only] if args.only else []))


# ---------------------------------------------------------------- gui


def _gui(args: argparse.Namespace | None = None) -> int:
    try:
        from gui.app import run_app
    except ImportError as exc:
        print(f"error: the desktop app is not available ({exc})", file=sys.stderr)
        return EXIT_FAILED
    argv: list[str] = []
    if getattr(args, "screenshot", None):
        argv += ["--screenshot", str(args.screenshot)]
    if getattr(args, "ask", None):
        argv += ["--ask", args.ask]
    return run_app(argv)
