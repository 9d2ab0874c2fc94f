"""PPO on `accelerate`: the policy answers, a judge and a reward score the answers, PPO updates.

Public API:

    train_ppo(config, policy, judge, reward, questions, out_dir, *, resume=False) -> PPOResult

trains `policy.model` in place for `config.ppo.steps` steps and writes into `out_dir`:
`log.jsonl` (one row of metrics per step), `tensorboard/`, `checkpoints/step-NNNNNN/` (the latest,
written atomically; `resume=True` continues exactly from it) and `policy/` (the final policy,
LoRA merged, loadable with `autojudge.policy.load_policy`). The same code runs on one CPU, one GPU,
or many processes under `accelerate launch` (each process samples its share of every batch).
The loop is rollout → score → advantages → update; the math lives in `ppo_math`.
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
from autojudge.policy import Policy, prompt_ids
from autojudge.rewards.schemes import Reward
from autojudge.trainers import ppo_math as pm
from autojudge.trainers.ppo_state import (RunLogger, TrainState, latest_checkpoint,
                                          load_checkpoint, save_checkpoint)
from autojudge.types import Record, Verdict


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


class ActorCritic(nn.Module):
    """The policy LM with a scalar value head on its last hidden state (shared trunk) or on a
    separate, fully trained copy of its trunk (critic)."""

    def __init__(self, lm: nn.Module, critic: nn.Module | None) -> None:
        super().__init__()
        self.lm, self.critic = lm, critic
        self.value_head = nn.Linear(lm.config.get_text_config().hidden_size, 1)
        nn.init.zeros_(self.value_head.weight)  # values start at 0 instead of at noise
        nn.init.zeros_(self.value_head.bias)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                n_response: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits predicting the last n_response tokens (B, R, V) and the values of the states
        they are sampled in (B, R)."""
        position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)  # (B, L) left padding skipped
        out = self.lm(input_ids=input_ids, attention_mask=attention_mask,
                      position_ids=position_ids, logits_to_keep=n_response + 1,
                      output_hidden_states=self.critic is None)
        if self.critic is None:
            hidden = out.hidden_states[-1]  # (B, L, H)
        else:
            hidden = self.critic(input_ids=input_ids, attention_mask=attention_mask,
                                 position_ids=position_ids).last_hidden_state  # (B, L, H)
        state = hidden[:, -n_response - 1:-1]  # (B, R, H)
        values = self.value_head(state.to(self.value_head.weight.dtype)).squeeze(-1)  # (B, R)
        return out.logits[:, :-1], values


@dataclass
class Rollout:
    """One process's share of a step's samples; L = prompt + response length, R = response."""

    input_ids: torch.Tensor
    """(B, L) left-padded prompt followed by the sampled response."""
    attention_mask: torch.Tensor
    """(B, L) 1 on prompt and real response tokens."""
    mask: torch.Tensor
    """(B, R) 1.0 on response tokens up to and including the first EOS."""
    logprobs: torch.Tensor
    """(B, R) log-probs of the sampled tokens under the policy that sampled them."""
    ref_logprobs: torch.Tensor
    """(B, R) the same under the frozen reference policy."""
    values: torch.Tensor
    """(B, R) value estimates at sampling time."""
    entropy: torch.Tensor
    """(B, R) entropy of the policy at each sampled position."""
    scores: torch.Tensor
    """(B,) the reward of each answer."""
    verdicts: list[Verdict]
    answers: list[str]
    generate_s: float
    """Seconds spent sampling."""

    @property
    def response_ids(self) -> torch.Tensor:
        return self.input_ids[:, -self.mask.shape[1]:]  # (B, R)


def train_ppo(config: Config, policy: Policy, judge: Judge, reward: Reward,
              questions: Sequence[Record], out_dir: str | Path, *,
              resume: bool = False) -> PPOResult:
    """Train `policy` against `judge` + `reward` on `questions` (each with references)."""
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from tqdm.auto import tqdm

    cfg, out_dir = config.ppo, Path(out_dir)
    accelerator = Accelerator()
    _check(config, accelerator.num_processes, questions)
    set_seed(cfg.seed)  # identical initialisation everywhere
    model, ref_lm = build_models(policy, cfg)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=cfg.lr)
    model, optimizer = accelerator.prepare(model, optimizer)
    ref_lm = ref_lm.to(accelerator.device) if ref_lm is not None else None

    state = TrainState(step=0, kl_coef=cfg.kl_coef)
    checkpoint = latest_checkpoint(out_dir) if resume else None
    if checkpoint is not None:
        state = load_checkpoint(accelerator, checkpoint)
    else:
        set_seed(cfg.seed, device_specific=True)  # each process samples differently
    if accelerator.is_main_process:
        out_dir.mkdir(parents=True, exist_ok=True)
        save_config(config, out_dir / "config.yaml")
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
                               batch, judge, reward)
            logger.log(step, metrics)
            steps.set_postfix(reward=f"{metrics['rollout/reward']:.3f}",
                              truth=f"{metrics['rollout/truthfulness']:.2f}")
            if state.bad_steps >= cfg.max_bad_steps:
                raise PPOError(f"{state.bad_steps} steps in a row with non-finite losses; "
                               f"stopping at step {step} (the last checkpoint is intact)")
            if (cfg.save_every and step % cfg.save_every == 0) or step == cfg.steps:
                save_checkpoint(accelerator, out_dir, state, config)
    finally:
        logger.close()
    policy_dir = save_policy(accelerator, model, policy, out_dir / "policy", cfg.lora)
    return PPOResult(state.step, policy_dir, logger.path, metrics)


def ppo_step(accelerator: Any, model: nn.Module, ref_lm: nn.Module | None, optimizer: Any,
             policy: Policy, config: Config, state: TrainState, batch: Sequence[Record],
             judge: Judge, reward: Reward) -> dict[str, float]:
    """One iteration: rollout → score → advantages → update; advances `state`; the metrics."""
    cfg, started = config.ppo, time.perf_counter()
    rollout = collect_rollout(accelerator, model, ref_lm, policy, config, batch, judge, reward)
    advantages = compute_advantages(rollout, state.kl_coef, cfg)
    update = ppo_update(accelerator, model, optimizer, rollout, advantages, config)

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


def eos_ids(policy_lm: Any, tokenizer: Any) -> list[int]:
    ids = policy_lm.generation_config.eos_token_id
    ids = [ids] if isinstance(ids, int) else list(ids or [])
    return sorted(set(ids) | {tokenizer.eos_token_id} - {None})


@torch.no_grad()
def collect_rollout(accelerator: Any, model: nn.Module, ref_lm: nn.Module | None, policy: Policy,
                    config: Config, batch: Sequence[Record], judge: Judge,
                    reward: Reward) -> Rollout:
    """Sample an answer per question, judge and reward it, and record log-probs and values."""
    gen, mb = config.generation, config.ppo.minibatch_size // accelerator.num_processes
    actor, tokenizer = accelerator.unwrap_model(model), policy.tokenizer
    enc = prompt_ids(policy, [r.question for r in batch], gen)
    enc = {k: v.to(accelerator.device) for k, v in enc.items()}
    started = time.perf_counter()
    sequences = actor.lm.generate(
        **enc, do_sample=True, temperature=gen.temperature, top_p=gen.top_p, top_k=0,
        max_new_tokens=gen.max_new_tokens, pad_token_id=tokenizer.pad_token_id)  # (B, L)
    generate_s = time.perf_counter() - started
    n_prompt = enc["input_ids"].shape[1]
    mask = pm.response_mask(sequences[:, n_prompt:], eos_ids(actor.lm, tokenizer))  # (B, R)
    attention_mask = torch.cat([enc["attention_mask"], mask.long()], dim=1)  # (B, L)

    answers = [t.strip() for t in tokenizer.batch_decode(
        sequences[:, n_prompt:] * mask.long() + tokenizer.pad_token_id * (1 - mask.long()),
        skip_special_tokens=True)]
    judgements = judge.judge([Record(r.question, r.reference, a) for r, a in zip(batch, answers)])
    scores = torch.tensor(reward(judgements, answers), dtype=torch.float32,
                          device=accelerator.device)  # (B,)

    parts: dict[str, list[torch.Tensor]] = {"logp": [], "ref": [], "values": [], "entropy": []}
    n_response = mask.shape[1]
    for s in range(0, len(batch), mb):
        ids, att = sequences[s:s + mb], attention_mask[s:s + mb]
        logits, values = actor(ids, att, n_response)  # (b, R, V), (b, R)
        logits = logits / gen.temperature
        response = ids[:, n_prompt:]
        parts["logp"].append(pm.logprobs_from_logits(logits, response))
        parts["entropy"].append(pm.entropy_from_logits(logits))
        parts["values"].append(values.float())
        ref_logits = reference_logits(actor, ref_lm, ids, att, n_response) / gen.temperature
        parts["ref"].append(pm.logprobs_from_logits(ref_logits, response))
    cat = {k: torch.cat(v) * mask for k, v in parts.items()}
    return Rollout(sequences, attention_mask, mask, cat["logp"], cat["ref"], cat["values"],
                   cat["entropy"], scores, [j.verdict for j in judgements], answers, generate_s)


def reference_logits(actor: ActorCritic, ref_lm: nn.Module | None, ids: torch.Tensor,
                     attention_mask: torch.Tensor, n_response: int) -> torch.Tensor:
    """Logits of the frozen reference policy for the last n_response tokens. (b, R, V)"""
    position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
    kwargs = dict(input_ids=ids, attention_mask=attention_mask, position_ids=position_ids,
                  logits_to_keep=n_response + 1)
    if ref_lm is not None:
        return ref_lm(**kwargs).logits[:, :-1]
    with actor.lm.disable_adapter():
        return actor.lm(**kwargs).logits[:, :-1]


def compute_advantages(rollout: Rollout, kl_coef: float, cfg: PPOConfig) -> pm.Advantages:
    kl = pm.kl_penalty(rollout.logprobs, rollout.ref_logprobs, cfg.kl_estimator)  # (B, R)
    rewards = pm.token_rewards(rollout.scores, kl, rollout.mask, kl_coef)  # (B, R)
    adv = pm.gae(rewards, rollout.values, rollout.mask, cfg.gamma, cfg.lam)
    if cfg.whiten_advantages:
        adv = adv._replace(advantages=pm.masked_whiten(adv.advantages, rollout.mask))
    return adv


def ppo_update(accelerator: Any, model: nn.Module, optimizer: Any, rollout: Rollout,
               adv: pm.Advantages, config: Config) -> dict[str, float]:
    """Several epochs of shuffled minibatches; a minibatch whose loss or gradient is not finite
    is skipped, and the epochs stop early once approximate KL(old ‖ new) passes the limit."""
    cfg, temperature = config.ppo, config.generation.temperature
    mb = cfg.minibatch_size // accelerator.num_processes
    n, n_response = rollout.mask.shape
    stats: dict[str, list[float]] = {k: [] for k in
                                     ("policy", "value", "clip_frac", "value_clip_frac",
                                      "approx_kl", "grad_norm")}
    skipped, stopped = 0, False
    for _ in range(cfg.epochs):
        order = torch.randperm(n)  # from the checkpointed RNG, so resume replays it
        for s in range(0, n, mb):
            idx = order[s:s + mb]
            mask = rollout.mask[idx]  # (b, R)
            logits, values = model(rollout.input_ids[idx], rollout.attention_mask[idx],
                                   n_response)  # (b, R, V), (b, R)
            logp = pm.logprobs_from_logits(logits / temperature, rollout.response_ids[idx])
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


def rollout_metrics(accelerator: Any, rollout: Rollout, cfg: PPOConfig) -> dict[str, float]:
    """Verdict rates, truthfulness (correct − incorrect rate), reward, KL, entropy and length
    over the whole batch (all processes)."""
    kl = pm.kl_penalty(rollout.logprobs, rollout.ref_logprobs, cfg.kl_estimator)  # (B, R)
    rows = torch.stack([
        *(torch.tensor([float(v is verdict) for v in rollout.verdicts], device=kl.device)
          for verdict in (Verdict.CORRECT, Verdict.INCORRECT, Verdict.ABSTAIN)),
        rollout.scores, rollout.mask.sum(-1), (kl * rollout.mask).sum(-1),
        (rollout.entropy * rollout.mask).sum(-1)], dim=1)  # (B, 7)
    rows = accelerator.gather(rows)  # (N, 7)
    correct, incorrect, abstain, score, length, kl_sum, entropy_sum = rows.T
    return {
        "rollout/reward": score.mean().item(),
        "rollout/reward_std": score.std(unbiased=False).item(),
        "rollout/correct": correct.mean().item(),
        "rollout/incorrect": incorrect.mean().item(),
        "rollout/abstain": abstain.mean().item(),
        "rollout/truthfulness": (correct.mean() - incorrect.mean()).item(),
        "rollout/length": length.mean().item(),
        "policy/kl": kl_sum.mean().item(),
        "policy/entropy": (entropy_sum.sum() / length.sum().clamp(min=1)).item(),
    }
