"""The `autojudge` command: one subcommand per job, each with --help. Thin: parse, call
`autojudge.jobs`, print."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from autojudge._version import __version__
from autojudge.cli.calibrate import add_calibrate
from autojudge.cli.demo import add_demo
from autojudge.cli.errors import USER_ERRORS
from autojudge.cli.judge import add_judge_eval, add_judge_export, add_judge_train, add_score
from autojudge.cli.policy import TRAIN_COMMANDS, add_eval, add_train
from autojudge.cli.serve import add_serve
from autojudge.cli.setup import add_data, add_models


def main(argv: Sequence[str] | None = None) -> int:
    argv = _default_train_command(list(sys.argv[1:] if argv is None else argv))
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # argparse takes a positional list only once; overrides after an option land here.
    listed = getattr(args, "overrides", None)
    if listed is not None and all("=" in e and not e.startswith("-") for e in extra):
        listed.extend(extra)
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except USER_ERRORS as err:  # our own, worded for the user: no stack trace
        print(f"autojudge: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("autojudge: interrupted", file=sys.stderr)
        return 130


def _default_train_command(argv: list[str]) -> list[str]:
    """`autojudge train KEY=VALUE ...` means `autojudge train ppo KEY=VALUE ...`."""
    if argv[:1] == ["train"] and not (len(argv) > 1 and argv[1] in
                                      (*TRAIN_COMMANDS, "-h", "--help")):
        return ["train", "ppo", *argv[1:]]
    return argv


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autojudge",
        description="Supervised judges, shaped rewards and PPO for truthful, abstaining LMs.")
    parser.add_argument("--version", action="version", version=f"autojudge {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    add_score(sub)
    judge = sub.add_parser("judge", help="Train, evaluate or export the supervised judges.",
                           description="Train, evaluate or export the supervised judges.")
    judge_sub = judge.add_subparsers(title="judge commands", metavar="COMMAND")
    add_judge_train(judge_sub)
    add_judge_eval(judge_sub)
    add_judge_export(judge_sub)
    add_calibrate(sub)
    add_train(sub)
    add_eval(sub)
    add_serve(sub)
    add_demo(sub)
    add_models(sub)
    add_data(sub)
    return parser
