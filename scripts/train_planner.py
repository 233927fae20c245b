"""Train the planner's LoRA adapter from scratch on CPU and write it as a GGUF llama.cpp loads.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/train_planner.py  # -> core/data/planner-lora.gguf

Steps, and why each is done this way:

1. Synthetic data: our own template requests and gold plans (``scripts/train_templates.py``), and
   with ``--back-instruct``, requests the local writer wrote for sampled task graphs
   (``scripts/data/back_instruct.jsonl``, made by ``scripts/make_plan_data.py``; every tenth is
   held out), each also with other files, texts and languages swapped in. The dev set and
   TaskBench only measure.
2. Each sample is replayed through the planner's own schema-driven decoder with the controller's
   llama.cpp tokenizer, so the model is trained on exactly the token sequences live planning
   feeds it. The replay also records every *decision* the live decoder asks the model for and
   among which tokens: a ``choose`` step compares the tokens that continue the allowed options, a
   copied text argument compares the request tokens that may come next with the closing quote,
   ``prefers_reference`` and free text compare against the whole vocabulary. The loss is the
   cross-entropy of each decision over exactly those candidates (the whole vocabulary where live
   decoding uses it): tokens the decoder writes itself cost nothing to learn and are skipped.
3. The base weights are the GGUF's, dequantised by transformers, so the adapter is trained against
   the model llama.cpp runs (bfloat16 on CPU: about three times faster than float32 here).
4. All prompts (k demos = 0) share the instructions and catalogue, ~560 of ~650 tokens. That
   prefix is run once per step without gradient and its key/value cache is shared by the batch;
   only the request and the plan are run with gradient. The prefix still goes through the current
   adapter (the forward pass is exact); only the gradient path through the prefix is dropped.
5. The adapter is written as llama.cpp's ``convert_lora_to_gguf.py`` writes one (general.type
   "adapter", adapter.type "lora", adapter.lora.alpha, ``<base tensor>.lora_a/.lora_b``) and
   checked: llama.cpp with the adapter must agree with the merged PyTorch model.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# OpenMP threads that spin while waiting make a step 5-10x slower when other processes share
# the cores (measured: 22 s against 3 s a step); passive waiting costs little when they do not.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from core.plan import TaskNode, parse  # noqa: E402
from core.planner import (  # noqa: E402
    FREE_TEXT_KEYS,
    Planner,
    Replay,
    Turn,
    escape_json,
    option_value,
)
from scripts.train_templates import Sample, generate  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_GGUF = ROOT / "model_cache" / "llm" / "gemma-3-270m-Q4_K_M.gguf"
DEFAULT_OUT = ROOT / "core" / "data" / "planner-lora.gguf"
BACK_INSTRUCT = ROOT / "scripts" / "data" / "back_instruct.jsonl"

# Hugging Face projection name -> llama.cpp tensor name (per block).
TARGETS = {
    "q_proj": "attn_q", "k_proj": "attn_k", "v_proj": "attn_v", "o_proj": "attn_output",
    "gate_proj": "ffn_gate", "up_proj": "ffn_up", "down_proj": "ffn_down",
}
END = -1  # stands for "any token that starts with a double quote" (ends a copied span)


# ---------------------------------------------------------------- decisions


@dataclass
class Decision:
    """One place where live decoding consults the model.

    ``position`` indexes the token being decided (logits come from the position before it);
    ``candidates`` are the tokens compared there (``None``: the whole vocabulary), and ``END`` in
    them is the pooled closing-quote class of a copied span.
    """

    position: int
    candidates: list[int] | None
    gold: int


@dataclass
class Replayed:
    """A replayed sample: all tokens (prompt + plan) and the decisions in it."""

    tokens: list[int]
    decisions: list[Decision]
    request: str = ""
    shape: str = ""


class _Recorder(Replay):
    """Replays a gold plan like ``Replay`` and records each decision live decoding would make.

    A copied text argument is written as the request's own tokens (the ones ``copy_span`` can
    produce), not as the text tokenised afresh; a sample whose plan live decoding could not
    produce is marked ``exact = False`` and left out of training.
    """

    def __init__(self, controller: Any, plan: Sequence[TaskNode], request: str,
                 max_text_tokens: int) -> None:
        super().__init__(controller, plan, request, max_text_tokens)
        self.decisions: list[Decision] = []
        self.exact = True
        self._quote = controller.tokenize('"')

    def choose(self, tokens, options, what):
        answer = self._answer(what)
        index = next(i for i, o in enumerate(options) if option_value(o, what) == answer)
        encoded = [self.controller.tokenize(o) for o in options]
        alive = list(range(len(options)))
        depth = 0
        while len(alive) > 1:
            if any(len(encoded[i]) == depth for i in alive):
                # live decoding takes the shorter option; fine only if it is the gold one
                self.exact = self.exact and len(encoded[index]) == depth
                break
            gold = encoded[index][depth]
            candidates = sorted({encoded[i][depth] for i in alive})
            self.decisions.append(Decision(len(tokens), candidates, gold))
            tokens.append(gold)
            alive = [i for i in alive if encoded[i][depth] == gold]
            depth += 1
        tokens.extend(encoded[index][depth:])
        return index

    def prefers_reference(self, tokens, refs, what):
        answer = self._answer(what)
        is_ref = answer in [r[:-1] for r in refs]
        if is_ref:
            gold = self.controller.tokenize(answer + '"')[0]
        else:
            span = self._span(answer)
            if span is None:
                self.exact = False
                return False
            gold = span[0]
        self.decisions.append(Decision(len(tokens), None, gold))
        return is_ref

    def free_text(self, tokens, what):
        text = self._answer(what)
        if what[2] in FREE_TEXT_KEYS:  # generated freely, up to a closing quote
            pieces = self.controller.tokenize(escape_json(text))
            for piece in pieces:
                self.decisions.append(Decision(len(tokens), None, piece))
                tokens.append(piece)
            self.decisions.append(Decision(len(tokens), None, self._quote[0]))
            return text
        span = self._span(text)
        if span is None or len(span) > self.max_text_tokens:
            self.exact = False
            return super().free_text(tokens, what)
        source = self.request_tokens
        positions = list(self.starts)
        for step, token in enumerate([*span, END]):
            allowed = sorted({source[p] for p in positions if p < len(source)})
            if not allowed:
                break
            candidates = allowed + ([END] if step >= 1 else [])
            self.decisions.append(Decision(len(tokens) + step, candidates, token))
            positions = [p + 1 for p in positions if p < len(source) and source[p] == token]
        tokens.extend(span)
        return text


def replay(planner: Planner, sample: Sample) -> Replayed | None:
    """Prompt and plan tokens of a sample, with its decisions (None if live decoding could not
    produce the gold plan)."""
    files = list(dict.fromkeys(sample.files))
    history = [Turn(r, a) for r, a in sample.history]
    demos = ([d for d in planner.demos.select(sample.request, files, planner.k_demos + 1)
              if d.request != sample.request][-planner.k_demos:] if planner.k_demos else [])
    tokens = planner.prompt_tokens(sample.request, files, demos, history)
    recorder = _Recorder(planner.controller, parse(sample.plan), sample.request,
                         planner.max_text_tokens)
    nodes = planner.decode(tokens, files, recorder)
    if not recorder.exact or [n.to_json() for n in nodes] != sample.plan:
        return None
    return Replayed(tokens, recorder.decisions, sample.request, sample.shape)


# ---------------------------------------------------------------- the model and its adapter


class LoRALinear(nn.Module):
    """``base(x) + (x A^T B^T) * alpha / rank``, with A and B trained in float32 (PEFT's layout,
    so A is (rank, in) and B is (out, rank), as llama.cpp's lora_a / lora_b expect)."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float) -> None:
        super().__init__()
        self.base = base
        self.rank = rank
        self.scale = alpha / rank
        self.lora_a = nn.Parameter(torch.empty(rank, base.in_features))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        low = (x @ self.lora_a.to(x.dtype).t()) @ self.lora_b.to(x.dtype).t()
        return self.base(x) + low * self.scale


def load_base(gguf_path: Path, dtype: torch.dtype = torch.bfloat16) -> nn.Module:
    """The GGUF's weights, dequantised into a transformers Gemma 3 model, frozen."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name,
                                                 dtype=torch.float32)
    model = model.to(dtype)
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model


def add_lora(model: nn.Module, rank: int, alpha: float,
             targets: Sequence[str] = tuple(TARGETS)) -> list[nn.Parameter]:
    """Wrap the targeted projections of every block; returns the trainable parameters."""
    params: list[nn.Parameter] = []
    for layer in model.model.layers:
        for owner in (layer.self_attn, layer.mlp):
            for name in targets:
                if hasattr(owner, name):
                    wrapped = LoRALinear(getattr(owner, name), rank, alpha)
                    setattr(owner, name, wrapped)
                    params += [wrapped.lora_a, wrapped.lora_b]
    return params


def lora_modules(model: nn.Module) -> list[tuple[int, str, LoRALinear]]:
    found = []
    for index, layer in enumerate(model.model.layers):
        for owner in (layer.self_attn, layer.mlp):
            for name in TARGETS:
                module = getattr(owner, name, None)
                if isinstance(module, LoRALinear):
                    found.append((index, name, module))
    return found


# ---------------------------------------------------------------- training


def common_prefix(sequences: Sequence[Replayed]) -> int:
    first = sequences[0].tokens
    length = min(len(s.tokens) for s in sequences)
    for sequence in sequences[1:]:
        tokens = sequence.tokens
        index = 0
        while index < length and tokens[index] == first[index]:
            index += 1
        length = index
    return length


def prefix_cache(model: nn.Module, prefix: Sequence[int]) -> Any:
    """Key/value cache of the shared prompt prefix under the current adapter (no gradient)."""
    with torch.no_grad():
        out = model.model(input_ids=torch.tensor([list(prefix)]), use_cache=True)
    return out.past_key_values


def batch_loss(model: nn.Module, cache: Any, prefix_len: int, batch: Sequence[Replayed],
               end_tokens: torch.Tensor) -> tuple[torch.Tensor, int, int]:
    """Mean decision cross-entropy of a batch (suffixes after the shared prefix, right-padded:
    causal attention never looks at the padding), and how many decisions were right."""
    suffixes = [s.tokens[prefix_len:] for s in batch]
    width = max(len(s) for s in suffixes)
    ids = torch.zeros((len(batch), width), dtype=torch.long)
    for row, suffix in enumerate(suffixes):
        ids[row, :len(suffix)] = torch.tensor(suffix)
    kv = copy.deepcopy(cache)
    if len(batch) > 1:
        kv.batch_repeat_interleave(len(batch))
    positions = torch.arange(prefix_len, prefix_len + width)
    hidden = model.model(input_ids=ids, past_key_values=kv, use_cache=True,
                         position_ids=positions.unsqueeze(0).expand(len(batch), -1),
                         cache_position=positions).last_hidden_state
    weight = model.lm_head.weight
    losses = []
    right = 0
    total = 0
    full_rows, full_gold = [], []
    for row, sequence in enumerate(batch):
        for decision in sequence.decisions:
            h = hidden[row, decision.position - 1 - prefix_len]
            if decision.candidates is None:
                full_rows.append(h)
                full_gold.append(decision.gold)
                continue
            tokens = [t for t in decision.candidates if t != END]
            logits = h @ weight[tokens].t()
            if END in decision.candidates:
                logits = torch.cat([logits, torch.logsumexp(h @ weight[end_tokens].t(), 0)[None]])
                tokens = [*tokens, END]
            target = tokens.index(decision.gold)
            logits = logits.float()
            losses.append(nn.functional.cross_entropy(logits[None], torch.tensor([target])))
            right += int(int(logits.argmax()) == target)
            total += 1
    if full_rows:
        logits = (torch.stack(full_rows) @ weight.t()).float()
        gold = torch.tensor(full_gold)
        losses.append(nn.functional.cross_entropy(logits, gold, reduction="none"))
        right += int((logits.argmax(-1) == gold).sum())
        total += len(full_gold)
    flat = torch.cat([x.reshape(-1) for x in losses])
    return flat.mean(), right, total


def batches(sequences: list[Replayed], size: int, rng: random.Random) -> list[list[Replayed]]:
    """Batches of similar length (less padding), in random order."""
    order = sequences[:]
    rng.shuffle(order)
    out = []
    group = size * 8
    for start in range(0, len(order), group):
        chunk = sorted(order[start:start + group], key=lambda s: len(s.tokens))
        out += [chunk[i:i + size] for i in range(0, len(chunk), size)]
    rng.shuffle(out)
    return out


@dataclass
class TrainConfig:
    rank: int = 8
    alpha: float = 16.0
    lr: float = 4e-4
    batch: int = 4
    epochs: float = 1.0
    warmup: int = 15
    refresh: int = 1  # recompute the shared prefix cache every this many steps
    max_minutes: float = 40.0
    seed: int = 0
    log: list[dict[str, float]] = field(default_factory=list)


def train(model: nn.Module, params: list[nn.Parameter], sequences: list[Replayed],
          prefix_len: int, end_tokens: torch.Tensor, config: TrainConfig,
          held_out: list[Replayed] | None = None) -> dict[str, Any]:
    """AdamW with linear warm-up and cosine decay, stopping at the time budget."""
    rng = random.Random(config.seed)
    plan: list[list[Replayed]] = []
    while len(plan) < config.epochs * len(sequences) / config.batch:
        plan += batches(sequences, config.batch, rng)
    plan = plan[: max(1, int(config.epochs * len(sequences) / config.batch))]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=0.0)
    steps = len(plan)

    def rate(step: int) -> float:
        if step < config.warmup:
            return (step + 1) / config.warmup
        progress = (step - config.warmup) / max(1, steps - config.warmup)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, rate)
    prefix = sequences[0].tokens[:prefix_len]
    started = time.perf_counter()
    cache = None
    window_loss, window_right, window_total = 0.0, 0, 0
    done = 0
    for step, batch in enumerate(plan):
        if cache is None or step % config.refresh == 0:
            cache = prefix_cache(model, prefix)
        loss, right, total = batch_loss(model, cache, prefix_len, batch, end_tokens)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        scheduler.step()
        done = step + 1
        window_loss += loss.item()
        window_right += right
        window_total += total
        elapsed = time.perf_counter() - started
        if done % 10 == 0 or done == steps:
            entry = {"step": done, "loss": window_loss / 10, "accuracy": window_right /
                     max(1, window_total), "seconds": round(elapsed, 1)}
            config.log.append(entry)
            print(f"step {done}/{steps} loss {entry['loss']:.4f} decision acc "
                  f"{entry['accuracy']:.3f} {elapsed / done:.2f} s/step", flush=True)
            window_loss, window_right, window_total = 0.0, 0, 0
        if elapsed > config.max_minutes * 60:
            print(f"time budget reached after {done} steps", flush=True)
            break
    result = {"steps": done, "seconds": time.perf_counter() - started}
    if held_out:
        result["held_out"] = evaluate_decisions(model, held_out, prefix_len, end_tokens)
    return result


def evaluate_decisions(model: nn.Module, sequences: list[Replayed], prefix_len: int,
                       end_tokens: torch.Tensor) -> dict[str, float]:
    """Teacher-forced decision accuracy and the share of samples with every decision right."""
    cache = prefix_cache(model, sequences[0].tokens[:prefix_len])
    right = total = perfect = 0
    with torch.no_grad():
        for sequence in sequences:
            _, r, t = batch_loss(model, cache, prefix_len, [sequence], end_tokens)
            right += r
            total += t
            perfect += int(r == t)
    return {"decision_accuracy": right / max(1, total), "all_right": perfect / len(sequences)}


# ---------------------------------------------------------------- export and checks


def export_gguf(model: nn.Module, path: Path, alpha: float, dtype: str = "f16") -> int:
    """Write the adapter as llama.cpp expects it; returns the file size in bytes."""
    import gguf

    modules = lora_modules(model)
    rank = modules[0][2].rank
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(path), "gemma3")
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(alpha))
    writer.add_name("Conductor planner LoRA for Gemma 3 270M")
    writer.add_uint32("conductor.lora.rank", rank)
    np_dtype = np.float16 if dtype == "f16" else np.float32
    for index, name, module in modules:
        base = f"blk.{index}.{TARGETS[name]}.weight"
        writer.add_tensor(base + ".lora_a", module.lora_a.detach().float().numpy().astype(np_dtype))
        writer.add_tensor(base + ".lora_b", module.lora_b.detach().float().numpy().astype(np_dtype))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path.stat().st_size


def load_adapter(model: nn.Module, path: Path) -> None:
    """Read a GGUF adapter written by ``export_gguf`` back into a model wrapped by
    ``add_lora`` (to re-check an adapter without training it again)."""
    import gguf

    tensors = {t.name: np.array(t.data) for t in gguf.GGUFReader(str(path)).tensors}
    with torch.no_grad():
        for index, name, module in lora_modules(model):
            base = f"blk.{index}.{TARGETS[name]}.weight"
            module.lora_a.copy_(torch.from_numpy(tensors[base + ".lora_a"].astype(np.float32)))
            module.lora_b.copy_(torch.from_numpy(tensors[base + ".lora_b"].astype(np.float32)))


def compare_with_llama(model: nn.Module, gguf_path: Path, lora_path: Path,
                       sequences: Sequence[Replayed]) -> dict[str, float]:
    """Logits of llama.cpp (Q4 base + GGUF adapter) against the float32 PyTorch model with the
    adapter, at decision positions: correlation and agreement of the decided token."""
    from core.llm import Controller

    controller = Controller(gguf_path, lora_path=lora_path, threads=torch.get_num_threads())
    controller.set_adapter(True)  # the controller keeps it off outside planning
    model = model.float()
    correlations, agree, total = [], 0, 0
    with torch.no_grad():
        for sequence in sequences:
            positions = [d for d in sequence.decisions][:6]
            hidden = model.model(input_ids=torch.tensor([sequence.tokens])).last_hidden_state[0]
            for decision in positions:
                ours = (hidden[decision.position - 1] @ model.lm_head.weight.t()).numpy()
                theirs = controller.logits_for(sequence.tokens[:decision.position])
                correlations.append(float(np.corrcoef(ours, theirs)[0, 1]))
                candidates = [t for t in (decision.candidates or range(len(ours))) if t != END]
                agree += int(candidates[int(np.argmax(ours[candidates]))] ==
                             candidates[int(np.argmax(theirs[candidates]))])
                total += 1
    model.to(torch.bfloat16)
    return {"min_correlation": min(correlations), "mean_correlation": float(np.mean(correlations)),
            "decision_agreement": agree / max(1, total)}


# ---------------------------------------------------------------- main


def build_sequences(planner: Planner, samples: list[Sample]) -> tuple[list[Replayed], int]:
    sequences, dropped = [], 0
    for sample in samples:
        sequence = replay(planner, sample)
        if sequence is None:
            dropped += 1
        else:
            sequences.append(sequence)
    return sequences, dropped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gguf", type=Path, default=DEFAULT_GGUF)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--samples", type=int, default=2600, help="template samples")
    parser.add_argument("--back-instruct", type=Path, nargs="?", const=BACK_INSTRUCT,
                        default=None, help="mix in back-instructed samples (default file: "
                        "scripts/data/back_instruct.jsonl). Off by default: the shipped adapter "
                        "is templates only, as the mix measured worse (README)")
    parser.add_argument("--back-instruct-variants", type=int, default=2,
                        help="copies of each back-instructed request with other files, texts "
                        "and languages")
    parser.add_argument("--held-out", type=int, default=100)
    parser.add_argument("--k-demos", type=int, default=0)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--alpha", type=float, default=16.0)
    parser.add_argument("--lr", type=float, default=4e-4)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--max-minutes", type=float, default=40.0)
    parser.add_argument("--refresh", type=int, default=8,
                        help="recompute the shared prefix cache every N steps")
    parser.add_argument("--eval-before", action="store_true",
                        help="score the held-out decisions before training too")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dump", type=Path, help="write the synthetic samples here (JSONL)")
    parser.add_argument("--verify-only", action="store_true",
                        help="check the adapter at --out against llama.cpp, without training")
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    from core.demos import DemoBank
    from core.llm import Controller

    started = time.perf_counter()
    samples = generate(args.samples + args.held_out, seed=args.seed)
    extra, extra_held_out = [], []
    if args.back_instruct is not None:
        from scripts.make_plan_data import accepted_samples

        extra = accepted_samples(args.back_instruct, held_out=False,
                                 variants=args.back_instruct_variants, seed=args.seed)
        extra_held_out = accepted_samples(args.back_instruct, held_out=True)
        print(f"{len(extra)} back-instructed samples (with variants), "
              f"{len(extra_held_out)} held out", flush=True)
    if args.dump:
        args.dump.write_text("".join(json.dumps(s.to_json()) + "\n" for s in samples))
    controller = Controller(args.gguf, threads=args.threads)
    planner = Planner(controller, DemoBank.load(), k_demos=args.k_demos)
    # Live planning with the adapter passes earlier turns as files, not as prompt text; train on
    # the very prompts it will see.
    planner.history_in_prompt = False
    sequences, dropped = build_sequences(planner, samples)
    held_out, train_set = sequences[:args.held_out], sequences[args.held_out:]
    if extra:
        extra_sequences, extra_dropped = build_sequences(planner, extra)
        extra_held, more_dropped = build_sequences(planner, extra_held_out)
        dropped += extra_dropped + more_dropped
        train_set += extra_sequences
        held_out += extra_held
        sequences = [*held_out, *train_set]
    end_tokens = torch.tensor(controller.tokens_starting_with('"'))
    prefix_len = common_prefix(sequences)
    decisions = sum(len(s.decisions) for s in train_set)
    mean_len = np.mean([len(s.tokens) - prefix_len for s in train_set])
    print(f"{len(train_set)} training and {len(held_out)} held-out sequences ({dropped} samples "
          f"dropped: live decoding could not reproduce them), {decisions} decisions, shared "
          f"prefix {prefix_len} tokens, mean suffix {mean_len:.0f} tokens", flush=True)

    model = load_base(args.gguf)
    params = add_lora(model, args.rank, args.alpha)
    if args.verify_only:
        load_adapter(model, args.out)
        check = compare_with_llama(model, args.gguf, args.out, held_out[:4])
        print(f"llama.cpp + adapter vs PyTorch: {check}", flush=True)
        return 0
    print(f"LoRA rank {args.rank}: {sum(p.numel() for p in params)} parameters", flush=True)
    if args.eval_before:
        base_scores = evaluate_decisions(model, held_out, prefix_len, end_tokens)
        print(f"held-out before training: {base_scores}", flush=True)
    config = TrainConfig(rank=args.rank, alpha=args.alpha, lr=args.lr, batch=args.batch,
                         epochs=args.epochs, max_minutes=args.max_minutes, seed=args.seed,
                         refresh=args.refresh)
    result = train(model, params, train_set, prefix_len, end_tokens, config, held_out)
    print(f"trained {result['steps']} steps in {result['seconds'] / 60:.1f} min; held-out: "
          f"{result['held_out']}", flush=True)
    size = export_gguf(model, args.out, args.alpha)
    print(f"wrote {args.out} ({size / 1e6:.1f} MB)", flush=True)
    check = compare_with_llama(model, args.gguf, args.out, held_out[:4])
    print(f"llama.cpp + adapter vs PyTorch: {check}", flush=True)
    print(f"total {(time.perf_counter() - started) / 60:.1f} min", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
