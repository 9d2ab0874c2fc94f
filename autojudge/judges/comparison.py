"""Comparison judge: a cross-encoder over (question, references, answer) with three classes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from autojudge.judges.classifier import PairClassifier, softmax
from autojudge.judges.base import JudgeBase, from_probs
from autojudge.types import Judgement, Record

LABELS = ("correct", "incorrect", "abstain")


def pair_texts(items: Sequence[Record]) -> tuple[list[str], list[str]]:
    """The cross-encoder's two segments; several references are offered together."""
    texts_a = [f"Question: {r.question}\nReference: {' | '.join(r.reference)}" for r in items]
    texts_b = [f"Answer: {r.answer or ''}" for r in items]
    return texts_a, texts_b


class ComparisonJudge(JudgeBase):
    """"Do the answer and a reference mean the same?" — correct / incorrect / abstain."""

    name = "comparison"

    def __init__(self, classifier: PairClassifier, quantize: bool = True,
                 batch_size: int = 32) -> None:
        self.classifier = classifier
        self.quantize = quantize
        self.batch_size = batch_size

    def logits(self, items: Sequence[Record], progress: bool = False) -> np.ndarray:
        """(N, 3) raw scores in LABELS order."""
        texts_a, texts_b = pair_texts(items)
        return self.classifier.logits(texts_a, texts_b, batch_size=self.batch_size,
                                      quantize=self.quantize, progress=progress)

    def judge_records(self, records: Sequence[Record]) -> list[Judgement]:
        probs = softmax(self.logits(records))
        return [from_probs(*map(float, p), judge=self.name) for p in probs]
