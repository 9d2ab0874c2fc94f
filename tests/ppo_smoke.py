"""A tiny PPO smoke run: a fake judge and questions, shared by tests/test_ppo.py and run by
itself under `accelerate launch` (`python tests/ppo_smoke.py MODEL_DIR OUT_DIR`)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from autojudge.config import Config, load_config
from autojudge.types import Judgement, Record, Verdict

CONFIG = Path(__file__).parent.parent / "configs" / "tiny.yaml"
QUESTIONS = [
    Record("what is the capital of france ?", ("paris",)),
    Record("what is the capital of japan ?", ("tokyo",)),
    Record("who wrote the book ?", ("queen",)),
    Record("which river is in germany ?", ("berlin",)),
]


class ContainsJudge:
    """Correct iff the answer contains a reference word; abstain on "know"; else incorrect."""

    name = "contains"

    def judge(self, items: Sequence[Record]) -> list[Judgement]:
        out = []
        for r in items:
            words = (r.answer or "").split()
            if any(ref in words for ref in r.reference):
                out.append(Judgement(Verdict.CORRECT, 1.0, 0.0, 0.0, self.name))
            elif "know" in words:
                out.append(Judgement(Verdict.ABSTAIN, 0.0, 0.0, 1.0, self.name))
            else:
                out.append(Judgement(Verdict.INCORRECT, 0.0, 1.0, 0.0, self.name))
        return out


def smoke_config(model_dir: str | Path, *overrides: str) -> Config:
    """tiny.yaml with a learning rate big enough to move a random model in two steps."""
    return load_config(CONFIG, [f"models.policy={model_dir}", "ppo.lr=1e-2",
                                "ppo.batch_size=4", "ppo.minibatch_size=2", *overrides])


def main(model_dir: str, out_dir: str) -> None:
    from autojudge.policy import load_policy
    from autojudge.rewards.schemes import Reward
    from autojudge.trainers.ppo import train_ppo

    config = smoke_config(model_dir)
    result = train_ppo(config, load_policy(model_dir), ContainsJudge(), Reward(config.reward),
                       QUESTIONS, out_dir)
    print(json.dumps({"step": result.step, "policy_dir": str(result.policy_dir)}))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent.parent))
    main(*sys.argv[1:3])
