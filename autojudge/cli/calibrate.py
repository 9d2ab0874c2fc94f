"""`autojudge calibrate`: parse, call autojudge.jobs.calibrate, print."""

from __future__ import annotations

import argparse
from pathlib import Path

from autojudge.cli.options import config_args, config_of, judge_args, out_arg, run_folder
from autojudge.jobs.calibrate import Sampling, calibrate_rewards, check_policy
from autojudge.rewards.calibrate import format_report


def add_calibrate(sub: argparse._SubParsersAction) -> None:
    cal = sub.add_parser(
        "calibrate", help="Choose the abstention reward from measured data.",
        description="Sample K answers per question from a policy and judge them (or read judged "
                    "samples with --input), estimate each question's P(correct), sweep "
                    "R_abstain and R_incorrect, and recommend rewards for a stated target. "
                    "Writes calibration.json, samples.jsonl, risk_coverage.png and "
                    "threshold_metrics.png. With --check, measure whether a trained policy "
                    "abstains below the threshold and answers above it.")
    config_args(cal, "reward.incorrect=-2 generation.temperature=0.7")
    src = cal.add_mutually_exclusive_group()
    src.add_argument("--model", help="policy to sample (default: models.policy of the config)")
    src.add_argument("--input", type=Path,
                     help="judged samples instead of sampling: rows with id or question, verdict")
    cal.add_argument("--data", type=Path, help="QA records (question, reference) to sample on "
                                               "(default: the held-out test split)")
    cal.add_argument("--questions", type=int, default=200, help="questions to sample on")
    cal.add_argument("--samples", type=int, default=8, help="answers sampled per question")
    judge_args(cal)
    cal.add_argument("--e1", type=float, help="P(correct judged incorrect) (default: the saved "
                                              "judge's measured confusion, else 0)")
    cal.add_argument("--e2", type=float, help="P(incorrect judged correct) (same default)")
    target = cal.add_mutually_exclusive_group()
    target.add_argument("--max-hallucination", type=float,
                        help="recommend rewards for at most this hallucination rate")
    target.add_argument("--threshold", type=float, help="recommend rewards for this t*_eff")
    cal.add_argument("--check", type=Path, metavar="CALIBRATION_JSON",
                     help="check a trained policy (--model or --input) against a calibration")
    out_arg(cal, "calibrate")
    cal.set_defaults(run=_calibrate)


def _calibrate(args: argparse.Namespace) -> int:
    config = config_of(args)
    out = args.out or run_folder("calibrate")
    how = Sampling(args.judge, args.base_url, args.model, args.data, args.questions,
                   args.samples)
    if args.check:
        result, threshold = check_policy(config, out, args.check, how, input=args.input)
        print(f"threshold t*_eff = {threshold:.3f}\n"
              f"questions the starting policy should not answer (P ≤ t*): {result.below}, "
              f"trained policy abstains on {result.abstain_below:.1%} of its samples there\n"
              f"questions it should answer (P > t*): {result.above}, trained policy abstains "
              f"on {result.abstain_above:.1%} of its samples there\nwrote {out / 'check.json'}")
        return 0
    report = calibrate_rewards(config, out, how, input=args.input, e1=args.e1, e2=args.e2,
                               max_hallucination=args.max_hallucination,
                               threshold=args.threshold)
    print(format_report(report))
    print(f"\nwrote {', '.join(str(p) for p in sorted(out.iterdir()))}")
    return 0
