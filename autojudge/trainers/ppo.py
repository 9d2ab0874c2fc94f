"""PPO on `accelerate`: the policy answers, a judge and a reward score the answers, PPO updates.

Public API:

    train_ppo(config, policy, judge, reward, questions, out_dir, *, resume=False,
              validation=()) -> PPOResult

trains `policy.model` in place for `config.ppo.steps` steps and writes into `out_dir`:
`log.jsonl` (one row of metrics per step; a step-0 row holds the starting policy's validation
with `ppo.validate_start`), `trackers/` (TensorBoard and the other trackers of
`tracking.log_with`), `checkpoints/step-NNNNNN/` (the latest,
written atomically; `resume=True` continues bit-exactly from it, and refuses a config that would
train differently), `best/` (with `ppo.eval_every` and `validation` questions: the validated
step with the highest validation reward, the starting policy counted as step 0) and `policy/`
(the policy to use, LoRA merged, loadable with `autojudge.policy.load_policy`: the best
validated step with `ppo.keep_best`, else the last; `policy.model` becomes it). The same code runs on one CPU, one GPU,
or many processes under `accelerate launch` (each process samples its share of every batch).
The loop is rollout → score → advantages → update; the math lives in `ppo_math`, rollouts and
the actor-critic in `ppo_rollout`, the decode loop (and its bf16 copy of the policy under
`ppo.mixed_precision`) in `ppo_sampler`, the update's epochs of minibatches in `ppo_update`,
validation and the kept best step in `ppo_eval`, checkpoints and the saved policy in `ppo_state`.
Raises PPOError for unusable settings and after `ppo.max_bad_steps` steps in a row whose losses
were all non-finite.

Several processes on a CPU-only machine: `ACCELERATE_USE_CPU=true accelerate launch --multi_gpu
--num_processes 2 ...` (torchrun's launcher, gloo); `--cpu` alone starts one process unless MPI is
set up. `ppo.batch_size` and `ppo.minibatch_size` count sequences over all processes.
"""

from __future__ import annotations

import random
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from autojudge.config import Config, PPOConfig, save_config
from autojudge.judges.base import Judge
from autojudge.policy import Policy
from autojudge.rewards.schemes import Reward
from autojudge.trainers import ppo_math as pm
from autojudge.trainers.ppo_eval import (adopt_best, due, final_policy, keep_if_best, validate,
                                         validate_start)
from autojudge.trainers.ppo_rollout import (Rollout, build_models, collect_rollout,
                                            first_policy_pass, prompt_group, rollout_metrics,
                                            score_answers, training_mode)
from autojudge.trainers.ppo_sampler import Sampler, resolve_mixed_precision
from autojudge.trainers.ppo_state import (LOG_FILE, Streams, TrainState, config_differences,
                                          latest_checkpoint, load_checkpoint, save_checkpoint,
                                          save_policy)
from autojudge.trainers.ppo_update import ppo_update
from autojudge.trainers.tracking import RunLogger, Tracking, start_tracking
from autojudge.types import Record


class PPOError(RuntimeError):
    """Training cannot go on: bad settings, or too many non-finite losses in a row."""


@dataclass
class Run:
    """What a run trains with, built (and restored on resume) once by `start_run`."""

    accelerator: Any
    policy: Policy
    """The tokenizer, and the LM being trained (`model`'s, unwrapped)."""
    model: nn.Module
    """The prepared ActorCritic."""
    ref_lm: nn.Module | None
    """The frozen reference LM (None with LoRA: the adapter turned off)."""
    optimizer: Any
    sampler: Sampler
    streams: Streams


@dataclass(frozen=True)
class PPOResult:
    step: int
    """Steps completed."""
    policy_dir: Path
    """The final policy (a Hugging Face folder with its tokenizer)."""
    log_path: Path
    """The JSONL log, one row of metrics per step."""
    metrics: dict[str, float]
    """The last step's metrics (empty if no step ran)."""
    kept_step: int = 0
    """The step whose weights `policy_dir` holds: the best validated one with `ppo.keep_best`,
    else the last."""


def train_ppo(config: Config, policy: Policy, judge: Judge, reward: Reward,
              questions: Sequence[Record], out_dir: str | Path, *,
              resume: bool = False, validation: Sequence[Record] = ()) -> PPOResult:
    """Train `policy` against `judge` + `reward` on `questions` (each with references),
    validated on `validation` every `ppo.eval_every` steps (the best step kept with
    `ppo.keep_best`)."""
    cfg, out_dir = config.ppo, Path(out_dir)
    tracking = Tracking.of(config, out_dir, "ppo")
    accelerator = make_accelerator(cfg.mixed_precision, tracking)
    _check(config, accelerator.num_processes, questions)
    checkpoint = latest_checkpoint(out_dir) if resume else None
    if checkpoint is not None:
        check_resumable(checkpoint, config)
    run, state = start_run(accelerator, policy, cfg, checkpoint)
    if checkpoint is not None:
        adopt_best(state, out_dir)
    if accelerator.is_main_process:
        out_dir.mkdir(parents=True, exist_ok=True)
        save_config(config, out_dir / "config.yaml")
    start_tracking(accelerator, tracking, start_step=state.step)
    logger = RunLogger(out_dir / LOG_FILE, accelerator, start_step=state.step)
    try:
        metrics = train_loop(run, state, config, questions, judge, reward, logger, out_dir,
                             validation)
    finally:
        logger.close()
    policy_dir = save_policy(accelerator, run.model, policy, out_dir / "policy", cfg.lora)
    best_dir = final_policy(accelerator, policy, state, out_dir, config.models.dtype)
    return PPOResult(state.step, best_dir or policy_dir, logger.path, metrics,
                     state.best_step if best_dir else state.step)


def start_run(accelerator: Any, policy: Policy, cfg: PPOConfig,
              checkpoint: Path | None) -> tuple[Run, TrainState]:
    """The models, optimizer, sampler and random streams of a run, and its state: fresh, or
    restored from `checkpoint`."""
    from accelerate.utils import set_seed

    set_seed(cfg.seed)  # identical initialisation everywhere
    model, ref_lm = build_models(policy, cfg)
    optimizer = make_optimizer([p for p in model.parameters() if p.requires_grad], cfg.lr,
                               accelerator)
    model, optimizer = accelerator.prepare(model, optimizer)
    ref_lm = ref_lm.to(accelerator.device) if ref_lm is not None else None
    state = TrainState(step=0, kl_coef=cfg.kl_coef)
    streams = Streams.seeded(cfg.seed, accelerator.process_index, accelerator.device)
    if checkpoint is not None:
        state = load_checkpoint(accelerator, checkpoint, streams)
    # after the restore: a bf16 copy is made of the restored weights
    sampler = Sampler(accelerator, accelerator.unwrap_model(model).lm, cfg.rollout_copy,
                      streams.sample, root=model)
    return Run(accelerator, policy, model, ref_lm, optimizer, sampler, streams), state


def train_loop(run: Run, state: TrainState, config: Config, questions: Sequence[Record],
               judge: Judge, reward: Reward, logger: RunLogger, out_dir: Path,
               validation: Sequence[Record] = ()) -> dict[str, float]:
    """Steps from `state.step` + 1 to `ppo.steps`, validated, logged and checkpointed; the last
    metrics."""
    from tqdm.auto import tqdm

    cfg, accelerator = config.ppo, run.accelerator
    metrics: dict[str, float] = {}
    steps = tqdm(range(state.step + 1, cfg.steps + 1), desc="ppo", unit="step",
                 initial=state.step, total=cfg.steps, disable=not accelerator.is_local_main_process)
    start = validate_start(accelerator, run.model, run.policy, config, state, validation, judge,
                           reward, out_dir)
    if start:  # a row of its own: the start's validation, step 0
        logger.log(0, start)
    for step in steps:
        asked = [questions[i] for i in batch_indices(len(questions), step,
                                                     cfg.batch_size // cfg.group_size, cfg.seed)]
        asked = asked[accelerator.process_index::accelerator.num_processes]  # this share
        batch = [q for q in asked for _ in range(cfg.group_size)]  # a group per question
        metrics = ppo_step(run, config, state, batch, judge, reward)
        if due(config, step, validation):
            metrics |= validate(accelerator, run.policy, config, validation, judge, reward)
            keep_if_best(accelerator, run.model, run.policy, config, state, metrics, out_dir)
        logger.log(step, metrics)
        steps.set_postfix(reward=f"{metrics['rollout/reward']:.3f}",
                          truth=f"{metrics['rollout/truthfulness']:.2f}")
        if state.bad_steps >= cfg.max_bad_steps:
            raise PPOError(f"{state.bad_steps} steps in a row with non-finite losses; "
                           f"stopping at step {step} (the last checkpoint is intact)")
        if (cfg.save_every and step % cfg.save_every == 0) or step == cfg.steps:
            save_checkpoint(accelerator, out_dir, state, config, run.streams)
    return metrics


def ppo_step(run: Run, config: Config, state: TrainState, batch: Sequence[Record],
             judge: Judge, reward: Reward) -> dict[str, float]:
    """One iteration: rollout → score → advantages → update; advances `state`; the metrics."""
    cfg, temperature, started = config.ppo, config.generation.temperature, time.perf_counter()
    one_pass = single_update(cfg)
    training_mode(run.model, cfg, False)
    rollout = collect_rollout(run.accelerator, run.model, run.ref_lm, run.policy, config, batch,
                              run.sampler, policy_pass=not one_pass)
    scores = score_answers(judge, reward, batch, rollout.answers, run.accelerator.device)
    training_mode(run.model, cfg, True)
    first = (first_policy_pass(run.model, rollout, temperature,
                               prompt_group(run.accelerator, cfg)) if one_pass else None)
    baselined = pm.leave_one_out(scores.rewards, cfg.group_size)  # (B,)
    adv = compute_advantages(rollout, baselined, state.kl_coef, cfg)
    update = ppo_update(run.accelerator, run.model, run.optimizer, rollout, adv, cfg,
                        temperature, run.streams.shuffle, first)
    training_mode(run.model, cfg, False)
    run.sampler.refresh()

    metrics = {**rollout_metrics(run.accelerator, rollout, scores, cfg), **update,
               "policy/kl_coef": state.kl_coef}
    advance(state, metrics, cfg)
    tokens = run.accelerator.reduce(rollout.mask.sum().reshape(1), "sum").item()
    return metrics | {"time/step_s": time.perf_counter() - started,
                      "time/generate_s": rollout.generate_s,
                      "time/generated_tokens_per_s": tokens / rollout.generate_s}


def advance(state: TrainState, metrics: dict[str, float], cfg: PPOConfig) -> None:
    """One more step done: count it, count it as bad if no minibatch could be applied, and
    move the KL coefficient (with ppo.adaptive_kl) after this step's KL."""
    state.step += 1
    all_bad = metrics["update/applied"] == 0 and metrics["update/skipped"] > 0
    state.bad_steps = state.bad_steps + 1 if all_bad else 0
    if cfg.adaptive_kl:
        state.kl_coef = pm.adaptive_kl_coef(state.kl_coef, metrics["policy/kl"], cfg.kl_target,
                                            cfg.kl_horizon, cfg.batch_size)


def compute_advantages(rollout: Rollout, scores: torch.Tensor, kl_coef: float,
                       cfg: PPOConfig) -> pm.Advantages:
    """GAE advantages and returns of the per-token rewards: −kl_coef · KL(policy ‖ reference)
    on every token, plus each answer's score (B,) on its last token. (B, R) each"""
    kl = pm.kl_penalty(rollout.logprobs, rollout.ref_logprobs, cfg.kl_estimator)  # (B, R)
    rewards = pm.token_rewards(scores, kl, rollout.mask, kl_coef)  # (B, R)
    adv = pm.gae(rewards, rollout.values, rollout.mask, cfg.gamma, cfg.lam)
    if cfg.whiten_advantages:
        adv = adv._replace(advantages=pm.masked_whiten(adv.advantages, rollout.mask))
    return adv


RESUMABLE_CHANGES = frozenset({"ppo.steps", "ppo.save_every", "ppo.max_bad_steps",
                               "ppo.eval_every", "ppo.eval_questions", "ppo.keep_best",
                               "ppo.gradient_checkpointing"})
"""Config keys a resumed run may change (besides the warm-start's, which a resumed run reuses
as it is, and the trackers'): how long it runs, how often it saves and validates, when it gives
up, whether it recomputes activations. Any other difference would train differently from the
run being continued."""


def check_resumable(checkpoint: Path, config: Config) -> None:
    """Refuse to resume from `checkpoint` under a config that trains differently from the one it
    was saved with, naming every such key; warn about the differences that do not."""
    changes = {key: f"{key}: {old!r} → {new!r}"
               for key, (old, new) in config_differences(checkpoint, config).items()}
    refused = [text for key, text in changes.items()
               if key not in RESUMABLE_CHANGES
               and not key.startswith(("warm_start.", "tracking."))]
    if refused:
        raise PPOError(f"cannot resume {checkpoint}: the config differs from the one it was "
                       f"saved with ({checkpoint / 'config.yaml'}) in {'; '.join(refused)}. "
                       f"Resume with those values, or start a new run without --resume")
    if changes:
        warnings.warn(f"resuming {checkpoint} with changed settings: "
                      f"{'; '.join(changes.values())}", UserWarning, stacklevel=2)


def single_update(cfg: PPOConfig) -> bool:
    """Whether each rollout gets exactly one optimizer step (one epoch, one minibatch)."""
    return cfg.epochs == 1 and cfg.minibatch_size >= cfg.batch_size


def make_optimizer(params: list[nn.Parameter], lr: float,
                   accelerator: Any) -> torch.optim.Optimizer:
    """AdamW, with torch's fused kernel on CPU and CUDA (a 135M-parameter step took 0.08 s
    instead of 0.4-0.7 s on 2 CPU cores); the default kernel under DeepSpeed and FSDP, which
    manage the optimizer's state themselves."""
    from accelerate.utils import DistributedType

    plain = accelerator.distributed_type in (DistributedType.NO, DistributedType.MULTI_CPU,
                                             DistributedType.MULTI_GPU)
    fused = plain and accelerator.device.type in ("cpu", "cuda")
    return torch.optim.AdamW(params, lr=lr, fused=True if fused else None)


def make_accelerator(mixed_precision: str, tracking: Tracking | None = None) -> Any:
    """An Accelerator with `ppo.mixed_precision` resolved (and `tracking`'s trackers). accelerate keeps one state per
    process and refuses a second precision in it; an earlier trainer in this process (the
    warm-start, another run) may have set one, so that part of the state is reset first. The
    process group, if any, is kept."""
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState
    from accelerate.utils import parse_flag_from_env

    cpu_forced = parse_flag_from_env("ACCELERATE_USE_CPU")  # `accelerate launch --cpu`
    wanted = resolve_mixed_precision(mixed_precision,
                                     use_cuda=torch.cuda.is_available() and not cpu_forced)
    if AcceleratorState._shared_state and AcceleratorState().mixed_precision != wanted:
        AcceleratorState._reset_state(reset_partial_state=False)
    return Accelerator(mixed_precision=wanted,
                       **(tracking.accelerator_kwargs() if tracking else {}))


def _check(config: Config, n_processes: int, questions: Sequence[Record]) -> None:
    cfg = config.ppo
    if cfg.batch_size % n_processes or cfg.minibatch_size % n_processes:
        raise PPOError(f"ppo.batch_size ({cfg.batch_size}) and ppo.minibatch_size "
                       f"({cfg.minibatch_size}) must be multiples of the {n_processes} processes")
    if (cfg.batch_size // cfg.group_size) % n_processes:  # each process holds whole groups
        raise PPOError(f"ppo.batch_size / ppo.group_size ({cfg.batch_size // cfg.group_size} "
                       f"questions) must be a multiple of the {n_processes} processes")
    if config.models.dtype == "float16" and resolve_mixed_precision(
            cfg.mixed_precision, use_cuda=torch.cuda.is_available()) == "fp16":
        raise PPOError("models.dtype=float16 with ppo.mixed_precision=fp16: the fp16 gradient "
                       "scaler cannot unscale fp16 weights' gradients; load float32 weights "
                       "(the default) or use bf16")
    if config.generation.temperature <= 0:
        raise PPOError("PPO samples its answers: generation.temperature must be > 0")
    if not questions or any(not q.reference for q in questions):
        raise PPOError("PPO needs questions, each with at least one reference answer")


def batch_indices(n: int, step: int, batch_size: int, seed: int) -> list[int]:
    """Indices of step's questions (steps count from 1): consecutive slices of a fresh seeded
    shuffle per pass over the data, a function of (seed, step) alone so that resume needs no
    sampler state."""
    out, orders = [], {}
    for i in range((step - 1) * batch_size, step * batch_size):
        epoch, pos = divmod(i, n)
        if epoch not in orders:
            orders[epoch] = random.Random(seed * 1_000_003 + epoch).sample(range(n), n)
        out.append(orders[epoch][pos])
    return out
