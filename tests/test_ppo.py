"""PPO trainer: smoke runs on a tiny random policy with a fake judge, resume, failure handling."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from autojudge.policy import load_policy
from autojudge.rewards.schemes import Reward
from autojudge.trainers.ppo import PPOError, batch_indices, train_ppo
from autojudge.trainers.ppo_state import latest_checkpoint
from tests.ppo_smoke import QUESTIONS, ContainsJudge, smoke_config

ROOT = Path(__file__).parent.parent


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def weights(policy_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(policy_dir / "model.safetensors")


def run(model_dir, out_dir, *overrides, judge=None, reward=None, resume=False):
    config = smoke_config(model_dir, *overrides)
    return train_ppo(config, load_policy(model_dir), judge or ContainsJudge(),
                     reward or Reward(config.reward), QUESTIONS, out_dir, resume=resume)


def test_two_step_smoke_run_changes_the_policy_and_logs_finite_metrics(tiny_causal_lm_dir,
                                                                       tmp_path):
    before = weights(tiny_causal_lm_dir)
    result = run(tiny_causal_lm_dir, tmp_path)
    assert result.step == 2
    log = rows(result.log_path)
    assert [r["step"] for r in log] == [1, 2]
    for row in log:
        assert all(math.isfinite(v) for v in row.values()), row
        assert row["rollout/correct"] + row["rollout/incorrect"] + row["rollout/abstain"] == 1.0
        assert row["rollout/truthfulness"] == row["rollout/correct"] - row["rollout/incorrect"]
        assert row["update/applied"] == 2 and row["update/skipped"] == 0
    assert abs(log[0]["policy/kl"]) < 1e-6  # the first rollout is sampled by the reference
    after = weights(result.policy_dir)
    assert any(not torch.equal(before[k], after[k]) for k in before)
    assert load_policy(result.policy_dir).model.config.hidden_size == 16
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
    assert latest_checkpoint(tmp_path).name == "step-000002"  # older ones are removed
    assert len(list((tmp_path / "checkpoints").iterdir())) == 1


def test_one_update_per_rollout_reuses_the_loss_forward_pass(tiny_causal_lm_dir, tmp_path,
                                                             monkeypatch):
    """One epoch of one minibatch: the update's forward pass supplies the rollout's log-probs
    and values; the result must match the run that makes a separate pass for them."""
    import autojudge.trainers.ppo as ppo

    single = ("ppo.epochs=1", "ppo.minibatch_size=4")
    fused = run(tiny_causal_lm_dir, tmp_path / "fused", *single)
    monkeypatch.setattr(ppo, "single_update", lambda cfg: False)
    separate = run(tiny_causal_lm_dir, tmp_path / "separate", *single)
    fused_log, separate_log = rows(fused.log_path), rows(separate.log_path)
    for a, b in zip(fused_log, separate_log, strict=True):
        assert a["update/applied"] == b["update/applied"] == 1
        for key in ("rollout/reward", "policy/kl", "policy/entropy", "loss/policy", "loss/value"):
            assert a[key] == pytest.approx(b[key], rel=1e-4, abs=1e-6), key
    after_fused, after_separate = weights(fused.policy_dir), weights(separate.policy_dir)
    for k in after_fused:
        torch.testing.assert_close(after_fused[k], after_separate[k], rtol=1e-4, atol=1e-5)
    assert any(not torch.equal(after_fused[k], weights(tiny_causal_lm_dir)[k])
               for k in after_fused)


class KilledAt(RuntimeError):
    pass


class DyingJudge(ContainsJudge):
    """Dies (as if killed) when asked to judge step `die_at`'s rollout."""

    def __init__(self, die_at: int) -> None:
        self.calls, self.die_at = 0, die_at

    def judge(self, items):
        self.calls += 1
        if self.calls == self.die_at:
            raise KilledAt
        return super().judge(items)


def test_resume_after_a_kill_continues_exactly(tiny_causal_lm_dir, tmp_path):
    steps = ("ppo.steps=3", "ppo.epochs=2")
    straight = run(tiny_causal_lm_dir, tmp_path / "straight", *steps)
    with pytest.raises(KilledAt):
        run(tiny_causal_lm_dir, tmp_path / "killed", *steps, judge=DyingJudge(die_at=3))
    assert latest_checkpoint(tmp_path / "killed").name == "step-000002"
    resumed = run(tiny_causal_lm_dir, tmp_path / "killed", *steps, resume=True)

    assert resumed.step == 3
    a, b = rows(straight.log_path), rows(resumed.log_path)
    assert [r["step"] for r in b] == [1, 2, 3]
    for ra, rb in zip(a, b):
        assert {k: v for k, v in ra.items() if not k.startswith("time/")} == \
               {k: v for k, v in rb.items() if not k.startswith("time/")}
    wa, wb = weights(straight.policy_dir), weights(resumed.policy_dir)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_resume_without_a_checkpoint_starts_fresh(tiny_causal_lm_dir, tmp_path):
    result = run(tiny_causal_lm_dir, tmp_path, "ppo.steps=1", resume=True)
    assert result.step == 1


class NaNReward:
    def __call__(self, judgements, answers):
        return [float("nan")] * len(answers)


def test_non_finite_losses_skip_the_batch_then_stop(tiny_causal_lm_dir, tmp_path):
    before = weights(tiny_causal_lm_dir)
    with pytest.warns(RuntimeWarning, match="non-finite"), \
            pytest.raises(PPOError, match="2 steps in a row"):
        run(tiny_causal_lm_dir, tmp_path, "ppo.steps=5", "ppo.max_bad_steps=2",
            reward=NaNReward())
    log = rows(tmp_path / "log.jsonl")
    assert [(r["update/applied"], r["update/skipped"]) for r in log] == [(0, 2), (0, 2)]
    # nothing was applied: the step-1 checkpoint still holds the starting weights
    saved = load_file(latest_checkpoint(tmp_path) / "model.safetensors")
    shared = [k for k in before if f"lm.{k}" in saved]
    assert len(shared) > 10 and all(torch.equal(saved[f"lm.{k}"], before[k]) for k in shared)


def test_lora_separate_critic_adaptive_k3(tiny_causal_lm_dir, tmp_path):
    before = weights(tiny_causal_lm_dir)
    result = run(tiny_causal_lm_dir, tmp_path, "ppo.lora=true", "ppo.lora_r=4",
                 "ppo.value_head=separate", "ppo.adaptive_kl=true", "ppo.kl_target=1e-3",
                 "ppo.kl_horizon=10", "ppo.kl_estimator=k3")
    log = rows(result.log_path)
    assert abs(log[0]["policy/kl"]) < 1e-6  # reference = the adapter disabled: same at first
    assert log[1]["policy/kl"] > 0.0
    # step 1's KL (0) is below target: the coefficient shrinks by 20 % · 4 samples / 10
    assert log[1]["policy/kl_coef"] == pytest.approx(0.05 * (1 - 0.2 * 4 / 10))
    after = weights(result.policy_dir)  # merged: plain weights again, some of them moved
    assert set(after) == set(before)
    assert any(not torch.equal(before[k], after[k]) for k in before)


def test_early_stop_on_approximate_kl(tiny_causal_lm_dir, tmp_path):
    result = run(tiny_causal_lm_dir, tmp_path, "ppo.steps=1", "ppo.epochs=4",
                 "ppo.early_stop_kl=1e-6")
    (row,) = rows(result.log_path)
    assert row["update/early_stopped"] == 1.0
    assert 1 <= row["update/applied"] < 8


def test_batch_indices_cover_every_question_once_per_pass():
    first = batch_indices(10, 1, 4, seed=0) + batch_indices(10, 2, 4, seed=0)
    third = batch_indices(10, 3, 4, seed=0)  # 2 from the end of pass 0, 2 from pass 1
    assert sorted(first + third[:2]) == list(range(10))
    assert batch_indices(10, 3, 4, seed=0) == third  # a function of (seed, step) alone


def test_two_processes_under_accelerate_launch(tiny_causal_lm_dir, tmp_path):
    """`accelerate launch --cpu` starts one process unless MPI is set up; torchrun's launcher
    (`--multi_gpu`) with ACCELERATE_USE_CPU starts two gloo processes on a CPU-only machine."""
    env = {**os.environ, "ACCELERATE_USE_CPU": "true", "HF_HOME": str(tmp_path / "hf"),
           "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
           "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
           "--dynamo_backend", "no", "--main_process_port", "0",
           str(ROOT / "tests" / "ppo_smoke.py"), str(tiny_causal_lm_dir), str(tmp_path / "out")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = rows(tmp_path / "out" / "log.jsonl")
    assert [r["step"] for r in log] == [1, 2]  # the main process alone writes the log
    assert all(math.isfinite(v) for r in log for v in r.values())
    checkpoint = latest_checkpoint(tmp_path / "out")
    assert {p.name for p in checkpoint.glob("random_states_*.pkl")} == {
        "random_states_0.pkl", "random_states_1.pkl"}
    assert load_policy(tmp_path / "out" / "policy").model.config.hidden_size == 16


def test_a_second_run_in_one_process_may_use_another_precision(tiny_causal_lm_dir, tmp_path):
    """accelerate keeps one state per process: a bf16 run after a full-precision one (the
    warm-start then PPO, or a benchmark of both) must not be refused."""
    first = run(tiny_causal_lm_dir, tmp_path / "fp32", "ppo.mixed_precision=fp32", "ppo.steps=1")
    second = run(tiny_causal_lm_dir, tmp_path / "bf16", "ppo.mixed_precision=bf16",
                 "ppo.steps=1")
    assert first.step == second.step == 1
    assert all(math.isfinite(v) for v in second.metrics.values())
