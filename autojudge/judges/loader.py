"""`load_judge`: a judge spec (a saved folder, `default`, `kind[:argument]`, a server URL) to a
judge. It only loads: training a missing default judge is a step of the jobs that need one
(`autojudge.jobs.judge`)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

from autojudge.cache import home
from autojudge.client import JudgeClient
from autojudge.config import Config, load_config
from autojudge.data.build import FORMAT
from autojudge.data.labelled import POLICY_ANSWERS
from autojudge.judges.abstention import AbstentionJudge
from autojudge.judges.base import JUDGES, META, SAVED, Judge, JudgeError, JudgeFactory, read_meta
from autojudge.judges.ensemble import EnsembleJudge
from autojudge.judges.llm import LLMJudge
from autojudge.judges.strict import StrictChecker
from autojudge.registry import UnknownNameError


RECIPE = 2
"""The default judge's training recipe; raised when the way it is trained changes, so that a
judge trained the old way is not taken for the default (2: the fact judge starts from the
trained comparison judge)."""


def default_judge_dir(config: Config) -> Path:
    """The default judge's folder for this config; its name changes with anything that changes
    the judge (judge and data settings, the encoder, the data format, the graded answers)."""
    graded = hashlib.sha256(POLICY_ANSWERS.read_bytes()).hexdigest() \
        if POLICY_ANSWERS.is_file() else ""
    key = json.dumps([asdict(config.judge), asdict(config.data), config.models.encoder, FORMAT,
                      graded, RECIPE], sort_keys=True)
    return home() / "judges" / f"default-{hashlib.sha256(key.encode()).hexdigest()[:8]}"


def load_judge(spec: str | Path = "default", *, base_url: str | None = None,
               config: Config | None = None) -> Judge:
    """`default` (the judge trained for `config`, by default the embedded one), a saved judge
    folder (written by `autojudge judge train` or `judge.save(folder)`), or `kind[:argument]`.

    Examples: `default`, `./my-judge`, `abstention`, `llm:gpt-4o-mini` (with `base_url` for any
    OpenAI-compatible server), `http://127.0.0.1:8000` (a running `autojudge serve`).
    """
    if spec == "default":
        return load_default(config or load_config())
    if Path(spec).expanduser().is_dir():
        return load_folder(Path(spec).expanduser())
    kind, _, argument = str(spec).partition(":")
    if kind not in JUDGES:
        raise UnknownNameError(f"unknown judge {kind!r}; known: default, a saved judge folder, "
                               f"{', '.join(JUDGES.names())}")
    return JUDGES.get(kind)(argument, base_url)


def load_default(config: Config) -> Judge:
    """The default judge trained for `config`; a clear error naming the command that trains it
    when there is none yet."""
    folder = default_judge_dir(config)
    if not (folder / META).is_file():
        raise JudgeError(
            f"no default judge trained yet for this config (encoder {config.models.encoder}, "
            f"data seed {config.data.seed}; expected in {folder}). Train it once with "
            "`autojudge judge train` (with the same --config and overrides; about 15 minutes "
            "on 2 CPU cores), or let `autojudge demo` do it.")
    return load_folder(folder)


def load_folder(folder: Path) -> Judge:
    """A judge saved by `autojudge judge train` or `judge.save(folder)`, of the kind its
    judge.json names."""
    kind = read_meta(folder).get("kind")
    if not isinstance(kind, str) or kind not in SAVED:
        raise JudgeError(f"{folder / META}: unknown judge kind {kind!r}; known: "
                         f"{', '.join(SAVED.names())}")
    return SAVED.get(kind)(folder)


def _llm(model: str, base_url: str | None) -> Judge:
    if not model:
        raise JudgeError("name the model: --judge llm:MODEL (and --base-url URL for a server "
                         "other than OpenAI's)")
    return _checked(LLMJudge(model, base_url))


def _checked(judge: LLMJudge) -> LLMJudge:
    judge.check()  # one clear error now, not a run of failed rows
    return judge


def _served(scheme: str) -> JudgeFactory:
    """`http://host:port` (a running `autojudge serve`) as a judge."""
    def make(rest: str, _: str | None = None) -> Judge:
        return JudgeClient(f"{scheme}:{rest}")

    return make


def _register() -> None:
    """The kinds a spec may name; `default` and folders are handled by `load_judge` itself."""
    JUDGES.add("abstention", lambda _, __: AbstentionJudge())
    JUDGES.add("llm", _llm)
    JUDGES.add("http", _served("http"))
    JUDGES.add("https", _served("https"))
    SAVED.add("ensemble", EnsembleJudge.load)
    SAVED.add("abstention", AbstentionJudge.load)
    SAVED.add("strict", StrictChecker.load)
    SAVED.add("llm", lambda folder: _checked(LLMJudge.load(folder)))
    SAVED.add("http", JudgeClient.load)


if "llm" not in JUDGES:
    _register()
