"""PPO's update: epochs of shuffled minibatches of clipped policy and value losses, each step
agreed across processes (a non-finite loss or gradient skips the minibatch everywhere; the
epochs stop early once approximate KL passes `ppo.early_stop_kl`), and what the update did."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import torch
from torch import nn

from autojudge.config import PPOConfig
from autojudge.trainers import ppo_math as pm
from autojudge.trainers.ppo_rollout import PolicyPass, Rollout


def ppo_update(accelerator: Any, model: nn.Module, optimizer: Any, rollout: Rollout,
               adv: pm.Advantages, cfg: PPOConfig, temperature: float,
               shuffle: torch.Generator, first: PolicyPass | None = None) -> dict[str, float]:
    """Several epochs of shuffled minibatches; a minibatch whose loss or gradient is not finite
    is skipped, and the epochs stop early once approximate KL(old ‖ new) passes the limit.

    `first`: the update is one minibatch of one epoch, so the policy has not moved since
    sampling and the forward pass that computes the loss also supplied the rollout's log-probs
    and values (`first_policy_pass`) — one forward pass fewer per step, as TRL's GRPO does with
    one iteration."""
    mb, n = cfg.minibatch_size // accelerator.num_processes, rollout.mask.shape[0]
    stats = UpdateStats()
    for _ in range(cfg.epochs):
        order = torch.randperm(n, generator=shuffle)  # checkpointed: resume replays it
        for s in range(0, n, mb):
            idx = torch.arange(n) if first is not None else order[s:s + mb]
            losses = minibatch_losses(model, rollout, adv, idx, cfg, temperature, first)
            approx_kl, bad = agreed(accelerator, losses)
            if cfg.early_stop_kl and approx_kl > cfg.early_stop_kl:
                stats.early_stopped = True
                break
            if bad:
                stats.skip("non-finite PPO loss: minibatch skipped")
                continue
            grad_norm = gradient_step(accelerator, model, optimizer, losses.total,
                                      cfg.max_grad_norm)
            if grad_norm is None:
                stats.skip("non-finite PPO gradient: minibatch skipped")
                continue
            stats.record(losses, approx_kl, grad_norm)
        if stats.early_stopped:
            break
    return stats.metrics(accelerator, rollout.mask.device)


class Losses(NamedTuple):
    """A minibatch's losses, with their graph."""

    policy: pm.PolicyLoss
    value: pm.ValueLoss
    total: torch.Tensor
    """() policy loss + ppo.vf_coef · value loss."""


def minibatch_losses(model: nn.Module, rollout: Rollout, adv: pm.Advantages, idx: torch.Tensor,
                     cfg: PPOConfig, temperature: float, first: PolicyPass | None) -> Losses:
    """The clipped policy and value losses of the rollout's rows `idx` (b,), from a fresh
    forward pass (or from `first`, which covers the whole rollout)."""
    if first is not None:
        logp, values = first
    else:
        logits, values = model(rollout.input_ids[idx], rollout.attention_mask[idx],
                               rollout.mask.shape[1])  # (b, R, V), (b, R)
        logp = pm.logprobs_from_logits(logits / temperature, rollout.response_ids[idx])  # (b, R)
    mask = rollout.mask[idx]  # (b, R)
    weights = None
    if cfg.sampler_is_cap and rollout.sampler_logprobs is not None:
        weights = pm.sampler_weights(rollout.logprobs[idx], rollout.sampler_logprobs[idx],
                                     cfg.sampler_is_cap)  # (b, R)
    pl = pm.policy_loss(logp, rollout.logprobs[idx], adv.advantages[idx], mask, cfg.clip_range,
                        weights)
    vl = pm.value_loss(values.float(), rollout.values[idx], adv.returns[idx], mask,
                       cfg.value_clip)
    return Losses(pl, vl, pl.loss + cfg.vf_coef * vl.loss)


def agreed(accelerator: Any, losses: Losses) -> tuple[float, float]:
    """Approximate KL(old ‖ new) averaged over the processes, and whether any process's loss
    is not finite: every process must take the same branch, or the collectives would hang."""
    check = torch.stack([losses.policy.approx_kl, (~torch.isfinite(losses.total)).float()])
    approx_kl, bad = (accelerator.reduce(check, "sum") / torch.tensor(
        [accelerator.num_processes, 1.0], device=check.device)).tolist()
    return approx_kl, bad


def gradient_step(accelerator: Any, model: nn.Module, optimizer: Any, loss: torch.Tensor,
                  max_grad_norm: float) -> float | None:
    """Backward, clip and step; the gradient norm before clipping, or None (and no step) when
    it is not finite."""
    accelerator.backward(loss)
    grad_norm = accelerator.clip_grad_norm_(model.parameters(), max_grad_norm)
    if not torch.isfinite(grad_norm):
        optimizer.zero_grad()
        return None
    optimizer.step()
    optimizer.zero_grad()
    return grad_norm.item()


@dataclass
class UpdateStats:
    """What one update did: per applied minibatch, its losses and diagnostics."""

    values: dict[str, list[float]] = field(default_factory=lambda: {
        k: [] for k in ("policy", "value", "clip_frac", "value_clip_frac", "approx_kl",
                        "grad_norm")})
    skipped: int = 0
    early_stopped: bool = False

    def record(self, losses: Losses, approx_kl: float, grad_norm: float) -> None:
        for key, value in (("policy", losses.policy.loss.item()),
                           ("value", losses.value.loss.item()),
                           ("clip_frac", losses.policy.clip_frac.item()),
                           ("value_clip_frac", losses.value.clip_frac.item()),
                           ("approx_kl", approx_kl), ("grad_norm", grad_norm)):
            self.values[key].append(value)

    def skip(self, why: str) -> None:
        self.skipped += 1
        warnings.warn(why, RuntimeWarning, stacklevel=3)

    def metrics(self, accelerator: Any, device: torch.device) -> dict[str, float]:
        """Means over the applied minibatches, averaged over the processes (NaN if none)."""
        means = torch.tensor([sum(v) / len(v) if v else float("nan")
                              for v in self.values.values()], device=device)
        means = accelerator.reduce(means, "mean").tolist()
        return {**{f"loss/{k}": v for k, v in zip(self.values, means)},
                "update/applied": len(self.values["policy"]), "update/skipped": self.skipped,
                "update/early_stopped": float(self.early_stopped)}
