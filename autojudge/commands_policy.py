"""`autojudge eval`: parse, call autojudge.policy_eval, print and write."""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path
from typing import Any

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
    ev.add_argument("--out", type=Path, help="output folder (default: runs/eval-<time>)")
    ev.set_defaults(run=_eval)


def held_out_questions(config: Any, data: Path | None, n: int, ids: set[str] | None = None
                       ) -> tuple[list[Any], Path]:
    """`n` QA records (seeded choice) from `data` or the held-out test split (built if needed);
    with `ids`, exactly the records whose id (or question) is in it."""
    from autojudge.data.build import build, split_path
    from autojudge.io import read_records

    if data is None:
        build(config.data)
    path = data or split_path(config.data, "qa", "test")
    records, _ = read_records(path, require=("question", "reference"))
    if ids is not None:
        records = [r for r in records if (r.id or r.question) in ids]
    elif len(records) > n:
        records = random.Random(config.data.seed).sample(records, n)
    return records, path


def _eval(args: argparse.Namespace) -> int:
    from autojudge.config import load_config
    from autojudge.judges.base import load_judge
    from autojudge.policy_eval import evaluate_policy, format_table, write_report

    config = load_config(args.config, args.overrides)
    out = args.out or Path("runs") / time.strftime("eval-%Y%m%d-%H%M%S")
    records, path = held_out_questions(config, args.data, args.questions)
    judge = load_judge(args.judge, base_url=args.base_url)
    models = [args.model or config.models.policy] + ([args.compare] if args.compare else [])
    reports = []
    for model in models:
        say(f"evaluating {model} on {len(records)} questions")
        reports.append(evaluate_policy(model, judge, records, config.generation,
                                       samples=args.samples))
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


def train_policy(config: Any, out: Path, *, model: str | None = None, judge_spec: str = "default",
                 base_url: str | None = None, data: Path | None = None, resume: bool = False,
                 only_warm_start: bool = False, judge: Any = None) -> Path:
    """Warm-start (if enabled or asked for alone) then PPO; returns the final policy folder.
    A resumed run reuses a finished warm-start instead of redoing it."""
    from autojudge.data.build import build, split_path
    from autojudge.io import read_records
    from autojudge.judges.base import load_judge
    from autojudge.policy import load_policy
    from autojudge.rewards.schemes import Reward
    from autojudge.trainers.ppo import train_ppo
    from autojudge.trainers.warm_start import warm_start

    if data is None:
        build(config.data)
    records, _ = read_records(data or split_path(config.data, "qa", "train"),
                              require=("question", "reference"))
    judge = judge or load_judge(judge_spec, base_url=base_url)
    start = model or config.models.policy
    warm_dir = out / "warm_start"
    if only_warm_start or config.warm_start.enabled:
        if resume and (warm_dir / "warm_start.json").is_file():
            say(f"warm-start already done: {warm_dir / 'policy'}")
        else:
            say(f"warm-start: sampling {config.warm_start.samples} answers to "
                f"{config.warm_start.questions} training questions from {start}")
            ws = warm_start(config, load_policy(start), judge, records, warm_dir)
            say(f"warm-start: {ws.known} known questions, {ws.abstain} \"I don't know\" examples "
                f"(of {ws.unknown} unknown), {ws.steps} steps, loss {ws.final_loss:.3f}")
        start = str(warm_dir / "policy")
        if only_warm_start:
            return warm_dir / "policy"
    say(f"PPO: {config.ppo.steps} steps of {config.ppo.batch_size} questions from {start}")
    result = train_ppo(config, load_policy(start), judge, Reward(config.reward), records,
                       out / "ppo", resume=resume)
    last = result.metrics
    if last:
        say(f"PPO step {result.step}: reward {last.get('rollout/reward', float('nan')):.3f}, "
            f"truthfulness {last.get('rollout/truthfulness', float('nan')):+.3f}; "
            f"log {result.log_path}")
    return result.policy_dir
