"""Train a policy: the "I don't know" warm-start (when enabled), then PPO against a judge."""

from __future__ import annotations

import random
from pathlib import Path

from autojudge.cache import say
from autojudge.config import Config
from autojudge.data.build import build, split_path
from autojudge.io import read_records
from autojudge.jobs.judge import resolve_judge
from autojudge.judges.base import Judge
from autojudge.policy import load_policy
from autojudge.rewards.schemes import Reward
from autojudge.types import Record
from autojudge.trainers.ppo import train_ppo
from autojudge.trainers.warm_start import warm_start


def validation_questions(config: Config) -> list[Record]:
    """`ppo.eval_questions` questions of the validation split (a seeded draw) for PPO's
    validation, or none when `ppo.eval_every` is 0 or there is no validation split."""
    path = split_path(config.data, "qa", "val")
    if not config.ppo.eval_every or not path.is_file():
        return []
    records, _ = read_records(path, require=("question", "reference"))
    rng = random.Random(f"{config.data.seed}/ppo-validation")
    return rng.sample(records, min(config.ppo.eval_questions, len(records)))


def train_policy(config: Config, out: Path, *, model: str | None = None, judge_spec: str = "default",
                 base_url: str | None = None, data: Path | None = None, resume: bool = False,
                 only_warm_start: bool = False, judge: Judge | None = None) -> Path:
    """Warm-start (if enabled or asked for alone) then PPO; returns the final policy folder.
    A resumed run reuses a finished warm-start instead of redoing it."""
    judge = judge or resolve_judge(config, judge_spec, base_url)
    if data is None:
        build(config.data)
    records, _ = read_records(data or split_path(config.data, "qa", "train"),
                              require=("question", "reference"))
    start = model or config.models.policy
    warm_dir = out / "warm_start"
    if only_warm_start or config.warm_start.enabled:
        if resume and (warm_dir / "warm_start.json").is_file():
            say(f"warm-start already done: {warm_dir / 'policy'}")
        else:
            say(f"warm-start: sampling {config.warm_start.samples} answers to "
                f"{config.warm_start.questions} training questions from {start}")
            ws = warm_start(config, load_policy(start, config.models.dtype), judge, records,
                            warm_dir)
            say(f"warm-start: {ws.known} known questions, {ws.abstain} \"I don't know\" examples "
                f"(of {ws.unknown} unknown), {ws.steps} steps, loss {ws.final_loss:.3f}")
        start = str(warm_dir / "policy")
        if only_warm_start:
            return warm_dir / "policy"
    per = config.ppo.group_size
    validation = validation_questions(config) if data is None else []
    if data is not None and config.ppo.eval_every:
        say("PPO: no validation (ppo.eval_every) with --data: no validation split of that data")
    say(f"PPO: {config.ppo.steps} steps of {config.ppo.batch_size // per} questions × {per} "
        f"answers from {start}")
    result = train_ppo(config, load_policy(start, config.models.dtype), judge,
                       Reward(config.reward), records, out / "ppo", resume=resume,
                       validation=validation if data is None else [])
    last = result.metrics
    if last:
        say(f"PPO step {result.step}: reward {last.get('rollout/reward', float('nan')):.3f}, "
            f"truthfulness {last.get('rollout/truthfulness', float('nan')):+.3f}; "
            f"log {result.log_path}")
    if result.kept_step == 0 and result.step:
        say(f"PPO: no step beat the starting policy on {len(validation)} validation questions "
            f"(ppo.validate_start); {result.policy_dir} holds the policy PPO started from")
    elif result.kept_step != result.step:
        say(f"PPO: kept step {result.kept_step}, the best on {len(validation)} validation "
            f"questions (ppo.keep_best), in {result.policy_dir}")
    return result.policy_dir
