"""The Judge protocol, the registry of judge kinds (filled by `autojudge.judges.loader`), and
`from_probs`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from autojudge.registry import Registry
from autojudge.types import Fact, Judgement, Record, Verdict


@runtime_checkable
class Judge(Protocol):
    """Anything that turns a batch of records into one Judgement per record, in order."""

    name: str

    def judge(self, items: Sequence[Record]) -> list[Judgement]: ...


class JudgeError(ValueError):
    """A judge that cannot be loaded or used (not a saved judge, unknown kind, an endpoint that
    cannot be reached), or that failed where a verdict is required."""


JudgeFactory = Callable[[str, "str | None"], Judge]
"""Builds a judge from the part of the spec after `kind:` (empty for plain names) and an
optional endpoint URL (used by the LLM judge)."""

JUDGES: Registry[JudgeFactory] = Registry("judge")


def from_probs(p_correct: float, p_incorrect: float, p_abstain: float, judge: str,
               facts: tuple[Fact, ...] = (), error: str | None = None,
               correct_at: float | None = None) -> Judgement:
    """A Judgement from class probabilities (renormalised). The verdict is the most probable
    class; with `correct_at`, "correct" needs p_correct ≥ correct_at (a rule chosen for the
    precision of "correct") and an answer below it is incorrect or abstains, whichever is
    likelier. With `error`, the judgement failed and has no verdict."""
    total = p_correct + p_incorrect + p_abstain
    probs = (p_correct / total, p_incorrect / total, p_abstain / total)
    if error is not None:
        return Judgement(None, *probs, judge=judge, facts=facts, error=error)
    verdict = (Verdict.CORRECT, Verdict.INCORRECT, Verdict.ABSTAIN)[probs.index(max(probs))]
    if correct_at is not None:
        if probs[0] >= correct_at:
            verdict = Verdict.CORRECT
        elif verdict is Verdict.CORRECT or probs[0] >= max(probs[1:]):
            verdict = Verdict.INCORRECT if probs[1] >= probs[2] else Verdict.ABSTAIN
    return Judgement(verdict, *probs, judge=judge, facts=facts, error=error)
