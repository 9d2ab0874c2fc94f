"""Labelled judge pairs of ours (built splits, the packaged graded policy answers) as records
and class indices."""

from __future__ import annotations

import random
from collections import defaultdict
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


def labelled_pairs(path: Path, n: int, seed: int,
                   balance: float = 1.0) -> tuple[list[Record], list[int]]:
    """Up to n judge pairs (a seeded sample; all when n is 0) and their class indices. With
    `balance` below 1 the sample is drawn by kind of pair (see by_kind)."""
    records = read_pairs(path)
    if n and n < len(records):
        records = (random.Random(seed).sample(records, n) if balance == 1.0 else
                   by_kind(records, n, seed, balance))
    return records, [LABEL_INDEX[r.extra["label"]] for r in records]


def by_kind(records: list[Record], n: int, seed: int, balance: float) -> list[Record]:
    """n records, each kind of pair getting a share of n in proportion to (its count) ** balance
    (1: as they come, 0: the same for every kind), never more than it has; what a small kind
    cannot fill goes to the others. Rare hard kinds (a yes/no flip, a date in another format)
    are then seen often enough to be learnt, rather than a few dozen times in 20,000."""
    groups: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        groups[str(record.extra.get("kind"))].append(record)
    quota: dict[str, int] = {}
    left, open_kinds = n, sorted(groups)
    while open_kinds and left > 0:
        weights = {k: len(groups[k]) ** balance for k in open_kinds}
        total = sum(weights.values())
        share = {k: left * w / total for k, w in weights.items()}
        full = [k for k in open_kinds if share[k] >= len(groups[k])]
        if not full:  # every kind takes its share, rounded down, the rest by largest remainder
            floors = {k: int(v) for k, v in share.items()}
            spare = left - sum(floors.values())
            for k in sorted(open_kinds, key=lambda k: floors[k] - share[k])[:spare]:
                floors[k] += 1
            quota.update(floors)
            break
        for k in full:
            quota[k] = len(groups[k])
            left -= len(groups[k])
            open_kinds.remove(k)
    rng = random.Random(seed)
    chosen = [r for k in sorted(quota) for r in rng.sample(groups[k], quota[k])]
    rng.shuffle(chosen)
    return chosen


def policy_answers(path: Path = POLICY_ANSWERS) -> tuple[list[Record], list[int]]:
    """The graded policy answers as records and class indices (none when the file is absent)."""
    if not path.is_file():
        return [], []
    records = read_pairs(path)
    return records, [LABEL_INDEX[r.extra["grade"]] for r in records]
