"""Fetch and import the standard expert set once, on a machine with internet.

HuggingGPT's local mode wants 78 to 284 GB of PyTorch checkpoints. This script downloads one good
small model per task family from the Hugging Face hub (``huggingface_hub.snapshot_download``,
safetensors and tokenizer files only), exports each to ONNX, quantises it to int8 where the
outputs hold up, and registers it: HuggingGPT's standard coverage in a few GB. Optionally it
writes a pack (``--pack FILE.tar``) to carry the models to air-gapped machines, where
``python main.py models unpack FILE.tar`` verifies and installs them.

    HF_HUB_OFFLINE=0 python scripts/import_standard_set.py [--extras] [--pack standard.tar]

Offline (``HF_HUB_OFFLINE=1``, Conductor's default, or no route to the hub) it stops at once
with a message saying so; nothing is changed.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

EXIT_OK, EXIT_FAILED, EXIT_OFFLINE = 0, 1, 2


@dataclass(frozen=True)
class Standard:
    """One model of the standard set: hub id (``@revision`` allowed), task, why this one."""

    hub_id: str
    task: str
    why: str


STANDARD_SET: tuple[Standard, ...] = (
    Standard("google/vit-base-patch16-224", "image-classification",
             "ImageNet-1k classifier, the ViT HuggingGPT uses"),
    Standard("hustvl/yolos-tiny", "object-detection",
             "COCO detector, 6.5M parameters, no timm needed"),
    Standard("nlpconnect/vit-gpt2-image-captioning", "image-to-text",
             "captioning (BLIP does not export to ONNX)"),
    Standard("openai/whisper-base", "automatic-speech-recognition",
             "multilingual speech recognition"),
    Standard("distilbert/distilbert-base-uncased-finetuned-sst-2-english", "text-classification",
             "English sentiment"),
    Standard("dslim/bert-base-NER", "token-classification", "English named entities"),
    Standard("sshleifer/distilbart-cnn-12-6", "summarization", "news summarization"),
    Standard("Helsinki-NLP/opus-mt-en-de", "translation", "English to German"),
)

EXTRAS: tuple[Standard, ...] = (
    Standard("distilbert/distilbert-base-cased-distilled-squad", "question-answering",
             "extractive QA"),
    Standard("typeform/distilbert-base-uncased-mnli", "zero-shot-classification",
             "NLI zero-shot"),
    Standard("distilbert/distilbert-base-uncased", "fill-mask", "masked words"),
    Standard("facebook/detr-resnet-50@no_timm", "object-detection",
             "DETR, the detector HuggingGPT uses (timm-free branch)"),
    Standard("nvidia/segformer-b0-finetuned-ade-512-512", "image-segmentation",
             "ADE20k semantic segmentation"),
    Standard("Intel/dpt-hybrid-midas", "depth-estimation", "monocular depth"),
    Standard("microsoft/trocr-small-printed", "image-to-text", "OCR of printed text lines"),
    Standard("MIT/ast-finetuned-audioset-10-10-0.4593", "audio-classification",
             "AudioSet sound events"),
    Standard("sentence-transformers/all-mpnet-base-v2", "sentence-similarity",
             "stronger English sentence embeddings"),
    Standard("Helsinki-NLP/opus-mt-de-en", "translation", "German to English"),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--extras", action="store_true",
                        help="also import QA, zero-shot, fill-mask, DETR, segmentation, depth, "
                             "OCR, audio classification and more")
    parser.add_argument("--only", nargs="+", metavar="HUB_ID", help="import just these")
    parser.add_argument("--whisper", default="openai/whisper-base",
                        help="which Whisper (openai/whisper-tiny is half the size)")
    parser.add_argument("--quantize", choices=["int8", "none"], default="int8")
    parser.add_argument("--trust-pickle", action="store_true",
                        help="accept pickle-only checkpoints (.bin) for repos without "
                             "safetensors")
    parser.add_argument("--cache", type=Path, help="model cache (default: Conductor's)")
    parser.add_argument("--pack", type=Path, help="also write the imported models to this tar")
    parser.add_argument("--replace", action="store_true", help="re-import registered ids")
    return parser


def chosen(args: argparse.Namespace) -> list[Standard]:
    models = list(STANDARD_SET + (EXTRAS if args.extras else ()))
    models = [Standard(args.whisper, m.task, m.why) if m.hub_id == "openai/whisper-base" else m
              for m in models]
    if args.only:
        wanted = set(args.only)
        models = [m for m in models if m.hub_id in wanted]
        known = {m.hub_id for m in models}
        models += [Standard(hub_id, "", "asked for") for hub_id in args.only
                   if hub_id not in known]
    return models


def preflight(first: str) -> str | None:
    """Why the hub cannot be used now, or None: checked once, before anything is changed."""
    from core.importer import hub_offline

    if hub_offline():
        return ("HF_HUB_OFFLINE=1 is set (Conductor's offline default). This script fetches "
                "models once: run it on a machine with internet as\n"
                "  HF_HUB_OFFLINE=0 python scripts/import_standard_set.py --pack standard.tar\n"
                "then install the pack offline with: python main.py models unpack standard.tar")
    try:
        from huggingface_hub import HfApi

        HfApi().model_info(first.partition("@")[0])
    except Exception as exc:  # no route, DNS, proxy, TLS: all mean "not online now"
        return (f"cannot reach the Hugging Face hub ({type(exc).__name__}: {exc}). This script "
                "needs internet once; nothing was changed.")
    return None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from core.config import Settings
    from core.importer import ImportModelError, PickleRefusedError, import_model
    from core.registry import Registry

    models = chosen(args)
    if not models:
        print("nothing to import", file=sys.stderr)
        return EXIT_FAILED
    problem = preflight(models[0].hub_id)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_OFFLINE
    registry = Registry(args.cache or Settings.load().cache_path)
    imported, refused_pickle, failed = [], [], []
    for number, model in enumerate(models, 1):
        print(f"[{number}/{len(models)}] {model.hub_id} ({model.task or 'task from card'}): "
              f"{model.why}", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            record = import_model(model.hub_id, registry, task=model.task or None,
                                  quantize=args.quantize, trust_pickle=args.trust_pickle,
                                  progress=_step_printer(), replace=args.replace)
        except PickleRefusedError as exc:
            refused_pickle.append(model.hub_id)
            print(f"  skipped: {exc}", file=sys.stderr)
            continue
        except ImportModelError as exc:
            failed.append((model.hub_id, str(exc)))
            print(f"  failed: {exc}", file=sys.stderr)
            continue
        imported.append(record)
        print(f"  ok: {record.id}, {record.size_bytes / 1e6:.0f} MB, {record.quantization}, "
              f"{time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    total = sum(r.size_bytes for r in imported)
    print(f"\nimported {len(imported)} of {len(models)} models, {total / 1e9:.2f} GB in "
          f"{registry.cache_dir}", file=sys.stderr)
    if refused_pickle:
        print("pickle-only checkpoints skipped (rerun with --trust-pickle if you trust them): "
              + ", ".join(refused_pickle), file=sys.stderr)
    for hub_id, reason in failed:
        print(f"failed: {hub_id}: {reason}", file=sys.stderr)
    if args.pack and imported:
        from core.packs import pack_models

        pack_models(registry, [r.id for r in imported], args.pack)
        print(f"pack written: {args.pack} (install offline with `python main.py models unpack "
              f"{args.pack}`)", file=sys.stderr)
    return EXIT_OK if not failed and not refused_pickle else EXIT_FAILED


def _step_printer():
    last = {"step": ""}

    def report(step: str, fraction: float) -> None:
        if step != last["step"] and fraction == 0.0:
            last["step"] = step
            print(f"  {step}...", file=sys.stderr, flush=True)

    return report


if __name__ == "__main__":
    sys.exit(main())
