"""The data that flows between judges, rewards and trainers."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Verdict(str, Enum):
    """What a judge decided about one answer."""

    CORRECT = "correct"
    INCORRECT = "incorrect"
    ABSTAIN = "abstain"


class FactStatus(str, Enum):
    """How one atomic claim of an answer relates to the reference."""

    SUPPORTED = "supported"
    CONTRADICTED = "contradicted"
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True)
class Record:
    """One (question, references, answer) item; `answer` is None in a QA set without answers."""

    question: str
    reference: tuple[str, ...]
    """Every acceptable answer; an answer is correct if it matches any of them."""
    answer: str | None = None
    id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    """Input fields that are not ours, passed through untouched."""


@dataclass(frozen=True)
class Fact:
    """One atomic claim of an answer and the judge's finding about it."""

    text: str
    status: FactStatus
    probability: float
    """The judge's probability for `status`."""


@dataclass(frozen=True)
class Judgement:
    """A judge's verdict on one answer, with class probabilities that sum to 1."""

    verdict: Verdict
    p_correct: float
    p_incorrect: float
    p_abstain: float
    judge: str
    facts: tuple[Fact, ...] = ()
    error: str | None = None
    """Why the judge could not decide (e.g. an unparseable LLM reply); verdict is then a fallback."""

    def __post_init__(self) -> None:
        probs = (self.p_correct, self.p_incorrect, self.p_abstain)
        if any(not math.isfinite(p) or p < 0.0 or p > 1.0 for p in probs):
            raise ValueError(f"judgement probabilities must lie in [0, 1], got {probs}")
        if abs(sum(probs) - 1.0) > 1e-4:
            raise ValueError(f"judgement probabilities must sum to 1, got {sum(probs):.6f}")

    def to_dict(self) -> dict[str, Any]:
        """The fields `autojudge score` writes for each row."""
        return {
            "verdict": self.verdict.value,
            "p_correct": self.p_correct,
            "p_incorrect": self.p_incorrect,
            "p_abstain": self.p_abstain,
            "facts": [
                {"text": f.text, "status": f.status.value, "probability": f.probability}
                for f in self.facts
            ],
            "judge": self.judge,
            "error": self.error,
        }
