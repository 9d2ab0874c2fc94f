"""PPO math as pure tensor functions: masked statistics, log-probs, KL, GAE and the clipped losses.

Shapes: B sequences, T response tokens, V vocabulary. `mask` is 1.0 on real response tokens
(up to and including the first EOS) and 0.0 on padding after it.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import torch
import torch.nn.functional as F

KLEstimator = Literal["k1", "k3"]


def masked_mean(x: torch.Tensor, mask: torch.Tensor, dim: int | None = None) -> torch.Tensor:
    """Mean of x over the positions where mask is 1 (over `dim`, or over everything)."""
    if dim is None:
        return (x * mask).sum() / mask.sum().clamp(min=1.0)
    return (x * mask).sum(dim) / mask.sum(dim).clamp(min=1.0)


def masked_var(x: torch.Tensor, mask: torch.Tensor, unbiased: bool = True) -> torch.Tensor:
    """Variance of x over the masked positions; Bessel-corrected when `unbiased` (0 for n < 2)."""
    n = mask.sum()
    var = masked_mean((x - masked_mean(x, mask)) ** 2, mask)
    if unbiased:
        var = var * n / (n - 1) if n > 1 else torch.zeros_like(var)
    return var


def masked_whiten(x: torch.Tensor, mask: torch.Tensor, shift_mean: bool = True,
                  eps: float = 1e-8) -> torch.Tensor:
    """x scaled to unit variance over the masked positions (and centred if `shift_mean`);
    padding positions come back as 0."""
    mean, var = masked_mean(x, mask), masked_var(x, mask)
    whitened = (x - mean) * torch.rsqrt(var + eps)
    if not shift_mean:
        whitened = whitened + mean
    return whitened * mask


def response_mask(response_ids: torch.Tensor, eos_ids: list[int]) -> torch.Tensor:
    """1.0 for the tokens up to and including the first EOS of each row, 0.0 after it. (B, T)"""
    is_eos = torch.isin(response_ids, torch.tensor(eos_ids, device=response_ids.device))  # (B, T)
    # eos seen strictly before position t: cumulative count minus the token itself
    before = is_eos.long().cumsum(-1) - is_eos.long()  # (B, T)
    return (before == 0).float()


def logprobs_from_logits(logits: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """log p(ids[b, t]) under logits[b, t]: (B, T, V), (B, T) → (B, T)."""
    logp = F.log_softmax(logits.float(), dim=-1)  # (B, T, V)
    return logp.gather(-1, ids.unsqueeze(-1)).squeeze(-1)  # (B, T)


def entropy_from_logits(logits: torch.Tensor) -> torch.Tensor:
    """Entropy of the next-token distribution, H = logsumexp(z) − Σ softmax(z)·z: (B, T, V) → (B, T)."""
    logits = logits.float()
    return torch.logsumexp(logits, -1) - (F.softmax(logits, -1) * logits).sum(-1)


def kl_penalty(logp: torch.Tensor, ref_logp: torch.Tensor, estimator: KLEstimator) -> torch.Tensor:
    """Per-token estimate of KL(policy ‖ reference) from sampled tokens' log-probs. (B, T)

    k1 = log p − log q (unbiased, can be negative); k3 = (r − 1) − log r with r = q / p
    (unbiased, always ≥ 0, lower variance; Schulman's "Approximating KL divergence")."""
    log_ratio = logp - ref_logp  # (B, T)
    if estimator == "k1":
        return log_ratio
    if estimator == "k3":
        return torch.expm1(-log_ratio) + log_ratio
    raise ValueError(f"unknown KL estimator {estimator!r}; known: k1, k3")


def token_rewards(scores: torch.Tensor, kl: torch.Tensor, mask: torch.Tensor,
                  kl_coef: float) -> torch.Tensor:
    """Per-token rewards: −kl_coef · KL on every real token, plus the judge's score on the last
    real token of each row. (B,), (B, T), (B, T) → (B, T)"""
    rewards = -kl_coef * kl * mask  # (B, T)
    last = (mask.sum(-1).long() - 1).clamp(min=0)  # (B,) index of the last real token
    return rewards.scatter_add(-1, last.unsqueeze(-1), scores.unsqueeze(-1).to(rewards.dtype))


def leave_one_out(scores: torch.Tensor, group_size: int) -> torch.Tensor:
    """Each score minus the mean of the other scores of its group; groups are consecutive runs
    of `group_size` rows (RLOO's baseline). (B,) → (B,); group_size 1 returns the scores."""
    if group_size == 1:
        return scores
    groups = scores.reshape(-1, group_size)  # (G, k)
    others = (groups.sum(-1, keepdim=True) - groups) / (group_size - 1)  # (G, k)
    return (groups - others).reshape(-1)


class Advantages(NamedTuple):
    advantages: torch.Tensor
    """(B, T) GAE advantages, 0 on padding."""
    returns: torch.Tensor
    """(B, T) value targets: advantages + values, 0 on padding."""


def gae(rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, gamma: float,
        lam: float) -> Advantages:
    """Generalised advantage estimation over each row's response; the episode ends after the last
    real token (bootstrap value 0). (B, T) ×3 → Advantages"""
    rewards, values = rewards * mask, values * mask
    T = rewards.shape[-1]
    last_gae = torch.zeros_like(rewards[:, 0])  # (B,)
    advantages = torch.zeros_like(rewards)  # (B, T)
    for t in reversed(range(T)):
        next_value = values[:, t + 1] if t + 1 < T else torch.zeros_like(last_gae)
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        last_gae = delta + gamma * lam * last_gae
        advantages[:, t] = last_gae
    advantages = advantages * mask
    return Advantages(advantages, (advantages + values) * mask)


class PolicyLoss(NamedTuple):
    loss: torch.Tensor
    """() clipped surrogate loss, averaged over real tokens."""
    clip_frac: torch.Tensor
    """() share of real tokens where the clipped term was the active one."""
    approx_kl: torch.Tensor
    """() k3 estimate of KL(old ‖ new) over real tokens, for early stopping."""


def policy_loss(logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor,
                mask: torch.Tensor, clip_range: float,
                weights: torch.Tensor | None = None) -> PolicyLoss:
    """PPO's clipped surrogate: mean of max(−A·r, −A·clip(r, 1 ± ε)), r = p / p_old, each
    token's term times its `weights` (detached importance weights, see sampler_weights; None:
    1). (B, T) ×4 (+ weights)"""
    log_ratio = logp - old_logp  # (B, T)
    ratio = torch.exp(log_ratio)
    unclipped = -advantages * ratio
    clipped = -advantages * ratio.clamp(1.0 - clip_range, 1.0 + clip_range)
    terms = torch.maximum(unclipped, clipped)
    loss = masked_mean(terms if weights is None else weights * terms, mask)
    clip_frac = masked_mean((clipped > unclipped).float(), mask)
    approx_kl = masked_mean((ratio - 1.0) - log_ratio, mask)
    return PolicyLoss(loss, clip_frac.detach(), approx_kl.detach())


def sampler_weights(learner_logp: torch.Tensor, sampler_logp: torch.Tensor,
                    cap: float) -> torch.Tensor:
    """Truncated importance weights min(p_learner / p_sampler, cap) of the sampled tokens,
    for answers drawn from a sampler that is not the learner (a bf16 copy, another engine):
    the learner's old policy is what PPO's ratio is taken against, the sampler's is what the
    tokens came from. Detached. (B, T) ×2 → (B, T)"""
    return torch.exp(learner_logp - sampler_logp).clamp(max=cap).detach()


def sampler_kl(learner_logp: torch.Tensor, sampler_logp: torch.Tensor,
               mask: torch.Tensor) -> torch.Tensor:
    """KL(sampler ‖ learner) estimated on the sampled tokens (k3: r − 1 − log r, r = p_learner
    / p_sampler, averaged over real tokens): 0 when the sampler is the learner. () """
    log_r = learner_logp - sampler_logp
    return masked_mean(torch.exp(log_r) - 1.0 - log_r, mask)


class ValueLoss(NamedTuple):
    loss: torch.Tensor
    """() 0.5 · clipped squared error, averaged over real tokens."""
    clip_frac: torch.Tensor
    """() share of real tokens where the clipped error was the larger one."""


def value_loss(values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor,
               mask: torch.Tensor, clip_range: float) -> ValueLoss:
    """0.5 · max((v − R)², (v_clip − R)²), v_clip = v_old + clip(v − v_old, ±c). (B, T) ×4"""
    clipped = old_values + (values - old_values).clamp(-clip_range, clip_range)
    err, err_clipped = (values - returns) ** 2, (clipped - returns) ** 2
    loss = 0.5 * masked_mean(torch.maximum(err, err_clipped), mask)
    return ValueLoss(loss, masked_mean((err_clipped > err).float(), mask).detach())


def adaptive_kl_coef(coef: float, kl: float, target: float, horizon: int, n: int) -> float:
    """Ziegler et al.'s proportional controller: move the KL coefficient by
    clip(kl / target − 1, ±0.2) · n / horizon of itself, after n more samples at this `kl`."""
    error = max(-0.2, min(0.2, kl / target - 1.0))
    return coef * (1.0 + error * n / horizon)
