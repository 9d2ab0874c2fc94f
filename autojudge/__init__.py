"""autojudge: supervised judges, shaped rewards and PPO for truthful, abstaining language models.

    import autojudge
    judge = autojudge.load_judge("default")        # or a saved folder, "abstention", a URL...
    judge.judge([("What is the capital of France?", "Paris", "It is Paris.")])
    autojudge.reward(questions, references, answers, judge=judge)   # None where it failed
"""

from autojudge._version import __version__
from autojudge.io import ItemError, as_records
from autojudge.jobs.judge import resolve_judge
from autojudge.judges.base import Judge, JudgeBase, JudgeError
from autojudge.judges.loader import load_judge
from autojudge.rewards.adapters import JudgedReward, reward
from autojudge.types import Fact, FactStatus, Item, Judgement, Record, Verdict

__all__ = ["Fact", "FactStatus", "Item", "ItemError", "Judge", "JudgeBase", "JudgeError",
           "JudgedReward", "Judgement", "Record", "Verdict", "__version__", "as_records",
           "load_judge", "reward", "resolve_judge"]
