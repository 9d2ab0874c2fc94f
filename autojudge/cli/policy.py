"""`autojudge eval` and `autojudge train` (`train ppo`, `train sft-idk`): parse, call the jobs,
print."""

from __future__ import annotations

import argparse
from pathlib import Path

from autojudge.cache import say
from autojudge.cli.options import (config_args, config_of, judge_args, out_arg, run_folder,
                                   tracking_args)
from autojudge.config import ConfigError
from autojudge.jobs.judge import independent_graders, resolve_judge
from autojudge.jobs.questions import held_out_questions
from autojudge.jobs.train import train_policy
from autojudge.policy_eval import evaluate_policy, format_table, write_report

TRAIN_COMMANDS = ("ppo", "sft-idk")


def add_eval(sub: argparse._SubParsersAction) -> None:
    ev = sub.add_parser(
        "eval", help="Evaluate a policy's truthfulness with the judge and an independent grader.",
        description="Greedy (and optionally sampled) answers of a policy to held-out questions, "
                    "graded by the reward judge and by graders the policy was not trained "
                    "against (the strict reference checker, and --eval-judge): accuracy, "
                    "hallucination, abstention, truthfulness, correct-given-attempted, SimpleQA "
                    "F and the graders' disagreement. --compare puts a second model beside it. "
                    "Writes eval.json, report.md, rates.png and the judged answers.")
    config_args(ev, "generation.max_new_tokens=32")
    ev.add_argument("--model", help="policy: a known name or a local folder (default: "
                                    "models.policy of the config)")
    ev.add_argument("--compare", help="a second policy to evaluate on the same questions")
    ev.add_argument("--data", type=Path, help="QA records (question, reference) (default: the "
                                              "held-out test split)")
    ev.add_argument("--questions", type=int, default=200, help="questions to evaluate on")
    ev.add_argument("--samples", type=int, default=0, help="also sample this many answers each")
    judge_args(ev)
    ev.add_argument("--eval-judge", help="an independent grader beside the built-in strict "
                                         "reference checker: a saved judge folder, a URL of "
                                         "`autojudge serve`, or llm:MODEL (with --base-url)")
    out_arg(ev, "eval")
    ev.set_defaults(run=_eval)


def _eval(args: argparse.Namespace) -> int:
    config = config_of(args)
    out = args.out or run_folder("eval")
    judge = resolve_judge(config, args.judge, args.base_url)
    records, path = held_out_questions(config, args.data, args.questions)
    graders = independent_graders(config, records, args.eval_judge, args.base_url)
    models = [args.model or config.models.policy] + ([args.compare] if args.compare else [])
    reports = []
    for model in models:
        say(f"evaluating {model} on {len(records)} questions")
        reports.append(evaluate_policy(model, judge, records, config.generation,
                                       samples=args.samples, graders=graders,
                                       dtype=config.models.dtype))
    labels = _labels(models)
    paths = write_report(reports, labels, out, {"data": str(path), "questions": len(records),
                                                "judge": args.judge})
    print(format_table(reports, labels))
    print(f"\nwrote {', '.join(str(p) for p in paths)}")
    return 0


def _labels(models: list[str]) -> list[str]:
    names = [Path(m).name or m for m in models]
    return names if len(set(names)) == len(names) else [f"{i + 1}:{n}" for i, n in
                                                          enumerate(names)]


def add_train(sub: argparse._SubParsersAction) -> None:
    train = sub.add_parser(
        "train", help="Train a policy: `train [ppo]` (warm-start + PPO) or `train sft-idk`.",
        description="`autojudge train [ppo] [KEY=VALUE ...]`: the \"I don't know\" warm-start "
                    "(when warm_start.enabled), then PPO on the training questions, rewarded by "
                    "the judge and the reward scheme. `autojudge train sft-idk`: the warm-start "
                    "alone. Under `accelerate launch` the same command runs on several processes.")
    train_sub = train.add_subparsers(title="train commands", metavar="COMMAND")
    for name, text in (("ppo", "The warm-start (when enabled), then PPO against the judge; "
                               "logs, checkpoints and the final policy go to --out."),
                       ("sft-idk", "Only the \"I don't know\" warm-start: sample the policy, "
                                   "fine-tune it to abstain on questions it does not know.")):
        cmd = train_sub.add_parser(name, help=text.split(";")[0].split(":")[0] + ".",
                                   description=text)
        config_args(cmd, "ppo.steps=50 reward.abstain=0.2")
        cmd.add_argument("--model", help="starting policy (default: models.policy of the "
                                         "config)")
        judge_args(cmd)
        cmd.add_argument("--data", type=Path,
                         help="training QA records (default: the train split)")
        cmd.add_argument("--resume", action="store_true",
                         help="continue from the last checkpoint in --out")
        out_arg(cmd, "train", "run folder")
        tracking_args(cmd)
        cmd.set_defaults(run=_train, only_warm_start=name == "sft-idk")


def _train(args: argparse.Namespace) -> int:
    config = config_of(args)
    if args.resume and args.out is None:
        raise ConfigError("--resume needs --out, the run folder to continue")
    out = args.out or run_folder("train")
    result = train_policy(config, out, model=args.model, judge_spec=args.judge,
                          base_url=args.base_url, data=args.data, resume=args.resume,
                          only_warm_start=args.only_warm_start)
    print(f"final policy: {result}")
    return 0
