"""bench/truthfulness.py's statistics: rates, paired differences and intervals on rows made by
hand."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))

import truthfulness as tb  # noqa: E402


def rows(verdicts, strict):
    return [{"id": f"q{i}", "verdict": v, "graders": {"strict": g}}
            for i, (v, g) in enumerate(zip(verdicts, strict))]


START = rows(["correct", "incorrect", "incorrect", "incorrect"],
             ["correct", "incorrect", None, "incorrect"])
PPO = rows(["correct", "abstain", "incorrect", "correct"],
           ["correct", "abstain", None, "incorrect"])


def test_rates_and_cant_tell_by_hand():
    r = tb.rates_with_ci([START], "reward_judge")
    assert r["accuracy"]["value"] == 0.25 and r["hallucination"]["value"] == 0.75
    assert r["truthfulness"]["value"] == -0.5 and r["cant_tell"] == 0.0
    s = tb.rates_with_ci([START], "strict")  # told 3 of 4: 1 correct, 2 incorrect
    assert s["accuracy"]["value"] == pytest.approx(1 / 3) and s["cant_tell"] == 0.25
    low, high = s["accuracy"]["ci95"]
    assert 0.0 <= low <= 1 / 3 <= high <= 1.0


def test_paired_differences_by_hand():
    d = tb.differences(START, [PPO, PPO], "reward_judge")
    # accuracy 0.25 → 0.5, hallucination 0.75 → 0.25, abstention 0 → 0.25
    assert d["accuracy"]["value"] == 0.25 and d["hallucination"]["value"] == -0.5
    assert d["abstention"]["value"] == 0.25
    assert d["hallucination"]["ci95"][0] <= -0.5 <= d["hallucination"]["ci95"][1]


def test_identical_policies_have_a_zero_width_difference():
    d = tb.differences(START, [START], "reward_judge")
    assert d["accuracy"] == {"value": 0.0, "ci95": [0.0, 0.0]}


def test_abstain_on_known_reads_each_graders_own_verdict():
    # q1 is known; the reward judge says the policy abstained there, the strict checker too;
    # q3: the reward judge says incorrect, strict can't tell.
    assert tb.abstain_on_known([PPO], {"q1", "q3"}, "reward_judge") == 0.5
    assert tb.abstain_on_known([PPO], {"q1", "q3"}, "strict") == 0.5
    assert tb.abstain_on_known([PPO], {"q0", "q3"}, "strict") == 0.0
    flipped = rows(["abstain", "abstain"], ["correct", "abstain"])
    assert tb.abstain_on_known([flipped], {"q0"}, "strict") == 0.0  # not the judge's abstain
    assert tb.abstain_on_known([flipped], {"q0"}, "reward_judge") == 1.0
    assert tb.abstain_on_known([PPO], set(), "strict") is None
