"""Judge speed on a CPU: our comparison judge vs sentence-transformers' CrossEncoder.predict.

    .venv/bin/python bench/judge_speed.py [--judge default|PATH] [--pairs 2000] [--rounds 3]

Same pairs, same weights (the trained comparison model loaded by both), same thread count, in
one run; rounds alternate the order and the median is reported. Also the full ensemble's
pairs/s. Writes bench/results/judge_speed.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import write_result  # noqa: E402

from autojudge.config import load_config  # noqa: E402
from autojudge.data.build import build, split_path  # noqa: E402
from autojudge.jobs.judge import resolve_judge  # noqa: E402
from autojudge.judges.comparison import pair_texts  # noqa: E402
from autojudge.data.labelled import labelled_pairs  # noqa: E402


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--judge", default="default")
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from sentence_transformers import CrossEncoder

    config = load_config()
    build(config.data)
    judge = resolve_judge(config, args.judge)
    items, _ = labelled_pairs(split_path(config.data, "judge", "test"), args.pairs,
                              config.data.seed)
    texts_a, texts_b = pair_texts(items)
    clf = judge.comparison.classifier
    with_tmp = Path("/tmp") / f"autojudge-speed-{time.time_ns()}"
    clf.save(with_tmp)
    cross = CrossEncoder(str(with_tmp), device="cpu", max_length=clf.max_length)
    pairs = list(zip(texts_a, texts_b, strict=True))
    runs = {
        "sentence-transformers CrossEncoder.predict": lambda: cross.predict(pairs, batch_size=32),
        "autojudge comparison (float32)": lambda: clf.logits(texts_a, texts_b, quantize=False),
        "autojudge comparison (int8, default)": lambda: clf.logits(texts_a, texts_b,
                                                                   quantize=True),
        "autojudge full ensemble": lambda: judge.judge(items),
    }
    for fn in runs.values():  # warm-up: first calls pay for allocation and quantisation
        fn() if fn is not runs["autojudge full ensemble"] else judge.judge(items[:64])
    seconds = {name: [] for name in runs}
    for r in range(args.rounds):
        for name in (list(runs) if r % 2 == 0 else list(runs)[::-1]):
            seconds[name].append(timed(runs[name]))
    base = statistics.median(seconds["sentence-transformers CrossEncoder.predict"])
    figures = {}
    print(f"{'method':<46}{'pairs/s':>9}{'× CrossEncoder':>16}")
    for name, times in seconds.items():
        med = statistics.median(times)
        figures[name] = {"pairs_per_s": len(items) / med, "ratio_vs_crossencoder": base / med,
                         "seconds": times}
        print(f"{name:<46}{len(items) / med:>9.1f}{base / med:>16.2f}")
    path = write_result("judge_speed", {"pairs": len(items), "rounds": args.rounds, **figures})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
