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
    target = demo.add_mutually_exclusive_group()
    target.add_argument("--threshold", type=float, default=pipeline.ANSWER_THRESHOLD,
                        help="calibration target: answer when P(correct) exceeds this "
                             f"(default {pipeline.ANSWER_THRESHOLD:g})")
    target.add_argument("--max-hallucination", type=float,
                        help="calibration target instead: the most answers with at most this "
                             "hallucination rate")
    target.add_argument("--keep-reward", action="store_true",
                        help="no calibration: train with the configured rewards")
    out_arg(demo, "demo")
    tracking_args(demo)
    demo.set_defaults(run=_demo)


def _demo(args: argparse.Namespace) -> int:
    config = config_of(args)
    out = args.out or run_folder("demo")
    bound = None if args.keep_reward else args.max_hallucination
    threshold = None if args.keep_reward or bound is not None else args.threshold
    result = run_pipeline(config, out, eval_questions=args.questions,
                          calibration_questions=args.calibration_questions,
                          calibration_samples=args.calibration_samples,
                          threshold=threshold, max_hallucination=bound)
    print(f"\n{format_table([result.before, result.after], ['before', 'after'])}")
    print(f"\nwrote {out}/report.md (plots, answers, calibration, training log) in "
          f"{result.minutes:.1f} min")
    return 0
