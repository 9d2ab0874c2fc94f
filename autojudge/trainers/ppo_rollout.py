"""Rollouts: the actor-critic model, sampling answers, judging them, and their statistics."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from autojudge.config import Config, PPOConfig
from autojudge.judges.base import Judge
from autojudge.policy import Policy, prompt_ids
from autojudge.rewards.schemes import Reward
from autojudge.trainers import ppo_math as pm
from autojudge.trainers.ppo_sampler import Sampler
from autojudge.types import Record, Verdict


class ActorCritic(nn.Module):
    """The policy LM with a scalar value head on its last hidden state (shared trunk) or on a
    separate, fully trained copy of its trunk (critic)."""

    def __init__(self, lm: nn.Module, critic: nn.Module | None) -> None:
        super().__init__()
        self.lm, self.critic = lm, critic
        self.value_head = nn.Linear(lm.config.get_text_config().hidden_size, 1)
        nn.init.zeros_(self.value_head.weight)  # values start at 0 instead of at noise
        nn.init.zeros_(self.value_head.bias)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                n_response: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits predicting the last n_response tokens (B, R, V) and the values of the states
        they are sampled in (B, R)."""
        position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)  # (B, L) left padding skipped
        out = self.lm(input_ids=input_ids, attention_mask=attention_mask,
                      position_ids=position_ids, logits_to_keep=n_response + 1,
                      output_hidden_states=self.critic is None)
        if self.critic is None:
            hidden = out.hidden_states[-1]  # (B, L, H)
        else:
            hidden = self.critic(input_ids=input_ids, attention_mask=attention_mask,
                                 position_ids=position_ids).last_hidden_state  # (B, L, H)
        state = hidden[:, -n_response - 1:-1]  # (B, R, H)
        values = self.value_head(state.to(self.value_head.weight.dtype)).squeeze(-1)  # (B, R)
        return out.logits[:, :-1], values


@dataclass
class Rollout:
    """One process's share of a step's samples; L = prompt + response length, R = response."""

    input_ids: torch.Tensor
    """(B, L) left-padded prompt followed by the sampled response."""
    attention_mask: torch.Tensor
    """(B, L) 1 on prompt and real response tokens."""
    mask: torch.Tensor
    """(B, R) 1.0 on response tokens up to and including the first EOS."""
    logprobs: torch.Tensor
    """(B, R) log-probs of the sampled tokens under the policy that sampled them."""
    ref_logprobs: torch.Tensor
    """(B, R) the same under the frozen reference policy."""
    values: torch.Tensor
    """(B, R) value estimates at sampling time."""
    entropy: torch.Tensor
    """(B, R) entropy of the policy at each sampled position."""
    scores: torch.Tensor
    """(B,) the reward of each answer."""
    verdicts: list[Verdict]
    answers: list[str]
    generate_s: float
    """Seconds spent sampling."""

    @property
    def response_ids(self) -> torch.Tensor:
        return self.input_ids[:, -self.mask.shape[1]:]  # (B, R)


def eos_ids(policy_lm: Any, tokenizer: Any) -> list[int]:
    ids = policy_lm.generation_config.eos_token_id
    ids = [ids] if isinstance(ids, int) else list(ids or [])
    return sorted(set(ids) | {tokenizer.eos_token_id} - {None})


@torch.no_grad()
def collect_rollout(accelerator: Any, model: nn.Module, ref_lm: nn.Module | None, policy: Policy,
                    config: Config, batch: Sequence[Record], judge: Judge,
                    reward: Reward, sampler: Sampler, policy_pass: bool = True) -> Rollout:
    """Sample an answer per question, judge and reward it, and record log-probs and values.
    With `policy_pass` False only the reference is run: the policy's log-probs, values and
    entropy are left at zero for the update's own forward pass to fill in (`fill_policy_pass`)."""
    gen, mb = config.generation, config.ppo.minibatch_size // accelerator.num_processes
    actor, tokenizer = accelerator.unwrap_model(model), policy.tokenizer
    enc = prompt_ids(policy, [r.question for r in batch], gen)
    enc = {k: v.to(accelerator.device) for k, v in enc.items()}
    started = time.perf_counter()
    sequences = sampler.sample(enc, gen, eos_ids(actor.lm, tokenizer),
                               tokenizer.pad_token_id)  # (B, L)
    generate_s = time.perf_counter() - started
    n_prompt = enc["input_ids"].shape[1]
    mask = pm.response_mask(sequences[:, n_prompt:], eos_ids(actor.lm, tokenizer))  # (B, R)
    attention_mask = torch.cat([enc["attention_mask"], mask.long()], dim=1)  # (B, L)

    answers = [t.strip() for t in tokenizer.batch_decode(
        sequences[:, n_prompt:] * mask.long() + tokenizer.pad_token_id * (1 - mask.long()),
        skip_special_tokens=True)]
    judgements = judge.judge([Record(r.question, r.reference, a) for r, a in zip(batch, answers)])
    scores = torch.tensor(reward(judgements, answers), dtype=torch.float32,
                          device=accelerator.device)  # (B,)

    parts: dict[str, list[torch.Tensor]] = {"logp": [], "ref": [], "values": [], "entropy": []}
    n_response = mask.shape[1]
    for s in range(0, len(batch), mb):
        ids, att = sequences[s:s + mb], attention_mask[s:s + mb]
        response = ids[:, n_prompt:]
        with accelerator.autocast():  # the same precision as the prepared model's update passes
            ref_logits = reference_logits(actor, ref_lm, ids, att, n_response)  # (b, R, V)
            if policy_pass:
                logits, values = actor(ids, att, n_response)  # (b, R, V), (b, R)
        parts["ref"].append(pm.logprobs_from_logits(ref_logits / gen.temperature, response))
        if policy_pass:
            logits = logits / gen.temperature
            parts["logp"].append(pm.logprobs_from_logits(logits, response))
            parts["entropy"].append(pm.entropy_from_logits(logits))
            parts["values"].append(values.float())
    if not policy_pass:
        parts["logp"] = parts["entropy"] = parts["values"] = [torch.zeros_like(mask)]
    cat = {k: torch.cat(v) * mask for k, v in parts.items()}
    return Rollout(sequences, attention_mask, mask, cat["logp"], cat["ref"], cat["values"],
                   cat["entropy"], scores, [j.verdict for j in judgements], answers, generate_s)


def fill_policy_pass(rollout: Rollout, logp: torch.Tensor, values: torch.Tensor,
                     logits: torch.Tensor) -> None:
    """Record the policy's side of a rollout from a forward pass made before any update: the
    log-probs of the sampled tokens (B, R), the values (B, R) and the tempered logits
    (B, R, V), all detached."""
    mask = rollout.mask
    rollout.logprobs = logp.detach() * mask
    rollout.values = values.detach().float() * mask
    rollout.entropy = pm.entropy_from_logits(logits.detach()) * mask


def reference_logits(actor: ActorCritic, ref_lm: nn.Module | None, ids: torch.Tensor,
                     attention_mask: torch.Tensor, n_response: int) -> torch.Tensor:
    """Logits of the frozen reference policy for the last n_response tokens. (b, R, V)"""
    position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
    kwargs = dict(input_ids=ids, attention_mask=attention_mask, position_ids=position_ids,
                  logits_to_keep=n_response + 1)
    if ref_lm is not None:
        return ref_lm(**kwargs).logits[:, :-1]
    with actor.lm.disable_adapter():
        return actor.lm(**kwargs).logits[:, :-1]


def rollout_metrics(accelerator: Any, rollout: Rollout, cfg: PPOConfig) -> dict[str, float]:
    """Verdict rates, truthfulness (correct − incorrect rate), reward, KL, entropy and length
    over the whole batch (all processes)."""
    kl = pm.kl_penalty(rollout.logprobs, rollout.ref_logprobs, cfg.kl_estimator)  # (B, R)
    rows = torch.stack([
        *(torch.tensor([float(v is verdict) for v in rollout.verdicts], device=kl.device)
          for verdict in (Verdict.CORRECT, Verdict.INCORRECT, Verdict.ABSTAIN)),
        rollout.scores, rollout.mask.sum(-1), (kl * rollout.mask).sum(-1),
        (rollout.entropy * rollout.mask).sum(-1)], dim=1)  # (B, 7)
    rows = accelerator.gather(rows)  # (N, 7)
    correct, incorrect, abstain, score, length, kl_sum, entropy_sum = rows.T
    return {
        "rollout/reward": score.mean().item(),
        "rollout/reward_std": score.std(unbiased=False).item(),
        "rollout/correct": correct.mean().item(),
        "rollout/incorrect": incorrect.mean().item(),
        "rollout/abstain": abstain.mean().item(),
        "rollout/truthfulness": (correct.mean() - incorrect.mean()).item(),
        "rollout/length": length.mean().item(),
        "policy/kl": kl_sum.mean().item(),
        "policy/entropy": (entropy_sum.sum() / length.sum().clamp(min=1)).item(),
    }
