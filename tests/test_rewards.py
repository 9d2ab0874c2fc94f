"""Reward schemes, the threshold math and calibration, against values worked out by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest

from autojudge.config import RewardConfig
from autojudge.judges.base import from_probs
from autojudge.rewards import calibration as cal
from autojudge.rewards.schemes import (SCHEMES, Reward, answer_threshold, effective_threshold,
                                       is_malformed)
from autojudge.types import Fact, FactStatus, Judgement, Verdict


def judgement(verdict: str, p: tuple[float, float, float] | None = None, facts=()) -> Judgement:
    probs = p or {"correct": (1, 0, 0), "incorrect": (0, 1, 0), "abstain": (0, 0, 1)}[verdict]
    return Judgement(Verdict(verdict), *probs, judge="test", facts=tuple(facts))


# --- thresholds ----------------------------------------------------------------------------

def test_threshold_by_hand():
    # (0 − (−1)) / (1 − (−1)) = 1/2
    assert answer_threshold(1.0, 0.0, -1.0) == pytest.approx(0.5)
    # (0.5 − (−1)) / (1 − (−1)) = 1.5 / 2 = 0.75
    assert answer_threshold(1.0, 0.5, -1.0) == pytest.approx(0.75)
    # (0 − (−3)) / (1 − (−3)) = 3/4
    assert answer_threshold(1.0, 0.0, -3.0) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="must exceed"):
        answer_threshold(-1.0, 0.0, 1.0)


@pytest.mark.parametrize("scale, shift", [(2.0, 0.0), (0.5, 3.0), (10.0, -7.0)])
def test_threshold_is_affine_invariant(scale, shift):
    r = (1.0, 0.2, -2.0)
    moved = [scale * x + shift for x in r]
    assert answer_threshold(*moved) == pytest.approx(answer_threshold(*r))
    assert effective_threshold(*moved, 0.1, 0.05) == pytest.approx(
        effective_threshold(*r, 0.1, 0.05))


def test_effective_threshold_by_hand():
    # R = (1, 0, −1), e1 = 0.1, e2 = 0.2:
    # (0 − (−1) − 0.2·2) / ((1 − 0.3)·2) = 0.6 / 1.4 = 3/7
    assert effective_threshold(1.0, 0.0, -1.0, 0.1, 0.2) == pytest.approx(3 / 7)
    # a perfect judge changes nothing
    assert effective_threshold(1.0, 0.5, -1.0, 0.0, 0.0) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="no signal"):
        effective_threshold(1.0, 0.0, -1.0, 0.5, 0.5)


def test_effective_threshold_is_where_judged_reward_equals_abstaining():
    # At p = t*_eff, the expected *judged* reward of answering equals R_abstain.
    rc, ra, ri, e1, e2 = 1.0, 0.1, -2.0, 0.07, 0.12
    p = effective_threshold(rc, ra, ri, e1, e2)
    judged = p * ((1 - e1) * rc + e1 * ri) + (1 - p) * (e2 * rc + (1 - e2) * ri)
    assert judged == pytest.approx(ra)


def test_abstain_reward_inverts_effective_threshold():
    ra = cal.abstain_reward_for(0.8, 1.0, -1.0, 0.1, 0.2)
    # R_a = −1 + 2·(0.2 + 0.8·0.7) = −1 + 2·0.76 = 0.52
    assert ra == pytest.approx(0.52)
    assert effective_threshold(1.0, ra, -1.0, 0.1, 0.2) == pytest.approx(0.8)


# --- schemes -------------------------------------------------------------------------------

def test_schemes_by_hand():
    values = RewardConfig(correct=1.0, abstain=0.0, incorrect=-1.0)
    soft = judgement("correct", (0.6, 0.3, 0.1))
    assert SCHEMES.get("ternary")(soft, values) == 1.0
    # 0.6·1 + 0.3·(−1) + 0.1·0 = 0.3
    assert SCHEMES.get("expected")(soft, values) == pytest.approx(0.3)
    facts = [Fact("a", FactStatus.SUPPORTED, 0.9), Fact("b", FactStatus.SUPPORTED, 0.8),
             Fact("c", FactStatus.CONTRADICTED, 0.7), Fact("d", FactStatus.UNSUPPORTED, 0.6)]
    # (1 + 1 − 1 − 1) / 4 = 0
    assert SCHEMES.get("facts")(judgement("correct", facts=facts), values) == pytest.approx(0.0)
    assert SCHEMES.get("facts")(judgement("incorrect"), values) == -1.0  # no claims: ternary
    assert SCHEMES.get("facts")(judgement("abstain", facts=facts), values) == 0.0


def test_reward_shaping_and_errors():
    values = RewardConfig(correct=1.0, abstain=0.0, incorrect=-1.0, length_weight=0.1,
                          length_limit=3, malformed_weight=0.5)
    reward = Reward(values)
    js = [judgement("correct")] * 3
    # five words, limit three → 2 · 0.1; empty → malformed 0.5; leaked markup → 0.5
    assert reward(js, ["one two three four five", "", "Paris <|im_end|>"]) == pytest.approx(
        [1.0 - 0.2, 1.0 - 0.5, 1.0 - 0.5])
    assert reward.threshold == pytest.approx(0.5)
    assert is_malformed("   ") and not is_malformed("Paris, <b>France</b>")
    with pytest.raises(ValueError, match="2 judgements for 1 answers"):
        reward(js[:2], ["a"])
    with pytest.raises(KeyError, match="known: expected, facts, ternary"):
        Reward(RewardConfig(scheme="nope"))


def test_expected_reward_falls_smoothly_with_doubt():
    reward = Reward(RewardConfig(scheme="expected"))
    ps = [from_probs(p, 1 - p, 0.0, "t") for p in (0.9, 0.7, 0.5)]
    r = reward(ps, ["x"] * 3)
    assert r[0] > r[1] > r[2] and r[2] == pytest.approx(0.0)


# --- calibration ---------------------------------------------------------------------------

def stats(*rows: tuple[int, int, int]) -> list[cal.QuestionStats]:
    return [cal.QuestionStats(f"q{i}", *r) for i, r in enumerate(rows)]


def test_policy_metrics_by_hand():
    # p = 0.9, 0.6, 0.2, 0 (the last only abstained); threshold 0.5 answers the first two.
    p = cal.true_p(stats((9, 1, 0), (3, 2, 3), (1, 4, 0), (0, 0, 8)))
    assert p.tolist() == pytest.approx([0.9, 0.6, 0.2, 0.0])
    m = cal.policy_metrics(p, 0.5)
    assert m.answer_rate == 0.5
    assert m.accuracy == pytest.approx((0.9 + 0.6) / 4)
    assert m.hallucination == pytest.approx((0.1 + 0.4) / 4)
    assert m.truthfulness == pytest.approx(1.0 / 4)
    assert m.correct_given_attempted == pytest.approx(0.75)
    # F = 2 · 0.375 · 0.75 / (0.375 + 0.75) = 0.5
    assert m.simpleqa_f == pytest.approx(0.5)


def test_true_p_removes_judge_error():
    # judged p̃ = p (1 − e1) + (1 − p) e2; with p = 0.5, e1 = 0.1, e2 = 0.2: p̃ = 0.45 + 0.1 = 0.55
    p = cal.true_p(stats((11, 9, 0)), e1=0.1, e2=0.2)
    assert p[0] == pytest.approx(0.5)


def test_risk_coverage_by_hand():
    rc = cal.risk_coverage(np.array([1.0, 0.5]))
    # answering the sure one costs nothing, then 0.5 / 2 → hallucination 0, 0, 0.25
    assert rc.hallucination.tolist() == pytest.approx([0.0, 0.0, 0.25])
    # trapezoids: 0.5·0 + 0.5·(0 + 0.25)/2 = 0.0625
    assert rc.area == pytest.approx(0.0625)


def synthetic(seed: int = 0, questions: int = 400, k: int = 400):
    """A population with known P(correct) per question, sampled K times each."""
    rng = np.random.default_rng(seed)
    p_true = rng.beta(0.7, 0.7, size=questions)
    correct = rng.binomial(k, p_true)
    rows = [{"id": f"q{i}", "verdict": "correct"} for i, c in enumerate(correct)
            for _ in range(c)]
    rows += [{"id": f"q{i}", "verdict": "incorrect"} for i, c in enumerate(correct)
             for _ in range(k - c)]
    return p_true, rows


def test_calibrate_recovers_optimal_decisions_and_meets_target():
    from autojudge.rewards.calibrate import calibrate

    p_true, rows = synthetic()
    report = calibrate(rows, RewardConfig(), max_hallucination=0.1)
    by_id = dict(zip((s.id for s in report.stats), report.p))
    p_est = np.array([by_id[f"q{i}"] for i in range(len(p_true))])
    # The configured rewards (t* = 0.5): estimated decisions agree with the optimal ones except
    # within sampling noise of the threshold.
    clear = np.abs(p_true - 0.5) > 0.08
    assert ((p_est > 0.5) == (p_true > 0.5))[clear].all()
    # The recommended rewards meet the target on the true population.
    rec = report.recommendation
    truth = cal.policy_metrics(p_true, effective_threshold(rec.correct, rec.abstain,
                                                           rec.incorrect, 0.0, 0.0))
    assert truth.hallucination <= 0.1 + 0.01
    # ...and do not give away more answers than needed: the optimal threshold for the target
    # (on the true p) is within noise of the recommended one.
    best = cal.recommend(p_true, 1.0, -1.0, max_hallucination=0.1)
    assert abs(best.effective_threshold - rec.effective_threshold) < 0.05
    assert truth.answer_rate >= best.metrics.answer_rate - 0.03


def test_recommend_threshold_target_sets_abstain_reward():
    p = np.array([0.9, 0.6, 0.2])
    rec = cal.recommend(p, 1.0, -1.0, threshold=0.75)
    # R_a = −1 + 2 · 0.75 = 0.5
    assert rec.abstain == pytest.approx(0.5) and rec.metrics.answer_rate == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="exactly one target"):
        cal.recommend(p, 1.0, -1.0)


def test_check_splits_at_threshold():
    result = cal.check({"a": 0.9, "b": 0.1, "c": 0.2},
                       {"a": [False, False], "b": [True, True], "c": [True, False], "z": [True]},
                       threshold=0.5)
    assert (result.below, result.above) == (2, 1)
    assert result.abstain_below == pytest.approx(0.75) and result.abstain_above == 0.0


def test_calibrate_cli_on_judged_samples(tmp_path, capsys):
    from autojudge.cli import main

    _, rows = synthetic(questions=60, k=8)
    lines = [json.dumps({"question": f"Question {r['id']}?", **r}) for r in rows]
    lines.insert(3, '{"question": "broken", "verdict": "maybe"}')
    (tmp_path / "judged.jsonl").write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    rc = main(["calibrate", "--input", str(tmp_path / "judged.jsonl"), "--max-hallucination",
               "0.05", "--out", str(out), "reward.incorrect=-2"])
    assert rc == 0
    printed = capsys.readouterr()
    assert "judged.jsonl:4: field 'verdict'" in printed.err
    report = json.loads((out / "calibration.json").read_text())
    assert report["questions"] == 60 and report["samples"] == 480
    assert report["recommendation"]["expected"]["hallucination"] <= 0.05
    assert report["current"]["threshold"] == pytest.approx(2 / 3)  # (0 + 2) / (1 + 2)
    assert (out / "risk_coverage.png").stat().st_size > 1000
    assert (out / "threshold_metrics.png").stat().st_size > 1000
    assert "recommended for hallucination ≤ 0.05" in printed.out

    check_rows = [{"question": "x", "id": s["id"], "verdict": "abstain" if s["p_correct"] <= 0.5
                   else "correct"} for s in report["per_question"]]
    (tmp_path / "trained.jsonl").write_text("\n".join(map(json.dumps, check_rows)) + "\n")
    rc = main(["calibrate", "--check", str(out / "calibration.json"), "--input",
               str(tmp_path / "trained.jsonl"), "--out", str(tmp_path / "check")])
    checked = json.loads((tmp_path / "check" / "check.json").read_text())
    assert rc == 0 and checked["abstain_above"] == 0.0


def test_calibrate_samples_and_judges_a_policy(tiny_causal_lm, tiny_judge_dir):
    from autojudge.config import GenerationConfig
    from autojudge.judges.loader import load_judge
    from autojudge.rewards.calibrate import sample_rows, stats_of
    from autojudge.types import Record

    records = [Record("What is the capital of France?", ("Paris",), id="a"),
               Record("Who wrote Hamlet?", ("Shakespeare",), id="b")]
    rows = sample_rows(tiny_causal_lm, load_judge(str(tiny_judge_dir)), records,
                       GenerationConfig(max_new_tokens=4), k=3)
    assert [r["id"] for r in rows] == ["a"] * 3 + ["b"] * 3
    assert [r["sample"] for r in rows] == [0, 1, 2] * 2
    assert sum(s.correct + s.incorrect + s.abstain for s in stats_of(rows)) == 6
