"""Labelled judge pairs of ours (built splits, the packaged graded policy answers) as records
and class indices."""

from __future__ import annotations

import random
from pathlib import Path

from autojudge.io import read_records
from autojudge.types import Record, Verdict

LABEL_INDEX = {v.value: i for i, v in enumerate(Verdict)}
"""Class index of each verdict: correct 0, incorrect 1, abstain 2 (the judges' output order)."""

POLICY_ANSWERS = Path(__file__).parent / "policy_answers_dev.jsonl"
"""The dev half of bench/data/graded_answers.jsonl: SmolLM2's own answers to held-out
questions, graded by careful reading (bench/data/GRADING.md). They calibrate the combiner and
choose the verdict rule; the test half is never read by the package."""


def read_pairs(path: Path) -> list[Record]:
    """Every record of a file of ours; one malformed row is a broken build, not user input."""
    records, errors = read_records(path)
    if errors:
        raise ValueError(f"{len(errors)} malformed rows in {path}, first: {errors[0]}")
    return records


def labelled_pairs(path: Path, n: int, seed: int) -> tuple[list[Record], list[int]]:
    """Up to n judge pairs (a seeded sample; all when n is 0) and their class indices."""
    records = read_pairs(path)
    if n and n < len(records):
        records = random.Random(seed).sample(records, n)
    return records, [LABEL_INDEX[r.extra["label"]] for r in records]


def policy_answers(path: Path = POLICY_ANSWERS) -> tuple[list[Record], list[int]]:
    """The graded policy answers as records and class indices (none when the file is absent)."""
    if not path.is_file():
        return [], []
    records = read_pairs(path)
    return records, [LABEL_INDEX[r.extra["grade"]] for r in records]
