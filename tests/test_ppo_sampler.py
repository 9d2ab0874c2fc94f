"""PPO's sampler: the token draw's distribution, top-p, the decode loop against `generate`, and
the bf16 copy."""

from __future__ import annotations

import torch
from accelerate import Accelerator

from autojudge.config import GenerationConfig
from autojudge.policy import prompt_ids
from autojudge.trainers.ppo_rollout import eos_ids
from autojudge.trainers.ppo_sampler import Sampler, resolve_mixed_precision, sample_tokens

QUESTIONS = ["what is the capital of france ?", "who wrote the book ?",
             "which river is in germany and where does it flow ?"]


def frequencies(logits: torch.Tensor, top_p: float, n: int = 40_000) -> torch.Tensor:
    torch.manual_seed(0)
    draws = sample_tokens(logits.expand(n, -1), top_p)  # (n,)
    return torch.bincount(draws, minlength=logits.shape[-1]).float() / n


def test_draws_follow_the_softmax():
    probs = torch.tensor([0.1, 0.2, 0.3, 0.4])
    freq = frequencies(probs.log()[None], 1.0)
    torch.testing.assert_close(freq, probs, atol=0.01, rtol=0)


def test_tokens_of_zero_probability_are_never_drawn():
    logits = torch.tensor([[float("-inf"), 0.0, float("-inf"), 0.0, float("-inf")]])
    freq = frequencies(logits, 1.0)
    assert freq[0] == freq[2] == freq[4] == 0
    assert abs(freq[1] - 0.5) < 0.01


def test_top_p_keeps_the_smallest_set_reaching_the_mass():
    # sorted: 0.5, 0.3 reach 0.8; 0.15 and 0.05 are dropped, the rest renormalised
    probs = torch.tensor([0.15, 0.5, 0.05, 0.3])
    freq = frequencies(probs.log()[None], 0.8)
    torch.testing.assert_close(freq, torch.tensor([0.0, 0.625, 0.0, 0.375]), atol=0.01, rtol=0)
    assert freq[0] == freq[2] == 0
    # a top token above top_p on its own is always kept
    assert frequencies(probs.log()[None], 0.1)[1] == 1.0


def test_decode_loop_matches_greedy_generate_on_a_left_padded_batch(tiny_causal_lm):
    """A temperature near zero makes sampling greedy: the cache, positions and left padding
    must then give exactly what `generate(do_sample=False)` gives."""
    policy = tiny_causal_lm
    torch.manual_seed(0)
    with torch.no_grad():  # larger weights than the fixture's: outputs that depend on the prompt
        for p in policy.model.parameters():
            if p.dim() == 2:
                p.normal_(0.0, 0.5)
    gen = GenerationConfig(max_new_tokens=8, min_new_tokens=8, temperature=1e-6)
    enc = dict(prompt_ids(policy, QUESTIONS, gen))
    assert (enc["attention_mask"] == 0).any()  # the prompts really are padded
    eos = eos_ids(policy.model, policy.tokenizer)
    ours = Sampler(Accelerator(cpu=True), policy.model, copy_bf16=False).sample(
        enc, gen, eos, policy.tokenizer.pad_token_id)
    theirs = policy.model.generate(**enc, do_sample=False, max_new_tokens=8, min_new_tokens=8,
                                   pad_token_id=policy.tokenizer.pad_token_id)
    assert ours.shape[1] == enc["input_ids"].shape[1] + 8
    assert len(set(ours[:, -8:].flatten().tolist())) > 6  # varied answers, not one token
    assert torch.equal(ours, theirs)


def test_answers_respect_the_length_floor_and_are_padded_after_the_end(tiny_causal_lm):
    policy = tiny_causal_lm
    eos, pad = eos_ids(policy.model, policy.tokenizer), policy.tokenizer.pad_token_id
    # make the end of turn by far the likeliest token: answers end at once unless floored
    def favour_end(module, args, logits):
        logits = logits.clone()
        logits[..., eos[0]] += 30.0
        return logits

    policy.model.lm_head.register_forward_hook(favour_end)
    sampler = Sampler(Accelerator(cpu=True), policy.model, copy_bf16=False)
    for floor in (0, 3):
        gen = GenerationConfig(max_new_tokens=6, min_new_tokens=floor)
        enc = dict(prompt_ids(policy, QUESTIONS * 4, gen))
        torch.manual_seed(1)
        response = sampler.sample(enc, gen, eos, pad)[:, enc["input_ids"].shape[1]:]
        first_end = [row.tolist().index(eos[0]) if eos[0] in row.tolist() else None
                     for row in response]
        assert all(e == floor for e in first_end), first_end
        for row, e in zip(response, first_end):
            if e is not None:
                assert (row[e + 1:] == pad).all()


def test_the_bf16_copy_samples_and_follows_the_weights(tiny_causal_lm):
    policy = tiny_causal_lm
    accelerator = Accelerator(cpu=True, mixed_precision="bf16")
    sampler = Sampler(accelerator, policy.model, copy_bf16=True)
    assert sampler.copy is not None
    assert all(p.dtype == torch.bfloat16 for p in sampler.copy.parameters())
    frozen = policy.model.lm_head.weight.requires_grad_(False)  # as a LoRA run's base weights
    frozen_copy = sampler.copy.lm_head.weight.clone()
    with torch.no_grad():
        for p in policy.model.parameters():
            p.add_(0.5)
    first = next(sampler.copy.parameters()).clone()
    sampler.refresh()
    for mine, copied in zip(policy.model.parameters(), sampler.copy.parameters()):
        if mine is not frozen:
            assert torch.equal(mine.detach().to(torch.bfloat16), copied)
    assert not torch.equal(first, next(sampler.copy.parameters()))
    assert torch.equal(sampler.copy.lm_head.weight, frozen_copy)  # frozen: not copied again
    gen = GenerationConfig(max_new_tokens=4)
    enc = dict(prompt_ids(policy, QUESTIONS, gen))
    out = sampler.sample(enc, gen, eos_ids(policy.model, policy.tokenizer),
                         policy.tokenizer.pad_token_id)
    assert out.shape[0] == len(QUESTIONS) and out.dtype == torch.long


def test_no_copy_without_bf16_mixed_precision(tiny_causal_lm):
    assert Sampler(Accelerator(cpu=True, mixed_precision="no"), tiny_causal_lm.model,
                   copy_bf16=True).copy is None


def test_auto_precision_is_a_choice_between_bf16_and_none():
    assert resolve_mixed_precision("fp32", use_cuda=False) == "no"
    assert resolve_mixed_precision("bf16", use_cuda=False) == "bf16"
    assert resolve_mixed_precision("auto", use_cuda=False) in ("bf16", "no")


def test_a_groups_prompt_runs_once_and_the_samples_stay_the_same(tiny_causal_lm):
    """Rows in runs of 2 with one prompt (a PPO group): the prompt's cache is computed once and
    repeated, and the same seed draws the same answers as the loop over every row."""
    policy = tiny_causal_lm
    with torch.no_grad():  # larger weights than the fixture's: outputs that depend on the prompt
        for p in policy.model.parameters():
            if p.dim() == 2:
                p.normal_(0.0, 0.5, generator=torch.Generator().manual_seed(0))
    gen = GenerationConfig(max_new_tokens=6, min_new_tokens=6)
    enc = dict(prompt_ids(policy, [q for q in QUESTIONS for _ in range(2)], gen))
    eos, pad = eos_ids(policy.model, policy.tokenizer), policy.tokenizer.pad_token_id
    sampler = Sampler(Accelerator(cpu=True), policy.model, copy_bf16=False)
    calls = []
    hook = policy.model.register_forward_pre_hook(
        lambda module, args, kwargs: calls.append(kwargs["input_ids"].shape), with_kwargs=True)
    drawn = []
    for group in (1, 2):
        calls.clear()
        torch.manual_seed(3)
        drawn.append(sampler.sample(enc, gen, eos, pad, group))
        assert calls[0] == (6 // group, enc["input_ids"].shape[1])  # the prompts' pass
    hook.remove()
    assert torch.equal(drawn[0], drawn[1])
    assert not torch.equal(drawn[1][0, -6:], drawn[1][1, -6:])  # the group's answers differ
