"""Which split a question belongs to: a seeded hash of its normalised text."""

from __future__ import annotations

import hashlib

from autojudge.config import DataConfig
from autojudge.data.sources import normalize


def split_of(key: str, config: DataConfig) -> str:
    """train / val / test for a question, from a seeded hash of its normalised text."""
    digest = hashlib.sha256(f"{config.seed}:{normalize(key)}".encode()).hexdigest()
    u = int(digest[:15], 16) / 16**15
    if u < config.test_fraction:
        return "test"
    return "val" if u < config.test_fraction + config.val_fraction else "train"
