"""What Conductor does to llama-cpp-python beyond its public API, in one place.

llama-cpp-python's ``Llama`` has no public call to switch a loaded LoRA adapter off and on, to
save and restore a context's state in memory, to read the last row of logits without a copy of
all of them, to evaluate a batch with logits at every position, or to keep its warnings quiet.
Each of those reaches into its private attributes (``_ctx``, ``_batch``, ``_lora_adapter``) or
its C bindings, so they live here: a llama-cpp-python upgrade is checked against one module
(tests/test_prefix_store.py and tests/test_plan.py exercise each function).
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np


def switch_lora(llama: Any, on: bool) -> bool:
    """Apply the adapter loaded with the model (``lora_path``) or none; False if refused."""
    import llama_cpp

    if on:
        adapters = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(llama._lora_adapter)
        scales = (ctypes.c_float * 1)(llama.lora_scale)
        return not llama_cpp.llama_set_adapters_lora(llama._ctx.ctx, adapters, 1, scales)
    return not llama_cpp.llama_set_adapters_lora(llama._ctx.ctx, None, 0, None)


def save_state(llama: Any) -> bytes:
    """The context's whole state (KV cache included) as bytes."""
    import llama_cpp

    ctx = llama._ctx.ctx
    size = llama_cpp.llama_state_get_size(ctx)
    buffer = (ctypes.c_uint8 * int(size))()
    used = llama_cpp.llama_state_get_data(ctx, buffer, size)
    return bytes(buffer[: int(used)])


def restore_state(llama: Any, data: bytes) -> bool:
    """Load a state from ``save_state``; False if it does not fit this context."""
    import llama_cpp

    buffer = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
    return llama_cpp.llama_state_set_data(llama._ctx.ctx, buffer, len(data)) == len(data)


def last_logits(llama: Any, n_vocab: int) -> np.ndarray:
    """A copy of the logits after the last evaluated token."""
    return np.ctypeslib.as_array(llama._ctx.get_logits_ith(-1), shape=(n_vocab,)).copy()


def logits_of_batch(llama: Any, tokens: Sequence[int], n_vocab: int) -> np.ndarray:
    """Evaluate ``tokens`` after the context's tokens and return the logits at each of them
    (one row per token), extending the context's token list as ``Llama.eval`` does."""
    start = llama.n_tokens
    llama._batch.set_batch(batch=list(tokens), n_past=start, logits_all=True)
    llama._ctx.decode(llama._batch)
    llama.input_ids[start:start + len(tokens)] = tokens
    llama.n_tokens = start + len(tokens)
    every = np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(len(tokens) * n_vocab,))
    return every.reshape(len(tokens), n_vocab).copy()


# llama.cpp's log levels (ggml.h): 1 debug, 2 info, 3 warning, 4 error, 5 continues the last.
# llama-cpp-python 0.3.36 maps them with an older table and prints its warnings even when not
# verbose (a line per LoRA tensor, "using full-size SWA cache"): only errors reach stderr here.
_LLAMA_LOG_ERROR, _LLAMA_LOG_CONTINUE = 4, 5
_llama_log_state = {"last": 0, "callback": None}


def quiet_llama_logs() -> None:
    """Route llama.cpp's log through a callback that prints errors only (set once)."""
    if _llama_log_state["callback"] is not None:
        return
    import llama_cpp

    @llama_cpp.llama_log_callback
    def callback(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        if level != _LLAMA_LOG_CONTINUE:
            _llama_log_state["last"] = level
        if _llama_log_state["last"] == _LLAMA_LOG_ERROR:
            print(text.decode("utf-8", errors="replace"), end="", file=sys.stderr, flush=True)

    _llama_log_state["callback"] = callback  # kept referenced: llama.cpp holds the pointer
    llama_cpp.llama_log_set(callback, ctypes.c_void_p(0))
