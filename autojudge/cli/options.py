"""Options several commands share, declared once, and where run folders go."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from autojudge.config import Config, load_config

JUDGE_HELP = ("default (the judge trained for --config; trained first if missing), a saved judge "
              "folder, abstention, a URL of `autojudge serve`, or llm:MODEL (with --base-url)")


def config_args(parser: argparse.ArgumentParser, example: str = "data.seed=7 ppo.steps=50"
                ) -> None:
    """--config and KEY=VALUE overrides."""
    parser.add_argument("--config", type=Path, help="YAML recipe (default: the embedded defaults)")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                        help=f"dotted overrides, e.g. {example}")


def whole_number(low: int, high: int | None = None):
    """An argparse type: a whole number in [low, high] (no upper bound without `high`); anything
    else is argparse's one-line usage error."""
    bounds = f"of at least {low}" if high is None else f"from {low} to {high}"

    def parse(text: str) -> int:
        value = int(text) if text.strip().isdigit() else None
        if value is None or value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected a whole number {bounds}, got {text!r}")
        return value

    return parse


def judge_args(parser: argparse.ArgumentParser) -> None:
    """--judge and --base-url: which judge a command uses."""
    parser.add_argument("--judge", default="default", help=JUDGE_HELP)
    parser.add_argument("--base-url", help="OpenAI-compatible endpoint for --judge llm:MODEL")


def tracking_args(parser: argparse.ArgumentParser) -> None:
    """--log-with: the experiment trackers of a command that trains (`tracking.log_with`)."""
    parser.add_argument(
        "--log-with", type=tracker_list, metavar="TRACKERS",
        help="experiment trackers, comma-separated: tensorboard, wandb, trackio, mlflow, "
             "comet_ml, aim, clearml, dvclive, swanlab, or none (default: tracking.log_with of "
             "the config, TensorBoard where installed); they run offline unless "
             "tracking.online=true")


def tracker_list(text: str) -> list[str]:
    """`wandb,tensorboard` → ["wandb", "tensorboard"]; `none` → [] (the config checks the
    names)."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    return [] if names == ["none"] else names


def out_arg(parser: argparse.ArgumentParser, kind: str, what: str = "output folder") -> None:
    """--out, defaulting to a fresh run folder (`run_folder(kind)`)."""
    parser.add_argument("--out", type=Path, help=f"{what} (default: runs/{kind}-<time>)")


def run_folder(kind: str) -> Path:
    """Where a run writes when --out is not given: runs/<kind>-<YYYYmmdd-HHMMSS>."""
    return Path("runs") / time.strftime(f"{kind}-%Y%m%d-%H%M%S")


def config_of(args: argparse.Namespace) -> Config:
    """The config a command runs on: --config plus its overrides (and --log-with, where the
    command has it)."""
    overrides = list(args.overrides)
    if getattr(args, "log_with", None) is not None:
        overrides.append(f"tracking.log_with={json.dumps(args.log_with)}")
    return load_config(args.config, overrides)
