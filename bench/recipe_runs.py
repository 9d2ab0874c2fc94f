"""What a set of `autojudge train` runs did on their validation questions: the warm-start's known
and "I don't know" examples, every validation (greedy answers to `ppo.eval_questions` validation
questions, scored by the training judge and reward), the step keep-best kept, and the
validations where the policy abstained on every question (the collapse PPO's small batches
rarely leave). Used to choose recipe settings on validation questions only.

    .venv/bin/python bench/recipe_runs.py --name NAME RUN [RUN ...]

A run folder is what `autojudge train ppo --out RUN` wrote (RUN/warm_start, RUN/ppo); a run
stopped early is summarised up to its last validation. Writes bench/results/NAME.json."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).parent))

from _common import write_result  # noqa: E402


def summarise(run: Path) -> dict[str, Any]:
    """One run's settings, warm-start counts and validations."""
    config = yaml.safe_load((run / "ppo" / "config.yaml").read_text())
    warm = json.loads((run / "warm_start" / "warm_start.json").read_text())
    validations = []
    for line in (run / "ppo" / "log.jsonl").read_text().splitlines():
        row = json.loads(line)
        if "val/reward" in row:
            validations.append({"step": row["step"], **{k.removeprefix("val/"): row[k] for k in
                                ("val/reward", "val/correct", "val/incorrect", "val/abstain")}})
    kept = max(validations, key=lambda v: v["reward"], default=None)  # ties: the earliest
    ws = config["warm_start"]
    return {"run": str(run), "ppo_seed": config["ppo"]["seed"],
            "reward_abstain": config["reward"]["abstain"],
            "warm_start": {k: ws[k] for k in ("right_at", "abstain_per_known", "min_abstain")},
            "known": warm["known"], "abstain_examples": warm["abstain"],
            "steps_run": validations[-1]["step"] if validations else 0,
            "validations": validations, "kept": kept,
            "all_abstain_at": [v["step"] for v in validations if v["abstain"] == 1.0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--name", required=True, help="bench/results/NAME.json")
    parser.add_argument("runs", nargs="+", type=Path)
    args = parser.parse_args()
    rows = [summarise(run) for run in args.runs]
    print(f"{'run':<22} {'right_at/per known/min':>22} {'seed':>4} {'known/IDK':>9} "
          f"{'kept: step reward correct incorrect abstain':>44} {'all-abstain at':>15}")
    for r in rows:
        k, ws = r["kept"] or {}, r["warm_start"]
        kept = (f"{k['step']:>3} {k['reward']:+.3f} {k['correct']:.3f} {k['incorrect']:.3f} "
                f"{k['abstain']:.3f}" if k else "-")
        print(f"{Path(r['run']).name:<22} "
              f"{ws['right_at']:>9}/{ws['abstain_per_known']}/{ws['min_abstain']:<4} "
              f"{r['ppo_seed']:>4} {r['known']:>4}/{r['abstain_examples']:<4} {kept:>44} "
              f"{','.join(map(str, r['all_abstain_at'])) or '-':>15}")
    print(write_result(args.name, {"runs": rows}))


if __name__ == "__main__":
    main()
