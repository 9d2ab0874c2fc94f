"""int8 inference: an item's result must not depend on what it is batched with."""

from __future__ import annotations

import numpy as np


def test_int8_logits_do_not_depend_on_the_batch(tiny_judge_dir):
    from autojudge.judges.classifier import PairClassifier

    clf = PairClassifier.load(tiny_judge_dir / "comparison")
    a, b = ["Question: who wrote the book ?\nReference: the author"], ["Answer: the author"]
    loud_a = ["Question: " + " ".join(["capital city of france paris"] * 12)] * 7
    loud_b = ["Answer: " + " ".join(["the the the london"] * 10)] * 7
    alone = clf.logits(a, b, quantize=True)
    crowded = clf.logits(a + loud_a, b + loud_b, quantize=True, batch_size=8)
    np.testing.assert_allclose(alone[0], crowded[0], atol=1e-4)
    # and int8 stays close to float32
    np.testing.assert_allclose(alone, clf.logits(a, b, quantize=False), atol=0.1)


def test_anchored_linear_clamps_to_its_range():
    import torch

    from autojudge.judges.int8 import quantize_anchored

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3))
    fast = quantize_anchored(model, {"0": (-1.0, 1.0)})
    x = torch.tensor([[0.5, -0.5, 0.25, 0.0]])
    np.testing.assert_allclose(fast(x).detach(), model(x).detach(), atol=0.03)
    # beyond the range the input is clamped: 5.0 acts as 1.0
    big = torch.tensor([[5.0, -0.5, 0.25, 0.0]])
    np.testing.assert_allclose(fast(big).detach(), model(big.clamp(-1, 1)).detach(), atol=0.03)


def test_anchoring_removes_batch_dependence_of_dynamic_int8():
    import torch

    from autojudge.judges.int8 import quantize_anchored

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(16, 8))
    x = torch.randn(1, 16)
    loud = 3.0 * torch.randn(1, 16)  # a neighbour with a wider range
    plain = quantize_anchored(model, {})  # torch's dynamic int8 alone
    assert not torch.allclose(plain(x), plain(torch.cat([x, loud]))[:1], atol=1e-4)
    fixed = quantize_anchored(model, {"0": (-10.0, 10.0)})
    torch.testing.assert_close(fixed(x), fixed(torch.cat([x, loud]))[:1])
