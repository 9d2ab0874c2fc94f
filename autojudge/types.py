"""The data that flows between judges, rewards and trainers."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
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

    def __post_init__(self) -> None:
        # A plain string is one reference (not a tuple of its characters); a list is a tuple.
        refs = (self.reference,) if isinstance(self.reference, str) else self.reference
        if not isinstance(refs, (tuple, list)) or not all(isinstance(r, str) for r in refs):
            raise TypeError(f"Record.reference must be a string or a sequence of strings, got "
                            f"{self.reference!r}")
        if not isinstance(self.question, str):
            raise TypeError(f"Record.question must be a string, got {self.question!r}")
        if self.answer is not None and not isinstance(self.answer, str):
            raise TypeError(f"Record.answer must be a string or None, got {self.answer!r}")
        object.__setattr__(self, "reference", tuple(refs))


Item = Record | tuple[str, str | Sequence[str], str] | Mapping[str, Any]
"""One item to judge, in any form `Judge.judge` accepts: a Record, a (question, reference,
answer) tuple, or a dict with keys question, reference and answer (and optionally id; other keys
are kept in `Record.extra`). A reference is a string or a list of strings."""


@dataclass(frozen=True)
class Fact:
    """One atomic claim of an answer and the judge's finding about it."""

    text: str
    status: FactStatus
    probability: float
    """The judge's probability for `status`."""


@dataclass(frozen=True)
class Judgement:
    """A judge's verdict on one answer, with class probabilities that sum to 1; or a failure
    (`error` set, `verdict` None), which is never a verdict: not counted, not rewarded."""

    verdict: Verdict | None
    """None exactly when the judge failed (`error` says why)."""
    p_correct: float
    p_incorrect: float
    p_abstain: float
    judge: str
    facts: tuple[Fact, ...] = ()
    error: str | None = None
    """Why the judge could not decide (an unreachable endpoint, an unparseable LLM reply)."""
    flags: tuple[str, ...] = ()
    """The rules for degenerate answers that decided or limited this judgement
    (autojudge.judges.degenerate): "repetition" (judged incorrect for repeating itself),
    "truncated" (only its first characters judged), "claims_capped" (only its first claims
    checked)."""

    def __post_init__(self) -> None:
        probs = (self.p_correct, self.p_incorrect, self.p_abstain)
        if any(not math.isfinite(p) or p < 0.0 or p > 1.0 for p in probs):
            raise ValueError(f"judgement probabilities must lie in [0, 1], got {probs}")
        if abs(sum(probs) - 1.0) > 1e-4:
            raise ValueError(f"judgement probabilities must sum to 1, got {sum(probs):.6f}")
        if (self.verdict is None) != (self.error is not None):
            raise ValueError("a judgement has a verdict or an error, never both or neither "
                             f"(verdict {self.verdict}, error {self.error!r})")

    @classmethod
    def failure(cls, judge: str, error: str) -> Judgement:
        """A judgement that failed: no verdict, uncommitted probabilities, the reason."""
        third = 1.0 / 3.0
        return cls(None, third, third, 1.0 - 2 * third, judge=judge, error=error)

    @property
    def failed(self) -> bool:
        return self.verdict is None

    def to_dict(self) -> dict[str, Any]:
        """The fields `autojudge score` writes for each row; a failure has no verdict and no
        probabilities (null), only its error."""
        failed = self.verdict is None
        return {
            "verdict": None if self.verdict is None else self.verdict.value,
            "p_correct": None if failed else self.p_correct,
            "p_incorrect": None if failed else self.p_incorrect,
            "p_abstain": None if failed else self.p_abstain,
            "facts": [
                {"text": f.text, "status": f.status.value, "probability": f.probability}
                for f in self.facts
            ],
            "judge": self.judge,
            "error": self.error,
            "flags": list(self.flags),
        }


@dataclass(frozen=True)
class Rates:
    """How a policy's answers came out, as shares of all questions (SimpleQA / TruthRL terms)."""

    accuracy: float
    """Correct answers / all."""
    hallucination: float
    """Incorrect answers / all."""
    abstention: float
    """Abstentions / all."""

    @classmethod
    def of(cls, verdicts: Iterable[Verdict | None]) -> Rates:
        """Shares of all; None (a failed judgement) counts in no class."""
        verdicts = list(verdicts)
        n = len(verdicts)
        if not n:
            raise ValueError("no verdicts to count")
        return cls(*(sum(v is kind for v in verdicts) / n for kind in Verdict))

    @property
    def answer_rate(self) -> float:
        return 1.0 - self.abstention

    @property
    def truthfulness(self) -> float:
        """Accuracy − hallucination rate."""
        return self.accuracy - self.hallucination

    @property
    def correct_given_attempted(self) -> float:
        return self.accuracy / self.answer_rate if self.answer_rate > 0 else 0.0

    @property
    def simpleqa_f(self) -> float:
        """Harmonic mean of accuracy and correct-given-attempted (SimpleQA's F)."""
        a, c = self.accuracy, self.correct_given_attempted
        return 2 * a * c / (a + c) if a + c else 0.0

    def to_dict(self) -> dict[str, float]:
        return {**asdict(self), "answer_rate": self.answer_rate,
                "truthfulness": self.truthfulness,
                "correct_given_attempted": self.correct_given_attempted,
                "simpleqa_f": self.simpleqa_f}
