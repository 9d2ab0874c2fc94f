"""The `autojudge` command: one subcommand per job, each with --help."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from autojudge import __version__

NOT_BUILT = {"calibrate": 4, "train": 5, "eval": 5, "serve": 6}
"""Subcommands whose issue has not landed yet → that issue's number."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    from autojudge.errors import USER_ERRORS

    try:
        return int(args.run(args) or 0)
    except USER_ERRORS as err:  # our own, worded for the user: no stack trace
        print(f"autojudge: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("autojudge: interrupted", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autojudge",
        description="Supervised judges, shaped rewards and PPO for truthful, abstaining LMs.")
    parser.add_argument("--version", action="version", version=f"autojudge {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    from autojudge.commands import (add_data, add_demo, add_judge_eval, add_judge_train,
                                    add_models, add_score)

    add_score(sub)
    judge = sub.add_parser("judge", help="Train or evaluate the supervised judges.",
                           description="Train or evaluate the supervised judges.")
    judge_sub = judge.add_subparsers(title="judge commands", metavar="COMMAND")
    add_judge_train(judge_sub)
    add_judge_eval(judge_sub)
    _placeholder(sub, "calibrate", "Choose the abstention reward from measured data.")
    _placeholder(sub, "train", "Train a policy with PPO against the judge.")
    _placeholder(sub, "eval", "Evaluate a policy's truthfulness with the judge.")
    _placeholder(sub, "serve", "Serve the judge and reward over HTTP (127.0.0.1 by default).")

    add_demo(sub)
    add_models(sub)
    add_data(sub)
    return parser


def _placeholder(sub: argparse._SubParsersAction, name: str, text: str,
                 full: str | None = None) -> None:
    full = full or name
    issue = NOT_BUILT[full]
    parser = sub.add_parser(name, help=f"{text} (not built yet)",
                            description=f"{text}\n\nNot built yet: tracked in issue #{issue}.")
    parser.set_defaults(run=_not_built(full, issue))


def _not_built(name: str, issue: int) -> Callable[[argparse.Namespace], int]:
    def run(_: argparse.Namespace) -> int:
        print(f"autojudge {name}: not built yet (tracked in issue #{issue}).", file=sys.stderr)
        return 1

    return run
