"""Load a causal-LM policy and let it answer questions from a chat-templated prompt."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autojudge.config import GenerationConfig
from autojudge.models import resolve


@dataclass
class Policy:
    model: Any
    """A transformers causal LM."""
    tokenizer: Any
    path: Path


def load_policy(name_or_path: str | Path, dtype: str = "float32") -> Policy:
    """A known policy name (fetched on first use) or any local Hugging Face folder, its weights
    in `dtype` (`models.dtype`: float32, bfloat16 or float16) whatever the checkpoint holds."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch_dtype = getattr(torch, dtype, None)
    if not isinstance(torch_dtype, torch.dtype) or not torch_dtype.is_floating_point:
        raise ValueError(f"unknown policy dtype {dtype!r}; known: float32, bfloat16, float16")

    path = resolve(name_or_path)
    tokenizer = AutoTokenizer.from_pretrained(path)
    tokenizer.padding_side = "left"  # generation appends on the right
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype)
    model.eval()
    return Policy(model, tokenizer, path)


def chat_prompt(tokenizer: Any, question: str, config: GenerationConfig) -> str:
    """The one prompt every job asks a question with: the config's system prompt (if any), the
    question as the user's turn, and the start of the assistant's turn."""
    messages = [{"role": "user", "content": question}]
    if config.system_prompt:
        messages.insert(0, {"role": "system", "content": config.system_prompt})
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def prompt_ids(policy: Policy, questions: Sequence[str], config: GenerationConfig) -> Any:
    """Left-padded chat prompts for a batch of questions: a BatchEncoding of (B, T) tensors."""
    texts = [chat_prompt(policy.tokenizer, question, config) for question in questions]
    # No token_type_ids: a causal LM takes none, and transformers 4.x's generate refuses them.
    return policy.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False,
                            return_token_type_ids=False)


def answer(policy: Policy, questions: Sequence[str], config: GenerationConfig, *,
           greedy: bool = True, batch_size: int = 16) -> list[str]:
    """The policy's answer to each question, in order (a progress bar for long lists)."""
    return [group[0] for group in _generate(policy, questions, config, sample=not greedy,
                                            k=1, batch_size=batch_size)]


def sample(policy: Policy, questions: Sequence[str], config: GenerationConfig, k: int, *,
           batch_size: int = 16) -> list[list[str]]:
    """K sampled answers per question (temperature and top-p from `config`), in order."""
    if k < 1:
        raise ValueError(f"samples per question must be at least 1, got {k}")
    return _generate(policy, questions, config, sample=True, k=k, batch_size=batch_size)


def _generate(policy: Policy, questions: Sequence[str], config: GenerationConfig, *,
              sample: bool, k: int, batch_size: int) -> list[list[str]]:
    import torch
    from tqdm.auto import tqdm

    sample = sample and config.temperature > 0
    per_batch = max(1, batch_size // k) if k > 1 else batch_size
    out: list[list[str]] = []
    batches = range(0, len(questions), per_batch)
    for start in tqdm(batches, desc="generating", unit="batch", disable=len(batches) < 2):
        enc = prompt_ids(policy, questions[start:start + per_batch], config).to(
            policy.model.device)  # the inputs where the model is (an accelerator, if moved)
        with torch.no_grad():
            ids = policy.model.generate(
                **enc, max_new_tokens=config.max_new_tokens, do_sample=sample,
                min_new_tokens=config.min_new_tokens or None,
                temperature=config.temperature if sample else None,
                top_p=config.top_p if sample else None, num_return_sequences=k,
                pad_token_id=policy.tokenizer.pad_token_id)  # (B·k, T + new)
        new = ids[:, enc["input_ids"].shape[1]:]  # (B·k, new)
        texts = [t.strip() for t in policy.tokenizer.batch_decode(new, skip_special_tokens=True)]
        out += [texts[i:i + k] for i in range(0, len(texts), k)]
    return out
