"""`autojudge serve`: parse, load the judge and reward, run uvicorn until SIGINT / SIGTERM."""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import ipaddress
import os
import sys

from autojudge._extras import require
from autojudge.cli.options import config_args, judge_args, whole_number
from autojudge.config import ConfigError, load_config
from autojudge.jobs.judge import resolve_judge
from autojudge.rewards.schemes import Reward
from autojudge.serve.app import create_app
from autojudge.serve.settings import ServeSettings

TOKEN_VARIABLE = "AUTOJUDGE_TOKEN"


def add_serve(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser(
        "serve", help="Serve the judge and reward over HTTP (127.0.0.1 by default).",
        description="An HTTP service (FastAPI + uvicorn; OpenAPI docs at /docs): POST /v1/judge, "
                    "POST /v1/reward, POST /get_reward (OpenRLHF's remote reward model), "
                    "GET /v1/info, GET /healthz. Concurrent requests are micro-batched. If "
                    f"${TOKEN_VARIABLE} is set, requests must carry `Authorization: Bearer "
                    "<token>`. Reward settings come from --config and KEY=VALUE overrides, "
                    "e.g. reward.scheme=expected reward.abstain=0.2.")
    config_args(serve, "reward.incorrect=-2")
    judge_args(serve)
    serve.add_argument("--reward", metavar="SCHEME",
                       help="reward scheme (ternary, expected, facts): short for reward.scheme=")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to bind (default 127.0.0.1; set a token before widening it)")
    serve.add_argument("--port", type=whole_number(1, 65535), default=8000,
                       help="port, 1-65535 (default 8000)")
    for field in dataclasses.fields(ServeSettings):
        flag = "--" + field.name.replace("_", "-")
        serve.add_argument(flag, type=type(field.default), default=field.default,
                           help=f"{_doc(field.name)} (default {field.default})")
    serve.add_argument("--log-level", default="info", choices=("critical", "error", "warning",
                                                               "info", "debug"))
    serve.set_defaults(run=_serve)


def _doc(name: str) -> str:
    """A settings field's docstring, read from the source (dataclass fields keep none)."""
    source = inspect.getsource(ServeSettings).splitlines()
    for i, line in enumerate(source):
        if line.strip().startswith(f"{name}:"):
            return source[i + 1].strip().strip('"')
    return name


def _serve(args: argparse.Namespace) -> int:
    require("fastapi", "serve", "autojudge serve")  # before a judge is loaded (or trained)
    uvicorn = require("uvicorn", "serve", "autojudge serve")
    overrides = [*args.overrides, *([f"reward.scheme={args.reward}"] if args.reward else [])]
    config = load_config(args.config, overrides)
    reward = Reward(config.reward)
    try:
        settings = ServeSettings(**{f.name: getattr(args, f.name)
                                    for f in dataclasses.fields(ServeSettings)})
    except ValueError as err:
        raise ConfigError(f"serve: {err}") from None
    token = os.environ.get(TOKEN_VARIABLE) or None
    if token is None and not _is_loopback(args.host):
        print(f"autojudge serve: warning: binding {args.host} without ${TOKEN_VARIABLE}; anyone "
              "who can reach it may use the judge", file=sys.stderr)
    judge = resolve_judge(config, args.judge, args.base_url)
    app = create_app(judge, reward, settings, token=token)
    print(f"autojudge serve: judge {judge.name}, reward {reward.name} (t* = "
          f"{reward.threshold:.3f}), token {'required' if token else 'not required'}; "
          f"docs at http://{args.host}:{args.port}/docs", file=sys.stderr, flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level,
                timeout_graceful_shutdown=60)
    return 0


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
