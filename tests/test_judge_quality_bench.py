"""bench/judge_quality.py: the probe figures count wrong answers passing and right answers
rejected, and give each kind of probe the share of each verdict."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))

import judge_quality  # noqa: E402

from autojudge.types import Record  # noqa: E402


def test_probe_figures_count_passing_and_rejected():
    kinds = ["near_miss", "near_miss", "near_miss", "format", "format", "abstain", "hedged"]
    items = [Record(question="q", reference=["r"], answer="a", extra={"kind": k}) for k in kinds]
    labels = [1, 1, 1, 0, 0, 2, 0]
    verdicts = [0, 1, 1, 0, 2, 2, 1]  # one of 3 wrong passes; 2 of 3 right are not "correct"
    got = judge_quality.probe_figures(items, labels, verdicts)
    assert abs(got["wrong_passing"] - 1 / 3) < 1e-9
    assert abs(got["correct_rejected"] - 2 / 3) < 1e-9
    assert got["by_kind"]["near_miss"] == {"n": 3, "label": "incorrect", "correct": 1 / 3,
                                           "incorrect": 2 / 3, "abstain": 0.0}
    assert got["by_kind"]["format"]["abstain"] == 0.5
    assert got["by_kind"]["abstain"]["label"] == "abstain"
