"""The controller LLM: a GGUF run by llama.cpp, with the decoding primitives the stages need.

Why our own decoding loop instead of ``create_completion`` with a GBNF grammar: llama.cpp applies a
grammar to every candidate of the vocabulary, and Gemma's vocabulary has 262k tokens, which costs
~60 ms a token (MODELS.md). The planner's structure is fixed (JSON of a known schema), so we write
the fixed parts ourselves and let the model decide only at the choice points: which of a few
allowed strings comes next (``choose``, a greedy walk of their token trie that reads a handful of
logits), or free text up to a stop character (``generate``). Every output parses by construction,
and a choice costs one forward pass per token, like unconstrained decoding.

The context is handled as a token list: each call feeds the list, and the longest prefix already
in the KV cache is reused, so a repeated system prompt is never evaluated twice (prefix cache).
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.chat_templates import JinjaTemplate, Message, template_for
from core.llama_internals import (
    last_logits,
    logits_of_batch,
    quiet_llama_logs,
    restore_state,
    save_state,
    switch_lora,
)
from core.prefix_store import PrefixStateStore

# ---------------------------------------------------------------- the controller


@dataclass
class DecodeStats:
    """Measured, never guessed: tokens evaluated and seconds, for prompt and generation."""

    prompt_tokens: int = 0
    prompt_seconds: float = 0.0
    generated_tokens: int = 0
    generated_seconds: float = 0.0
    reused_tokens: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, float]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "prompt_tokens_per_s": _rate(self.prompt_tokens, self.prompt_seconds),
            "generated_tokens": self.generated_tokens,
            "generated_tokens_per_s": _rate(self.generated_tokens, self.generated_seconds),
            "reused_tokens": self.reused_tokens,
        }


def _rate(tokens: int, seconds: float) -> float:
    return round(tokens / seconds, 1) if seconds > 0 else 0.0


class Controller:
    """A loaded GGUF with prefix-cached feeding, constrained choice and greedy generation.

    One controller is shared by the planner, selector, responder and LLM-fallback tasks; a lock
    serialises them because a llama.cpp context holds one sequence.
    """

    def __init__(self, model_path: Path | str, n_ctx: int = 4096, threads: int | None = None,
                 gpu: bool = False, lora_path: Path | str | None = None,
                 verbose: bool = False, state_dir: Path | str | None = None) -> None:
        import llama_cpp

        self.path = Path(model_path)
        if not self.path.is_file():
            raise FileNotFoundError(f"controller model not found: {self.path}")
        if not verbose:
            quiet_llama_logs()
        self.threads = threads or os.cpu_count() or 2
        self.gpu = bool(gpu and llama_cpp.llama_supports_gpu_offload())
        started = time.perf_counter()
        self.llama = llama_cpp.Llama(
            model_path=str(self.path), n_ctx=n_ctx, n_threads=self.threads,
            n_threads_batch=self.threads, n_gpu_layers=-1 if self.gpu else 0,
            lora_path=str(lora_path) if lora_path else None, verbose=verbose,
        )
        self.load_seconds = time.perf_counter() - started
        self.n_ctx = n_ctx
        self.n_vocab = self.llama.n_vocab()
        self.eos_ids = {self.llama.token_eos()}
        self.template = template_for(self.llama.metadata, self.token_text)
        for stop in self.template.stop_strings:
            ids = self.tokenize(stop, special=True)
            if len(ids) == 1:
                self.eos_ids.add(ids[0])
        self.lock = threading.RLock()
        self.lora_path = Path(lora_path) if lora_path else None
        # Saved prefix states on disk (``state_dir``) let a new process skip the fixed prompts.
        self.state_store = (PrefixStateStore(Path(state_dir), self.path, self.lora_path, n_ctx,
                                             f"{llama_cpp.__version__}:{self.gpu}")
                            if state_dir else None)
        self._adapter_on = self.lora_path is not None  # llama-cpp-python applies it at load
        self._prefix_states: OrderedDict[tuple, tuple[bytes, np.ndarray, int]] = OrderedDict()
        self.set_adapter(False)  # the adapter is for planning; other stages use the base model
        self.stats = DecodeStats()
        self._trie_cache: dict[tuple[str, ...], list[list[int]]] = {}
        self._prefix_tokens: dict[str, list[int]] = {}

    # -- the LoRA adapter, on for planning only

    def set_adapter(self, on: bool) -> None:
        """Switch the LoRA adapter on or off, keeping each mode's KV cache.

        The adapter was trained on planning; the selector and responder read better without it.
        Switching changes every logit, so the KV cache is dropped; saved prefixes
        (``remember_prefix``) are kept per mode and restored when they match.
        """
        if self.lora_path is None or on == self._adapter_on:
            return
        with self.lock:
            if not switch_lora(self.llama, on):
                raise RuntimeError(f"could not switch the LoRA adapter {self.lora_path}")
            self._adapter_on = on
            self.llama.n_tokens = 0

    @contextmanager
    def planning_mode(self) -> Iterator[None]:
        """The adapter on (when there is one) for the duration of a planning call."""
        with self.lock:
            self.set_adapter(True)
            try:
                yield
            finally:
                self.set_adapter(False)

    # -- saved prefixes (llama.cpp state save/restore)

    def remember_prefix(self, prefix: Sequence[int]) -> None:
        """Keep the KV state after ``prefix`` so later prompts starting with it skip its
        evaluation, even after other prompts (selection, answers) have used the context."""
        key = (self._adapter_on, tuple(prefix))
        with self.lock:
            if key in self._prefix_states:
                self._prefix_states.move_to_end(key)
                return
            saved = self._saved_on_disk(prefix)
            if saved is None or not self._restore(saved):
                self.logits_for(list(prefix))
                saved = self._snapshot()
                if self.state_store is not None:
                    self.state_store.save(self._adapter_on, prefix, saved[0])
            self._prefix_states[key] = saved
            while len(self._prefix_states) > 8:
                self._prefix_states.popitem(last=False)

    def remember_leading(self, tokens: Sequence[int], fixed: str) -> None:
        """Remember the prefix of ``tokens`` that renders the text ``fixed`` (the part of a
        prompt that is the same every time: instructions, worked examples, candidates)."""
        length = self._rendered_length(tokens, fixed)
        if length:
            self.remember_prefix(tokens[:length])

    def _rendered_length(self, tokens: Sequence[int], fixed: str) -> int:
        """How many leading tokens render no further than the end of ``fixed`` (one token short,
        so a token merged across the boundary is never part of the saved prefix); 0 if none."""
        rendered = ""
        for count, token in enumerate(tokens):
            rendered += self.token_text(token)
            if fixed in rendered:
                return count
        return 0

    def _saved_on_disk(self, prefix: Sequence[int]) -> tuple[bytes, np.ndarray, int] | None:
        if self.state_store is None or not prefix:
            return None
        data = self.state_store.load(self._adapter_on, prefix)
        if data is None:
            return None
        return data, np.asarray(prefix, dtype=self.llama.input_ids.dtype), len(prefix)

    def _restore_best_prefix(self, tokens: Sequence[int], have: int) -> None:
        """Restore the longest saved prefix of ``tokens`` if it beats the ``have`` tokens the
        context already shares with them."""
        best = None
        for (adapter_on, prefix), saved in self._prefix_states.items():
            if adapter_on != self._adapter_on or len(prefix) <= have:
                continue
            if len(prefix) < len(tokens) and tuple(tokens[: len(prefix)]) == prefix:
                if best is None or len(prefix) > len(best[0]):
                    best = (prefix, saved)
        if best is not None and not self._restore(best[1]):
            del self._prefix_states[(self._adapter_on, best[0])]

    def _snapshot(self) -> tuple[bytes, np.ndarray, int]:
        n_tokens = self.llama.n_tokens
        return save_state(self.llama), self.llama.input_ids[:n_tokens].copy(), n_tokens

    def _restore(self, saved: tuple[bytes, np.ndarray, int]) -> bool:
        """Load a saved state into the context; False (and an empty cache) if it does not fit."""
        data, input_ids, n_tokens = saved
        if not restore_state(self.llama, data):
            self.llama.n_tokens = 0  # the cache is then rebuilt on the next call
            return False
        self.llama.input_ids[:n_tokens] = input_ids
        self.llama.n_tokens = n_tokens
        return True

    def forget_context(self) -> None:
        """Empty the KV cache and the saved prefixes in memory (a benchmark's cold start)."""
        with self.lock:
            self._prefix_states.clear()
            self.llama.reset()
            self.llama.n_tokens = 0

    @property
    def device(self) -> str:
        return "gpu" if self.gpu else "cpu"

    # -- text <-> tokens

    def tokenize(self, text: str, add_bos: bool = False, special: bool = False) -> list[int]:
        return self.llama.tokenize(text.encode("utf-8"), add_bos=add_bos, special=special)

    def token_text(self, token: int) -> str:
        return self.llama.detokenize([token], special=True).decode("utf-8", errors="replace")

    def detokenize(self, tokens: Sequence[int]) -> str:
        """The text of a token span (a copied argument), without special-token text."""
        return self.llama.detokenize(list(tokens)).decode("utf-8", errors="replace")

    def prompt_tokens(self, messages: Sequence[Message], add_generation_prompt: bool = True
                      ) -> list[int]:
        """Messages rendered with the model's chat template, as tokens (BOS added once)."""
        text = self.template.render(messages, add_generation_prompt)
        return self.tokenize(text, add_bos=not self.template.renders_bos, special=True)

    # -- evaluation with prefix reuse

    def logits_for(self, tokens: Sequence[int]) -> np.ndarray:
        """Logits after ``tokens``, evaluating only what the KV cache does not already hold."""
        llama = self.llama
        if len(tokens) >= self.n_ctx:
            raise ContextOverflowError(f"{len(tokens)} tokens exceed the context of {self.n_ctx}")
        prefix = self._shared_prefix(tokens)
        if self._prefix_states:
            self._restore_best_prefix(tokens, prefix)
            prefix = self._shared_prefix(tokens)
        llama.n_tokens = prefix
        new = list(tokens[prefix:])
        started = time.perf_counter()
        llama.eval(new)
        elapsed = time.perf_counter() - started
        if len(new) == 1:
            self.stats.generated_tokens += 1
            self.stats.generated_seconds += elapsed
        else:
            self.stats.prompt_tokens += len(new)
            self.stats.prompt_seconds += elapsed
        self.stats.reused_tokens += prefix
        return last_logits(llama, self.n_vocab)

    def continuation_logprob(self, prefix: Sequence[int], continuation: Sequence[int]) -> float:
        """How likely ``continuation`` is after ``prefix``: the sum of its tokens' log
        probabilities, from one batch that asks llama.cpp for the logits at every position
        (``logits_for`` keeps only the last; asking for every position at load would keep a
        context's worth of rows, gigabytes with Gemma's vocabulary)."""
        if not continuation:
            return 0.0
        rows = [self.logits_for(prefix)]
        rest = list(continuation[:-1])
        llama = self.llama
        if rest:
            if len(prefix) + len(rest) >= self.n_ctx or len(rest) > llama.n_batch:
                raise ContextOverflowError(f"{len(prefix) + len(rest)} tokens do not fit")
            rows.extend(logits_of_batch(llama, rest, self.n_vocab))
        total = 0.0
        for logits, token in zip(rows, continuation, strict=True):
            shifted = logits - logits.max()
            total += float(shifted[token] - np.log(np.exp(shifted).sum()))
        return total

    def _shared_prefix(self, tokens: Sequence[int]) -> int:
        """How many leading ``tokens`` the KV cache already holds (at most all but one)."""
        cached = self.llama.input_ids[: self.llama.n_tokens]
        limit = min(len(cached), len(tokens) - 1)  # always evaluate at least one token
        same = np.asarray(cached[:limit]) == np.asarray(tokens[:limit], dtype=cached.dtype)
        return int(limit if same.all() else np.argmin(same))

    # -- constrained choice

    def choose(self, tokens: list[int], options: Sequence[str],
               bias: Sequence[float] | None = None) -> int:
        """Greedily pick one of ``options`` to follow ``tokens``; appends its tokens in place.

        Walks the options' token trie: at each step only tokens that continue some option are
        compared, so the answer is always one of the options, and once one option is left its
        remaining tokens are appended without asking the model. ``bias`` adds a per-option
        amount to the logits compared (a prior from elsewhere, e.g. retrieved examples).
        """
        if not options:
            raise ValueError("choose() needs at least one option")
        encoded = self._encode_options(tuple(options))
        alive = list(range(len(options)))
        depth = 0
        while len(alive) > 1:
            finished = [i for i in alive if len(encoded[i]) == depth]
            if finished:  # an option that is a token-prefix of another: take the shorter one
                alive = finished[:1]
                break
            logits = self.logits_for(tokens)
            scores: dict[int, float] = {}
            for i in alive:
                token = encoded[i][depth]
                value = float(logits[token]) + (bias[i] if bias is not None else 0.0)
                scores[token] = max(scores.get(token, -np.inf), value)
            best = max(scores, key=scores.__getitem__)
            alive = [i for i in alive if encoded[i][depth] == best]
            tokens.append(best)
            depth += 1
        chosen = alive[0]
        tokens.extend(encoded[chosen][depth:])
        return chosen

    def _encode_options(self, options: tuple[str, ...]) -> list[list[int]]:
        if options not in self._trie_cache:
            if len(self._trie_cache) > 512:
                self._trie_cache.clear()
            self._trie_cache[options] = [self.tokenize(o) for o in options]
        return self._trie_cache[options]

    # -- copying a span of a source text

    def tokens_starting_with(self, prefix: str) -> list[int]:
        """Every vocabulary token whose text starts with ``prefix`` (computed once per prefix)."""
        if prefix not in self._prefix_tokens:
            name = f"starting-with:{prefix}"
            found = self.state_store.load_tokens(name) if self.state_store else None
            if found is None:  # a scan of the vocabulary: 0.4 s for Gemma's 262k tokens
                encoded = prefix.encode("utf-8")
                found = [token for token in range(self.n_vocab)
                         if self.llama.detokenize([token], special=False).startswith(encoded)]
                if self.state_store is not None:
                    self.state_store.save_tokens(name, found)
            self._prefix_tokens[prefix] = found
        return self._prefix_tokens[prefix]

    def copy_span(self, tokens: list[int], source: Sequence[int], end_tokens: Sequence[int],
                  max_tokens: int = 96, starts: Sequence[int] | None = None) -> list[int]:
        """Greedily copy a contiguous span of ``source`` tokens, ending when the model prefers an
        end token (e.g. a closing quote) over every possible continuation of the span.

        Small controllers paraphrase or copy text from their examples instead of the request;
        restricting a text argument to a span of the request makes that impossible.
        ``starts`` limits where the span may begin (default: anywhere).
        """
        positions = list(starts) if starts else list(range(len(source)))
        out: list[int] = []
        end = np.asarray(list(end_tokens), dtype=np.int64)
        while len(out) < max_tokens:
            allowed = {source[p] for p in positions if p < len(source)}
            if not allowed:
                break
            logits = self.logits_for(tokens + out)
            best = max(allowed, key=lambda t: logits[t])
            if out and end.size and logits[end].max() > logits[best]:
                break
            out.append(best)
            positions = [p + 1 for p in positions if p < len(source) and source[p] == best]
        tokens.extend(out)
        return out

    # -- free generation

    def generate(self, tokens: list[int], max_tokens: int, stop: Sequence[str] = (),
                 on_text: Callable[[str], None] | None = None,
                 banned: Sequence[int] = (), repeat_penalty: float = 1.0) -> tuple[str, bool]:
        """Greedy generation after ``tokens`` until a stop string, EOS or ``max_tokens``.

        Returns the text before the stop and whether a stop string ended it. ``tokens`` is
        extended with exactly the tokens of the returned text, so a caller can append its own
        continuation (the stop string itself is not appended).
        """
        produced: list[int] = []
        text = b""
        stopped = False
        streamed = 0
        for _ in range(max_tokens):
            logits = self.logits_for(tokens + produced)
            for token in banned:
                logits[token] = -np.inf
            if repeat_penalty != 1.0 and produced:
                recent = np.unique(np.asarray(produced[-64:]))
                values = logits[recent]
                logits[recent] = np.where(values > 0, values / repeat_penalty,
                                          values * repeat_penalty)
            token = int(np.argmax(logits))
            if token in self.eos_ids:
                break
            piece = self.llama.detokenize([token], prev_tokens=tokens + produced)
            candidate = (text + piece).decode("utf-8", errors="ignore")
            hits = [candidate.find(s) for s in stop if s in candidate]
            if hits:
                cut = min(hits)
                kept = candidate[:cut]
                kept_tokens = self.tokenize(kept[len(text.decode("utf-8", errors="ignore")):])
                produced.extend(kept_tokens)
                text = kept.encode("utf-8")
                stopped = True
                break
            produced.append(token)
            text += piece
            if on_text is not None:
                decoded = text.decode("utf-8", errors="ignore")
                if len(decoded) > streamed:
                    on_text(decoded[streamed:])
                    streamed = len(decoded)
            if _looping(produced):
                break
        tokens.extend(produced)
        final = text.decode("utf-8", errors="ignore")
        if on_text is not None and len(final) > streamed:
            on_text(final[streamed:])
        return final, stopped

    @property
    def is_chat_model(self) -> bool:
        """Whether the model was tuned for chat (its GGUF carries a template, or its name says
        so); a base model follows plain-text examples better than chat turns."""
        if isinstance(self.template, JinjaTemplate):
            return True
        name = str(self.llama.metadata.get("general.name", "")).lower()
        return any(mark in name for mark in ("-it", " it", "instruct", "chat"))

    def complete(self, prompt: str, max_tokens: int = 128, stop: Sequence[str] = ("\n",),
                 on_text: Callable[[str], None] | None = None, fixed: str = "") -> str:
        """Continue plain text (greedy, mild repetition penalty), streaming text pieces.
        ``fixed``: the prompt's unchanging opening, kept evaluated for the next call."""
        with self.lock:
            tokens = self.tokenize(prompt, add_bos=True)
            if fixed:
                self.remember_leading(tokens, fixed)
            text, _ = self.generate(tokens, max_tokens, stop=stop, on_text=on_text,
                                    repeat_penalty=1.15)
            return text.strip()

    def chat(self, messages: Sequence[Message], max_tokens: int = 256,
             on_text: Callable[[str], None] | None = None, prefix: str = "",
             stop: Sequence[str] = (), fixed: str = "") -> str:
        """Answer a chat (greedy, mild repetition penalty), streaming text pieces.
        ``fixed``: the unchanging opening (a system text), kept evaluated for the next call."""
        with self.lock:
            tokens = self.prompt_tokens(messages)
            if fixed:
                self.remember_leading(tokens, fixed)
            if prefix:
                tokens.extend(self.tokenize(prefix))
            text, _ = self.generate(tokens, max_tokens,
                                    stop=(*self.template.stop_strings, *stop),
                                    on_text=on_text, repeat_penalty=1.15)
            return text.strip()


class ContextOverflowError(RuntimeError):
    """The prompt does not fit the controller's context window."""


def _looping(tokens: list[int], window: int = 12, repeats: int = 4) -> bool:
    """True when the tail repeats the same short cycle ``repeats`` times (a stuck small model)."""
    for size in range(1, window + 1):
        span = size * repeats
        if len(tokens) >= span:
            tail = tokens[-span:]
            if all(tail[i] == tail[i % size] for i in range(span)) and span >= 8:
                return True
    return False


_shared: dict[tuple, Controller] = {}
_shared_lock = threading.Lock()


def shared_controller(model_path: Path | str, **options: Any) -> Controller:
    """One controller per GGUF (and options) in the process: the stages and the LLM-fallback
    runner share it instead of loading the weights twice. Where its saved prefix states live
    (``state_dir``) is no reason for a second copy: a 1.5B writer is 1.1 GB, and every Assistant
    of a process (each with its own data folder, as in the tests) shares the first one's."""
    key = (str(Path(model_path).resolve()),
           tuple(sorted((k, v) for k, v in options.items() if k != "state_dir")))
    with _shared_lock:
        if key not in _shared:
            _shared[key] = Controller(model_path, **options)
        return _shared[key]
