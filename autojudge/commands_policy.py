"""`autojudge eval`: parse, call autojudge.policy_eval, print and write."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from autojudge.cache import say


def add_eval(sub: argparse._SubParsersAction) -> None:
    ev = sub.add_parser(
        "eval", help="Evaluate a policy's truthfulness with the judge.",
        description="Greedy (and optionally sampled) answers of a policy to held-out questions, "
                    "judged: accuracy, hallucination rate, abstention rate, truthfulness, "
                    "correct-given-attempted and SimpleQA F. --compare puts a second model "
                    "beside it. Writes eval.json, report.md, rates.png and the judged answers.")
    ev.add_argument("--config", type=Path, help="YAML recipe (default: the embedded defaults)")
    ev.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                    help="dotted overrides, e.g. generation.max_new_tokens=32")
    ev.add_argument("--model", help="policy: a known name or a local folder (default: "
                                    "models.policy of the config)")
    ev.add_argument("--compare", help="a second policy to evaluate on the same questions")
    ev.add_argument("--data", type=Path, help="QA records (question, reference) (default: the "
                                              "held-out test split)")
    ev.add_argument("--questions", type=int, default=200, help="questions to evaluate on")
    ev.add_argument("--samples", type=int, default=0, help="also sample this many answers each")
    ev.add_argument("--judge", default="default", help="default, a saved judge folder, a URL of "
                                                       "`autojudge serve`, or llm:MODEL")
    ev.add_argument("--base-url", help="OpenAI-compatible endpoint for --judge llm:MODEL")
    ev.add_argument("--eval-judge", help="an independent grader beside the built-in strict "
                                         "reference checker: a saved judge folder, a URL of "
                                         "`autojudge serve`, or llm:MODEL (with --base-url)")
    ev.add_argument("--out", type=Path, help="output folder (default: runs/eval-<time>)")
    ev.set_defaults(run=_eval)


def _eval(args: argparse.Namespace) -> int:
    from autojudge.config import load_config
    from autojudge.judges.base import load_judge
    from autojudge.pipeline import held_out_questions, independent_graders
    from autojudge.policy_eval import evaluate_policy, format_table, write_report

    config = load_config(args.config, args.overrides)
    out = args.out or Path("runs") / time.strftime("eval-%Y%m%d-%H%M%S")
    records, path = held_out_questions(config, args.data, args.questions)
    judge = load_judge(args.judge, base_url=args.base_url)
    graders = independent_graders(config, records, args.eval_judge, args.base_url)
    models = [args.model or config.models.policy] + ([args.compare] if args.compare else [])
    reports = []
    for model in models:
        say(f"evaluating {model} on {len(records)} questions")
        reports.append(evaluate_policy(model, judge, records, config.generation,
                                       samples=args.samples, graders=graders))
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
        "train", help="Train a policy with PPO against the judge (or only warm-start it).",
        description="`autojudge train [KEY=VALUE ...]`: the \"I don't know\" warm-start (when "
                    "warm_start.enabled), then PPO on the training questions, rewarded by the "
                    "judge and the reward scheme; logs, checkpoints and the final policy go to "
                    "--out. `autojudge train sft-idk [KEY=VALUE ...]`: only the warm-start. "
                    "Under `accelerate launch` the same command runs on several processes.")
    train.add_argument("--config", type=Path, help="YAML recipe (default: the embedded defaults)")
    train.add_argument("words", nargs="*", metavar="[sft-idk] KEY=VALUE",
                       help="`sft-idk` for the warm-start alone, then dotted overrides, e.g. "
                            "ppo.steps=50 reward.abstain=0.2")
    train.add_argument("--model", help="starting policy (default: models.policy of the config)")
    train.add_argument("--judge", default="default", help="default, a saved judge folder, a URL "
                                                          "of `autojudge serve`, or llm:MODEL")
    train.add_argument("--base-url", help="OpenAI-compatible endpoint for --judge llm:MODEL")
    train.add_argument("--data", type=Path, help="training QA records (default: the train split)")
    train.add_argument("--resume", action="store_true",
                       help="continue from the last checkpoint in --out")
    train.add_argument("--out", type=Path, help="run folder (default: runs/train-<time>)")
    train.set_defaults(run=_train)


def _train(args: argparse.Namespace) -> int:
    from autojudge.config import ConfigError, load_config
    from autojudge.pipeline import train_policy

    words = list(args.words)
    only_warm_start = bool(words) and words[0] == "sft-idk"
    config = load_config(args.config, words[1:] if only_warm_start else words)
    if args.resume and args.out is None:
        raise ConfigError("--resume needs --out, the run folder to continue")
    out = args.out or Path("runs") / time.strftime("train-%Y%m%d-%H%M%S")
    result = train_policy(config, out, model=args.model, judge_spec=args.judge,
                          base_url=args.base_url, data=args.data, resume=args.resume,
                          only_warm_start=only_warm_start)
    print(f"final policy: {result}")
    return 0
