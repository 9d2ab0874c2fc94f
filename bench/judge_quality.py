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
from autojudge.judges.evaluation import evaluate_items, format_table, judge_probs  # noqa: E402
from autojudge.trainers.judges import labelled_pairs  # noqa: E402

PROBE = Path(__file__).parent / "data" / "probe_pairs.jsonl"


def per_kind(items, labels, probs) -> dict[str, dict[str, float]]:
    """Accuracy per kind of answer (alternative gold, swapped sentence, ...)."""
    hits, counts = defaultdict(int), defaultdict(int)
    for item, label, pred in zip(items, labels, probs.argmax(axis=1), strict=True):
        counts[item.extra["kind"]] += 1
        hits[item.extra["kind"]] += int(label == pred)
    return {k: {"accuracy": hits[k] / counts[k], "n": counts[k]} for k in sorted(counts)}


def measure(judge, config, items, labels, split: str) -> tuple[dict, object]:
    probs = judge_probs(judge, items)
    return {"split": split, "judges": evaluate_items(judge.name, probs, items, labels,
                                                     config)}, probs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--judge", default="default")
    parser.add_argument("--pairs", type=int, default=0, help="test pairs to sample (0: all)")
    args = parser.parse_args()
    config = load_config()
    build(config.data)
    judge = load_judge(args.judge)
    items, labels = labelled_pairs(split_path(config.data, "judge", "test"), args.pairs,
                                   config.data.seed)
    results, probs = measure(judge, config, items, labels, "test")
    kinds = per_kind(items, labels, probs)
    print(format_table(results))
    print(f"\n{'kind of answer':<22}{'n':>7}{'accuracy':>10}")
    for kind, row in kinds.items():
        print(f"{kind:<22}{row['n']:>7}{row['accuracy']:>10.3f}")
    probe_results, _ = measure(judge, config, *labelled_pairs(PROBE, 0, 0), "probe")
    print("\nhand-written probe pairs (bench/data/probe_pairs.jsonl):")
    print(format_table(probe_results))
    path = write_result("judge_quality", {"judge": args.judge, **results, "per_kind": kinds,
                                          "probe": probe_results})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
