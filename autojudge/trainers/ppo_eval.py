"""Validation during PPO: greedy answers to held-out questions, scored by the training judge and
reward, and the best step so far kept as a policy folder (`ppo.eval_every`, `ppo.keep_best`)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from autojudge.cache import atomic_dir
from autojudge.config import Config
from autojudge.judges.base import Judge
from autojudge.policy import Policy, answer, load_policy
from autojudge.rewards.schemes import Reward
from autojudge.trainers.ppo_state import TrainState, write_policy
from autojudge.types import Record, Verdict

BEST = "best"
"""The folder (beside `policy/`) holding the evaluated step with the highest validation reward."""
MARK = "best_step.json"
"""In `best/`, written with the weights: the step they are from and its validation reward."""


def due(config: Config, step: int, validation: Sequence[Record]) -> bool:
    """Whether `step` is validated: every `ppo.eval_every` steps and at the last one."""
    every = config.ppo.eval_every
    return bool(every and validation) and (step % every == 0 or step == config.ppo.steps)


@torch.no_grad()
def validate(accelerator: Any, policy: Policy, config: Config, validation: Sequence[Record],
             judge: Judge, reward: Reward) -> dict[str, float]:
    """Mean reward and verdict rates of the policy's greedy answers to `validation` (each
    process answers its share); failed judgements are left out and counted."""
    share = list(validation)[accelerator.process_index::accelerator.num_processes]
    answers = answer(policy, [r.question for r in share], config.generation) if share else []
    judgements = judge.judge([Record(r.question, r.reference, a) for r, a in zip(share, answers)])
    rewards = reward(judgements, answers)
    kept = [(j, r) for j, r in zip(judgements, rewards) if r is not None]
    sums = torch.tensor([sum(r for _, r in kept), len(kept), len(share) - len(kept),
                         *(sum(j.verdict is v for j, _ in kept)
                           for v in (Verdict.CORRECT, Verdict.INCORRECT, Verdict.ABSTAIN))],
                        dtype=torch.float64, device=accelerator.device)
    total, judged, failed, correct, incorrect, abstain = accelerator.reduce(sums, "sum").tolist()
    n = max(judged, 1.0)
    return {"val/reward": total / judged if judged else float("nan"), "val/correct": correct / n,
            "val/incorrect": incorrect / n, "val/abstain": abstain / n, "val/failed": failed}


def keep_if_best(accelerator: Any, model: Any, policy: Policy, config: Config, state: TrainState,
                 metrics: dict[str, float], out_dir: Path) -> None:
    """Write the policy to `out_dir/best` when this step's validation reward beats every earlier
    one (with `ppo.keep_best`), and note the step in `state`."""
    score = metrics.get("val/reward", float("nan"))
    if not config.ppo.keep_best or score != score:  # NaN: nothing was judged
        return
    if not state.has_best or score > state.best_reward:
        write_policy(accelerator, model, policy, out_dir / BEST, config.ppo.lora,
                     {MARK: {"step": state.step, "reward": score}})
        state.best_step, state.best_reward = state.step, score
        state.start_validated = state.start_validated or state.step == 0


def validate_start(accelerator: Any, model: Any, policy: Policy, config: Config,
                   state: TrainState, validation: Sequence[Record], judge: Judge,
                   reward: Reward, out_dir: Path) -> dict[str, float]:
    """Before the first update of a fresh run (`ppo.validate_start`, with `keep_best`): the
    starting policy is validated as step 0 and kept in `best/`, so a run whose every step
    validates worse (one that collapses into abstaining on everything, say) hands back the
    policy it started from. Its metrics, or none when it is not due."""
    cfg = config.ppo
    if not (cfg.validate_start and cfg.keep_best and cfg.eval_every and validation
            and state.step == 0):
        return {}
    metrics = validate(accelerator, policy, config, validation, judge, reward)
    keep_if_best(accelerator, model, policy, config, state, metrics, out_dir)
    return metrics


def adopt_best(state: TrainState, out_dir: Path) -> None:
    """On resume: `best/` may hold a step validated after the checkpoint the run resumes from
    (the earlier best it replaced is gone), so the state takes the step and reward that `best/`
    names; the final policy then is what `best/` holds, under its own step. A `best/` written
    before the marker existed leaves the state as it is."""
    mark = out_dir / BEST / MARK
    if mark.is_file():
        note = json.loads(mark.read_text())
        state.best_step, state.best_reward = int(note["step"]), float(note["reward"])
        state.start_validated = state.start_validated or state.best_step == 0


def final_policy(accelerator: Any, policy: Policy, state: TrainState, out_dir: Path,
                 dtype: str) -> Path | None:
    """With a kept best step other than the last: `out_dir/policy` becomes a copy of it and
    `policy.model` its weights; the path, or None when the last step is the one to keep."""
    best = out_dir / BEST
    if not state.has_best or state.best_step == state.step:  # the same answer everywhere
        return None
    target = out_dir / "policy"
    if accelerator.is_main_process:
        with atomic_dir(target) as tmp:
            shutil.copytree(best, tmp, dirs_exist_ok=True)
    accelerator.wait_for_everyone()
    policy.model = load_policy(target, dtype).model
    return target
