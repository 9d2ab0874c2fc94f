"""Do two int8 engines (or int8 and float32) judge alike? The default judge's verdicts and
p_correct on the dev half of the graded policy answers and a sample of the synthetic test split.

    # once per code version / path (PYTHONPATH selects the code, e.g. an old checkout)
    .venv/bin/python bench/int8_agreement.py dump --judge DIR --mode int8 --out OLD.json
    .venv/bin/python bench/int8_agreement.py dump --judge DIR --mode float --out FLOAT.json
    .venv/bin/python bench/int8_agreement.py compare old=OLD.json new=NEW.json float=FLOAT.json

`compare` writes bench/results/int8_agreement.json: per path accuracy and the precision and
recall of "correct" against the grades / labels, and per pair of paths the share of equal
verdicts and the differences in p_correct.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from _common import write_result  # noqa: E402

import autojudge  # noqa: E402
from autojudge.config import load_config  # noqa: E402
from autojudge.data.build import split_path  # noqa: E402
from autojudge.data.labelled import LABEL_INDEX, labelled_pairs  # noqa: E402
from autojudge.judges.loader import load_judge  # noqa: E402
from autojudge.types import Record  # noqa: E402

GRADED = Path(__file__).parent / "data" / "graded_answers.jsonl"
LABELS = ("correct", "incorrect", "abstain")


def dump(judge_dir: str, mode: str, out: Path, synthetic: int) -> None:
    judge = load_judge(judge_dir)
    judge.comparison.quantize = judge.fact_judge.quantize = mode == "int8"
    rows = [json.loads(line) for line in GRADED.read_text(encoding="utf-8").splitlines()]
    dev = [r for r in rows if r["half"] == "dev"]
    graded = [Record(r["question"], tuple(r["reference"]), r["answer"], id=r["id"]) for r in dev]
    config = load_config()
    synth, labels = labelled_pairs(split_path(config.data, "judge", "test"), synthetic, 0)
    result = {"code": autojudge.__file__, "mode": mode}
    for name, items, gold in (("graded_dev", graded, [LABEL_INDEX[r["grade"]] for r in dev]),
                              ("synthetic_test", synth, labels)):
        start = time.perf_counter()
        judged = judge.judge(items)
        print(f"{name}: {len(items)} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
        result[name] = {"gold": gold, "verdict": [j.verdict and j.verdict.value for j in judged],
                        "p_correct": [j.p_correct for j in judged]}
    out.write_text(json.dumps(result))


def rates(verdicts: np.ndarray, gold: np.ndarray) -> dict[str, float]:
    said = verdicts == "correct"
    return {"accuracy": float((verdicts == gold).mean()),
            "precision_correct": float((gold[said] == "correct").mean()),
            "recall_correct": float(said[gold == "correct"].mean())}


def versus(a: dict, b: dict) -> dict[str, float]:
    diff = np.abs(np.array(a["p_correct"]) - np.array(b["p_correct"]))
    same = np.array(a["verdict"]) == np.array(b["verdict"])
    return {"verdict_agreement": float(same.mean()), "verdicts_differ": int((~same).sum()),
            "p_correct_abs_diff_mean": float(diff.mean()),
            "p_correct_abs_diff_p99": float(np.quantile(diff, 0.99)),
            "p_correct_abs_diff_max": float(diff.max())}


def compare(named: dict[str, Path]) -> dict:
    runs = {name: json.loads(path.read_text()) for name, path in named.items()}
    figures: dict = {"inputs": {name: {"file": str(path), "code": runs[name]["code"],
                                       "mode": runs[name]["mode"]}
                                for name, path in named.items()}}
    for split in ("graded_dev", "synthetic_test"):
        first = next(iter(runs.values()))[split]
        gold = np.array([LABELS[g] for g in first["gold"]])
        figures[split] = {
            "n": len(gold),
            "per_path": {name: rates(np.array(r[split]["verdict"]), gold)
                         for name, r in runs.items()},
            **{f"{a}_vs_{b}": versus(runs[a][split], runs[b][split])
               for a, b in itertools.combinations(runs, 2)}}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("--judge", required=True, help="a saved judge folder")
    d.add_argument("--mode", choices=("int8", "float"), default="int8")
    d.add_argument("--synthetic", type=int, default=3000, help="test-split pairs (seeded sample)")
    d.add_argument("--out", type=Path, required=True)
    c = sub.add_parser("compare")
    c.add_argument("runs", nargs="+", metavar="NAME=FILE")
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.judge, args.mode, args.out, args.synthetic)
        return
    named = {k: Path(v) for k, _, v in (run.partition("=") for run in args.runs)}
    figures = compare(named)
    print(json.dumps({k: v for k, v in figures.items() if k != "inputs"}, indent=1))
    print(f"wrote {write_result('int8_agreement', figures)}")


if __name__ == "__main__":
    main()
