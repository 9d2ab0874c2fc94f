"""Abstention detection: refusals and "I don't know" in many phrasings, also inside longer text.

A hedge that still commits to an answer ("I'm not sure, but I think it's Paris") is not an
abstention: the answer is then judged on what it commits to.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from autojudge.judges.base import JudgeBase, from_probs, read_meta, write_meta
from autojudge.types import Judgement, Record

_NEG = r"(?:do not|don't|dont|did not|didn't|cannot|can't|can not|could not|couldn't|am not|" \
       r"'m not|are not|is not|isn't|have no|has no|lack|won't|will not|unable to|not able to)"

CUES = [re.compile(p, re.IGNORECASE) for p in (
    rf"\bI(?:'m|\s+am)?\s*(?:\w+ly\s+)?{_NEG}\s*(?:\w+\s+){{0,4}}(?:know|sure|certain|aware|recall|remember|say|tell|"
    r"answer|help|determine|find|provide|verify|confirm|access|idea|clue|information|knowledge|"
    r"data|details|records?|comment|familiar)\b",
    r"\bno (?:idea|clue|information|knowledge|data|record)\b",
    r"\b(?:not sure|unsure|uncertain|not certain)\b",
    r"\bunknown to me\b",
    r"\b(?:beyond|outside) (?:my|what I) (?:knowledge|know)",
    r"\bmy knowledge (?:doesn't|does not|do not) (?:cover|include|extend)",
    r"\bnot (?:in a position to|something I know)\b",
    r"\b(?:rather not|prefer not to|won't|will not|refuse to) (?:guess|answer|speculate|say|"
    r"comment)\b",
    r"^\W*(?:no comment|pass|can't say|cannot say)\W*$",
    r"\bno way (?:for me )?to (?:know|tell)\b",
    r"\b(?:isn't|is not|not) something I (?:can|could) (?:answer|know|say)\b",
    r"\bneed more (?:context|information|details) to answer\b",
    r"\b(?:only be|would be) guessing\b",
    r"\bdrawing a blank\b",
    r"\bnothing I (?:could|can) say\b",
    r"\bI(?:'ll| will)? (?:abstain|pass)\b",
    r"\blet me (?:pass|skip)\b|\bI(?:'ll| will|'d| would) skip\b",
    r"\bcan(?:'t|not) (?:be )?(?:answered|determined)\b",
    r"\bI (?:apologi[sz]e|'m sorry|am sorry),? but I\b",
)]
"""Phrases that, on their own, mean the writer is not giving an answer."""

COMMITMENT = re.compile(
    r"\b(?:but|however|though|although|yet)\b[^.?!]*?\b(?:I think|I believe|I'd say|I would say|"
    r"I guess|probably|likely|perhaps|maybe|possibly|might be|could be|my (?:best )?guess|"
    r"it(?:'s| is| was)|the answer is|I'm fairly|I am fairly)\b"
    r"|\bmy (?:best )?guess (?:is|would be)\b|\bif I (?:remember|recall) (?:correctly|right)\b"
    r"|^\s*(?:possibly|probably|perhaps|maybe|it might be|it could be)\b"
    r"|^\s*(?:I think|I believe|I'd say|I guess)\s+(?:it's|it is|it was|the answer is|so|not)\b"
    r"|[,;:\u2014-]\s*(?:maybe|perhaps|probably|possibly|I think|I believe|I'd guess|I guess|"
    r"my (?:best )?guess)\s+(?!not\b|I'm\b|I am\b)\w"
    r"|^\s*(?:it's|it is|it was|the answer is)\s+(?!not\b|hard\b|difficult\b|unclear\b|"
    r"impossible\b|unknown\b)[^.?!,;]+,\s*I (?:think|believe|guess)\b",
    re.IGNORECASE,
)
"""After an abstention cue, these mean the writer commits to an answer after all: a guess after
"but" or after a comma ("I don't know, maybe Paris."), or a value followed by "I think" ("It's
Paris, I think, but I don't know.")."""


IDIOMS = re.compile(r"\b(?:say|tell you|thank you) (?:enough|how)\b|\bcan(?:'t|not| not) wait\b",
                    re.IGNORECASE)
"""Negated phrases that are praise or emphasis, not abstention ("I can't say enough about it")."""


@dataclass(frozen=True)
class AbstentionFinding:
    abstains: bool
    cue: str | None
    """The phrase that signalled abstention (None if there was none)."""
    hedged: bool
    """A cue was found but the text commits to an answer anyway."""


def find_abstention(answer: str) -> AbstentionFinding:
    """Whether `answer` abstains, and why."""
    text = " ".join(answer.replace("’", "'").split())
    committed = bool(COMMITMENT.search(text))
    for cue in CUES:
        match = cue.search(text)
        if match and not IDIOMS.search(text[match.start():match.end() + 20]):
            return AbstentionFinding(not committed, match.group(0), committed)
    return AbstentionFinding(False, None, committed)


class AbstentionJudge(JudgeBase):
    """Rules only: abstain or not. As a standalone judge it cannot tell correct from incorrect,
    so a non-abstention gets p_correct = p_incorrect."""

    name = "abstention"

    def __init__(self, confidence: float = 0.98) -> None:
        self.confidence = confidence

    def p_abstain(self, answers: Sequence[str]) -> list[float]:
        return [self.confidence if find_abstention(a).abstains else 1.0 - self.confidence
                for a in answers]

    def judge_records(self, records: Sequence[Record]) -> list[Judgement]:
        return [from_probs((1 - p) / 2, (1 - p) / 2, p, self.name)
                for p in self.p_abstain([r.answer or "" for r in records])]

    def save(self, path: str | Path) -> None:
        write_meta(path, "abstention", {"confidence": self.confidence})

    @classmethod
    def load(cls, path: Path) -> AbstentionJudge:
        return cls(float(read_meta(path)["confidence"]))
