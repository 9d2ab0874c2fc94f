"""Fact-overlap judge: split an answer into atomic claims and check each against the reference."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from autojudge.judges.classifier import PairClassifier, softmax
from autojudge.judges.base import JudgeBase, from_probs
from autojudge.types import Fact, FactStatus, Judgement, Record

LABELS = ("supported", "contradicted", "unsupported")
MAX_CLAIMS = 16
"""Most claims of one answer the fact judge checks (its first ones): it bounds the cost of an
answer with many claims (autojudge.judges.degenerate flags such an answer "claims_capped")."""
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"'(]?[A-Z0-9])")
_CLAUSE = re.compile(r"\s*;\s*|,\s+(?=(?:and|but|while|whereas|which|who|where|although)\b)"
                     r"|\s+(?=(?:but|whereas)\b)")
_LEAD = re.compile(r"^(?:and|but|while|whereas|which|who|where|although)\s+", re.IGNORECASE)


def sentences(text: str) -> list[str]:
    """The text's sentences: split after `.`, `!` or `?` where the next word starts with a
    capital letter or a digit (so "e.g. this" stays one)."""
    return _SENTENCE.split(" ".join(text.split()))


def split_claims(answer: str) -> list[str]:
    """Sentences, then clauses at `;` and at conjunctions / relative pronouns after a comma."""
    claims = []
    for sentence in sentences(answer):
        for clause in _CLAUSE.split(sentence):
            clause = _LEAD.sub("", clause.strip(" ,;")).strip()
            if clause and re.search(r"\w", clause):
                claims.append(clause)
    return claims


def premise(record: Record) -> str:
    return f"Question: {record.question}\nCorrect answer: {' | '.join(record.reference)}"


def hypothesis(claim: str) -> str:
    """Short claims ("Paris") become a statement so that entailment makes sense."""
    return claim if len(claim.split()) >= 4 else f"The answer is {claim}."


class FactJudge(JudgeBase):
    """Checks each claim of an answer with an entailment cross-encoder (NLI classes LABELS)."""

    name = "facts"

    def __init__(self, classifier: PairClassifier, quantize: bool = True,
                 batch_size: int = 32, max_claims: int = MAX_CLAIMS) -> None:
        self.classifier = classifier
        self.quantize = quantize
        self.batch_size = batch_size
        self.max_claims = max_claims

    def claim_probs(self, items: Sequence[Record], min_claims: int = 1
                    ) -> list[tuple[list[str], np.ndarray]]:
        """Per answer, its first `max_claims` claims and their (claims, 3) probabilities in
        LABELS order; no claims for answers under `min_claims`."""
        claims = [split_claims(r.answer or "")[:self.max_claims] for r in items]
        claims = [c if len(c) >= min_claims else [] for c in claims]
        texts_a = [premise(r) for r, cs in zip(items, claims, strict=True) for _ in cs]
        texts_b = [hypothesis(c) for cs in claims for c in cs]
        probs = softmax(self.classifier.logits(texts_a, texts_b, batch_size=self.batch_size,
                                               quantize=self.quantize))  # (total claims, 3)
        ends = np.cumsum([len(cs) for cs in claims])
        return [(cs, probs[end - len(cs):end]) for cs, end in zip(claims, ends, strict=True)]

    def facts(self, items: Sequence[Record], min_claims: int = 1) -> list[tuple[Fact, ...]]:
        """The claims of each answer with their status; () for answers under `min_claims`."""
        return [to_facts(cs, p) for cs, p in self.claim_probs(items, min_claims)]

    def judge_records(self, records: Sequence[Record]) -> list[Judgement]:
        """Correct iff every claim is supported: p_correct is the least-supported claim's P."""
        out = []
        for facts in self.facts(records):
            supported = [f.probability if f.status is FactStatus.SUPPORTED else 1 - f.probability
                         for f in facts] or [0.0]
            p = min(supported)
            out.append(from_probs(p, 1 - p, 0.0, judge=self.name, facts=facts))
        return out


def to_facts(claims: Sequence[str], probs: np.ndarray) -> tuple[Fact, ...]:
    """Each claim with its most probable status and that status's probability."""
    return tuple(Fact(claim, FactStatus(LABELS[int(np.argmax(p))]), float(p.max()))
                 for claim, p in zip(claims, probs, strict=True))


def fact_precision(facts: Sequence[Fact]) -> float | None:
    """Share of supported claims; None when there are none."""
    if not facts:
        return None
    return sum(f.status is FactStatus.SUPPORTED for f in facts) / len(facts)
