"""The planner's fine-tuning pipeline: synthetic data, replay, the training step, the adapter."""

from __future__ import annotations

import collections
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from core.plan import parse, validate
from core.tasks import TASK_NAMES
from scripts import train_planner as tp
from scripts.train_templates import (
    PREVIOUS,
    Sample,
    check,
    chit_chat,
    follow_up,
    generate,
    span_is_reachable,
)

ADAPTER = Path(tp.__file__).resolve().parent.parent / "core" / "data" / "planner-lora.gguf"


@pytest.fixture(scope="module")
def samples() -> list[Sample]:
    return generate(1500, seed=11)


def test_generator_plans_are_valid_and_cover_every_task(samples):
    tasks = collections.Counter(n["task"] for s in samples for n in s.plan)
    assert set(tasks) == set(TASK_NAMES)
    for sample in samples:
        nodes = validate(parse(sample.plan), sample.files)
        assert [n.to_json() for n in nodes] == sample.plan, sample.request
        assert check(sample), sample.request


def test_generator_covers_the_plan_shapes(samples):
    shapes = collections.Counter(s.shape for s in samples)
    assert {"single", "chain", "parallel", "dag", "followup", "chat"} <= set(shapes)
    sizes = collections.Counter(len(s.plan) for s in samples)
    assert sizes[0] and sizes[1] and sizes[2] and sizes[3] and sizes[4]
    assert any(len(n["dep"]) == 2 for s in samples for n in s.plan)  # fan-in
    # every later turn of a conversation carries the previous result; often it is not used
    unused = [s for s in samples if PREVIOUS in s.files
              and not any(PREVIOUS in n["args"].values() for n in s.plan)]
    assert len(unused) > 50


def test_generator_is_deterministic():
    assert [s.to_json() for s in generate(50, seed=3)] == [s.to_json() for s in
                                                           generate(50, seed=3)]


def test_follow_ups_use_the_previous_result_and_chit_chat_plans_nothing():
    rng = random.Random(0)
    for _ in range(50):
        sample = follow_up(rng)
        assert check(sample)
        assert sample.plan
        assert chit_chat(rng).plan == []


def test_text_arguments_are_spans_the_decoder_can_copy():
    assert span_is_reachable("Read this aloud: good morning", "good morning")
    assert span_is_reachable("Translate 'hello there' into French", "hello there")
    assert span_is_reachable("Draw a red fox in the snow", "a red fox in the snow")
    assert not span_is_reachable("Translate 'hi' and draw a red fox", "a red fox")
    assert not span_is_reachable("Read this aloud: good morning", "morning")


def test_replay_reproduces_the_gold_plans_and_records_decisions(controller, samples):
    from core.demos import DemoBank
    from core.planner import Planner

    planner = Planner(controller, DemoBank.load(), k_demos=0)
    replayed = [tp.replay(planner, s) for s in samples[:120]]
    kept = [r for r in replayed if r is not None]
    assert len(kept) >= 0.9 * len(replayed)
    for sequence in kept:
        assert sequence.decisions
        for decision in sequence.decisions:
            if decision.candidates is not None:
                assert decision.gold in decision.candidates
            if decision.gold != tp.END:
                assert sequence.tokens[decision.position] == decision.gold
    # the prompts share the instructions and catalogue, the prefix training computes once
    assert tp.common_prefix(kept) > 400


def _tiny_model() -> torch.nn.Module:
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    torch.manual_seed(0)
    config = Gemma3TextConfig(vocab_size=64, hidden_size=32, intermediate_size=64,
                              num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1,
                              head_dim=16, sliding_window=8, max_position_embeddings=128,
                              layer_types=["sliding_attention", "full_attention"])
    model = Gemma3ForCausalLM(config)
    with torch.no_grad():  # logits big enough to be learnt (the default init keeps them near 0)
        model.model.embed_tokens.weight.normal_(0, 0.5)
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model


def _tiny_sequences(count: int = 8) -> list[tp.Replayed]:
    rng = random.Random(0)
    prefix = [rng.randrange(2, 64) for _ in range(12)]
    out = []
    for _ in range(count):
        tokens = prefix + [rng.randrange(2, 64) for _ in range(rng.randrange(4, 10))]
        decisions = [tp.Decision(len(tokens) - 2, [5, 6, 7], 6),
                     tp.Decision(len(tokens) - 1, None, 9),
                     tp.Decision(len(tokens) - 1, [11, tp.END], tp.END)]
        out.append(tp.Replayed(tokens, decisions))
    return out


def test_training_step_lowers_the_decision_loss():
    model = _tiny_model()
    params = tp.add_lora(model, rank=4, alpha=8)
    sequences = _tiny_sequences()
    prefix_len = tp.common_prefix(sequences)
    end = torch.tensor([1, 2, 3])
    cache = tp.prefix_cache(model, sequences[0].tokens[:prefix_len])
    before, _, _ = tp.batch_loss(model, cache, prefix_len, sequences, end)
    config = tp.TrainConfig(lr=1e-2, batch=4, epochs=10, warmup=1, refresh=1)
    tp.train(model, params, sequences, prefix_len, end, config)
    cache = tp.prefix_cache(model, sequences[0].tokens[:prefix_len])
    after, right, total = tp.batch_loss(model, cache, prefix_len, sequences, end)
    assert after.item() < 0.5 * before.item()
    assert right == total


def test_shared_prefix_forward_equals_the_full_forward():
    model = _tiny_model()
    params = tp.add_lora(model, rank=4, alpha=8)
    with torch.no_grad():
        for parameter in params:
            parameter.normal_(0, 0.1)
    sequences = _tiny_sequences(3)
    prefix_len = tp.common_prefix(sequences)
    cache = tp.prefix_cache(model, sequences[0].tokens[:prefix_len])
    shared, _, _ = tp.batch_loss(model, cache, prefix_len, sequences, torch.tensor([1, 2]))
    separate = [tp.batch_loss(model, tp.prefix_cache(model, s.tokens[:2]), 2, [s],
                              torch.tensor([1, 2]))[0] for s in sequences]
    assert shared.item() == pytest.approx(torch.stack(separate).mean().item(), rel=1e-4)


def test_export_writes_a_llama_cpp_lora_adapter(tmp_path):
    import gguf

    model = _tiny_model()
    tp.add_lora(model, rank=4, alpha=8)
    path = tmp_path / "adapter.gguf"
    tp.export_gguf(model, path, alpha=8)
    reader = gguf.GGUFReader(str(path))
    fields = {name: field for name, field in reader.fields.items()}
    assert bytes(fields["general.type"].parts[-1]).decode() == "adapter"
    assert bytes(fields["adapter.type"].parts[-1]).decode() == "lora"
    assert bytes(fields["general.architecture"].parts[-1]).decode() == "gemma3"
    shapes = {t.name: list(t.shape) for t in reader.tensors}
    # ggml order (inner dimension first): lora_a is (in, rank), lora_b is (rank, out)
    assert shapes["blk.0.attn_q.weight.lora_a"] == [32, 4]
    assert shapes["blk.0.attn_q.weight.lora_b"] == [4, 32]
    assert shapes["blk.1.ffn_down.weight.lora_a"] == [64, 4]
    assert len(shapes) == 2 * 2 * len(tp.TARGETS)


def test_committed_adapter_loads_beside_the_base_and_changes_logits(controller):
    from core.llm import Controller

    assert ADAPTER.is_file() and ADAPTER.stat().st_size < 16_000_000
    adapted = Controller(controller.path, lora_path=ADAPTER, threads=controller.threads)
    tokens = controller.prompt_tokens([{"role": "user", "content": "Describe beach.png"}])
    # Each logit vector from a fresh context (switching the adapter drops the KV cache): after
    # a rewound cache llama.cpp's logits differ from a fresh evaluation by up to 0.5 with Gemma 3.
    base = adapted.logits_for(tokens)  # off at load: the base model
    with adapted.planning_mode():  # the adapter is on while planning only
        tuned = adapted.logits_for(tokens)
    assert np.allclose(adapted.logits_for(tokens), base, atol=1e-2)  # off again afterwards
    assert np.isfinite(tuned).all()
    assert float(np.abs(base - tuned).max()) > 0.1
    assert float(np.corrcoef(base, tuned)[0, 1]) > 0.5  # adapted, not broken
