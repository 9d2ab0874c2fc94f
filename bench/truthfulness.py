"""Truthfulness of the starting policy vs warm-started vs PPO-trained, over several PPO seeds,
graded by the reward judge and by the strict reference checker, with bootstrap 95% intervals.

    .venv/bin/python bench/truthfulness.py [--seeds 0 1 2] [--questions 300] [--samples 8]
                                           [--runs RUN ...] [--name NAME] [KEY=VALUE ...]

Without --runs: runs the main job's pipeline once for the first seed (calibrated reward,
warm-start, PPO) into runs/bench-truthfulness-<time>/seed<S>, then PPO alone from the same
warm-started policy and reward for every other seed. With --runs: reuses finished runs (each a
folder with train/warm_start/policy, train/ppo/policy and config.yaml), one per seed.
Every policy answers the same held-out questions greedily; the starting policy is also sampled
`--samples` times per question to find the questions it knows (the warm-start's rule,
trainers.warm_start.knows). Every rate, and every PPO − start difference, gets a bootstrap 95%
interval over questions (seeds kept together when pooled). Writes bench/results/NAME.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from _common import RESULTS, write_result  # noqa: E402

from autojudge.config import load_config  # noqa: E402
from autojudge.io import write_jsonl  # noqa: E402
from autojudge.jobs.judge import independent_graders, resolve_judge  # noqa: E402
from autojudge.jobs.pipeline import run_pipeline  # noqa: E402
from autojudge.jobs.questions import held_out_questions  # noqa: E402
from autojudge.jobs.train import train_policy  # noqa: E402
from autojudge.policy import load_policy, sample  # noqa: E402
from autojudge.policy_eval import add_grades, judged_rows, evaluate_policy  # noqa: E402
from autojudge.trainers.warm_start import knows  # noqa: E402

RATES = ("accuracy", "hallucination", "abstention", "truthfulness")
ROUNDS = 2000


def indicators(rows: list[dict], grader: str) -> dict[str, np.ndarray]:
    """Per question, 1/0 for correct, incorrect, abstain (NaN where the grader can't tell)."""
    verdicts = [verdict(r, grader) for r in rows]
    out = {}
    for rate, wanted in (("accuracy", "correct"), ("hallucination", "incorrect"),
                         ("abstention", "abstain")):
        out[rate] = np.array([np.nan if v is None else float(v == wanted) for v in verdicts])
    out["truthfulness"] = out["accuracy"] - out["hallucination"]
    return out


def bootstrap(values: np.ndarray, seed: int = 0) -> dict[str, object]:
    """Mean over (seeds, questions) and its 95% interval, resampling questions (columns)."""
    values = np.atleast_2d(values)
    rng = np.random.default_rng(seed)
    n = values.shape[1]
    means = [np.nanmean(values[:, rng.integers(0, n, n)]) for _ in range(ROUNDS)]
    low, high = np.nanpercentile(means, [2.5, 97.5])
    return {"value": float(np.nanmean(values)), "ci95": [float(low), float(high)]}


def verdict(row: dict, grader: str) -> str | None:
    """The row's verdict by one grader (None: it can't tell)."""
    return row["verdict"] if grader == "reward_judge" else row["graders"].get(grader)


def abstain_on_known(per_seed: list[list[dict]], known: set[str], grader: str) -> float | None:
    """Share of known questions (by this grader) on which this grader says the policy
    abstained, pooled over seeds; None without known questions."""
    asked = [verdict(r, grader) for rows in per_seed for r in rows if r["id"] in known]
    return sum(v == "abstain" for v in asked) / len(asked) if asked else None


def rates_with_ci(per_seed: list[list[dict]], grader: str) -> dict[str, object]:
    """Every rate of one policy under one grader, pooled over seeds, with intervals."""
    mats = [indicators(rows, grader) for rows in per_seed]
    out: dict[str, object] = {rate: bootstrap(np.stack([m[rate] for m in mats]))
                              for rate in RATES}
    cant = np.stack([np.isnan(m["accuracy"]) for m in mats]).mean()
    out["cant_tell"] = float(cant)
    return out


def differences(start: list[dict], trained: list[list[dict]], grader: str) -> dict[str, object]:
    """Trained − start per rate, paired by question, with intervals."""
    base = indicators(start, grader)
    return {rate: bootstrap(np.stack([indicators(rows, grader)[rate] - base[rate]
                                      for rows in trained])) for rate in RATES}


def train_seeds(config, seeds: list[int], questions: int) -> list[Path]:
    """One pipeline run for the first seed, then PPO alone for the others from its
    warm-started policy, with its calibrated reward."""
    root = Path("runs") / time.strftime("bench-truthfulness-%Y%m%d-%H%M%S")
    first = root / f"seed{seeds[0]}"
    run_pipeline(dataclasses.replace(config, ppo=dataclasses.replace(config.ppo, seed=seeds[0])),
                 first, eval_questions=questions)
    calibrated = load_config(first / "config.yaml")
    runs = [first]
    for seed in seeds[1:]:
        out = root / f"seed{seed}"
        cfg = dataclasses.replace(
            calibrated, ppo=dataclasses.replace(calibrated.ppo, seed=seed),
            warm_start=dataclasses.replace(calibrated.warm_start, enabled=False))
        out.mkdir(parents=True, exist_ok=True)
        (out / "train").mkdir(exist_ok=True)
        train_policy(cfg, out / "train", model=str(first / "train" / "warm_start" / "policy"))
        (out / "train" / "warm_start").symlink_to((first / "train" / "warm_start").resolve())
        (out / "config.yaml").write_text((first / "config.yaml").read_text())
        runs.append(out)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=Path, nargs="+", help="finished runs, one per seed")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--config", type=Path)
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--samples", type=int, default=8,
                        help="samples of the starting policy per question (known questions)")
    parser.add_argument("--name", default="truthfulness")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()

    config = load_config(args.config, args.overrides)
    runs = args.runs or train_seeds(config, args.seeds, args.questions)
    config = load_config(runs[0] / "config.yaml")
    judge = resolve_judge(config)
    test, _ = held_out_questions(config, None, args.questions)
    graders = independent_graders(config, test)
    names = ["reward_judge", *graders]
    start = evaluate_policy(config.models.policy, judge, test, config.generation,
                            graders=graders).greedy_rows
    done: dict[Path, list[dict]] = {}  # seeds share their warm-started policy: answer once

    def answers(path: Path) -> list[dict]:
        if path.resolve() not in done:
            done[path.resolve()] = evaluate_policy(str(path), judge, test, config.generation,
                                                   graders=graders).greedy_rows
        return done[path.resolve()]

    trained = {policy: [answers(run / "train" / policy / "policy") for run in runs]
               for policy in ("warm_start", "ppo")}

    import torch

    torch.manual_seed(0)  # the same known questions for the same starting policy
    groups = sample(load_policy(config.models.policy), [r.question for r in test],
                    config.generation, args.samples, batch_size=64)
    rows = judged_rows(judge, test, groups)
    add_grades(rows, [r for r in test for _ in range(args.samples)], graders)
    known = {}
    for grader in names:
        hits: dict[str, list[bool]] = {}
        for row in rows:
            hits.setdefault(row["id"], []).append(verdict(row, grader) == "correct")
        known[grader] = {q for q, h in hits.items()
                         if knows(sum(h), len(h), config.warm_start.right_at)}

    figures: dict[str, object] = {
        "runs": [str(r) for r in runs], "seeds": {}, "questions": len(test),
        "samples": args.samples, "reward": dataclasses.asdict(config.reward),
        "known_questions": {g: len(k) for g, k in known.items()}, "pooled": {},
        "differences": {}}
    for i, run in enumerate(runs):
        figures["seeds"][str(i)] = {
            "run": str(run),
            "ppo": {g: rates_with_ci([trained["ppo"][i]], g) for g in names}}
    figures["pooled"]["start"] = {g: rates_with_ci([start], g) for g in names}
    for policy in ("warm_start", "ppo"):
        figures["pooled"][policy] = {g: rates_with_ci(trained[policy], g) for g in names}
        for g in names:
            figures["pooled"][policy][g]["abstain_on_known"] = abstain_on_known(
                trained[policy], known[g], g)
    figures["differences"] = {g: differences(start, trained["ppo"], g) for g in names}
    figures["targets"] = targets(figures, names)
    print(report(figures, names))
    print(f"wrote {write_result(args.name, figures)}")
    print(f"wrote {write_answers(args.name, start, trained)} (every greedy answer, for the audit)")


def write_answers(name: str, start: list[dict], trained: dict[str, list[list[dict]]]) -> Path:
    """Every greedy answer with both graders' verdicts, one line each: policy (`start`,
    `warm_start`, `ppo`), seed (index into the runs; None for the start, 0 for the shared
    warm-started policy), question id, question, reference, answer, verdict, graders."""
    keep = ("id", "question", "reference", "answer", "verdict", "graders")
    lines = [{"policy": "start", "seed": None, **{k: r[k] for k in keep}} for r in start]
    for policy, per_seed in trained.items():
        seeds = per_seed[:1] if policy == "warm_start" else per_seed  # shared by the seeds
        lines += [{"policy": policy, "seed": i, **{k: r[k] for k in keep}}
                  for i, rows in enumerate(seeds) for r in rows]
    path = RESULTS / f"{name}_answers.jsonl"
    write_jsonl(path, lines)
    return path


def targets(figures: dict, names: list[str]) -> dict[str, dict[str, object]]:
    """Issue #13's targets, per grader, on the pooled figures."""
    out = {}
    for g in names:
        start, ppo = figures["pooled"]["start"][g], figures["pooled"]["ppo"][g]
        drop = figures["differences"][g]["hallucination"]
        out[g] = {
            "hallucination_ratio": (ppo["hallucination"]["value"] / start["hallucination"]["value"]
                                    if start["hallucination"]["value"] else None),
            "hallucination_halved": ppo["hallucination"]["value"]
            <= start["hallucination"]["value"] / 2,
            "hallucination_drop_excludes_zero": drop["ci95"][1] < 0,
            "accuracy_change_points": 100 * figures["differences"][g]["accuracy"]["value"],
            "accuracy_within_1_point": figures["differences"][g]["accuracy"]["value"] >= -0.01,
            "abstain_on_known": ppo.get("abstain_on_known"),
            "abstain_on_known_at_most_10pct": (ppo.get("abstain_on_known") or 0.0) <= 0.10}
    return out


def report(figures: dict, names: list[str]) -> str:
    lines = [f"{figures['questions']} held-out questions, {len(figures['seeds'])} PPO seeds; "
             "pooled rates [95% interval]"]
    for g in names:
        lines += ["", f"graded by {g}", f"{'':<14}" + "".join(
            f"{p:>26}" for p in ("start", "warm_start", "ppo", "ppo - start"))]
        for rate in RATES:
            cells = [figures["pooled"][p][g][rate] for p in ("start", "warm_start", "ppo")]
            cells.append(figures["differences"][g][rate])
            lines.append(f"{rate:<14}" + "".join(
                f"{c['value']:>+8.3f} [{c['ci95'][0]:+.3f},{c['ci95'][1]:+.3f}]"
                for c in cells))
        lines.append(f"{'cant_tell':<14}" + "".join(
            f"{figures['pooled'][p][g]['cant_tell']:>26.3f}" for p in ("start", "warm_start",
                                                                        "ppo")))
        lines.append(f"known questions {figures['known_questions'][g]}, ppo abstains on "
                     f"{figures['pooled']['ppo'][g]['abstain_on_known']}")
        lines.append(json.dumps(figures["targets"][g]))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
