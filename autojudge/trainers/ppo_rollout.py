"""Rollouts: the actor-critic, sampled answers with their log-probs and scores, their statistics."""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import torch
from torch import nn

from autojudge._extras import require
from autojudge.config import Config, PPOConfig
from autojudge.judges.base import Judge, JudgeError
from autojudge.policy import Policy, prompt_ids
from autojudge.rewards.schemes import Reward
from autojudge.trainers import ppo_math as pm
from autojudge.trainers.ppo_sampler import Sampler, sharded
from autojudge.trainers.shared_prompt import response_pass
from autojudge.types import Record, Verdict


class ActorCritic(nn.Module):
    """The policy LM with a scalar value head on its last hidden state (shared trunk) or on a
    separate, fully trained copy of its trunk (critic)."""

    def __init__(self, lm: nn.Module, critic: nn.Module | None) -> None:
        super().__init__()
        self.lm, self.critic = lm, critic
        self.value_head = nn.Linear(lm.config.get_text_config().hidden_size, 1)
        nn.init.zeros_(self.value_head.weight)  # values start at 0 instead of at noise
        nn.init.zeros_(self.value_head.bias)

    def forward(self, input_ids: torch.Tensor | None = None,
                attention_mask: torch.Tensor | None = None, n_response: int = 0, group: int = 1,
                lm_call: dict[str, Any] | None = None) -> Any:
        """Logits predicting the last n_response tokens (B, R, V) and the values of the states
        they are sampled in (B, R). `group`: rows come in runs of this many with one prompt,
        which the policy then runs once (shared_prompt.py). With `lm_call`, the LM's own output
        for those keyword arguments instead: under FSDP every pass must enter through the root
        module, whose hooks gather its own weights (sampling, LoRA's reference pass)."""
        if lm_call is not None:
            return self.lm(**lm_call)
        assert input_ids is not None and attention_mask is not None
        shared = self.critic is None
        logits, hidden = response_pass(self.lm, input_ids, attention_mask, n_response, group,
                                       hidden=shared)
        if not shared:
            position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)  # (B, L)
            hidden = self.critic(input_ids=input_ids, attention_mask=attention_mask,
                                 position_ids=position_ids).last_hidden_state
            hidden = hidden[:, -n_response - 1:-1]  # (B, R, H)
        values = self.value_head(hidden.to(self.value_head.weight.dtype)).squeeze(-1)  # (B, R)
        return logits, values


def build_models(policy: Policy, cfg: PPOConfig) -> tuple[ActorCritic, nn.Module | None]:
    """The trainable actor-critic, and the frozen reference LM (None with LoRA: the reference is
    then the same model with its adapter disabled)."""
    lm = policy.model
    lm.eval()  # no dropout: rollout and update log-probs must agree
    critic = copy.deepcopy(lm.get_decoder()) if cfg.value_head == "separate" else None
    if cfg.gradient_checkpointing:
        for trunk in (lm, critic):
            if trunk is not None:  # only in training mode (`training_mode`) and with dropout off
                checkpointing(trunk)
                without_dropout(trunk)
    ref_lm = None
    if cfg.lora:
        require("peft", "train", "PPO with LoRA (ppo.lora=true)")
        from peft import LoraConfig, get_peft_model

        lm = get_peft_model(lm, LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha,
                                           lora_dropout=0.0, task_type="CAUSAL_LM"))
    else:
        ref_lm = copy.deepcopy(lm).requires_grad_(False)
    policy.model = lm
    return ActorCritic(lm, critic), ref_lm


def checkpointing(model: Any) -> None:
    """Turn on transformers' (non-reentrant) activation checkpointing of `model`: the method's
    transformers 5 name, or its older one."""
    if hasattr(model, "activation_checkpointing_enable"):
        model.activation_checkpointing_enable({"use_reentrant": False})
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})


def without_dropout(module: nn.Module) -> None:
    """Set every dropout probability in `module` to 0, so that its training mode (which gradient
    checkpointing needs) computes what its evaluation mode does."""
    for sub in module.modules():
        if isinstance(sub, nn.Dropout):
            sub.p = 0.0
        for name in ("attention_dropout", "dropout", "hidden_dropout"):
            if isinstance(getattr(sub, name, None), float):
                setattr(sub, name, 0.0)


def training_mode(model: nn.Module, cfg: PPOConfig, on: bool) -> None:
    """Training mode for the update passes when gradient checkpointing is on (transformers only
    checkpoints a layer in training mode), evaluation mode otherwise and for rollouts (which
    then keep their KV cache)."""
    model.train(on and cfg.gradient_checkpointing)


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
    answers: list[str]
    generate_s: float
    """Seconds spent sampling."""
    sampler_logprobs: torch.Tensor | None = None
    """(B, R) log-probs of the sampled tokens under the sampler's own distribution (a bf16
    copy's, say), against which ppo.sampler_is_cap corrects."""

    @property
    def response_ids(self) -> torch.Tensor:
        return self.input_ids[:, -self.mask.shape[1]:]  # (B, R)


class Scores(NamedTuple):
    rewards: torch.Tensor
    """(B,) the reward of each answer."""
    verdicts: list[Verdict]
    """The judge's verdict on each answer."""


class PolicyPass(NamedTuple):
    """The policy's forward pass over a whole rollout, with its graph: (B, R) each."""

    logprobs: torch.Tensor
    values: torch.Tensor


def prompt_group(accelerator: Any, cfg: PPOConfig) -> int:
    """How many consecutive rows of a rollout share their prompt, which the passes over the
    rollout then run once (shared_prompt.py): a group's answers, except under ZeRO-3 / FSDP,
    whose sharded layers are not called twice in one forward pass here."""
    return 1 if sharded(accelerator) else cfg.group_size


def eos_ids(policy_lm: Any, tokenizer: Any) -> list[int]:
    ids = policy_lm.generation_config.eos_token_id
    ids = [ids] if isinstance(ids, int) else list(ids or [])
    return sorted(set(ids) | {tokenizer.eos_token_id} - {None})


@torch.no_grad()
def collect_rollout(accelerator: Any, model: nn.Module, ref_lm: nn.Module | None, policy: Policy,
                    config: Config, batch: Sequence[Record], sampler: Sampler,
                    policy_pass: bool = True) -> Rollout:
    """Sample an answer per question and record the log-probs of its tokens under the reference
    and the policy, the values and the entropy. With `policy_pass` False only the reference is
    run: the policy's side is left at zero for the update's own forward pass to fill in
    (`first_policy_pass`)."""
    gen, actor, tokenizer = config.generation, accelerator.unwrap_model(model), policy.tokenizer
    eos = eos_ids(actor.lm, tokenizer)
    enc = prompt_ids(policy, [r.question for r in batch], gen)
    enc = {k: v.to(accelerator.device) for k, v in enc.items()}
    started = time.perf_counter()
    sequences, sampled_logp = sampler.sample_with_logprobs(
        enc, gen, eos, tokenizer.pad_token_id, prompt_group(accelerator, config.ppo))  # (B, L)
    generate_s = time.perf_counter() - started
    response = sequences[:, enc["input_ids"].shape[1]:]  # (B, R)
    mask = pm.response_mask(response, eos)  # (B, R)
    attention_mask = torch.cat([enc["attention_mask"], mask.long()], dim=1)  # (B, L)
    answers = [t.strip() for t in tokenizer.batch_decode(
        response * mask.long() + tokenizer.pad_token_id * (1 - mask.long()),
        skip_special_tokens=True)]
    mb = config.ppo.minibatch_size // accelerator.num_processes
    parts = scoring_passes(accelerator, model, ref_lm, sequences, attention_mask, mask.shape[1],
                           mb, gen.temperature, policy_pass, prompt_group(accelerator, config.ppo))
    if not policy_pass:
        parts["logp"] = parts["entropy"] = parts["values"] = [torch.zeros_like(mask)]
    cat = {k: torch.cat(v) * mask for k, v in parts.items()}
    return Rollout(sequences, attention_mask, mask, cat["logp"], cat["ref"], cat["values"],
                   cat["entropy"], answers, generate_s, sampled_logp * mask)


def scoring_passes(accelerator: Any, model: nn.Module, ref_lm: nn.Module | None,
                   sequences: torch.Tensor, attention_mask: torch.Tensor, n_response: int,
                   mb: int, temperature: float, policy_pass: bool,
                   group: int = 1) -> dict[str, list[torch.Tensor]]:
    """Reference log-probs ("ref") and, with `policy_pass`, the policy's ("logp"), its entropy
    and the values of the sampled responses, minibatch by minibatch: lists of (b, R). `group`:
    rows come in runs of this many with one prompt (see prompt_group). `model`: the prepared
    actor-critic, called as prepared (FSDP gathers weights in its hooks)."""
    parts: dict[str, list[torch.Tensor]] = {"logp": [], "ref": [], "values": [], "entropy": []}
    lm = accelerator.unwrap_model(model).lm
    for s in range(0, sequences.shape[0], mb):
        ids, att = sequences[s:s + mb], attention_mask[s:s + mb]
        response = ids[:, -n_response:]
        with accelerator.autocast():  # the same precision as the prepared model's update passes
            ref_logits = reference_logits(model, lm, ref_lm, ids, att, n_response,
                                          group)  # (b, R, V)
            if policy_pass:
                logits, values = model(ids, att, n_response, group)  # (b, R, V), (b, R)
        parts["ref"].append(pm.logprobs_from_logits(ref_logits / temperature, response))
        if policy_pass:
            logits = logits / temperature
            parts["logp"].append(pm.logprobs_from_logits(logits, response))
            parts["entropy"].append(pm.entropy_from_logits(logits))
            parts["values"].append(values.float())
    return parts


def score_answers(judge: Judge, reward: Reward, batch: Sequence[Record], answers: list[str],
                  device: torch.device | str) -> Scores:
    """The judge's verdict on each answer to its question and the reward it earns."""
    judgements = judge.judge([Record(r.question, r.reference, a) for r, a in zip(batch, answers)])
    values = reward(judgements, answers)
    failed = [j for j, v in zip(judgements, values) if v is None]
    if failed:  # never train on a failed judgement as if it were a verdict
        raise JudgeError(f"the judge failed on {len(failed)} of {len(values)} rollout answers "
                         f"(first: {failed[0].error}); stopping before this step's update - "
                         "resume from the last checkpoint once the judge works")
    rewards = torch.tensor(values, dtype=torch.float32, device=device)
    return Scores(rewards, [j.verdict for j in judgements])


def first_policy_pass(model: nn.Module, rollout: Rollout, temperature: float,
                      group: int = 1) -> PolicyPass:
    """The whole rollout through the policy before any update, as the loss of a one-minibatch
    update needs it: records the policy's side of the rollout (log-probs of the sampled tokens,
    values, entropy; detached) and returns log-probs and values with their graph. `group`: see
    prompt_group."""
    logits, values = model(rollout.input_ids, rollout.attention_mask, rollout.mask.shape[1],
                           group)
    logits = logits / temperature  # (B, R, V)
    logp = pm.logprobs_from_logits(logits, rollout.response_ids)  # (B, R)
    mask = rollout.mask
    rollout.logprobs = logp.detach() * mask
    rollout.values = values.detach().float() * mask
    rollout.entropy = pm.entropy_from_logits(logits.detach()) * mask
    return PolicyPass(logp, values)


def reference_logits(model: nn.Module, lm: nn.Module, ref_lm: nn.Module | None,
                     ids: torch.Tensor, attention_mask: torch.Tensor, n_response: int,
                     group: int = 1) -> torch.Tensor:
    """Logits of the frozen reference policy for the last n_response tokens (b, R, V): the
    reference LM's, or with LoRA the policy's `lm` with its adapter disabled, called through
    the prepared actor-critic `model` (see ActorCritic's `lm_call`)."""
    if ref_lm is not None:
        return response_pass(ref_lm, ids, attention_mask, n_response, group)[0]
    with lm.disable_adapter():
        return response_pass(lambda **kwargs: model(lm_call=kwargs), ids, attention_mask,
                             n_response, 1)[0]


def rollout_metrics(accelerator: Any, rollout: Rollout, scores: Scores,
                    cfg: PPOConfig) -> dict[str, float]:
    """Verdict rates, truthfulness (correct − incorrect rate), reward, KL, entropy and length
    over the whole batch (all processes)."""
    kl = pm.kl_penalty(rollout.logprobs, rollout.ref_logprobs, cfg.kl_estimator)  # (B, R)
    rows = torch.stack([
        *(torch.tensor([float(v is verdict) for v in scores.verdicts], device=kl.device)
          for verdict in (Verdict.CORRECT, Verdict.INCORRECT, Verdict.ABSTAIN)),
        scores.rewards, rollout.mask.sum(-1), (kl * rollout.mask).sum(-1),
        (rollout.entropy * rollout.mask).sum(-1)], dim=1)  # (B, 7)
    rows = accelerator.gather(rows)  # (N, 7)
    correct, incorrect, abstain, score, length, kl_sum, entropy_sum = rows.T
    mismatch = {}
    if rollout.sampler_logprobs is not None:
        kl_s = pm.sampler_kl(rollout.logprobs, rollout.sampler_logprobs, rollout.mask)
        mismatch["rollout/sampler_kl"] = accelerator.reduce(kl_s.reshape(1), "mean").item()
    return mismatch | {
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
