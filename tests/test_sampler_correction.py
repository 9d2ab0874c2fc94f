"""The sampler's own log-probs, the sampler/learner mismatch and the truncated importance
weights that correct for it (ppo.sampler_is_cap)."""

from __future__ import annotations

import math

import torch
from accelerate import Accelerator

from autojudge.config import GenerationConfig
from autojudge.policy import prompt_ids
from autojudge.trainers import ppo_math as pm
from autojudge.trainers.ppo_rollout import eos_ids
from autojudge.trainers.ppo_sampler import Sampler, sample_tokens
from autojudge.trainers.shared_prompt import response_pass
from tests.ppo_smoke import QUESTIONS
from tests.test_ppo import rows, run


def test_the_chosen_tokens_probability_is_the_one_it_was_drawn_with():
    logits = torch.tensor([[0.15, 0.5, 0.05, 0.3]]).log().expand(6, -1)
    tokens, prob = sample_tokens(logits, with_prob=True)
    torch.testing.assert_close(prob, torch.tensor([0.15, 0.5, 0.05, 0.3])[tokens])
    tokens, prob = sample_tokens(logits, top_p=0.8, with_prob=True)  # 0.5 and 0.3 kept
    assert set(tokens.tolist()) <= {1, 3}
    torch.testing.assert_close(prob, torch.tensor([0.0, 0.625, 0.0, 0.375])[tokens])


def test_the_samplers_log_probs_are_the_learners_when_it_samples_from_the_learner(
        tiny_causal_lm):
    policy = tiny_causal_lm
    with torch.no_grad():  # larger weights than the fixture's: peaked, varied distributions
        for p in policy.model.parameters():
            if p.dim() == 2:
                p.normal_(0.0, 0.5, generator=torch.Generator().manual_seed(0))
    gen = GenerationConfig(max_new_tokens=6, min_new_tokens=0, temperature=0.7)
    enc = dict(prompt_ids(policy, [q.question for q in QUESTIONS], gen))
    eos = eos_ids(policy.model, policy.tokenizer)
    torch.manual_seed(0)
    sequences, sampled = Sampler(Accelerator(cpu=True), policy.model, copy_bf16=False) \
        .sample_with_logprobs(enc, gen, eos, policy.tokenizer.pad_token_id)
    n = sequences.shape[1] - enc["input_ids"].shape[1]
    mask = pm.response_mask(sequences[:, -n:], eos)
    attention = torch.cat([enc["attention_mask"], mask.long()], dim=1)
    with torch.no_grad():
        logits, _ = response_pass(policy.model, sequences, attention, n)
    learner = pm.logprobs_from_logits(logits / gen.temperature, sequences[:, -n:])
    torch.testing.assert_close(sampled * mask, learner * mask, atol=1e-4, rtol=1e-4)
    assert pm.sampler_kl(learner, sampled, mask).abs() < 1e-5
    assert (sampled[mask.bool()] < -0.01).any()  # not all certain: the test can tell


def test_importance_weights_are_capped_ratios_that_scale_each_tokens_loss():
    learner = torch.tensor([[math.log(0.5), math.log(0.9)]])
    sampler = torch.tensor([[math.log(0.25), math.log(0.3)]])
    weights = pm.sampler_weights(learner, sampler, cap=2.5)
    torch.testing.assert_close(weights, torch.tensor([[2.0, 2.5]]))
    logp = torch.zeros(1, 2, requires_grad=True)
    adv, mask = torch.tensor([[1.0, -1.0]]), torch.ones(1, 2)
    plain = pm.policy_loss(logp, torch.zeros(1, 2), adv, mask, 0.2)
    weighted = pm.policy_loss(logp, torch.zeros(1, 2), adv, mask, 0.2, weights)
    torch.testing.assert_close(weighted.loss, torch.tensor((-1.0 * 2.0 + 1.0 * 2.5) / 2))
    torch.testing.assert_close(plain.loss, torch.tensor(0.0))
    kl = pm.sampler_kl(learner, sampler, mask)
    assert kl > 0


def test_a_run_logs_the_mismatch_and_the_cap_corrects_the_update(tiny_causal_lm_dir, tmp_path):
    """fp32 samples from the learner itself: no mismatch. bf16 samples from a bf16 copy: a
    mismatch, and the capped weights change the policy loss (same seed, same samples)."""
    logs = {}
    for precision, cap in (("fp32", 0.0), ("bf16", 0.0), ("bf16", 2.0)):
        out = tmp_path / f"{precision}-{cap}"
        run(tiny_causal_lm_dir, out, f"ppo.mixed_precision={precision}",
            f"ppo.sampler_is_cap={cap}")
        logs[precision, cap] = rows(out / "log.jsonl")
    assert all(0.0 <= r["rollout/sampler_kl"] < 1e-9 for r in logs["fp32", 0.0])
    assert all(r["rollout/sampler_kl"] > 1e-9 for r in logs["bf16", 0.0])  # ~1e-7 here
    first = [logs["bf16", cap][0] for cap in (0.0, 2.0)]
    assert first[0]["rollout/sampler_kl"] == first[1]["rollout/sampler_kl"]  # same samples
    assert first[0]["loss/policy"] != first[1]["loss/policy"]
    assert all(math.isfinite(r["loss/policy"]) for r in logs["bf16", 2.0])
