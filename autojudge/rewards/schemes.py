"""Reward schemes: typed functions from Judgements (and the answers' text) to floats; a judgement
that failed gets no reward (None), never the reward of a verdict."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from autojudge.config import RewardConfig
from autojudge.registry import Registry
from autojudge.types import FactStatus, Judgement, Verdict

Scheme = Callable[[Judgement, RewardConfig], float]
"""The core of a scheme: one Judgement and the reward values → that answer's reward."""

SCHEMES: Registry[Scheme] = Registry("reward scheme")

_MARKUP = re.compile(r"<\|[^|>]{1,40}\|>|</?s>|\[/?INST\]")
"""Chat-template tokens that should never appear in a finished answer."""


def answer_threshold(correct: float, abstain: float, incorrect: float) -> float:
    """t* = (R_abstain − R_incorrect) / (R_correct − R_incorrect): answer iff P(correct) > t*."""
    if correct <= incorrect:
        raise ValueError(f"R_correct ({correct}) must exceed R_incorrect ({incorrect})")
    return RewardConfig(correct=correct, abstain=abstain, incorrect=incorrect).threshold


def effective_threshold(correct: float, abstain: float, incorrect: float,
                        e1: float, e2: float) -> float:
    """t* corrected for a judge that errs: e1 = P(judged incorrect | correct), e2 = P(judged
    correct | incorrect). The expected reward of answering with true P(correct) = p is
    p(1−e1)R_c + p·e1·R_i + (1−p)e2·R_c + (1−p)(1−e2)R_i; setting it equal to R_a gives
    t*_eff = (R_a − R_i − e2 (R_c − R_i)) / ((1 − e1 − e2)(R_c − R_i))."""
    if e1 + e2 >= 1.0:
        raise ValueError(f"a judge with e1 + e2 ≥ 1 ({e1} + {e2}) carries no signal")
    gap = correct - incorrect
    return (abstain - incorrect - e2 * gap) / ((1.0 - e1 - e2) * gap)


@SCHEMES.register("ternary")
def ternary(judgement: Judgement, values: RewardConfig) -> float:
    """R_correct, R_abstain or R_incorrect by the verdict."""
    if judgement.verdict is None:
        raise ValueError(f"a failed judgement has no reward ({judgement.error})")
    return {Verdict.CORRECT: values.correct, Verdict.ABSTAIN: values.abstain,
            Verdict.INCORRECT: values.incorrect}[judgement.verdict]


@SCHEMES.register("expected")
def expected(judgement: Judgement, values: RewardConfig) -> float:
    """The ternary reward averaged under the judge's probabilities: doubt lowers it smoothly."""
    return (judgement.p_correct * values.correct + judgement.p_abstain * values.abstain
            + judgement.p_incorrect * values.incorrect)


@SCHEMES.register("facts")
def facts(judgement: Judgement, values: RewardConfig) -> float:
    """For long answers: R_correct per supported claim, R_incorrect per contradicted or
    unsupported one, averaged over claims; abstentions get R_abstain and answers without
    claims fall back to `ternary`."""
    if judgement.verdict is Verdict.ABSTAIN or not judgement.facts:
        return ternary(judgement, values)
    per_claim = [values.correct if f.status is FactStatus.SUPPORTED else values.incorrect
                 for f in judgement.facts]
    return sum(per_claim) / len(per_claim)


def is_malformed(answer: str) -> bool:
    """An empty answer, or one that leaks chat-template markup."""
    return not answer.strip() or bool(_MARKUP.search(answer))


@dataclass(frozen=True)
class Reward:
    """A scheme with its values and shaping terms: `reward(judgements, answers)` → one reward
    per answer, None where the judgement failed (`Judgement.error`): no reward, as TRL reads
    None. Callers leave those answers out (mask them) or refuse the batch; they never stand in
    a value for them."""

    values: RewardConfig

    def __post_init__(self) -> None:
        SCHEMES.get(self.values.scheme)  # fail now, naming the known schemes
        answer_threshold(self.values.correct, self.values.abstain, self.values.incorrect)

    @property
    def name(self) -> str:
        return self.values.scheme

    @property
    def threshold(self) -> float:
        """t* of this scheme's values."""
        return self.values.threshold

    def __call__(self, judgements: Sequence[Judgement], answers: Sequence[str]
                 ) -> list[float | None]:
        if len(judgements) != len(answers):
            raise ValueError(f"{len(judgements)} judgements for {len(answers)} answers")
        scheme = SCHEMES.get(self.values.scheme)
        return [None if j.failed else scheme(j, self.values) - self.shaping(a)
                for j, a in zip(judgements, answers)]

    def shaping(self, answer: str) -> float:
        """The penalty the shaping terms subtract from one answer's reward (≥ 0)."""
        v = self.values
        extra_words = max(0, len(answer.split()) - v.length_limit)
        return v.length_weight * extra_words + v.malformed_weight * is_malformed(answer)
