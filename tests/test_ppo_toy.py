"""PPO's update on a one-token bandit, where the right answer is known: the rewarded token must
gain probability, the KL penalty must pull the policy back to the reference, and one update's
losses are pinned to values worked out by hand. The advantages and the KL penalty go through
the trainer's own `compute_advantages` and `ppo_update`."""

from __future__ import annotations

import math

import pytest
import torch
from accelerate import Accelerator
from torch import nn

from autojudge.config import PPOConfig
from autojudge.trainers.ppo import compute_advantages, make_optimizer
from autojudge.trainers.ppo_update import ppo_update
from autojudge.trainers.ppo_rollout import Rollout, first_policy_pass


class Bandit(nn.Module):
    """A policy that answers one token whatever the prompt: softmax(logits) over V tokens, and
    a value that is one number. Called as the trainer calls its actor-critic."""

    def __init__(self, logits: list[float]) -> None:
        super().__init__()
        self.logits = nn.Parameter(torch.tensor(logits))  # (V,)
        self.value = nn.Parameter(torch.zeros(()))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                n_response: int, group: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        b = input_ids.shape[0]  # no prompt to share (ActorCritic's `group`)
        return (self.logits.expand(b, n_response, -1),  # (b, R, V)
                self.value.expand(b, n_response))  # (b, R)

    def probs(self) -> torch.Tensor:
        return self.logits.detach().softmax(-1)  # (V,)


def bandit_rollout(bandit: Bandit, ref_logits: torch.Tensor, tokens: torch.Tensor) -> Rollout:
    """Each row: prompt token 0 then the answer token; log-probs and values as sampled."""
    n = tokens.shape[0]
    logp = bandit.logits.detach().log_softmax(-1)  # (V,)
    return Rollout(input_ids=torch.stack([torch.zeros_like(tokens), tokens], dim=1),  # (B, 2)
                   attention_mask=torch.ones(n, 2, dtype=torch.long),
                   mask=torch.ones(n, 1),
                   logprobs=logp[tokens][:, None],  # (B, 1)
                   ref_logprobs=ref_logits.log_softmax(-1)[tokens][:, None],  # (B, 1)
                   values=bandit.value.detach().expand(n, 1).clone(),
                   entropy=torch.zeros(n, 1), answers=[""] * n, generate_s=1.0)


def train(bandit: Bandit, ref_logits: torch.Tensor, reward: torch.Tensor, cfg: PPOConfig,
          iterations: int, batch: int = 16) -> list[dict[str, float]]:
    """`iterations` rounds of: sample `batch` answers from the bandit, reward[token] each,
    advantages, update (the trainer's functions, fp32 on the CPU)."""
    accelerator = Accelerator(cpu=True)
    optimizer = make_optimizer(list(bandit.parameters()), cfg.lr, accelerator)
    model, optimizer = accelerator.prepare(bandit, optimizer)
    draws, shuffle = torch.Generator().manual_seed(0), torch.Generator().manual_seed(1)
    out = []
    for _ in range(iterations):
        tokens = torch.multinomial(bandit.probs(), batch, replacement=True, generator=draws)
        rollout = bandit_rollout(bandit, ref_logits, tokens)
        adv = compute_advantages(rollout, reward[tokens], cfg.kl_coef, cfg)
        out.append(ppo_update(accelerator, model, optimizer, rollout, adv, cfg, 1.0, shuffle))
    return out


def kl(p: torch.Tensor, q: torch.Tensor) -> float:
    return float((p * (p / q).log()).sum())


TOY = dict(lr=0.05, batch_size=16, minibatch_size=8, epochs=2, early_stop_kl=0.0)


def test_the_rewarded_token_gains_probability():
    """Token 3 of 6 earns 1, the rest 0, from a uniform start: PPO must make it the likeliest
    (with the advantages' sign flipped it falls instead)."""
    bandit = Bandit([0.0] * 6)
    reward = torch.tensor([0.0, 0.0, 0.0, 1.0, 0.0, 0.0])
    train(bandit, torch.zeros(6), reward, PPOConfig(**TOY, kl_coef=0.0), iterations=10)
    probs = bandit.probs()
    assert probs[3] > 0.6, probs  # from 1/6 to 0.84
    assert int(probs.argmax()) == 3


def test_the_kl_penalty_pulls_the_policy_back_to_the_reference():
    """No reward at all, a policy started away from a uniform reference: the KL penalty alone
    must bring KL(policy ‖ reference) down (with its sign flipped it pushes the policy away)."""
    reference = torch.zeros(5)
    bandit = Bandit([2.0, 1.0, 0.0, -1.0, -2.0])
    before = kl(bandit.probs(), reference.softmax(-1))
    train(bandit, reference, torch.zeros(5), PPOConfig(**TOY, kl_coef=1.0), iterations=20)
    after = kl(bandit.probs(), reference.softmax(-1))
    assert after < 0.1 * before, (before, after)  # 0.61 → 0.02


def test_the_kl_penalty_holds_back_a_rewarded_token():
    """The same reward with and without a KL penalty: the penalised policy moves less."""
    reward = torch.tensor([0.0, 0.0, 0.0, 1.0, 0.0, 0.0])
    free, held = Bandit([0.0] * 6), Bandit([0.0] * 6)
    no_whitening = dict(TOY, whiten_advantages=False)
    train(free, torch.zeros(6), reward, PPOConfig(**no_whitening, kl_coef=0.0), iterations=10)
    train(held, torch.zeros(6), reward, PPOConfig(**no_whitening, kl_coef=1.0), iterations=10)
    assert held.probs()[3] < free.probs()[3] - 0.2, (held.probs()[3], free.probs()[3])  # 0.31, 0.86


@pytest.mark.parametrize("one_pass", [False, True])
def test_one_update_by_hand(one_pass):
    """Two tokens, policy uniform (π = [½, ½]), reference q = [¾, ¼], value 0. The rollout
    answered token 0 (score 1) and token 1 (score 0); kl_coef ½, k1, no whitening, one
    minibatch of both rows.
      k1 = log π − log q:   ln(½ / ¾) = ln ⅔ on row 0,   ln(½ / ¼) = ln 2 on row 1
      reward = score − ½ k1 (one token, the last):  r0 = 1 − ½ ln ⅔,  r1 = −½ ln 2
      advantage = r − V = r (the episode ends: bootstrap 0); return = advantage + V = r
      policy loss at ratio 1 = mean(−A) = −(r0 + r1) / 2 = −(1 + ½ ln ¾) / 2 = −0.428080
      value loss = ½ mean((V − R)²) = (r0² + r1²) / 4 = 0.391670
      ∂policy loss / ∂logits = −½ Σ_i A_i (onehot(a_i) − π) = −(r0 − r1) / 4 · [1, −1]
      ∂(0.1 · value loss) / ∂V = 0.1 · mean(V − R) = −0.1 (r0 + r1) / 2
      grad norm = √(2 ((r0 − r1) / 4)² + (0.1 (r0 + r1) / 2)²) = 0.549433
    Adam's first step moves each parameter by lr against its gradient's sign: the rewarded
    token's logit and the value up by lr, the other logit down by lr."""
    r0, r1 = 1 - 0.5 * math.log(2 / 3), -0.5 * math.log(2)
    bandit = Bandit([0.0, 0.0])
    reference = torch.tensor([0.75, 0.25]).log()
    cfg = PPOConfig(lr=0.1, batch_size=2, group_size=1, minibatch_size=2, epochs=1, kl_coef=0.5,
                    whiten_advantages=False, early_stop_kl=0.0)
    accelerator = Accelerator(cpu=True)
    optimizer = make_optimizer(list(bandit.parameters()), cfg.lr, accelerator)
    model, optimizer = accelerator.prepare(bandit, optimizer)
    rollout = bandit_rollout(bandit, reference, torch.tensor([0, 1]))
    first = first_policy_pass(model, rollout, 1.0) if one_pass else None
    adv = compute_advantages(rollout, torch.tensor([1.0, 0.0]), cfg.kl_coef, cfg)
    torch.testing.assert_close(adv.advantages, torch.tensor([[r0], [r1]]))
    metrics = ppo_update(accelerator, model, optimizer, rollout, adv, cfg, 1.0,
                         torch.Generator().manual_seed(0), first)

    assert metrics["loss/policy"] == pytest.approx(-(r0 + r1) / 2, abs=1e-6)  # −0.428080
    assert metrics["loss/policy"] == pytest.approx(-0.428080, abs=1e-6)
    assert metrics["loss/value"] == pytest.approx((r0 ** 2 + r1 ** 2) / 4, abs=1e-6)  # 0.391670
    grad_norm = math.sqrt(2 * ((r0 - r1) / 4) ** 2 + (0.1 * (r0 + r1) / 2) ** 2)
    assert metrics["loss/grad_norm"] == pytest.approx(grad_norm, abs=1e-6)
    assert metrics["loss/grad_norm"] == pytest.approx(0.549433, abs=1e-6)
    assert metrics["loss/approx_kl"] == metrics["loss/clip_frac"] == 0.0
    assert metrics["update/applied"] == 1
    torch.testing.assert_close(bandit.logits.detach(), torch.tensor([0.1, -0.1]))
    torch.testing.assert_close(bandit.value.detach(), torch.tensor(0.1))
