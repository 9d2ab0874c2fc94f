"""autojudge: supervised judges, shaped rewards and PPO for truthful, abstaining language models."""

__version__ = "0.1.0"

from autojudge.types import Fact, FactStatus, Judgement, Record, Verdict  # noqa: E402



def load_judge(spec: str = "default", *, base_url: str | None = None):
    """`default` (trained on first use), a saved judge folder, or `kind[:argument]`; see
    `autojudge.judges.base.load_judge`."""
    from autojudge.judges.base import load_judge as _load

    return _load(spec, base_url=base_url)


__all__ = ["Fact", "FactStatus", "Judgement", "Record", "Verdict", "__version__", "load_judge"]
