"""autojudge: supervised judges, shaped rewards and PPO for truthful, abstaining language models."""

from autojudge._version import __version__
from autojudge.jobs.judge import resolve_judge
from autojudge.judges.base import Judge
from autojudge.judges.loader import load_judge
from autojudge.rewards.adapters import JudgedReward
from autojudge.types import Fact, FactStatus, Judgement, Record, Verdict

__all__ = ["Fact", "FactStatus", "Judge", "JudgedReward", "Judgement", "Record", "Verdict",
           "__version__", "load_judge", "resolve_judge"]
