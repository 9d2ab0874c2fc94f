"""Judge quality on the held-out test split, beside token-F1 and embedding-cosine baselines.

    .venv/bin/python bench/judge_quality.py [--judge default|PATH] [--pairs N] [--probes FILE ...]

Prints the table of `autojudge judge eval` on the test split, accuracy per kind of answer, the
same table on the test half of the policy's own graded answers (bench/data/graded_answers.jsonl:
SmolLM2's answers graded by careful reading, never used for training, calibration or tuning; with
the share of each kind of wrong answer judged correct) and on each file of hand-written probes
(bench/data/probe_pairs.jsonl: wrong answers that look like right ones; probes2_dev.jsonl and
probes2_test.jsonl: 12 kinds of probe with abstentions, written by two authors who never saw the
judge; none ever used for training, and probes2_test.jsonl never read while changing the judge),
with the share of wrong answers judged correct, of right answers not judged correct, and of each
verdict per kind of probe; writes bench/results/judge_quality.json.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import write_result  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from autojudge.config import load_config  # noqa: E402
from autojudge.data.build import build, split_path  # noqa: E402
from autojudge.jobs.judge import resolve_judge  # noqa: E402
from autojudge.judges.evaluation import evaluate_items, format_table  # noqa: E402
from autojudge.judges.metrics import CLASSES, judge_outputs  # noqa: E402
from autojudge.jobs.judge import independent_graders  # noqa: E402
from autojudge.data.labelled import labelled_pairs, policy_answers  # noqa: E402

DATA = Path(__file__).parent / "data"
PROBES = [DATA / name for name in ("probe_pairs.jsonl", "probes2_dev.jsonl",
                                   "probes2_test.jsonl")]
GRADED = Path(__file__).parent / "data" / "graded_answers.jsonl"


def per_kind(items, labels, verdicts) -> dict[str, dict[str, float]]:
    """Accuracy per kind of answer (alternative gold, swapped sentence, ...)."""
    hits, counts = defaultdict(int), defaultdict(int)
    for item, label, pred in zip(items, labels, verdicts, strict=True):
        counts[item.extra["kind"]] += 1
        hits[item.extra["kind"]] += int(label == pred)
    return {k: {"accuracy": hits[k] / counts[k], "n": counts[k]} for k in sorted(counts)}


def measure(judge, config, items, labels, split: str) -> tuple[dict, object, object]:
    probs, verdicts = judge_outputs(judge, items)
    return {"split": split, "judges": evaluate_items(judge.name, probs, items, labels,
                                                     config, verdicts=verdicts)}, verdicts, probs


def graded_half(half: str):
    """The graded policy answers of one half as records and class indices."""
    records, labels = policy_answers(GRADED)
    kept = [(r, y) for r, y in zip(records, labels) if r.extra["half"] == half]
    return [r for r, _ in kept], [y for _, y in kept]


def passed_by_kind(items, labels, verdicts) -> dict[str, dict[str, float]]:
    """Per kind of wrong answer (GRADING.md), the share the judge calls correct."""
    passed, counts = defaultdict(int), defaultdict(int)
    for item, label, verdict in zip(items, labels, verdicts, strict=True):
        if label == 1:
            kind = item.extra.get("kind") or "unlabelled"
            counts[kind] += 1
            passed[kind] += int(verdict == 0)
    return {k: {"passed": passed[k] / counts[k], "n": counts[k]} for k in sorted(counts)}


def probe_figures(items, labels, verdicts) -> dict:
    """The probe targets: the share of wrong answers judged correct, of right answers not judged
    correct, and per kind of probe the share of each verdict."""
    def share(rows, verdict):
        return sum(v == verdict for v in rows) / max(1, len(rows))
    wrong = [v for y, v in zip(labels, verdicts, strict=True) if y == 1]
    right = [v for y, v in zip(labels, verdicts, strict=True) if y == 0]
    kinds: dict[str, list[int]] = defaultdict(list)
    truth: dict[str, int] = {}
    for item, label, verdict in zip(items, labels, verdicts, strict=True):
        kind = item.extra.get("kind") or "unlabelled"
        kinds[kind].append(verdict)
        truth[kind] = label if truth.get(kind, label) == label else -1
    return {"wrong_passing": share(wrong, 0), "correct_rejected": 1 - share(right, 0),
            "by_kind": {k: {"n": len(v), "label": CLASSES[truth[k]] if truth[k] >= 0 else "mixed",
                            **{c: share(v, i) for i, c in enumerate(CLASSES)}}
                        for k, v in sorted(kinds.items())}}


def strict_figures(config, items, labels) -> dict[str, float]:
    """The strict reference checker on the same answers: how often it can tell, and how often
    it is right when it can."""
    checker = independent_graders(config, items)["strict"]
    verdicts = [checker.check(r) for r in items]
    told = [(CLASSES.index(v.value), y) for v, y in zip(verdicts, labels) if v is not None]
    said_correct = [y for v, y in told if v == 0]
    return {"coverage": len(told) / len(items),
            "accuracy_when_told": sum(v == y for v, y in told) / max(1, len(told)),
            "precision_correct": sum(y == 0 for y in said_correct) / max(1, len(said_correct)),
            "n": len(items)}


def by_stated_value(config, items, labels, p_correct) -> dict[str, dict]:
    """The committed (non-abstaining) answers grouped by what a reading without world knowledge
    can tell: which known values they state (the strict checker with no limit on extra words:
    a reference and no other known value of the relation; another known value; no known value).
    Per group, the graded correct and incorrect answers and the judge's AUROC of p_correct within
    the group. In the first group, a verbose answer is right or wrong by whether its extra
    details are true, which only knowledge of the subject can tell."""
    checker = independent_graders(config, items)["strict"]
    checker.max_extra = 10**9
    names = {"correct": "a reference, no other known value", "incorrect": "another known value",
             None: "no known value"}
    groups: dict[str, list[tuple[int, float]]] = {name: [] for name in names.values()}
    for item, label, p in zip(items, labels, p_correct, strict=True):
        verdict = checker.check(item)
        if label != 2 and (verdict is None or verdict.value != "abstain"):
            groups[names[verdict and verdict.value]].append((label, p))
    out = {}
    for name, rows in groups.items():
        y = [label == 0 for label, _ in rows]
        both = 0 < sum(y) < len(y)
        out[name] = {"correct": sum(y), "incorrect": len(y) - sum(y),
                     "auroc": roc_auc_score(y, [p for _, p in rows]) if both else None}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--judge", default="default")
    parser.add_argument("--pairs", type=int, default=0, help="test pairs to sample (0: all)")
    parser.add_argument("--name", default="judge_quality", help="result: bench/results/NAME.json")
    parser.add_argument("--probes", nargs="*", type=Path, default=PROBES,
                        help="hand-written probe files (those present are measured)")
    args = parser.parse_args()
    config = load_config()
    build(config.data)
    judge = resolve_judge(config, args.judge)
    items, labels = labelled_pairs(split_path(config.data, "judge", "test"), args.pairs,
                                   config.data.seed)
    results, verdicts, _ = measure(judge, config, items, labels, "test")
    kinds = per_kind(items, labels, verdicts)
    print(format_table(results))
    print(f"\n{'kind of answer':<22}{'n':>7}{'accuracy':>10}")
    for kind, row in kinds.items():
        print(f"{kind:<22}{row['n']:>7}{row['accuracy']:>10.3f}")
    graded = {}
    for half in ("test", "dev"):
        g_items, g_labels = graded_half(half)
        graded[half], g_verdicts, g_probs = measure(judge, config, g_items, g_labels,
                                                    f"graded {half}")
        graded[half]["passed_by_kind"] = passed_by_kind(g_items, g_labels, g_verdicts)
        graded[half]["strict_checker"] = strict_figures(config, g_items, g_labels)
        graded[half]["by_stated_value"] = by_stated_value(config, g_items, g_labels,
                                                          [p[0] for p in g_probs])
        use = "never used by the judge" if half == "test" else "calibrates the judge: not evidence"
        print(f"\nthe policy's own answers, graded by careful reading, {half} half ({use}):")
        print(format_table(graded[half]))
        print(f"{'wrong answers of kind':<26}{'n':>5}{'judged correct':>16}")
        for kind, row in graded[half]["passed_by_kind"].items():
            print(f"{kind:<26}{row['n']:>5}{row['passed']:>16.3f}")
        print("strict checker: " + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else
                                             f"{k} {v}" for k, v in
                                             graded[half]["strict_checker"].items()))
        print(f"{'answers that state':<34}{'correct':>8}{'incorrect':>10}{'AUROC in group':>16}")
        for group, row in graded[half]["by_stated_value"].items():
            auroc = "-" if row["auroc"] is None else f"{row['auroc']:.3f}"
            print(f"{group:<34}{row['correct']:>8}{row['incorrect']:>10}{auroc:>16}")
    probes = {}
    for path in [p for p in args.probes if p.is_file()]:
        p_items, p_labels = labelled_pairs(path, 0, 0)
        probes[path.stem], p_verdicts, _ = measure(judge, config, p_items, p_labels, path.stem)
        probes[path.stem].update(probe_figures(p_items, p_labels, p_verdicts))
        row = probes[path.stem]
        print(f"\nhand-written probes ({path.relative_to(DATA.parent)}): "
              f"wrong answers passing {row['wrong_passing']:.3f}, "
              f"right answers not judged correct {row['correct_rejected']:.3f}")
        print(format_table(row))
        print(f"{'kind of probe':<26}{'label':>10}{'n':>5}" + "".join(f"{c:>11}" for c in CLASSES))
        for kind, k in row["by_kind"].items():
            print(f"{kind:<26}{k['label']:>10}{k['n']:>5}" +
                  "".join(f"{k[c]:>11.2f}" for c in CLASSES))
    path = write_result(args.name, {"judge": args.judge, **results, "per_kind": kinds,
                                          "graded": graded, "probe": probes.get("probe_pairs"),
                                    "probes": probes})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
