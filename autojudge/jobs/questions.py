"""The held-out questions a policy is evaluated on."""

from __future__ import annotations

import random
from pathlib import Path

from autojudge.config import Config
from autojudge.data.build import build, split_path
from autojudge.io import read_records
from autojudge.types import Record


def held_out_questions(config: Config, data: Path | None, n: int, ids: set[str] | None = None
                       ) -> tuple[list[Record], Path]:
    """`n` QA records (seeded choice) from `data` or the held-out test split (built if needed);
    with `ids`, exactly the records whose id (or question) is in it."""
    if data is None:
        build(config.data)
    path = data or split_path(config.data, "qa", "test")
    records, _ = read_records(path, require=("question", "reference"))
    if ids is not None:
        records = [r for r in records if (r.id or r.question) in ids]
    elif len(records) > n:
        records = random.Random(config.data.seed).sample(records, n)
    return records, path
