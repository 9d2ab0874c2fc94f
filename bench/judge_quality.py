"""Judge quality on the held-out test split, beside token-F1 and embedding-cosine baselines.

    .venv/bin/python bench/judge_quality.py [--judge default|PATH] [--pairs N]

Prints the table of `autojudge judge eval` on the test split, accuracy per kind of answer, and the
same table on the hand-written probe pairs (bench/data/probe_pairs.jsonl: wrong answers that look
like right ones, never used for training); writes bench/results/judge_quality.json.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import write_result  # noqa: E402

from autojudge.config import load_config  # noqa: E402
from autojudge.data.build import build, split_path  # noqa: E402
from autojudge.judges.base import load_judge  # noqa: E402
from autojudge.judges.evaluation import (evaluate, evaluate_items, format_table,  # noqa: E402
                                        judge_probs)
from autojudge.trainers.judges import labelled_pairs  # noqa: E402

PROBE = Path(__file__).parent / "data" / "probe_pairs.jsonl"


def per_kind(judge, config, pairs: int) -> dict[str, dict[str, float]]:
    items, labels = labelled_pairs(split_path(config.data, "judge", "test"), pairs,
                                   config.data.seed)
    predicted = judge_probs(judge, items).argmax(axis=1)
    hits, counts = defaultdict(int), defaultdict(int)
    for item, label, pred in zip(items, labels, predicted, strict=True):
        kind = item.extra["kind"]
        counts[kind] += 1
        hits[kind] += int(label == pred)
    return {k: {"accuracy": hits[k] / counts[k], "n": counts[k]} for k in sorted(counts)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--judge", default="default")
    parser.add_argument("--pairs", type=int, default=0, help="test pairs to sample (0: all)")
    args = parser.parse_args()
    config = load_config()
    build(config.data)
    judge = load_judge(args.judge)
    results = evaluate(judge, config, pairs=args.pairs)
    kinds = per_kind(judge, config, args.pairs)
    print(format_table(results))
    print(f"\n{'kind of answer':<22}{'n':>7}{'accuracy':>10}")
    for kind, row in kinds.items():
        print(f"{kind:<22}{row['n']:>7}{row['accuracy']:>10.3f}")
    probe, probe_labels = labelled_pairs(PROBE, 0, 0)
    probe_results = {"split": "probe", "judges": evaluate_items(judge, probe, probe_labels,
                                                                config)}
    print("\nhand-written probe pairs (bench/data/probe_pairs.jsonl):")
    print(format_table(probe_results))
    path = write_result("judge_quality", {"judge": args.judge, **results, "per_kind": kinds,
                                          "probe": probe_results})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
