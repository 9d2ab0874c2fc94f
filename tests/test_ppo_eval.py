"""Validation during PPO: the best validated step (the start included) is the policy handed
back, and a resumed run takes its best step from `best/`."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from autojudge.policy import load_policy
from autojudge.rewards.schemes import Reward
from autojudge.trainers.ppo import train_ppo
from autojudge.trainers.ppo_eval import BEST, MARK, adopt_best
from autojudge.trainers.ppo_state import TrainState, latest_checkpoint
from tests.ppo_smoke import QUESTIONS, ContainsJudge, smoke_config
from tests.test_ppo import rows, weights


class ValidationJudge(ContainsJudge):
    """ContainsJudge for the rollouts; on the validation question, correct at the first
    validation and incorrect after it, so that step 1 is the best validated step."""

    def __init__(self):
        self.validations = 0

    def judge(self, items):
        from autojudge.types import Judgement, Verdict

        if items and items[0].question == "a validation question ?":
            self.validations += 1
            verdict = Verdict.CORRECT if self.validations == 1 else Verdict.INCORRECT
            return [Judgement(verdict, float(verdict is Verdict.CORRECT),
                              float(verdict is Verdict.INCORRECT), 0.0, self.name)
                    for _ in items]
        return super().judge(items)


@pytest.mark.parametrize("keep_best", [True, False])
def test_validation_keeps_the_best_step_as_the_policy(tiny_causal_lm_dir, tmp_path, keep_best):
    from autojudge.types import Record

    config = smoke_config(tiny_causal_lm_dir, "ppo.eval_every=1", "ppo.steps=2",
                          f"ppo.keep_best={str(keep_best).lower()}", "ppo.validate_start=false")
    validation = [Record("a validation question ?", ("x",))] * 2
    policy = load_policy(tiny_causal_lm_dir)
    result = train_ppo(config, policy, ValidationJudge(), Reward(config.reward), QUESTIONS,
                       tmp_path, validation=validation)
    log = rows(result.log_path)
    assert [r["val/reward"] for r in log] == [1.0, -1.0]
    assert result.kept_step == (1 if keep_best else 2)
    assert [r["val/correct"] for r in log] == [1.0, 0.0]
    last = load_file(latest_checkpoint(tmp_path) / "model.safetensors")
    saved = weights(result.policy_dir)
    lm_key = next(k for k in last if k.endswith("embed_tokens.weight"))
    final_embed = last[lm_key]
    if keep_best:  # step 1's weights, also in best/
        assert not torch.equal(saved["model.embed_tokens.weight"], final_embed)
        assert torch.equal(saved["model.embed_tokens.weight"],
                           weights(tmp_path / "best")["model.embed_tokens.weight"])
        assert json.loads((tmp_path / "best" / "best_step.json").read_text()) == {
            "step": 1, "reward": 1.0}
        in_memory = policy.model.model.embed_tokens.weight.detach()  # policy.model is it too
        assert torch.equal(in_memory, saved["model.embed_tokens.weight"])
    else:
        assert torch.equal(saved["model.embed_tokens.weight"], final_embed)
        assert not (tmp_path / "best").exists()


def test_a_start_no_step_beats_is_the_policy_handed_back(tiny_causal_lm_dir, tmp_path):
    """ppo.validate_start: the starting policy is validated first (step 0, the best here); every
    step validates worse, so the saved policy is the one PPO started from, not the last."""
    from autojudge.types import Record

    config = smoke_config(tiny_causal_lm_dir, "ppo.eval_every=1", "ppo.steps=2")
    validation = [Record("a validation question ?", ("x",))] * 2
    start = weights(tiny_causal_lm_dir)["model.embed_tokens.weight"]
    result = train_ppo(config, load_policy(tiny_causal_lm_dir), ValidationJudge(),
                       Reward(config.reward), QUESTIONS, tmp_path, validation=validation)
    log = rows(result.log_path)
    assert [(r["step"], r["val/reward"]) for r in log] == [(0, 1.0), (1, -1.0), (2, -1.0)]
    assert (result.step, result.kept_step) == (2, 0)
    assert json.loads((tmp_path / "best" / "best_step.json").read_text()) == {
        "step": 0, "reward": 1.0}
    saved = weights(result.policy_dir)["model.embed_tokens.weight"]
    last = load_file(latest_checkpoint(tmp_path) / "model.safetensors")
    trained = last[next(k for k in last if k.endswith("embed_tokens.weight"))]
    assert torch.equal(saved, start) and not torch.equal(saved, trained)


def test_resume_takes_the_step_that_best_holds(tmp_path):
    """Checkpoint at step 6 says best = step 4, but step 8 was validated better before the run
    stopped and replaced best/: the resumed run must call best/ step 8, not step 4."""
    (tmp_path / BEST).mkdir()
    (tmp_path / BEST / MARK).write_text(json.dumps({"step": 8, "reward": 0.5}))
    state = TrainState(step=6, kl_coef=0.05, best_step=4, best_reward=0.1)
    adopt_best(state, tmp_path)
    assert (state.best_step, state.best_reward) == (8, 0.5)


def test_a_best_folder_without_its_mark_leaves_the_state_alone(tmp_path):
    (tmp_path / BEST).mkdir()
    state = TrainState(step=6, kl_coef=0.05, best_step=4, best_reward=0.1)
    adopt_best(state, tmp_path)
    assert (state.best_step, state.best_reward) == (4, 0.1)


class LaterBetter:
    """Wraps ValidationJudge with the verdicts swapped: the second validation is the
    best one."""

    def __new__(cls):
        class Swapped(ValidationJudge):
            def judge(self, items):
                from autojudge.types import Judgement, Verdict

                out = super().judge(items)
                if items and items[0].question == "a validation question ?":
                    verdict = Verdict.CORRECT if self.validations == 2 else Verdict.INCORRECT
                    out = [Judgement(verdict, float(verdict is Verdict.CORRECT),
                                     float(verdict is Verdict.INCORRECT), 0.0, self.name)
                           for _ in items]
                return out

        return Swapped()


def test_a_resumed_run_reports_the_step_its_policy_is_from(tiny_causal_lm_dir, tmp_path):
    """Step 2 is validated best and written to best/, then the run stops before its step-2
    checkpoint. Resumed from step 1, the replayed step 2 validates worse: the policy is best/'s,
    and must be reported as step 2 (the state of checkpoint 1 alone would say step 1)."""
    import shutil
    from dataclasses import replace

    from autojudge.types import Record

    config = smoke_config(tiny_causal_lm_dir, "ppo.eval_every=1", "ppo.steps=2",
                          "ppo.validate_start=false")
    validation = [Record("a validation question ?", ("x",))] * 2

    def train(out, steps, resume=False):
        return train_ppo(replace(config, ppo=replace(config.ppo, steps=steps)),
                         load_policy(tiny_causal_lm_dir), LaterBetter(), Reward(config.reward),
                         QUESTIONS, out, resume=resume, validation=validation)

    assert train(tmp_path / "run", 2).kept_step == 2
    train(tmp_path / "to-step-1", 1)  # the same run's step-1 checkpoint (runs are seeded)
    shutil.rmtree(tmp_path / "run" / "checkpoints")  # the run stopped before step 2's
    shutil.copytree(tmp_path / "to-step-1" / "checkpoints", tmp_path / "run" / "checkpoints")
    assert train(tmp_path / "run", 2, resume=True).kept_step == 2


def test_a_best_folder_holding_the_start_counts_as_kept(tmp_path):
    """best/ marked step 0 (ppo.validate_start): on resume the state keeps the start as the best
    so far, so a later step replaces it only by validating better."""
    (tmp_path / BEST).mkdir()
    (tmp_path / BEST / MARK).write_text(json.dumps({"step": 0, "reward": -0.2}))
    state = TrainState(step=6, kl_coef=0.05)
    assert not state.has_best
    adopt_best(state, tmp_path)
    assert state.has_best and (state.best_step, state.best_reward) == (0, -0.2)
