"""Import any Hugging Face model into the registry: exported to ONNX, int8 where it holds up.

HuggingGPT runs experts in PyTorch from a hub cache of hundreds of gigabytes; Conductor keeps each
expert as an ONNX graph (int8 where the outputs survive it), run by ONNX Runtime with a
transformers ``pipeline`` for pre- and post-processing. This module is the one way in:

- a local model folder (``config.json`` + safetensors weights + tokenizer/processor files, or a
  folder that already holds ONNX graphs),
- a GGUF file (a controller LLM; copied, its metadata read, registered for llama.cpp),
- a hub id, fetched with ``huggingface_hub`` when the machine is online (offline: a clear error).

For transformers models: check the weights (pickle-only ``.bin``/``.pt`` is refused unless
trusted: unpickling runs arbitrary code), pick the task (``--task``, else the model card's
``pipeline_tag``, else the architecture), export with ``optimum.exporters.onnx``, quantise each
graph with ONNX Runtime's dynamic int8 and measure the drift against fp32 on a sanity input
(past a tolerance the fp32 graphs are kept, and why is recorded), copy the tokenizer and
processor files, read description, licence and tags from the model card, then hash and register.
Everything is built in a staging folder inside the cache and moved into place last, so a failed
import leaves neither files nor a registry row behind.

One module per job: ``sources`` (local, hub, pickle policy), ``cards`` (model cards and configs),
``tasks`` (which task, how it exports), ``onnx_export`` and ``drift`` (transformers models),
``gguf`` (controllers), ``manage`` (ids, staging, verify, remove). Loading an exported model is
the runner's job (``core.runners.onnx_loading``).
"""

from __future__ import annotations

from pathlib import Path

from core.importer.cards import card_description, card_skill, read_card, read_config
from core.importer.drift import DEFAULT_DRIFT_TOLERANCE
from core.importer.errors import ImportModelError, OfflineError, PickleRefusedError, Progress
from core.importer.gguf import import_gguf
from core.importer.manage import file_changes, remove_model
from core.importer.onnx_export import import_transformers
from core.importer.sources import hub_offline, resolve_source
from core.importer.tasks import SUPPORTED_TASKS, infer_task
from core.registry import ModelRecord, Registry

__all__ = ["DEFAULT_DRIFT_TOLERANCE", "SUPPORTED_TASKS", "ImportModelError", "OfflineError",
           "PickleRefusedError", "card_description", "card_skill", "file_changes", "hub_offline",
           "import_model", "infer_task", "read_card", "read_config", "remove_model"]


def import_model(source: str | Path, registry: Registry, task: str | None = None,
                 quantize: str = "int8", model_id: str | None = None,
                 trust_pickle: bool = False, progress: Progress | None = None,
                 drift_tolerance: float = DEFAULT_DRIFT_TOLERANCE,
                 replace: bool = False) -> ModelRecord:
    """Import a model folder, GGUF file or hub id, and register it; returns the registry row.

    ``quantize`` is ``"int8"`` (kept only if the drift on a sanity input stays within
    ``drift_tolerance``) or ``"none"``. ``progress(step, fraction)`` reports each step from 0 to
    1 (the CLI draws a tqdm bar per step, the GUI a progress bar). An id that is already
    registered is refused unless ``replace``.
    """
    report = progress or (lambda step, fraction: None)
    if quantize not in ("int8", "none"):
        raise ImportModelError(f"--quantize must be int8 or none, not {quantize!r}")
    resolved = resolve_source(source, trust_pickle=trust_pickle, progress=report)
    if resolved.kind == "gguf":
        return import_gguf(resolved, registry, model_id, report, replace)
    return import_transformers(resolved, registry, task, quantize, model_id, trust_pickle,
                                report, drift_tolerance, replace)
