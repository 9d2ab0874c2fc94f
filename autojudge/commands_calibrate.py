"""`autojudge calibrate`: parse, call autojudge.rewards.calibrate, print and write."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from autojudge.cache import say


def add_calibrate(sub: argparse._SubParsersAction) -> None:
    cal = sub.add_parser(
        "calibrate", help="Choose the abstention reward from measured data.",
        description="Sample K answers per question from a policy and judge them (or read judged "
                    "samples with --input), estimate each question's P(correct), sweep "
                    "R_abstain and R_incorrect, and recommend rewards for a stated target. "
                    "Writes calibration.json, samples.jsonl, risk_coverage.png and "
                    "threshold_metrics.png. With --check, measure whether a trained policy "
                    "abstains below the threshold and answers above it.")
    cal.add_argument("--config", type=Path, help="YAML recipe (default: the embedded defaults)")
    cal.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                     help="dotted overrides, e.g. reward.incorrect=-2 generation.temperature=0.7")
    src = cal.add_mutually_exclusive_group()
    src.add_argument("--model", help="policy to sample (default: models.policy of the config)")
    src.add_argument("--input", type=Path,
                     help="judged samples instead of sampling: rows with id or question, verdict")
    cal.add_argument("--data", type=Path, help="QA records (question, reference) to sample on "
                                               "(default: the held-out test split)")
    cal.add_argument("--questions", type=int, default=200, help="questions to sample on")
    cal.add_argument("--samples", type=int, default=8, help="answers sampled per question")
    cal.add_argument("--judge", default="default", help="default, a saved judge folder, or llm:M")
    cal.add_argument("--base-url", help="OpenAI-compatible endpoint for --judge llm:MODEL")
    cal.add_argument("--e1", type=float, help="P(correct judged incorrect) (default: the saved "
                                              "judge's measured confusion, else 0)")
    cal.add_argument("--e2", type=float, help="P(incorrect judged correct) (same default)")
    target = cal.add_mutually_exclusive_group()
    target.add_argument("--max-hallucination", type=float,
                        help="recommend rewards for at most this hallucination rate")
    target.add_argument("--threshold", type=float, help="recommend rewards for this t*_eff")
    cal.add_argument("--check", type=Path, metavar="CALIBRATION_JSON",
                     help="check a trained policy (--model or --input) against a calibration")
    cal.add_argument("--out", type=Path, help="output folder (default: runs/calibrate-<time>)")
    cal.set_defaults(run=_calibrate)


def _calibrate(args: argparse.Namespace) -> int:
    from autojudge.config import load_config
    from autojudge.io import write_jsonl
    from autojudge.rewards.calibrate import (calibrate, format_report, judge_errors,
                                             plot_report, read_judged)

    config = load_config(args.config, args.overrides)
    out = args.out or Path("runs") / time.strftime("calibrate-%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    if args.check:
        return _check(args, config, out)
    folder = None
    if args.input:
        folder = Path(args.judge) if Path(args.judge).is_dir() else None
        rows, errors = read_judged(args.input)
        for message in errors[:5]:
            say(f"left out {message}")
        if errors:
            say(f"{len(errors)} rows left out of {len(rows) + len(errors)}")
    else:
        rows, folder = _sample(args, config)
        write_jsonl(out / "samples.jsonl", rows)
    e1, e2 = judge_errors(folder)
    e1 = e1 if args.e1 is None else args.e1
    e2 = e2 if args.e2 is None else args.e2
    report = calibrate(rows, config.reward, e1, e2, max_hallucination=args.max_hallucination,
                       threshold=args.threshold)
    report.meta.update({"model": args.model or (None if args.input else config.models.policy),
                        "input": str(args.input) if args.input else None, "judge": args.judge})
    (out / "calibration.json").write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    plots = plot_report(report, out)
    print(format_report(report))
    print(f"\nwrote {out / 'calibration.json'}, {', '.join(str(p) for p in plots)}"
          + ("" if args.input else f", {out / 'samples.jsonl'}"))
    return 0


def _sample(args: argparse.Namespace, config: Any, ids: set[str] | None = None
            ) -> tuple[list[dict[str, Any]], Path | None]:
    """Sample and judge (all questions in `ids` if given, else `--questions` of them); also
    return the judge's folder (for its measured confusion)."""
    from autojudge.pipeline import held_out_questions
    from autojudge.judges.base import load_judge
    from autojudge.policy import load_policy
    from autojudge.rewards.calibrate import sample_rows
    from autojudge.trainers.judges import ensure_judge

    records, _ = held_out_questions(config, args.data, args.questions, ids)
    folder = None
    if args.judge == "default":
        folder = ensure_judge(config)
    elif Path(args.judge).is_dir():
        folder = Path(args.judge)
    judge = load_judge(str(folder) if folder else args.judge, base_url=args.base_url)
    model = args.model or config.models.policy
    say(f"sampling {args.samples} answers to each of {len(records)} questions from {model}")
    policy = load_policy(model)
    return sample_rows(policy, judge, records, config.generation, args.samples), folder


def _check(args: argparse.Namespace, config: Any, out: Path) -> int:
    from collections import defaultdict

    from autojudge.io import InputError, write_jsonl
    from autojudge.rewards.calibrate import read_judged
    from autojudge.rewards.calibration import check

    if not args.check.is_file():
        raise InputError(f"{args.check}: no such calibration file")
    calibration = json.loads(args.check.read_text())
    p_start = {q["id"]: q["p_correct"] for q in calibration["per_question"]}
    threshold = (calibration["recommendation"] or calibration["current"])["effective_threshold"]
    if args.input:
        rows, _ = read_judged(args.input)
    else:
        rows, _ = _sample(args, config, ids=set(p_start))
        write_jsonl(out / "check_samples.jsonl", rows)
    abstained: dict[str, list[bool]] = defaultdict(list)
    for row in rows:
        abstained[row["id"]].append(row["verdict"] == "abstain")
    result = check(p_start, abstained, threshold)
    (out / "check.json").write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    print(f"threshold t*_eff = {threshold:.3f}\n"
          f"questions the starting policy should not answer (P ≤ t*): {result.below}, trained "
          f"policy abstains on {result.abstain_below:.1%} of its samples there\n"
          f"questions it should answer (P > t*): {result.above}, trained policy abstains on "
          f"{result.abstain_above:.1%} of its samples there\nwrote {out / 'check.json'}")
    return 0
