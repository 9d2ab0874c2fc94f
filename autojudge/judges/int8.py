"""int8 inference for the judges' cross-encoders whose results do not depend on the batch.

torch's dynamic quantisation picks one activation scale per call from the min and max of the
whole input tensor, so the same pair could be judged differently beside different neighbours
(a served request, a `score` chunk, a PPO rollout). Here every Linear's input range is fixed
from typical pairs: inputs are clamped to [lo, hi] and one row holding lo and hi is appended,
so the scale is always that of [lo, hi] — the speed of int8, the determinism of float.
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


def quantize_anchored(model: nn.Module, ranges: dict[str, tuple[float, float]]) -> nn.Module:
    """An int8 copy of `model` whose Linear layers named in `ranges` use those input ranges."""
    with warnings.catch_warnings():  # torch 2.13 flags the int8 API for a future move
        warnings.filterwarnings("ignore", message=".*quantiz.*deprecated", category=UserWarning)
        fast = torch.ao.quantization.quantize_dynamic(copy.deepcopy(model).eval(), {nn.Linear},
                                                      dtype=torch.qint8)
    for name, (lo, hi) in ranges.items():
        parent_name, _, child = name.rpartition(".")
        parent = fast.get_submodule(parent_name) if parent_name else fast
        setattr(parent, child, AnchoredLinear(getattr(parent, child), lo, hi))
    return fast
