"""int8 inference for the judges' cross-encoders whose results do not depend on the batch.

torch's dynamic quantisation picks one activation scale per call from the min and max of the
whole input tensor, so the same pair could be judged differently beside different neighbours
(a served request, a `score` chunk, a PPO rollout). Here every Linear's input range is fixed
from typical pairs, so the scale is always that of [lo, hi]: the speed of int8, the
determinism of float.

Two ways to fix it. `FixedScaleLinear` (used where oneDNN's int8 matmul is present, as on x86)
quantises the input once with the fixed scale — saturating, so values beyond the range act as
its ends — and multiplies with per-channel int8 weights into float32; it is faster than torch's
dynamic int8 because it skips the min/max pass. `AnchoredLinear` (the fallback) clamps the
input and appends one row holding lo and hi, so torch's dynamic int8 finds the same scale.
"""

from __future__ import annotations

import copy
import warnings
from pathlib import Path

import torch
from torch import nn

ANCHOR_PAIRS = Path(__file__).parent / "anchor_pairs.jsonl"
"""Typical comparison and fact pairs (from data/samples) that fix the activation ranges."""
ANCHOR_MARGIN = 1.25
"""Head-room beyond the anchor pairs' observed range before an activation is clamped."""


class AnchoredLinear(nn.Module):
    """A dynamically quantised Linear with a fixed activation range."""

    def __init__(self, qlinear: nn.Module, lo: float, hi: float) -> None:
        super().__init__()
        self.qlinear = qlinear
        self.lo, self.hi = lo, hi
        anchor = torch.full((1, qlinear.in_features), lo)
        anchor[0, 0] = hi
        self.register_buffer("anchor", anchor)  # (1, in)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(-1, x.shape[-1]).clamp(self.lo, self.hi)  # (N, in)
        y = self.qlinear(torch.cat([flat, self.anchor]))[:-1]  # (N, out)
        return y.reshape(*x.shape[:-1], y.shape[-1])


class FixedScaleLinear(nn.Module):
    """An int8 Linear on oneDNN: input quantised to uint8 with the fixed range [lo, hi]
    (saturating), weights int8 per output channel, output float32."""

    def __init__(self, linear: nn.Linear, lo: float, hi: float) -> None:
        super().__init__()
        lo, hi = min(lo, 0.0), max(hi, 0.0)  # zero must be representable
        self.scale = max(hi - lo, 1e-6) / 255
        self.zero_point = min(255, max(0, round(-lo / self.scale)))
        weight = linear.weight.detach().float()  # (out, in)
        self.w_scale = weight.abs().amax(dim=1).clamp_min(1e-8) / 127  # (out,)
        qweight = (weight / self.w_scale[:, None]).round().clamp(-128, 127).to(torch.int8)
        self.packed = torch.ops.onednn.qlinear_prepack(qweight, None)
        self.w_zero_point = torch.zeros_like(self.w_scale, dtype=torch.int64)
        self.bias = None if linear.bias is None else linear.bias.detach().float()
        self.in_features, self.out_features = linear.in_features, linear.out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(-1, x.shape[-1]).float()  # (N, in)
        with warnings.catch_warnings():  # quint8 tensors are flagged for a future move
            warnings.simplefilter("ignore", UserWarning)
            qx = torch.quantize_per_tensor(flat, self.scale, self.zero_point,
                                           torch.quint8).int_repr()  # (N, in) uint8
        y = torch.ops.onednn.qlinear_pointwise(
            qx, self.scale, self.zero_point, self.packed, self.w_scale, self.w_zero_point,
            self.bias, 1.0, 0, torch.float32, "none", [], "")  # (N, out)
        return y.reshape(*x.shape[:-1], self.out_features)


def _onednn_int8() -> bool:
    """Whether oneDNN's int8 Linear runs here (it needs an x86 CPU build of torch)."""
    try:
        with torch.random.fork_rng(devices=[]):  # a judge must not move the caller's RNG
            probe = FixedScaleLinear(nn.Linear(4, 2), -1.0, 1.0)
        return bool(torch.isfinite(probe(torch.ones(1, 4))).all())
    except (AttributeError, RuntimeError, NotImplementedError):
        return False


def quantize_anchored(model: nn.Module, ranges: dict[str, tuple[float, float]],
                      *, onednn: bool | None = None) -> nn.Module:
    """An int8 copy of `model` whose Linear layers named in `ranges` use those input ranges
    (`FixedScaleLinear` where oneDNN is present, else `AnchoredLinear`); other Linear layers
    get torch's dynamic int8."""
    onednn = _onednn_int8() if onednn is None else onednn
    with warnings.catch_warnings():  # torch 2.13 flags the int8 API for a future move
        warnings.filterwarnings("ignore", message=".*quantiz.*deprecated", category=UserWarning)
        fast = copy.deepcopy(model).eval()
        floats = {name: fast.get_submodule(name) for name in ranges} if onednn else {}
        fast = torch.ao.quantization.quantize_dynamic(fast, {nn.Linear}, dtype=torch.qint8)
    for name, (lo, hi) in ranges.items():
        parent_name, _, child = name.rpartition(".")
        parent = fast.get_submodule(parent_name) if parent_name else fast
        layer = (FixedScaleLinear(floats[name], lo, hi) if onednn
                 else AnchoredLinear(getattr(parent, child), lo, hi))
        setattr(parent, child, layer)
    return fast
