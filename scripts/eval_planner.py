"""Score the planner against gold plans: node F1, edge F1, parse rate, exact plans, resources, time.

Reads our JSONL format ({request, files, plan}) or TaskBench's Hugging Face domain records
(task_nodes / task_links), prints a table and writes JSON to benchmarks/results/.

    python scripts/eval_planner.py --data ../shared/eval/plans_dev.jsonl
    python scripts/eval_planner.py --data ../shared/eval/taskbench/data_huggingface_head.jsonl
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from core.plan_metrics import TASKBENCH_TASKS, Scores, read_examples  # noqa: E402

if TYPE_CHECKING:
    from core.planner import CoverageWeights

RESULTS = Path(__file__).resolve().parent.parent / "benchmarks" / "results"


def build_planner(model_id: str | None, k_demos: int | None, no_embeddings: bool,
                  lora: str | None,
                  prior_weight: float | None, coverage: CoverageWeights,
                  tasks: frozenset[str] | None = None):
    from core.config import Settings
    from core.demos import DemoBank
    from core.devices import llama_offload
    from core.llm import shared_controller
    from core.model_pool import ModelPool
    from core.planner import Planner
    from core.registry import Registry

    settings = Settings.load()
    registry = Registry(settings.cache_path)
    record = registry.get(model_id) if model_id else registry.controllers()[0]
    # the controller as the app loads it (threads, GPU offload), with the adapter given here
    options = {"threads": settings.threads, "gpu": llama_offload(settings.device)}
    lora_path = lora or record.params.get("lora_path")
    if lora == "none":
        lora_path = None
    if lora_path:
        options["lora_path"] = str(registry.resolve(record).parent / lora_path)
    controller = shared_controller(registry.resolve(record), **options)
    embedder = None
    if not no_embeddings:
        pool = ModelPool.from_settings(settings, registry)
        embedder = pool.get(registry.get("sentence-transformers/all-MiniLM-L6-v2")).model
    return record.id, Planner(controller, DemoBank.load(embedder=embedder), k_demos=k_demos,
                              prior_weight=prior_weight, coverage=coverage,
                              available_tasks=tasks)


def evaluate(planner, examples, verbose: bool = False) -> dict:
    from core.plan import PlanError

    overall, clean = Scores(), Scores()
    by_kind: dict[str, Scores] = {}
    rows = []
    unscored = [e for e in examples if e.unscored]
    for example in examples:
        if example.unscored:
            continue
        started = time.perf_counter()
        try:
            predicted = [n.to_json() for n in planner.plan(example.request, example.files).plan]
            error = None
        except (PlanError, ValueError, KeyError) as exc:
            predicted, error = None, str(exc)
        seconds = time.perf_counter() - started
        overall.add(example.plan, predicted, seconds, example.taskbench)
        if example.clean:
            clean.add(example.plan, predicted, seconds, example.taskbench)
        if example.kind:
            by_kind.setdefault(example.kind, Scores()).add(example.plan, predicted, seconds,
                                                          example.taskbench)
        rows.append({"request": example.request, "gold": example.plan, "predicted": predicted,
                     "error": error, "seconds": round(seconds, 3)})
        if verbose:
            gold = [n["task"] for n in example.plan]
            got = [n["task"] for n in predicted] if predicted is not None else error
            mark = "ok " if predicted is not None and gold == got else "-- "
            print(f"{mark}{seconds:5.2f}s gold={gold} got={got} | {example.request[:70]}",
                  file=sys.stderr)
    result = {"all": overall.summary(), "unscored": len(unscored)}
    if clean.items != overall.items:
        result["catalogue_only"] = clean.summary()
    for kind, scores in sorted(by_kind.items()):
        result[kind] = scores.summary()
    result["rows"] = rows
    return result


def print_table(name: str, result: dict) -> None:
    print(f"\n{name}")
    print(f"{'subset':16} {'items':>5} {'parse':>6} {'nodeF1':>7} {'edgeF1':>7} {'exact':>6} "
          f"{'resource':>8} {'median s':>8}")
    for subset in ("all", "catalogue_only", "single", "chain", "dag"):
        if subset in result:
            s = result[subset]
            print(f"{subset:16} {s['items']:5d} {s['parse_rate']:6.1%} {s['node_f1']:7.3f} "
                  f"{s['edge_f1']:7.3f} {s['exact_plan_rate']:6.1%} "
                  f"{s['resource_accuracy']:8.1%} {s['median_seconds']:8.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--model", help="controller registry id (default: the installed one)")
    parser.add_argument("--lora", help="a GGUF LoRA adapter to load beside the controller "
                        "(default: the controller's own; 'none' for the base model alone)")
    parser.add_argument("--k-demos", type=int, default=None,
                        help="demos in the prompt (default: 0 with the planning adapter, else 4)")
    parser.add_argument("--no-embeddings", action="store_true",
                        help="rank demos by word overlap instead of sentence embeddings")
    parser.add_argument("--prior-weight", type=float, default=None,
                        help="logit bias from the retrieved demos' plans (0 = off)")
    parser.add_argument("--coverage-weight", type=float, default=None,
                        help="logit bias towards tasks the request names that the plan lacks "
                        "(0 = off; default: the planner's)")
    parser.add_argument("--go-on-weight", type=float, default=None,
                        help="logit bias towards another task while a task the request names "
                        "is missing (0 = off; default: the planner's)")
    parser.add_argument("--steps-weight", type=float, default=None,
                        help="logit bias towards as many tasks as the request's action verbs "
                        "ask for (0 = off; default: the planner's)")
    parser.add_argument("--unasked-weight", type=float, default=None,
                        help="logit bias against a task no word of the request points to "
                        "(0 = off; default: the planner's)")
    parser.add_argument("--taskbench-tools", action="store_true",
                        help="plan with only the tasks on TaskBench's tool list, as its protocol "
                        "gives a planner (default: the whole catalogue)")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--label", default="", help="a name for this configuration")
    parser.add_argument("--verbose", "-v", action="store_true")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)

    examples = read_examples(args.data)[: args.limit]
    from core.planner import CoverageWeights

    given = {"task": args.coverage_weight, "go_on": args.go_on_weight,
             "steps": args.steps_weight, "unasked": args.unasked_weight}
    coverage = replace(CoverageWeights(), **{k: v for k, v in given.items() if v is not None})
    model_id, planner = build_planner(args.model, args.k_demos, args.no_embeddings, args.lora,
                                      args.prior_weight, coverage,
                                      TASKBENCH_TASKS if args.taskbench_tools else None)
    result = evaluate(planner, examples, args.verbose)
    result["config"] = {"data": str(args.data), "model": model_id, "k_demos": planner.k_demos,
                        "embeddings": not args.no_embeddings, "lora": args.lora,
                        "label": args.label, "prior_weight": planner.prior_weight,
                        "coverage_weight": planner.coverage.task,
                        "go_on_weight": planner.coverage.go_on,
                        "steps_weight": planner.coverage.steps,
                        "unasked_weight": planner.coverage.unasked,
                        "taskbench_tools": args.taskbench_tools,
                        "threads": planner.controller.threads,
                        "date": _dt.datetime.now().isoformat(timespec="seconds")}
    print_table(f"{args.data.name} with {model_id} {args.label}".strip(), result)
    if not args.no_save:
        RESULTS.mkdir(parents=True, exist_ok=True)
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = RESULTS / f"eval-{args.data.stem}-{stamp}.json"
        out.write_text(json.dumps(result, indent=1))
        print(f"\nwritten {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
