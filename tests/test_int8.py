"""int8 inference: an item's result must not depend on what it is batched with."""

from __future__ import annotations

import numpy as np
import pytest


def test_int8_logits_do_not_depend_on_the_batch(tiny_judge_dir):
    from autojudge.judges.classifier import PairClassifier

    clf = PairClassifier.load(tiny_judge_dir / "comparison")
    a, b = ["Question: who wrote the book ?\nReference: the author"], ["Answer: the author"]
    loud_a = ["Question: " + " ".join(["capital city of france paris"] * 12)] * 7
    loud_b = ["Answer: " + " ".join(["the the the london"] * 10)] * 7
    alone = clf.logits(a, b, quantize=True)
    crowded = clf.logits(a + loud_a, b + loud_b, quantize=True, batch_size=8)
    np.testing.assert_array_equal(alone[0], crowded[0])
    # neighbours of every length, in batches of several sizes: still the same bits
    for size in (2, 3, 5):
        again = clf.logits(loud_a[:size] + a, loud_b[:size] + b, quantize=True, batch_size=size)
        np.testing.assert_array_equal(alone[0], again[-1])
    # and int8 stays close to float32
    np.testing.assert_allclose(alone, clf.logits(a, b, quantize=False), atol=0.1)


def _kinds():
    from autojudge.judges.int8 import _onednn_int8

    return [False, pytest.param(True, marks=pytest.mark.skipif(
        not _onednn_int8(), reason="oneDNN int8 needs an x86 build of torch"))]


@pytest.mark.parametrize("onednn", _kinds(), ids=["anchored", "fixed-scale"])
def test_fixed_range_linear_clamps_to_its_range(onednn):
    import torch

    from autojudge.judges.int8 import AnchoredLinear, FixedScaleLinear, quantize_anchored

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3))
    fast = quantize_anchored(model, {"0": (-1.0, 1.0)}, onednn=onednn)
    assert isinstance(fast[0], FixedScaleLinear if onednn else AnchoredLinear)
    x = torch.tensor([[0.5, -0.5, 0.25, 0.0]])
    np.testing.assert_allclose(fast(x).detach(), model(x).detach(), atol=0.03)
    # beyond the range the input is clamped: 5.0 acts as 1.0
    big = torch.tensor([[5.0, -0.5, 0.25, 0.0]])
    np.testing.assert_allclose(fast(big).detach(), model(big.clamp(-1, 1)).detach(), atol=0.03)


@pytest.mark.parametrize("onednn", _kinds(), ids=["anchored", "fixed-scale"])
def test_fixed_range_removes_batch_dependence_of_dynamic_int8(onednn):
    import torch

    from autojudge.judges.int8 import quantize_anchored

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(16, 8))
    x = torch.randn(1, 16)
    loud = 3.0 * torch.randn(1, 16)  # a neighbour with a wider range
    plain = quantize_anchored(model, {})  # torch's dynamic int8 alone
    assert not torch.allclose(plain(x), plain(torch.cat([x, loud]))[:1], atol=1e-4)
    fixed = quantize_anchored(model, {"0": (-10.0, 10.0)}, onednn=onednn)
    torch.testing.assert_close(fixed(x), fixed(torch.cat([x, loud]))[:1])


@pytest.mark.parametrize("onednn", _kinds(), ids=["anchored", "fixed-scale"])
def test_fixed_range_int8_tracks_float_on_a_wider_layer(onednn):
    import torch

    from autojudge.judges.int8 import quantize_anchored

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.GELU(), torch.nn.Linear(32, 8))
    x = torch.randn(20, 64)
    fast = quantize_anchored(model, {"0": (-5.0, 5.0), "2": (-1.0, 3.0)}, onednn=onednn)
    with torch.inference_mode():
        error = (fast(x) - model(x)).abs().max().item()
    assert error < 0.05, error


def test_batches_hold_one_length_bucket():
    from autojudge.judges.classifier import BUCKET, _bucket, _split_buckets

    assert [_bucket(n) for n in (1, BUCKET, BUCKET + 1)] == [BUCKET, BUCKET, 2 * BUCKET]
    padded = [16, 16, 32, 32, 48]
    parts = _split_buckets(np.array([0, 1, 2, 3, 4]), padded)
    assert [p.tolist() for p in parts] == [[0, 1], [2, 3], [4]]


def test_probing_for_int8_leaves_the_global_rng_alone():
    import torch

    from autojudge.judges.int8 import _onednn_int8

    torch.manual_seed(0)
    before = torch.get_rng_state()
    _onednn_int8()
    assert torch.equal(torch.get_rng_state(), before)
