"""PPO trainer: smoke runs on a tiny random policy with a fake judge, resume, failure handling."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from autojudge.policy import load_policy
from autojudge.rewards.schemes import Reward
from autojudge.trainers.ppo import PPOError, batch_indices, train_ppo
from autojudge.trainers.ppo_state import latest_checkpoint
from tests.launch import launch_two
from tests.ppo_smoke import QUESTIONS, ContainsJudge, smoke_config



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
    assert list((tmp_path / "trackers" / "autojudge").glob("events.out.tfevents.*"))
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
    """Dies (as if killed) when asked to judge step `die_at`'s rollout. Like any user's judge may
    (ours no longer does: its int8 build leaves the random streams alone), it draws from torch's
    global generator the first time it judges: in a resumed run that draw falls after the
    restore, so PPO must not sample or shuffle from that generator."""

    def __init__(self, die_at: int | None = None) -> None:
        self.calls, self.die_at = 0, die_at

    def judge(self, items):
        self.calls += 1
        if self.calls == self.die_at:
            raise KilledAt
        if self.calls == 1:
            torch.nn.Linear(4, 2)
        return super().judge(items)


def assert_same_run(a: Path, b: Path, last_step: int) -> None:
    """Logs (but for timings), final weights, optimizer state, PPO's RNG streams and trainer
    state all bit-identical."""
    def untimed(path):
        return [{k: v for k, v in r.items() if not k.startswith("time/")} for r in rows(path)]

    assert [r["step"] for r in rows(b / "log.jsonl")] == list(range(1, last_step + 1))
    assert untimed(a / "log.jsonl") == untimed(b / "log.jsonl")
    wa, wb = weights(a / "policy"), weights(b / "policy")
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
    ca, cb = latest_checkpoint(a), latest_checkpoint(b)
    assert ca.name == cb.name == f"step-{last_step:06d}"
    for name in ("optimizer.bin", "ppo_streams_0.pt", "model.safetensors"):
        sa, sb = (torch.load(c / name, weights_only=True) if name.endswith((".bin", ".pt"))
                  else load_file(c / name) for c in (ca, cb))
        assert_equal_trees(sa, sb, name)
    assert (ca / "trainer_state.json").read_text() == (cb / "trainer_state.json").read_text()


def assert_equal_trees(a, b, where: str) -> None:
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            assert_equal_trees(a[key], b[key], f"{where}/{key}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_equal_trees(x, y, f"{where}/{i}")
    elif isinstance(a, torch.Tensor):
        assert torch.equal(a, b), where
    else:
        assert a == b, where


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_resume_after_a_kill_is_bit_exact(tiny_causal_lm_dir, tmp_path, precision):
    """Killed while judging step 4: step 3 is in the log (its last line half-written) but the
    last checkpoint is step 2's. Under bf16 the rollouts come from the bf16 copy, rebuilt on
    resume."""
    steps = ("ppo.steps=5", "ppo.epochs=2", "ppo.save_every=2", f"ppo.mixed_precision={precision}")
    run(tiny_causal_lm_dir, tmp_path / "straight", *steps, judge=DyingJudge())
    with pytest.raises(KilledAt):
        run(tiny_causal_lm_dir, tmp_path / "killed", *steps, judge=DyingJudge(die_at=4))
    assert latest_checkpoint(tmp_path / "killed").name == "step-000002"
    assert [r["step"] for r in rows(tmp_path / "killed" / "log.jsonl")] == [1, 2, 3]
    with (tmp_path / "killed" / "log.jsonl").open("a") as f:
        f.write('{"step": 4, "rollout/rew')  # killed mid-write
    with pytest.warns(RuntimeWarning, match="half-written"):
        resumed = run(tiny_causal_lm_dir, tmp_path / "killed", *steps, judge=DyingJudge(),
                      resume=True)
    assert resumed.step == 5
    assert_same_run(tmp_path / "straight", tmp_path / "killed", 5)


def test_a_kill_while_saving_leaves_the_previous_checkpoint(tiny_causal_lm_dir, tmp_path,
                                                            monkeypatch):
    from autojudge.trainers import ppo_state

    steps = ("ppo.steps=3", "ppo.epochs=2")
    run(tiny_causal_lm_dir, tmp_path / "straight", *steps)
    saves, state_dict = [], ppo_state.Streams.state_dict

    def dying_state_dict(streams):  # step 2's weights and optimizer are written by now
        saves.append(1)
        if len(saves) == 2:
            raise KilledAt
        return state_dict(streams)

    monkeypatch.setattr(ppo_state.Streams, "state_dict", dying_state_dict)
    with pytest.raises(KilledAt):
        run(tiny_causal_lm_dir, tmp_path / "killed", *steps)
    monkeypatch.undo()
    assert (tmp_path / "killed" / "checkpoints" / ".step-000002.tmp").is_dir()
    assert latest_checkpoint(tmp_path / "killed").name == "step-000001"
    run(tiny_causal_lm_dir, tmp_path / "killed", *steps, resume=True)
    assert_same_run(tmp_path / "straight", tmp_path / "killed", 3)


def test_resume_refuses_a_config_that_trains_differently(tiny_causal_lm_dir, tmp_path):
    run(tiny_causal_lm_dir, tmp_path, "ppo.steps=1")
    with pytest.raises(PPOError) as err:
        run(tiny_causal_lm_dir, tmp_path, "ppo.steps=2", "ppo.lr=1e-3",
            "generation.temperature=0.5", resume=True)
    message = str(err.value)
    assert "ppo.lr: 0.01 → 0.001" in message and "generation.temperature: 1.0 → 0.5" in message
    assert "ppo.steps" not in message  # may change
    assert [r["step"] for r in rows(tmp_path / "log.jsonl")] == [1]  # nothing ran
    with pytest.warns(UserWarning, match=r"ppo\.save_every: 1 → 5; ppo\.steps: 1 → 2"):
        result = run(tiny_causal_lm_dir, tmp_path, "ppo.steps=2", "ppo.save_every=5",
                     resume=True)
    assert result.step == 2


def test_the_log_keeps_a_bad_line_before_the_last_as_an_error(tmp_path):
    from autojudge.trainers.tracking import RunLogger

    (tmp_path / "log.jsonl").write_text('{"step": 1}\n{"st\n{"step": 2}\n')
    with pytest.raises(ValueError, match="log.jsonl:2 is not a JSON row"):
        RunLogger(tmp_path / "log.jsonl", start_step=2)


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
    """PPO on 2 gloo processes (tests/launch.py)."""
    proc = launch_two("ppo_smoke.py", tiny_causal_lm_dir, tmp_path / "out",
                      hf_home=tmp_path / "hf", timeout=120)
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


class QuestionJudge(ContainsJudge):
    """Records what it judged; the same verdict for every answer to a question (correct on the
    france question, else incorrect), so only the question, never the answer, moves the score."""

    def __init__(self):
        self.calls: list[list[str]] = []

    def judge(self, items):
        from autojudge.types import Judgement, Verdict

        self.calls.append([r.question for r in items])
        return [Judgement(Verdict.CORRECT, 1.0, 0.0, 0.0, self.name) if "france" in r.question
                else Judgement(Verdict.INCORRECT, 0.0, 1.0, 0.0, self.name) for r in items]


@pytest.mark.parametrize("group_size", [1, 2])
def test_group_size_samples_each_question_several_times_against_its_own_baseline(
        tiny_causal_lm_dir, tmp_path, group_size):
    judge = QuestionJudge()
    result = run(tiny_causal_lm_dir, tmp_path, f"ppo.group_size={group_size}", "ppo.kl_coef=0",
                 "ppo.steps=1", judge=judge)
    asked = judge.calls[0]
    assert len(asked) == 4  # ppo.batch_size answers
    if group_size == 1:
        assert len(set(asked)) == 4
        assert rows(result.log_path)[0]["loss/grad_norm"] > 0
    else:  # 2 questions, 2 answers each; every answer scores as its group does: no signal
        assert asked[0::2] == asked[1::2] and len(set(asked)) == 2
        assert rows(result.log_path)[0]["loss/grad_norm"] == 0.0


def test_group_size_must_split_the_batch_into_whole_groups(tiny_causal_lm_dir):
    from autojudge.config import ConfigError

    with pytest.raises(ConfigError, match="group_size"):
        smoke_config(tiny_causal_lm_dir, "ppo.group_size=3")


def test_gradient_checkpointing_recomputes_in_the_update_and_trains_the_same(tiny_causal_lm_dir,
                                                                             tmp_path):
    """With ppo.gradient_checkpointing the update recomputes each layer in the backward pass
    (the MLP runs more often) and trains to the same weights; rollouts run without it."""
    import torch.nn as nn

    results = {}
    for on in (False, True):
        config = smoke_config(tiny_causal_lm_dir, f"ppo.gradient_checkpointing={str(on).lower()}",
                              "ppo.steps=1")
        policy = load_policy(tiny_causal_lm_dir)
        policy.model.config.attention_dropout = 0.0
        calls = {"grad": 0, "no_grad": 0}

        def count(module, args, calls=calls):
            calls["grad" if torch.is_grad_enabled() else "no_grad"] += 1

        for layer in policy.model.model.layers:
            layer.mlp.register_forward_pre_hook(count)
        train_ppo(config, policy, ContainsJudge(), Reward(config.reward), QUESTIONS,
                  tmp_path / str(on))
        results[on] = (calls, weights(tmp_path / str(on) / "policy"))
        assert all(not m.training for m in policy.model.modules() if isinstance(m, nn.Module))
    (off_calls, off_weights), (on_calls, on_weights) = results[False], results[True]
    assert on_calls["no_grad"] == off_calls["no_grad"]  # rollouts: the same passes
    assert on_calls["grad"] > off_calls["grad"]  # update: forward + recompute in backward
    for key in off_weights:
        assert torch.allclose(off_weights[key], on_weights[key], atol=1e-6), key


def test_the_saved_policy_holds_the_gathered_weights_not_the_local_shard(tiny_causal_lm_dir,
                                                                          tmp_path):
    """Under ZeRO-3 / FSDP a process holds only a shard of each weight; the saved policy must be
    written from accelerate's gathered state dict. A stand-in accelerator gathers to weights
    that differ from the local ones."""
    from autojudge.trainers.ppo_state import save_policy
    from autojudge.trainers.ppo_rollout import ActorCritic

    policy = load_policy(tiny_causal_lm_dir)
    actor = ActorCritic(policy.model, None)
    gathered = {k: torch.full_like(v, 0.5) for k, v in actor.state_dict().items()}

    class Gathering:
        is_main_process = True

        def unwrap_model(self, model):
            return model

        def get_state_dict(self, model):
            return gathered

        def wait_for_everyone(self):
            pass

    save_policy(Gathering(), actor, policy, tmp_path / "policy", lora=False)
    saved = weights(tmp_path / "policy")
    assert saved and all(torch.all(v == 0.5) for v in saved.values())
    assert "model.embed_tokens.weight" in saved
