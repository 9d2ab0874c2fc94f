"""Two judges with different base encoders side by side: how fast each judges the same pairs, and
how long the judged inputs are against each judge's input window.

    .venv/bin/python bench/encoders.py --judges default PATH [--pairs 1000] [--rounds 3]

Speed: the same seeded sample of the judge test split, judged by each whole judge (int8 on a CPU,
as `autojudge score` runs it) in every round, the order of the judges alternating; each figure is
the median over rounds of records/s, with the ratio to the first judge within each round.
Input lengths: the tokens of the comparison judge's input (question, references, answer) on the
graded policy answers (bench/data/graded_answers.jsonl, both halves), the probe pairs and the
sampled test pairs; the share longer than each judge's window, and than 256 and 512 tokens, so
that what a longer window could change is counted rather than guessed. The quality figures of
each judge come from `bench/judge_quality.py --judge PATH --name NAME`.
Writes bench/results/encoders.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).parent))

from _common import write_result  # noqa: E402
from judge_quality import GRADED, PROBES  # noqa: E402

from autojudge.config import load_config  # noqa: E402
from autojudge.data.build import build, split_path  # noqa: E402
from autojudge.data.labelled import labelled_pairs, policy_answers  # noqa: E402
from autojudge.jobs.judge import resolve_judge  # noqa: E402
from autojudge.judges.comparison import pair_texts  # noqa: E402
from autojudge.judges.metrics import judge_outputs  # noqa: E402


def comparison_of(judge):
    """The comparison cross-encoder inside a whole judge (an ensemble's, or the judge itself)."""
    inner = getattr(judge, "comparison", judge)
    return inner.classifier


def encoder_of(spec: str, config) -> str:
    """The base encoder a judge was trained from, as its folder's config.yaml records it."""
    if spec == "default":
        return config.models.encoder
    recipe = yaml.safe_load((Path(spec) / "config.yaml").read_text())
    return recipe["models"]["encoder"]


def input_lengths(classifier, items) -> dict[str, float]:
    """Token counts of the comparison inputs of `items`, untruncated."""
    texts_a, texts_b = pair_texts(items)
    n = np.array([len(x) for x in classifier.tokenizer(texts_a, texts_b)["input_ids"]])
    window = classifier.max_length
    return {"n": len(n), "median": float(np.median(n)), "p95": float(np.percentile(n, 95)),
            "max": int(n.max()), "window": window, "over_window": float((n > window).mean()),
            "over_256": float((n > 256).mean()), "over_512": float((n > 512).mean())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--judges", nargs=2, required=True, metavar="JUDGE",
                        help="two judges: default or a judge folder")
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    config = load_config()
    build(config.data)
    judges = [resolve_judge(config, spec) for spec in args.judges]
    names = [f"{spec} ({encoder_of(spec, config)})" for spec in args.judges]
    items, _ = labelled_pairs(split_path(config.data, "judge", "test"), args.pairs,
                              config.data.seed)
    for judge in judges:  # warm-up: loads, exports and compiles the int8 model
        judge_outputs(judge, items[:64])
    seconds: list[list[float]] = [[] for _ in judges]
    for r in range(args.rounds):
        order = range(len(judges)) if r % 2 == 0 else reversed(range(len(judges)))
        for i in order:
            start = time.perf_counter()
            judge_outputs(judges[i], items)
            seconds[i].append(time.perf_counter() - start)
    speed = {name: {"records_per_s": len(items) / statistics.median(s), "seconds": s,
                    "ratio_vs_first": statistics.median(s0 / si for s0, si in
                                                        zip(seconds[0], s, strict=True))}
             for name, s in zip(names, seconds, strict=True)}
    sets = {"graded policy answers": policy_answers(GRADED)[0],
            "probe pairs": labelled_pairs(PROBES[0], 0, 0)[0], "synthetic test sample": items}
    lengths = {name: {label: input_lengths(comparison_of(j), rows) for label, rows in sets.items()}
               for name, j in zip(names, judges, strict=True)}
    print(f"{'judge':<48}{'records/s':>10}{'ratio':>8}")
    for name, row in speed.items():
        print(f"{name:<48}{row['records_per_s']:>10.1f}{row['ratio_vs_first']:>8.3f}")
    print(f"\n{'judge':<48}{'inputs':<24}{'n':>6}{'median':>8}{'max':>6}{'window':>8}"
          f"{'> window':>10}{'> 256':>8}")
    for name, per_set in lengths.items():
        for label, row in per_set.items():
            print(f"{name:<48}{label:<24}{row['n']:>6}{row['median']:>8.0f}{row['max']:>6}"
                  f"{row['window']:>8}{row['over_window']:>10.4f}{row['over_256']:>8.4f}")
    path = write_result("encoders", {"judges": args.judges, "pairs": len(items),
                                     "rounds": args.rounds, "speed": speed,
                                     "input_lengths": lengths})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
