"""The passes that run a group's prompt once give the plain passes' logits, values and
gradients (trainers/shared_prompt.py)."""

from __future__ import annotations

import torch

from autojudge.policy import load_policy
from autojudge.trainers.ppo_rollout import ActorCritic
from autojudge.trainers.shared_prompt import response_pass, shared_group

R = 4
"""Response length of the test rollouts."""


def rollout(vocab: int) -> tuple[torch.Tensor, torch.Tensor]:
    """3 prompts (left-padded to 5 tokens) × 2 answers each of R tokens; the second answer of
    the first prompt ends after 2 tokens (mask 0 after it), as after an EOS."""
    g = torch.Generator().manual_seed(0)
    prompts = torch.randint(3, vocab, (3, 5), generator=g)
    prompt_mask = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1], [0, 1, 1, 1, 1]])
    ids = torch.cat([prompts.repeat_interleave(2, 0),
                     torch.randint(3, vocab, (6, R), generator=g)], dim=1)  # (6, 5 + R)
    response_mask = torch.ones(6, R, dtype=torch.long)
    response_mask[1, 2:] = 0
    return ids, torch.cat([prompt_mask.repeat_interleave(2, 0), response_mask], dim=1)


def test_shared_prompts_give_the_plain_logits_values_and_gradients(tiny_causal_lm_dir):
    policy = load_policy(tiny_causal_lm_dir)
    actor = ActorCritic(policy.model, None)
    torch.nn.init.normal_(actor.value_head.weight)  # values that depend on the hidden state
    ids, mask = rollout(policy.model.config.vocab_size)
    results = []
    for group in (1, 2):
        actor.zero_grad()
        logits, values = actor(ids, mask, R, group)  # (6, R, V), (6, R)
        (logits.logsumexp(-1).mul(mask[:, -R:]).sum() + values.sum()).backward()
        grads = {k: p.grad.clone() for k, p in actor.named_parameters()}
        results.append((logits.detach(), values.detach(), grads))
    (plain_logits, plain_values, plain_grads), (logits, values, grads) = results
    assert logits.shape == plain_logits.shape == (6, R, policy.model.config.vocab_size)
    torch.testing.assert_close(logits, plain_logits, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(values, plain_values, atol=1e-5, rtol=1e-4)
    for name, grad in plain_grads.items():
        torch.testing.assert_close(grads[name], grad, atol=1e-5, rtol=1e-4, msg=name)


def test_rows_run_their_prompt_once_only_where_a_whole_group_shares_it(tiny_causal_lm_dir):
    ids, mask = rollout(load_policy(tiny_causal_lm_dir).model.config.vocab_size)
    assert shared_group(ids, mask, R, 2) == 2
    assert shared_group(ids, mask, R, 3) == 1  # 6 rows, but runs of 3 mix two prompts
    assert shared_group(ids[:5], mask[:5], R, 2) == 1  # a row without its group
    other = ids.clone()
    other[1, 3] = (other[1, 3] + 1) % 20 + 3  # one prompt token differs within a group
    assert shared_group(other, mask, R, 2) == 1
    padded = mask.clone()
    padded[1, 2] = 0  # the same tokens, another padding
    assert shared_group(ids, padded, R, 2) == 1


def test_a_pass_over_rows_without_shared_prompts_is_the_plain_pass(tiny_causal_lm_dir):
    policy = load_policy(tiny_causal_lm_dir)
    ids, mask = rollout(policy.model.config.vocab_size)
    ids[1, 4] = (ids[1, 4] + 1) % 20 + 3
    with torch.no_grad():
        asked, _ = response_pass(policy.model, ids, mask, R, group=2)
        plain, _ = response_pass(policy.model, ids, mask, R, group=1)
    torch.testing.assert_close(asked, plain, atol=0, rtol=0)


def test_the_rollout_passes_share_a_groups_prompt_unless_layers_are_sharded():
    from types import SimpleNamespace

    from accelerate.utils import DistributedType

    from autojudge.config import PPOConfig
    from autojudge.trainers.ppo_rollout import prompt_group

    cfg = PPOConfig(batch_size=8, group_size=4)
    for kind, expected in ((DistributedType.NO, 4), (DistributedType.MULTI_GPU, 4),
                           (DistributedType.FSDP, 1), (DistributedType.DEEPSPEED, 1)):
        assert prompt_group(SimpleNamespace(distributed_type=kind), cfg) == expected
