"""Sampling PPO's answers: a lean decode loop, optionally on a bf16 copy of the policy.

    sampler = Sampler(accelerator, actor.lm, copy_bf16=True, generator=streams.sample)
    sequences = sampler.sample(enc, generation_config, eos_ids, pad_id)   # (B, T + R)
    sampler.refresh()                                                      # after each update

The loop does what `generate(do_sample=True)` does for PPO (temperature, top-p, a floor on the
answer length, stop once every row has ended, pad after the end) with less work per token:
one cumulative sum and a binary search per row instead of `torch.multinomial` over the whole
vocabulary, and no logits processors or stopping-criteria machinery. With `copy_bf16` it runs on
a bf16 copy of the weights, refreshed after every optimizer step, so each decoded token reads
half the bytes and no weight is cast on the way; this is what vLLM-backed trainers do, and the
update still computes every log-prob that enters the loss from the trained weights themselves.
Weights sharded by DeepSpeed ZeRO-3 or FSDP are not copied: the loop then runs on the prepared
model under the accelerator's autocast.
"""

from __future__ import annotations

import copy
from contextlib import nullcontext
from typing import Any

import torch
from torch import nn

from autojudge.config import GenerationConfig
from autojudge.trainers.shared_prompt import shared_group


def native_bf16_cpu() -> bool:
    """Whether this CPU computes bf16 natively (AMX or AVX512-BF16), where bf16 matmuls beat
    fp32 ones; elsewhere bf16 is emulated and slower."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = next((line for line in f if line.startswith("flags")), "").split()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def resolve_mixed_precision(setting: str, use_cuda: bool) -> str:
    """accelerate's mixed_precision ("no", "bf16", "fp16") for a `ppo.mixed_precision` setting:
    fp32 is "no"; auto is bf16 where the device computes it natively (a bf16-capable GPU, or a
    CPU with AMX/AVX512-BF16), else "no"."""
    if setting == "auto":
        native = torch.cuda.is_bf16_supported() if use_cuda else native_bf16_cpu()
        return "bf16" if native else "no"
    return "no" if setting == "fp32" else setting


def sharded(accelerator: Any) -> bool:
    """Whether the prepared model's weights are sharded across processes (ZeRO-3 / FSDP)."""
    from accelerate.utils import DistributedType

    return accelerator.distributed_type in (DistributedType.DEEPSPEED, DistributedType.FSDP)


class Sampler:
    """Samples answers from `lm` (an unwrapped causal LM, possibly a peft model), drawing from
    `generator` (on the accelerator's device; None: torch's global generator)."""

    def __init__(self, accelerator: Any, lm: nn.Module, copy_bf16: bool,
                 generator: torch.Generator | None = None, root: nn.Module | None = None) -> None:
        self.accelerator, self.lm, self.generator = accelerator, lm, generator
        split = sharded(accelerator)
        self.root = root if split else None
        """Under ZeRO-3 / FSDP, the prepared actor-critic that `lm` belongs to: the LM is then
        called through it (ActorCritic's `lm_call`), because FSDP gathers the root's own
        weights (embedding, final norm, LM head) only in the root's forward hooks."""
        self.copy: nn.Module | None = None
        if copy_bf16 and accelerator.mixed_precision == "bf16" and not split:
            self.copy = copy.deepcopy(lm).requires_grad_(False).to(torch.bfloat16).eval()

    @torch.no_grad()
    def refresh(self) -> None:
        """Copy the trained weights into the bf16 copy (no-op without one). Frozen weights
        (a LoRA run's base model) never change and are not copied again."""
        if self.copy is None:
            return
        for dst, src in zip(self.copy.parameters(), self.lm.parameters(), strict=True):
            if src.requires_grad:
                dst.copy_(src)

    def _forward(self) -> Any:
        """What a decoding step calls: the bf16 copy, else the LM, which under ZeRO-3 / FSDP is
        called through the prepared actor-critic (`root`)."""
        if self.copy is not None:
            return self.copy
        if self.root is None:
            return self.lm
        root = self.root
        return lambda **kwargs: root(lm_call=kwargs)

    @torch.no_grad()
    def sample(self, enc: dict[str, torch.Tensor], gen: GenerationConfig, eos_ids: list[int],
               pad_id: int, group: int = 1) -> torch.Tensor:
        """Prompt (B, T) followed by the sampled answers, padded with `pad_id` after each row's
        first EOS: (B, T + R), R ≤ gen.max_new_tokens (shorter when every row ended early).
        `group`: rows come in runs of this many with one prompt, whose KV cache is then
        computed once and repeated (shared_prompt.py)."""
        return self.sample_with_logprobs(enc, gen, eos_ids, pad_id, group)[0]

    @torch.no_grad()
    def sample_with_logprobs(self, enc: dict[str, torch.Tensor], gen: GenerationConfig,
                             eos_ids: list[int], pad_id: int,
                             group: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        """`sample`'s sequences (B, T + R) and the log-probability of each sampled token under
        the distribution it was drawn from (B, R): temperature, the EOS floor and top-p
        applied, in the sampler's own precision (0 after a row's end)."""
        from transformers import DynamicCache

        lm = self._forward()
        ids, attention = enc["input_ids"], enc["attention_mask"]  # (B, T)
        n, device = ids.shape[0], ids.device
        eos = torch.tensor(eos_ids, device=device)
        positions = (attention.cumsum(-1) - 1).clamp(min=0)  # (B, T) left padding skipped
        cache, tokens, logprobs = DynamicCache(), [], []
        done = torch.zeros(n, dtype=torch.bool, device=device)
        step_ids, group = ids, shared_group(ids, attention, 0, group)
        with self.accelerator.autocast() if self.copy is None else nullcontext():
            for i in range(gen.max_new_tokens):
                rows = slice(None, None, group) if i == 0 else slice(None)  # a group's prompt once
                logits = lm(input_ids=step_ids[rows], attention_mask=attention[rows],
                            position_ids=positions[rows], past_key_values=cache, use_cache=True,
                            logits_to_keep=1).logits
                if i == 0 and group > 1:
                    logits = logits.repeat_interleave(group, dim=0)  # (B, 1, V)
                    cache.batch_repeat_interleave(group)
                logits = logits[:, -1].float() / gen.temperature  # (B, V)
                if i < gen.min_new_tokens:
                    logits[:, eos] = float("-inf")
                nxt, prob = sample_tokens(logits, gen.top_p, self.generator, with_prob=True)
                nxt = torch.where(done, torch.full_like(nxt, pad_id), nxt)  # (B,)
                tokens.append(nxt)
                logprobs.append(torch.where(done, 0.0, prob.clamp(min=1e-30).log()))
                done |= torch.isin(nxt, eos)
                if bool(done.all()):
                    break
                step_ids = nxt[:, None]  # (B, 1)
                attention = torch.cat([attention, attention.new_ones(n, 1)], dim=1)
                positions = positions[:, -1:] + 1
        return torch.cat([ids, torch.stack(tokens, dim=1)], dim=1), torch.stack(logprobs, dim=1)


def sample_tokens(logits: torch.Tensor, top_p: float = 1.0,
                  generator: torch.Generator | None = None, with_prob: bool = False) -> Any:
    """One token per row from softmax(logits), restricted to the smallest set of tokens whose
    probability reaches `top_p` when top_p < 1: inverse-CDF sampling, one uniform draw per row
    from `generator` (None: torch's global one). (B, V) → (B,); `with_prob`: also the chosen
    tokens' probabilities under the distribution they were drawn from (top-p renormalised),
    (B,)."""
    probs = torch.softmax(logits, dim=-1)  # (B, V)
    order = None
    if top_p < 1.0:
        probs, order = probs.sort(dim=-1, descending=True)
        before = probs.cumsum(-1) - probs  # mass of the more likely tokens
        probs = probs.masked_fill(before >= top_p, 0.0)  # the top token always stays
    cdf = probs.cumsum(-1)  # (B, V)
    u = torch.rand(probs.shape[0], 1, device=probs.device, dtype=cdf.dtype,
                   generator=generator) * cdf[:, -1:]
    idx = torch.searchsorted(cdf, u, right=True).clamp(max=probs.shape[-1] - 1)  # (B, 1)
    chosen = (probs.gather(-1, idx) / cdf[:, -1:]).squeeze(-1)  # (B,)
    if order is not None:
        idx = order.gather(-1, idx)
    return (idx.squeeze(-1), chosen) if with_prob else idx.squeeze(-1)

