"""autojudge: supervised judges, shaped rewards and PPO for truthful, abstaining language models."""

__version__ = "0.1.0"

from autojudge.types import Fact, FactStatus, Judgement, Record, Verdict  # noqa: E402

__all__ = ["Fact", "FactStatus", "Judgement", "Record", "Verdict", "__version__"]
