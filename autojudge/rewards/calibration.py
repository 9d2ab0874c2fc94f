"""Choose R_abstain (and R_incorrect) from measured data: how a policy that answers iff its
P(correct) exceeds the reward's threshold would behave, question by question.

Each question's P(correct) is estimated from K judged samples of the policy: among the samples
that attempt an answer, the share judged correct. The judge errs (e1 = correct judged incorrect,
e2 = incorrect judged correct), so the judged share p̃ is de-biased to p = (p̃ − e2) / (1 − e1 − e2)
before metrics are computed; in those true-P terms a policy trained on the judged reward answers
iff p > t*_eff (`effective_threshold`), which is the same decision as p̃ > t*.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from autojudge.rewards.schemes import answer_threshold, effective_threshold
from autojudge.types import Rates, Verdict


@dataclass(frozen=True)
class QuestionStats:
    """One question's judged samples."""

    id: str
    correct: int
    incorrect: int
    abstain: int

    @property
    def judged_p(self) -> float:
        """p̃: share of attempted samples judged correct (0 when every sample abstained)."""
        attempted = self.correct + self.incorrect
        return self.correct / attempted if attempted else 0.0


@dataclass(frozen=True)
class PolicyMetrics(Rates):
    """What a threshold policy does over a population of questions."""

    threshold: float = 0.0
    """The policy answers iff P(correct) exceeds this."""

    def to_dict(self) -> dict[str, float]:
        return {**super().to_dict(), "threshold": self.threshold}


@dataclass(frozen=True)
class SweepRow:
    """One setting of the rewards and the threshold policy it induces."""

    correct: float
    abstain: float
    incorrect: float
    threshold: float
    """t* of the rewards."""
    effective_threshold: float
    """t*_eff: the threshold on true P(correct) that t* becomes under the judge's errors."""
    metrics: PolicyMetrics

    def to_dict(self) -> dict[str, object]:
        return {"correct": self.correct, "abstain": self.abstain, "incorrect": self.incorrect,
                "threshold": self.threshold, "effective_threshold": self.effective_threshold,
                **{k: v for k, v in self.metrics.to_dict().items() if k != "threshold"}}


def question_stats(groups: Iterable[tuple[str, Sequence[Verdict]]]) -> list[QuestionStats]:
    """Count verdicts per question from (question id, verdicts of its samples)."""
    out = []
    for qid, verdicts in groups:
        if not verdicts:
            raise ValueError(f"question {qid!r} has no judged samples")
        out.append(QuestionStats(qid, sum(v is Verdict.CORRECT for v in verdicts),
                                 sum(v is Verdict.INCORRECT for v in verdicts),
                                 sum(v is Verdict.ABSTAIN for v in verdicts)))
    return out


def true_p(stats: Sequence[QuestionStats], e1: float = 0.0, e2: float = 0.0) -> np.ndarray:
    """De-biased P(correct | attempt) per question: (p̃ − e2) / (1 − e1 − e2), clipped to [0, 1]."""
    if e1 < 0 or e2 < 0 or e1 + e2 >= 1.0:
        raise ValueError(f"judge error rates must be ≥ 0 with e1 + e2 < 1, got {e1}, {e2}")
    judged = np.array([s.judged_p for s in stats], dtype=float)  # (Q,)
    return np.clip((judged - e2) / (1.0 - e1 - e2), 0.0, 1.0)


def policy_metrics(p: np.ndarray, threshold: float) -> PolicyMetrics:
    """The policy answers question q iff p[q] > threshold and is then right with chance p[q]."""
    if p.size == 0:
        raise ValueError("no questions to calibrate on")
    answered = p > threshold  # (Q,)
    n = p.size
    accuracy = float(p[answered].sum() / n)
    hallucination = float((1.0 - p[answered]).sum() / n)
    return PolicyMetrics(accuracy, hallucination, 1.0 - float(answered.mean()), threshold)


def sweep_abstain(p: np.ndarray, correct: float, incorrect: float, e1: float, e2: float,
                  steps: int = 21) -> list[SweepRow]:
    """R_abstain from R_incorrect to R_correct (R_correct, R_incorrect fixed)."""
    return [sweep_row(p, correct, float(a), incorrect, e1, e2)
            for a in np.linspace(incorrect, correct, steps)]


def sweep_incorrect(p: np.ndarray, correct: float, abstain: float, e1: float, e2: float,
                    values: Sequence[float] = (-0.25, -0.5, -1.0, -2.0, -3.0, -4.0, -6.0, -8.0)
                    ) -> list[SweepRow]:
    """R_incorrect over `values` below R_abstain (R_correct, R_abstain fixed)."""
    return [sweep_row(p, correct, abstain, abstain + float(v) * (correct - abstain), e1, e2)
            for v in values]


def sweep_row(p: np.ndarray, correct: float, abstain: float, incorrect: float,
         e1: float, e2: float) -> SweepRow:
    t = answer_threshold(correct, abstain, incorrect)
    t_eff = effective_threshold(correct, abstain, incorrect, e1, e2)
    return SweepRow(correct, abstain, incorrect, t, t_eff, policy_metrics(p, t_eff))


def abstain_reward_for(threshold: float, correct: float, incorrect: float,
                       e1: float = 0.0, e2: float = 0.0) -> float:
    """The R_abstain whose t*_eff equals `threshold` (the inverse of `effective_threshold`):
    R_a = R_i + (R_c − R_i)(e2 + t (1 − e1 − e2))."""
    return incorrect + (correct - incorrect) * (e2 + threshold * (1.0 - e1 - e2))


@dataclass(frozen=True)
class RiskCoverage:
    """Hallucination rate against answer rate as the threshold falls from 1 to 0."""

    coverage: np.ndarray
    """(Q + 1,) answer rates, from 0 to 1."""
    hallucination: np.ndarray
    """(Q + 1,) hallucination rates (incorrect / all questions) at each coverage."""
    area: float
    """Area under the curve (trapezoids): lower is better."""


def risk_coverage(p: np.ndarray) -> RiskCoverage:
    """Answer the most likely questions first; ties in p are answered together."""
    order = np.argsort(-p, kind="stable")
    wrong = np.concatenate([[0.0], np.cumsum(1.0 - p[order])]) / p.size  # (Q + 1,)
    coverage = np.arange(p.size + 1) / p.size  # (Q + 1,)
    area = float(np.sum((wrong[1:] + wrong[:-1]) / 2 * np.diff(coverage)))
    return RiskCoverage(coverage, wrong, area)


@dataclass(frozen=True)
class Recommendation:
    """Reward values that meet a stated target, and what the policy is expected to do."""

    target: str
    correct: float
    abstain: float
    incorrect: float
    threshold: float
    """t* of the recommended rewards (what the judged reward pays for)."""
    effective_threshold: float
    """t*_eff: the threshold on true P(correct) the policy is expected to follow."""
    metrics: PolicyMetrics

    def to_dict(self) -> dict[str, object]:
        return {"target": self.target, "correct": self.correct, "abstain": self.abstain,
                "incorrect": self.incorrect, "threshold": self.threshold,
                "effective_threshold": self.effective_threshold,
                "expected": self.metrics.to_dict()}


def recommend(p: np.ndarray, correct: float, incorrect: float, e1: float = 0.0, e2: float = 0.0,
              *, max_hallucination: float | None = None,
              threshold: float | None = None) -> Recommendation:
    """R_abstain (R_correct and R_incorrect kept) for a target: either the most answering policy
    whose hallucination rate is at most `max_hallucination`, or a given answer threshold."""
    if (max_hallucination is None) == (threshold is None):
        raise ValueError("state exactly one target: max_hallucination or threshold")
    if threshold is not None:
        if not 0.0 <= threshold < 1.0:
            raise ValueError(f"threshold must lie in [0, 1), got {threshold}")
        t, target = float(threshold), f"threshold {threshold:g}"
    else:
        t, target = _lowest_threshold(p, float(max_hallucination)), \
            f"hallucination ≤ {max_hallucination:g}"
    abstain = abstain_reward_for(t, correct, incorrect, e1, e2)
    return Recommendation(target, correct, abstain, incorrect,
                          answer_threshold(correct, abstain, incorrect), t, policy_metrics(p, t))


def _lowest_threshold(p: np.ndarray, max_hallucination: float) -> float:
    """The lowest threshold (the most answers) whose hallucination rate meets the bound.
    Candidates are the distinct values of p: answering iff p > p_k changes only there."""
    if not 0.0 <= max_hallucination <= 1.0:
        raise ValueError(f"max_hallucination must lie in [0, 1], got {max_hallucination}")
    for t in sorted({0.0, *map(float, p)}):
        if policy_metrics(p, t).hallucination <= max_hallucination + 1e-12:
            return t
    return 1.0 - 1e-9  # unreachable: at the largest p nothing is answered


@dataclass(frozen=True)
class CheckResult:
    """Does a trained policy abstain where the reward meant it to?"""

    threshold: float
    below: int
    """Questions whose starting P(correct) is at most the threshold (it should abstain)."""
    above: int
    abstain_below: float
    """Abstention rate of the trained policy on the `below` questions (higher is better)."""
    abstain_above: float
    """Abstention rate on the `above` questions (lower is better)."""

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def check(p_start: dict[str, float], abstained: dict[str, Sequence[bool]],
          threshold: float) -> CheckResult:
    """Abstention rates (over samples) of a trained policy on the questions whose starting
    P(correct) is at most / above the threshold."""
    below: list[bool] = []
    above: list[bool] = []
    n_below = n_above = 0
    for qid, flags in abstained.items():
        if qid not in p_start:
            continue
        if p_start[qid] > threshold:
            above.extend(flags)
            n_above += 1
        else:
            below.extend(flags)
            n_below += 1
    if not n_below and not n_above:
        raise ValueError("no question of the trained policy's samples is in the calibration")
    rate = lambda xs: float(np.mean(xs)) if xs else float("nan")  # noqa: E731
    return CheckResult(threshold, n_below, n_above, rate(below), rate(above))
