"""`autojudge demo`: the main job on the embedded defaults (the README's first command)."""

from __future__ import annotations

import argparse

from autojudge.cli.options import config_args, config_of, out_arg, run_folder, tracking_args
from autojudge.jobs import pipeline
from autojudge.jobs.pipeline import run_pipeline
from autojudge.policy_eval import format_table


def add_demo(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser(
        "demo", help="The main job on the embedded defaults (the README's first command).",
        description="Fetch the default models and data, train the default judge if absent, "
                    "evaluate the base policy on held-out questions, calibrate the abstention "
                    "reward, warm-start, run a short PPO, evaluate again and print the "
                    "before/after table; the report and plots go to runs/demo-<time>/.")
    config_args(demo)
    demo.add_argument("--questions", type=int, default=pipeline.EVAL_QUESTIONS,
                      help="held-out questions the policy is evaluated on, before and after")
    demo.add_argument("--calibration-questions", type=int,
                      default=pipeline.CALIBRATION_QUESTIONS,
                      help="validation questions sampled to calibrate the reward")
    demo.add_argument("--calibration-samples", type=int,
                      default=pipeline.CALIBRATION_SAMPLES,
                      help="answers sampled per calibration question")
    demo.add_argument("--max-hallucination", type=float,
                      default=pipeline.MAX_HALLUCINATION,
                      help="target of the reward calibration (a negative value keeps the "
                           "configured rewards)")
    out_arg(demo, "demo")
    tracking_args(demo)
    demo.set_defaults(run=_demo)


def _demo(args: argparse.Namespace) -> int:
    config = config_of(args)
    out = args.out or run_folder("demo")
    target = args.max_hallucination if args.max_hallucination >= 0 else None
    result = run_pipeline(config, out, eval_questions=args.questions,
                          calibration_questions=args.calibration_questions,
                          calibration_samples=args.calibration_samples,
                          max_hallucination=target)
    print(f"\n{format_table([result.before, result.after], ['before', 'after'])}")
    print(f"\nwrote {out}/report.md (plots, answers, calibration, training log) in "
          f"{result.minutes:.1f} min")
    return 0
