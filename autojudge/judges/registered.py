"""The judge kinds `load_judge` knows, registered on first use (no side effects on import of
autojudge itself)."""

from __future__ import annotations

from pathlib import Path

from autojudge.judges.abstention import AbstentionJudge
from autojudge.judges.base import JUDGES, JudgeError


def _folder(path: str, _: str | None = None):
    import json

    from autojudge.judges.ensemble import EnsembleJudge

    folder = Path(path)
    meta = folder / "judge.json"
    if not meta.is_file():
        raise JudgeError(f"{folder} is not a saved judge (no judge.json); train one with "
                         "`autojudge judge train`.")
    kind = json.loads(meta.read_text()).get("kind")
    if kind != "ensemble":
        raise JudgeError(f"{meta}: unknown judge kind {kind!r}")
    return EnsembleJudge.load(folder)


def _default(_: str, __: str | None = None):
    """The default judge, trained on first use (saying so, with progress)."""
    from autojudge.config import load_config
    from autojudge.trainers.judges import ensure_judge

    return _folder(str(ensure_judge(load_config())))


def _llm(model: str, base_url: str | None):
    from autojudge.judges.llm import LLMJudge

    if not model:
        raise JudgeError("name the model: --judge llm:MODEL (and --base-url URL for a server "
                         "other than OpenAI's)")
    return LLMJudge(model, base_url)


def _served(scheme: str):
    """`http://host:port` (a running `autojudge serve`) as a judge."""
    def make(rest: str, _: str | None = None):
        from autojudge.client import JudgeClient

        return JudgeClient(f"{scheme}:{rest}")

    return make


if "default" not in JUDGES:
    JUDGES.add("default", _default)
    JUDGES.add("folder", _folder)
    JUDGES.add("abstention", lambda _, __: AbstentionJudge())
    JUDGES.add("llm", _llm)
    JUDGES.add("http", _served("http"))
    JUDGES.add("https", _served("https"))
