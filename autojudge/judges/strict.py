"""Strict reference checker: an offline grader that does not depend on any trained judge.

Rule. An answer that the abstention rules call a refusal abstains. Otherwise the checker looks
for the value the answer commits to by normalised alias match (overlap.py: the reference's words
as a run, or its country adjective) against the references and against the other known values
of the same question type (every value of a relation such as "country", when the index has them):
- a reference and no other value, and at most `max_extra` content words beyond the question and
  the references → correct (more words are claims it cannot check: can't tell);
- another known value and no reference → incorrect; both → incorrect (a blend, a list of
  guesses or a self-contradiction);
- yes/no references: the answer's leading yes or no decides;
- numbers: the quantity checker's mismatch → incorrect;
- nothing found → can't tell (None), reported as such and never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from autojudge.data.sources import relation_of
from autojudge.judges.abstention import find_abstention
from autojudge.judges.base import JudgeBase, from_probs, read_meta, write_meta
from autojudge.judges.overlap import overlap, states
from autojudge.quantities import QuantityCheck, check_quantities
from autojudge.text import normalize
from autojudge.types import Judgement, Record, Verdict

MAX_EXTRA = 1
"""Content words beyond question and references that a correct verdict tolerates."""
_YES_NO = re.compile(r"^\W*(yes|no)\b", re.IGNORECASE)


def relation_values(records: Iterable[Record]) -> dict[str, list[str]]:
    """Every reference of every question of each relation ("What is the country of X?"): the
    values an answer to a question of that relation can commit to."""
    values: dict[str, dict[str, str]] = {}
    for r in records:
        relation = relation_of(r.question)
        if relation:
            for ref in r.reference:
                values.setdefault(relation, {}).setdefault(normalize(ref), ref)
    return {k: list(v.values()) for k, v in values.items()}


class StrictChecker(JudgeBase):
    """A grader with three verdicts and "can't tell"; see the module docstring."""

    name = "strict"

    def __init__(self, values: Mapping[str, Sequence[str]] | None = None,
                 max_extra: int = MAX_EXTRA) -> None:
        self.values = {k: list(v) for k, v in (values or {}).items()}
        self.max_extra = max_extra

    def check(self, record: Record) -> Verdict | None:
        answer = record.answer or ""
        if find_abstention(answer).abstains:
            return Verdict.ABSTAIN
        refs = [normalize(r) for r in record.reference]
        if refs and all(r in ("yes", "no") for r in refs):
            said = _YES_NO.match(answer)
            if said is None:
                return None
            return Verdict.CORRECT if said[1].lower() in refs else Verdict.INCORRECT
        words, asked = normalize(answer).split(), normalize(record.question).split()
        gold = any(states(words, ref, asked) for ref in record.reference)
        other = any(states(words, value, asked) for value in self._others(record))
        if other:
            return Verdict.INCORRECT
        if gold:
            extra = overlap(record.question, record.reference, answer).extra
            return Verdict.CORRECT if extra <= self.max_extra else None
        if check_quantities(answer, record.reference) is QuantityCheck.MISMATCH:
            return Verdict.INCORRECT
        return None

    def _others(self, record: Record) -> list[str]:
        """Known values of the question's relation that are not a reference, do not overlap
        one, and are not words of the question."""
        relation = relation_of(record.question)
        if not relation or relation not in self.values:
            return []
        refs = [normalize(r) for r in record.reference]
        question = f" {normalize(record.question)} "
        return [v for v in self.values[relation]
                if (key := normalize(v)) and f" {key} " not in question
                and not any(key in r or r in key for r in refs)]

    def judge_records(self, records: Sequence[Record]) -> list[Judgement]:
        """As a Judge: a verdict with probability 1; "can't tell" is an `error`, never a
        verdict."""
        out = []
        for item in records:
            verdict = self.check(item)
            if verdict is None:
                out.append(Judgement.failure(self.name, "can't tell"))
            else:
                out.append(from_probs(float(verdict is Verdict.CORRECT),
                                      float(verdict is Verdict.INCORRECT),
                                      float(verdict is Verdict.ABSTAIN), judge=self.name))
        return out

    def save(self, path: str | Path) -> None:
        write_meta(path, "strict", {"max_extra": self.max_extra, "values": self.values})

    @classmethod
    def load(cls, path: Path) -> StrictChecker:
        meta = read_meta(path)
        return cls(meta["values"], int(meta["max_extra"]))
