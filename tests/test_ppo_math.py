"""PPO math against values worked out by hand in the comments."""

from __future__ import annotations

import math

import pytest
import torch

from autojudge.trainers import ppo_math as pm


def close(a, b, tol=1e-5):
    torch.testing.assert_close(torch.as_tensor(a, dtype=torch.float32),
                               torch.as_tensor(b, dtype=torch.float32), atol=tol, rtol=tol)


def test_masked_mean_and_var():
    x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 100.0, 100.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    # real values 1, 2, 3, 4: mean 2.5; per row: (1+2+3)/3 = 2 and 4/1 = 4
    close(pm.masked_mean(x, mask), 2.5)
    close(pm.masked_mean(x, mask, dim=1), [2.0, 4.0])
    # squared deviations 2.25, 0.25, 0.25, 2.25 sum to 5: biased 5/4, unbiased 5/3
    close(pm.masked_var(x, mask, unbiased=False), 1.25)
    close(pm.masked_var(x, mask), 5 / 3)
    close(pm.masked_var(torch.tensor([7.0]), torch.tensor([1.0])), 0.0)  # one value: no spread


def test_masked_whiten():
    x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 100.0, 100.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    # (x − 2.5) / sqrt(5/3): −1.5/1.29099 = −1.16190, −0.5/1.29099 = −0.38730; padding → 0
    s = math.sqrt(5 / 3)
    close(pm.masked_whiten(x, mask), [[-1.5 / s, -0.5 / s, 0.5 / s], [1.5 / s, 0.0, 0.0]])
    # without the shift the mean 2.5 is added back
    close(pm.masked_whiten(x, mask, shift_mean=False),
          [[2.5 - 1.5 / s, 2.5 - 0.5 / s, 2.5 + 0.5 / s], [2.5 + 1.5 / s, 0.0, 0.0]])


def test_response_mask_keeps_the_first_eos():
    ids = torch.tensor([[5, 6, 2, 0, 0], [5, 6, 7, 8, 9], [2, 2, 0, 0, 0], [5, 3, 6, 2, 0]])
    # eos ids 2 and 3: each row is real up to and including its first eos
    close(pm.response_mask(ids, [2, 3]), [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0],
                                          [1, 1, 0, 0, 0]])


def test_logprobs_and_entropy():
    # logits [0, ln 3] → probabilities [1/4, 3/4]
    logits = torch.tensor([[[0.0, math.log(3.0)], [0.0, 0.0]]])  # (1, 2, 2)
    ids = torch.tensor([[1, 0]])
    # log 3/4 for the first token; uniform → log 1/2 for the second
    close(pm.logprobs_from_logits(logits, ids), [[math.log(0.75), math.log(0.5)]])
    # H = −(1/4 ln 1/4 + 3/4 ln 3/4) = 0.562335; uniform over 2 → ln 2
    h1 = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))
    close(pm.entropy_from_logits(logits), [[h1, math.log(2.0)]])


def test_kl_estimators():
    logp = torch.tensor([[math.log(0.5), math.log(0.25)]])
    ref = torch.tensor([[math.log(0.25), math.log(0.5)]])
    # k1 = log p − log q: ln 2, −ln 2
    close(pm.kl_penalty(logp, ref, "k1"), [[math.log(2), -math.log(2)]])
    # k3 = (q/p − 1) − ln(q/p): q/p = 1/2 → −0.5 + ln 2 = 0.193147; q/p = 2 → 1 − ln 2 = 0.306853
    close(pm.kl_penalty(logp, ref, "k3"), [[-0.5 + math.log(2), 1 - math.log(2)]])
    close(pm.kl_penalty(ref, ref, "k3"), [[0.0, 0.0]])
    with pytest.raises(ValueError, match="k1, k3"):
        pm.kl_penalty(logp, ref, "k2")


def test_token_rewards_put_the_score_on_the_last_real_token():
    scores = torch.tensor([1.0, -1.0])
    kl = torch.tensor([[0.1, 0.2, 0.3], [0.5, 9.0, 9.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    # −0.5 · kl on real tokens; row 0 ends at t=2 (−0.15 + 1), row 1 at t=0 (−0.25 − 1)
    close(pm.token_rewards(scores, kl, mask, kl_coef=0.5),
          [[-0.05, -0.1, 0.85], [-1.25, 0.0, 0.0]])


def test_gae_by_hand():
    rewards = torch.tensor([[0.0, 0.0, 1.0], [2.0, 5.0, 5.0]])
    values = torch.tensor([[0.5, 0.5, 0.5], [1.0, 7.0, 7.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    # gamma 1, lam 0.5, row 0: δ2 = 1 − 0.5 = 0.5; δ1 = 0 + 0.5 − 0.5 = 0; δ0 = 0
    #   A2 = 0.5; A1 = 0 + 0.5·0.5 = 0.25; A0 = 0 + 0.5·0.25 = 0.125
    # row 1 ends at t=0 (padding is ignored): δ0 = 2 + 0 − 1 = 1, A0 = 1
    out = pm.gae(rewards, values, mask, gamma=1.0, lam=0.5)
    close(out.advantages, [[0.125, 0.25, 0.5], [1.0, 0.0, 0.0]])
    close(out.returns, [[0.625, 0.75, 1.0], [2.0, 0.0, 0.0]])
    # gamma 0.5, lam 1: A2 = 0.5; δ1 = 0 + 0.5·0.5 − 0.5 = −0.25, A1 = −0.25 + 0.5·0.5 = 0
    #   δ0 = −0.25, A0 = −0.25 + 0.5·0 = −0.25 (= discounted return 0.25 − V 0.5)
    out = pm.gae(rewards, values, mask, gamma=0.5, lam=1.0)
    close(out.advantages[0], [-0.25, 0.0, 0.5])


def test_policy_loss_clips_the_ratio():
    # ratios e^{ln 2} = 2, e^0 = 1, e^{ln 0.5} = 0.5 with clip range 0.2
    logp = torch.tensor([[math.log(2.0), 0.0, math.log(0.5)]])
    old = torch.zeros(1, 3)
    adv = torch.tensor([[1.0, -1.0, -1.0]])
    mask = torch.ones(1, 3)
    out = pm.policy_loss(logp, old, adv, mask, clip_range=0.2)
    # t0: A=1, r=2 → max(−2, −1.2) = −1.2 (clipped active); t1: r=1 → max(1, 1) = 1
    # t2: A=−1, r=0.5 → max(0.5, 0.8) = 0.8 (clipped active); mean (−1.2 + 1 + 0.8)/3 = 0.2
    close(out.loss, 0.2)
    close(out.clip_frac, 2 / 3)
    # approx KL = mean((r − 1) − ln r) = ((1 − ln 2) + 0 + (−0.5 + ln 2)) / 3 = 0.5/3
    close(out.approx_kl, 0.5 / 3)
    # padding does not count: masking t1 leaves (−1.2 + 0.8)/2 = −0.2, both clipped
    out = pm.policy_loss(logp, old, adv, torch.tensor([[1.0, 0.0, 1.0]]), clip_range=0.2)
    close(out.loss, -0.2)
    close(out.clip_frac, 1.0)


def test_policy_loss_gradient_vanishes_when_clipped():
    logp = torch.tensor([[math.log(2.0), 0.0]], requires_grad=True)
    out = pm.policy_loss(logp, torch.zeros(1, 2), torch.tensor([[1.0, 1.0]]), torch.ones(1, 2), 0.2)
    out.loss.backward()
    # t0 is clipped (constant −1.2): no gradient; t1: d(−A·e^{logp})/dlogp / 2 = −1/2
    close(logp.grad, [[0.0, -0.5]])


def test_value_loss_clips_the_change():
    values = torch.tensor([[1.0, 0.1, 3.0]])
    old = torch.tensor([[0.0, 0.0, 0.0]])
    returns = torch.tensor([[2.0, 0.0, 0.0]])
    mask = torch.tensor([[1.0, 1.0, 0.0]])
    # t0: v_clip = 0.5, errors (1−2)² = 1, (0.5−2)² = 2.25 → 2.25 (clipped larger)
    # t1: v_clip = 0.1, both 0.01; t2 is padding. loss = 0.5 · (2.25 + 0.01) / 2 = 0.565
    out = pm.value_loss(values, old, returns, mask, clip_range=0.5)
    close(out.loss, 0.565)
    close(out.clip_frac, 0.5)


def test_adaptive_kl_coef():
    # kl 9 vs target 6: error clip(0.5) = 0.2; 100 samples of horizon 1000 → × 1.02
    assert pm.adaptive_kl_coef(0.1, 9.0, 6.0, 1000, 100) == pytest.approx(0.102)
    # kl 5.4 vs 6: error −0.1 → × 0.99
    assert pm.adaptive_kl_coef(0.1, 5.4, 6.0, 1000, 100) == pytest.approx(0.099)


def test_leave_one_out_subtracts_the_mean_of_the_other_answers_to_the_same_question():
    scores = torch.tensor([1.0, -1.0, -1.0, -0.5, 2.0, 2.0])
    # groups of 3: [1, -1, -1] and [-0.5, 2, 2]
    expected = torch.tensor([1.0 - (-1.0), -1.0 - 0.0, -1.0 - 0.0,
                             -0.5 - 2.0, 2.0 - 0.75, 2.0 - 0.75])
    assert torch.allclose(pm.leave_one_out(scores, 3), expected)
    assert torch.equal(pm.leave_one_out(scores, 1), scores)
    with pytest.raises(RuntimeError):  # not whole groups
        pm.leave_one_out(scores, 4)
