"""Regenerate the small samples in data/samples/ from a built data set (`autojudge data build`).

    .venv/bin/python data/make_samples.py
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from autojudge.config import DataConfig
from autojudge.data.build import split_path
from autojudge.io import write_jsonl

HERE = Path(__file__).parent / "samples"


def sample(path: Path, n: int, key: str | None, seed: int = 0) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    rng = random.Random(seed)
    if key is None:
        return rng.sample(rows, n)
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row[key], []).append(row)
    per = n // len(groups)
    return [row for name in sorted(groups) for row in rng.sample(groups[name], per)]


def main() -> None:
    config = DataConfig()
    write_jsonl(HERE / "qa.jsonl", sample(split_path(config, "qa", "test"), 40, "source"))
    write_jsonl(HERE / "judge_pairs.jsonl", sample(split_path(config, "judge", "test"), 60, "label"))
    write_jsonl(HERE / "nli_pairs.jsonl", sample(split_path(config, "nli", "test"), 30, "label"))


if __name__ == "__main__":
    main()
