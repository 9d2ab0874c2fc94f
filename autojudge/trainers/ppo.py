"""PPO on `accelerate`: the policy answers, a judge and a reward score the answers, PPO updates.

Public API:

    train_ppo(config, policy, judge, reward, questions, out_dir, *, resume=False) -> PPOResult

trains `policy.model` in place for `config.ppo.steps` steps and writes into `out_dir`:
`log.jsonl` (one row of metrics per step), `tensorboard/`, `checkpoints/step-NNNNNN/` (the latest,
written atomically; `resume=True` continues exactly from it) and `policy/` (the final policy,
LoRA merged, loadable with `autojudge.policy.load_policy`). The same code runs on one CPU, one GPU,
or many processes under `accelerate launch` (each process samples its share of every batch).
The loop is rollout → score → advantages → update; the math lives in `ppo_math`, rollouts and
the actor-critic in `ppo_rollout`, the decode loop (and its bf16 copy of the policy under
`ppo.mixed_precision`) in `ppo_sampler`, checkpoints and logs in `ppo_state`. Raises PPOError for
unusable settings and after `ppo.max_bad_steps` steps in a row whose losses were all non-finite.

Several processes on a CPU-only machine: `ACCELERATE_USE_CPU=true accelerate launch --multi_gpu
--num_processes 2 ...` (torchrun's launcher, gloo); `--cpu` alone starts one process unless MPI is
set up. `ppo.batch_size` and `ppo.minibatch_size` count sequences over all processes.
"""

from __future__ import annotations

import copy
import random
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from autojudge.cache import atomic_dir
from autojudge.config import Config, PPOConfig, save_config
from autojudge.judges.base import Judge
from autojudge.policy import Policy
from autojudge.rewards.schemes import Reward
from autojudge.trainers import ppo_math as pm
from autojudge.trainers.ppo_rollout import (ActorCritic, Rollout, collect_rollout, fill_policy_pass,
                                            rollout_metrics)
from autojudge.trainers.ppo_sampler import Sampler, resolve_mixed_precision
from autojudge.trainers.ppo_state import (RunLogger, Streams, TrainState, config_differences,
                                          latest_checkpoint, load_checkpoint, save_checkpoint)
from autojudge.types import Record


class PPOError(RuntimeError):
    """Training cannot go on: bad settings, or too many non-finite losses in a row."""


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


def train_ppo(config: Config, policy: Policy, judge: Judge, reward: Reward,
              questions: Sequence[Record], out_dir: str | Path, *,
              resume: bool = False) -> PPOResult:
    """Train `policy` against `judge` + `reward` on `questions` (each with references)."""
    from accelerate.utils import set_seed
    from tqdm.auto import tqdm

    cfg, out_dir = config.ppo, Path(out_dir)
    accelerator = make_accelerator(cfg.mixed_precision)
    _check(config, accelerator.num_processes, questions)
    checkpoint = latest_checkpoint(out_dir) if resume else None
    if checkpoint is not None:
        check_resumable(checkpoint, config)
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
    if accelerator.is_main_process:
        out_dir.mkdir(parents=True, exist_ok=True)
        save_config(config, out_dir / "config.yaml")
    sampler = Sampler(accelerator, accelerator.unwrap_model(model).lm, cfg.rollout_copy,
                      streams.sample)
    logger = RunLogger(out_dir, accelerator.is_main_process, start_step=state.step)
    metrics: dict[str, float] = {}
    steps = tqdm(range(state.step + 1, cfg.steps + 1), desc="ppo", unit="step",
                 initial=state.step, total=cfg.steps, disable=not accelerator.is_local_main_process)
    try:
        for step in steps:
            batch = [questions[i] for i in batch_indices(len(questions), step, cfg.batch_size,
                                                         cfg.seed)]
            batch = batch[accelerator.process_index::accelerator.num_processes]  # this share
            metrics = ppo_step(accelerator, model, ref_lm, optimizer, policy, config, state,
                               batch, judge, reward, sampler, streams.shuffle)
            logger.log(step, metrics)
            steps.set_postfix(reward=f"{metrics['rollout/reward']:.3f}",
                              truth=f"{metrics['rollout/truthfulness']:.2f}")
            if state.bad_steps >= cfg.max_bad_steps:
                raise PPOError(f"{state.bad_steps} steps in a row with non-finite losses; "
                               f"stopping at step {step} (the last checkpoint is intact)")
            if (cfg.save_every and step % cfg.save_every == 0) or step == cfg.steps:
                save_checkpoint(accelerator, out_dir, state, config, streams)
    finally:
        logger.close()
    policy_dir = save_policy(accelerator, model, policy, out_dir / "policy", cfg.lora)
    return PPOResult(state.step, policy_dir, logger.path, metrics)


RESUMABLE_CHANGES = frozenset({"ppo.steps", "ppo.save_every", "ppo.max_bad_steps"})
"""Config keys a resumed run may change (besides the warm-start's, which a resumed run reuses
as it is): how long it runs, how often it saves, when it gives up. Any other difference would
train differently from the run being continued."""


def check_resumable(checkpoint: Path, config: Config) -> None:
    """Refuse to resume from `checkpoint` under a config that trains differently from the one it
    was saved with, naming every such key; warn about the differences that do not."""
    changes = {key: f"{key}: {old!r} → {new!r}"
               for key, (old, new) in config_differences(checkpoint, config).items()}
    refused = [text for key, text in changes.items()
               if key not in RESUMABLE_CHANGES and not key.startswith("warm_start.")]
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


def ppo_step(accelerator: Any, model: nn.Module, ref_lm: nn.Module | None, optimizer: Any,
             policy: Policy, config: Config, state: TrainState, batch: Sequence[Record],
             judge: Judge, reward: Reward, sampler: Sampler,
             shuffle: torch.Generator) -> dict[str, float]:
    """One iteration: rollout → score → advantages → update; advances `state`; the metrics."""
    cfg, started = config.ppo, time.perf_counter()
    one_pass = single_update(cfg)
    rollout = collect_rollout(accelerator, model, ref_lm, policy, config, batch, judge, reward,
                              sampler, policy_pass=not one_pass)
    update = ppo_update(accelerator, model, optimizer, rollout, state.kl_coef, config, shuffle,
                        one_pass)
    sampler.refresh()

    state.step += 1
    all_bad = update["update/applied"] == 0 and update["update/skipped"] > 0
    state.bad_steps = state.bad_steps + 1 if all_bad else 0
    metrics = {**rollout_metrics(accelerator, rollout, cfg), **update,
               "policy/kl_coef": state.kl_coef}
    if cfg.adaptive_kl:
        state.kl_coef = pm.adaptive_kl_coef(state.kl_coef, metrics["policy/kl"], cfg.kl_target,
                                            cfg.kl_horizon, cfg.batch_size)
    tokens = accelerator.reduce(rollout.mask.sum().reshape(1), "sum").item()
    return metrics | {"time/step_s": time.perf_counter() - started,
                      "time/generate_s": rollout.generate_s,
                      "time/generated_tokens_per_s": tokens / rollout.generate_s}


def save_policy(accelerator: Any, model: nn.Module, policy: Policy, path: Path,
                lora: bool) -> Path:
    """The trained LM (LoRA merged into its weights) and tokenizer as a Hugging Face folder;
    `policy.model` becomes that LM."""
    actor = accelerator.unwrap_model(model)
    policy.model = actor.lm.merge_and_unload() if lora else actor.lm
    if accelerator.is_main_process:
        with atomic_dir(path) as tmp:
            policy.model.save_pretrained(tmp)
            policy.tokenizer.save_pretrained(tmp)
    accelerator.wait_for_everyone()
    return path


def make_accelerator(mixed_precision: str) -> Any:
    """An Accelerator with `ppo.mixed_precision` resolved. accelerate keeps one state per
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
    return Accelerator(mixed_precision=wanted)


def _check(config: Config, n_processes: int, questions: Sequence[Record]) -> None:
    cfg = config.ppo
    if cfg.batch_size % n_processes or cfg.minibatch_size % n_processes:
        raise PPOError(f"ppo.batch_size ({cfg.batch_size}) and ppo.minibatch_size "
                       f"({cfg.minibatch_size}) must be multiples of the {n_processes} processes")
    if config.generation.temperature <= 0:
        raise PPOError("PPO samples its answers: generation.temperature must be > 0")
    if not questions or any(not q.reference for q in questions):
        raise PPOError("PPO needs questions, each with at least one reference answer")


def build_models(policy: Policy, cfg: PPOConfig) -> tuple[ActorCritic, nn.Module | None]:
    """The trainable actor-critic, and the frozen reference LM (None with LoRA: the reference is
    then the same model with its adapter disabled)."""
    lm = policy.model
    lm.eval()  # no dropout: rollout and update log-probs must agree
    critic = copy.deepcopy(lm.get_decoder()) if cfg.value_head == "separate" else None
    ref_lm = None
    if cfg.lora:
        from peft import LoraConfig, get_peft_model

        lm = get_peft_model(lm, LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha,
                                           lora_dropout=0.0, task_type="CAUSAL_LM"))
    else:
        ref_lm = copy.deepcopy(lm).requires_grad_(False)
    policy.model = lm
    return ActorCritic(lm, critic), ref_lm


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


def compute_advantages(rollout: Rollout, kl_coef: float, cfg: PPOConfig) -> pm.Advantages:
    kl = pm.kl_penalty(rollout.logprobs, rollout.ref_logprobs, cfg.kl_estimator)  # (B, R)
    rewards = pm.token_rewards(rollout.scores, kl, rollout.mask, kl_coef)  # (B, R)
    adv = pm.gae(rewards, rollout.values, rollout.mask, cfg.gamma, cfg.lam)
    if cfg.whiten_advantages:
        adv = adv._replace(advantages=pm.masked_whiten(adv.advantages, rollout.mask))
    return adv


def ppo_update(accelerator: Any, model: nn.Module, optimizer: Any, rollout: Rollout,
               kl_coef: float, config: Config, shuffle: torch.Generator,
               one_pass: bool = False) -> dict[str, float]:
    """Advantages, then several epochs of shuffled minibatches; a minibatch whose loss or
    gradient is not finite is skipped, and the epochs stop early once approximate
    KL(old ‖ new) passes the limit.

    `one_pass`: the update is one minibatch of one epoch, so the policy has not moved since
    sampling and the forward pass that computes the loss also supplies the rollout's log-probs
    and values (detached) — one forward pass fewer per step, as TRL's GRPO does with one
    iteration (`collect_rollout(..., policy_pass=False)` left them out)."""
    cfg, temperature = config.ppo, config.generation.temperature
    mb = cfg.minibatch_size // accelerator.num_processes
    n, n_response = rollout.mask.shape
    if one_pass:
        logits, values = model(rollout.input_ids, rollout.attention_mask, n_response)
        logits = logits / temperature  # (B, R, V)
        first_logp = pm.logprobs_from_logits(logits, rollout.response_ids)  # (B, R)
        fill_policy_pass(rollout, first_logp, values, logits)
    adv = compute_advantages(rollout, kl_coef, cfg)
    stats: dict[str, list[float]] = {k: [] for k in
                                     ("policy", "value", "clip_frac", "value_clip_frac",
                                      "approx_kl", "grad_norm")}
    skipped, stopped = 0, False
    for _ in range(cfg.epochs):
        order = torch.randperm(n, generator=shuffle)  # checkpointed: resume replays it
        for s in range(0, n, mb):
            idx = order[s:s + mb]
            if one_pass:  # the whole batch, already through the model
                idx, logp = torch.arange(n), first_logp
            else:
                logits, values = model(rollout.input_ids[idx], rollout.attention_mask[idx],
                                       n_response)  # (b, R, V), (b, R)
                logp = pm.logprobs_from_logits(logits / temperature, rollout.response_ids[idx])
            mask = rollout.mask[idx]  # (b, R)
            pl = pm.policy_loss(logp, rollout.logprobs[idx], adv.advantages[idx], mask,
                                cfg.clip_range)
            vl = pm.value_loss(values.float(), rollout.values[idx], adv.returns[idx], mask,
                               cfg.value_clip)
            loss = pl.loss + cfg.vf_coef * vl.loss
            # every process must take the same branch, or the collectives below would hang
            check = torch.stack([pl.approx_kl, (~torch.isfinite(loss)).float()])
            approx_kl, bad = (accelerator.reduce(check, "sum") / torch.tensor(
                [accelerator.num_processes, 1.0], device=check.device)).tolist()
            if cfg.early_stop_kl and approx_kl > cfg.early_stop_kl:
                stopped = True
                break
            if bad:
                skipped += 1
                warnings.warn("non-finite PPO loss: minibatch skipped", RuntimeWarning)
                continue
            accelerator.backward(loss)
            grad_norm = accelerator.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
            if not torch.isfinite(grad_norm):
                optimizer.zero_grad()
                skipped += 1
                warnings.warn("non-finite PPO gradient: minibatch skipped", RuntimeWarning)
                continue
            optimizer.step()
            optimizer.zero_grad()
            for key, value in (("policy", pl.loss.item()), ("value", vl.loss.item()),
                               ("clip_frac", pl.clip_frac.item()),
                               ("value_clip_frac", vl.clip_frac.item()),
                               ("approx_kl", approx_kl), ("grad_norm", grad_norm.item())):
                stats[key].append(value)
        if stopped:
            break
    means = torch.tensor([sum(v) / len(v) if v else float("nan") for v in stats.values()],
                         device=rollout.mask.device)
    means = accelerator.reduce(means, "mean").tolist()
    applied = len(stats["policy"])
    return {**{f"loss/{k}": v for k, v in zip(stats, means)}, "update/applied": applied,
            "update/skipped": skipped, "update/early_stopped": float(stopped)}
