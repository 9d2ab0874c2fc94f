"""The "I don't know" warm-start (R-Tuning style): before RL can reward abstaining, the policy
must be able to say it. Sample the base policy K times per training question, judge the samples,
and fine-tune briefly on its own correct answer where it is reliably right and on an abstention
where it is wrong every time."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from autojudge.cache import atomic_dir
from autojudge.config import Config, GenerationConfig, WarmStartConfig, save_config
from autojudge.io import write_jsonl
from autojudge.judges.base import Judge, JudgeError
from autojudge.policy import Policy, chat_prompt, sample
from autojudge.policy_eval import judged_rows
from autojudge.trainers.processes import main_process, shared_choice, wait_for_everyone
from autojudge.trainers.tracking import RunLogger, Tracking, start_tracking
from autojudge.types import Record


@dataclass(frozen=True)
class Example:
    question: str
    target: str
    kind: str
    """"known" (its own correct answer) or "abstain"."""


@dataclass(frozen=True)
class WarmStartResult:
    policy_dir: Path
    known: int
    """Questions the base policy got right in at least `right_at` of its samples."""
    abstain: int
    """"I don't know" examples trained on (of `unknown` available)."""
    unknown: int
    """Questions it got wrong (or abstained on) in every sample."""
    steps: int
    final_loss: float


def knows(correct: int, samples: int, right_at: float) -> bool:
    """The one rule for "the policy knows this question": right in at least `right_at` of its
    samples (and at least once)."""
    return correct > 0 and correct >= right_at * samples


def select_examples(rows: Sequence[dict[str, Any]], cfg: WarmStartConfig,
                    seed: int) -> tuple[list[Example], int]:
    """Examples from judged samples (one row per sample, grouped by `id`), and the number of
    unknown questions. Mixed cases (right sometimes) are left out: neither lesson is true; so
    is a question with a sample the judge failed on (no verdict): it is not known to be
    unknown."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["id"], []).append(row)
    known, unknown = [], []
    for samples in groups.values():
        if any(s["verdict"] is None for s in samples):
            continue
        correct = [s for s in samples if s["verdict"] == "correct"]
        if knows(len(correct), len(samples), cfg.right_at):
            best = max(correct, key=lambda s: s["p_correct"])
            known.append(Example(best["question"], best["answer"], "known"))
        elif not correct:
            unknown.append(Example(samples[0]["question"], cfg.abstention, "abstain"))
    cap = max(cfg.min_abstain, int(cfg.abstain_per_known * len(known)))
    rng = random.Random(seed)
    chosen = rng.sample(unknown, min(cap, len(unknown)))
    examples = known + chosen
    rng.shuffle(examples)
    return examples, len(unknown)


def fine_tune(policy: Policy, examples: Sequence[Example], generation: GenerationConfig,
              cfg: WarmStartConfig, seed: int,
              tracking: Tracking | None = None) -> tuple[int, float]:
    """Causal-LM loss on the answer tokens only, each step's loss to `tracking`'s trackers;
    returns (steps, mean loss of the last epoch)."""
    import torch
    from accelerate import Accelerator
    from tqdm.auto import tqdm

    accelerator = Accelerator(**(tracking.accelerator_kwargs() if tracking else {}))
    start_tracking(accelerator, tracking)
    logger = RunLogger(None, accelerator)
    torch.manual_seed(seed)
    model = policy.model
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.0)
    total = max(1, -(-len(examples) // cfg.batch_size) * cfg.epochs)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: max(0.0, 1 - s / total))
    model, optimizer, schedule = accelerator.prepare(model, optimizer, schedule)
    model.train()
    losses: list[float] = []
    bar = tqdm(total=total, desc="warm-start", unit="step",
               disable=not accelerator.is_main_process)
    for epoch in range(cfg.epochs):
        order = list(examples)
        random.Random(seed + epoch).shuffle(order)
        for start in range(0, len(order), cfg.batch_size):
            ids, labels, mask = encode(policy, order[start:start + cfg.batch_size], generation)
            out = model(input_ids=ids.to(accelerator.device),
                        attention_mask=mask.to(accelerator.device),
                        labels=labels.to(accelerator.device))
            accelerator.backward(out.loss)
            accelerator.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            losses.append(out.loss.item())
            logger.log(len(losses), {"warm-start/loss": losses[-1],
                                     "warm-start/lr": schedule.get_last_lr()[0]})
            bar.update(1)
            bar.set_postfix(loss=f"{losses[-1]:.3f}")
    bar.close()
    logger.close()
    policy.model = accelerator.unwrap_model(model).eval()
    last = losses[-max(1, total // cfg.epochs):]
    return len(losses), sum(last) / max(1, len(last))


def encode(policy: Policy, batch: Sequence[Example], generation: GenerationConfig) -> tuple:
    """Right-padded (B, T) input ids, labels (-100 outside the answer) and attention mask."""
    import torch

    tok = policy.tokenizer
    rows, targets = [], []
    for ex in batch:
        prompt = chat_prompt(tok, ex.question, generation)
        p_ids = tok(prompt, add_special_tokens=False)["input_ids"]
        a_ids = tok(ex.target, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        rows.append(p_ids + a_ids)
        targets.append([-100] * len(p_ids) + a_ids)
    width = max(map(len, rows))
    pad = tok.pad_token_id
    ids = torch.tensor([r + [pad] * (width - len(r)) for r in rows])  # (B, T)
    labels = torch.tensor([t + [-100] * (width - len(t)) for t in targets])  # (B, T)
    mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])  # (B, T)
    return ids, labels, mask


def warm_start(config: Config, policy: Policy, judge: Judge, questions: Sequence[Record],
               out_dir: str | Path) -> WarmStartResult:
    """Sample, judge, select, fine-tune, and save the policy to `out_dir/policy`; the judged
    samples and the chosen examples are written beside it."""
    cfg = config.warm_start
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    records = list(questions)
    if len(records) > cfg.questions:
        records = random.Random(config.data.seed).sample(records, cfg.questions)
    import torch

    torch.manual_seed(config.ppo.seed)  # every process draws the same samples, so all
    # processes choose the same examples and take the same number of steps
    groups = sample(policy, [r.question for r in records], config.generation, cfg.samples,
                    batch_size=64)
    rows = judged_rows(judge, records, groups)
    if main_process():
        write_jsonl(out / "samples.jsonl", rows)
    if rows and all(r["verdict"] is None for r in rows):
        raise JudgeError(f"warm-start: the judge failed on all {len(rows)} samples (the first: "
                         f"{rows[0]['error']})")
    examples, unknown = shared_choice(select_examples(rows, cfg, config.ppo.seed))
    if main_process():
        write_jsonl(out / "examples.jsonl", [asdict(e) for e in examples])
    if not examples:
        raise ValueError("warm-start: no question was reliably known or unknown; sample more "
                         "questions (warm_start.questions)")
    steps, loss = fine_tune(policy, examples, config.generation, cfg, config.ppo.seed,
                            Tracking.of(config, out, "warm-start"))
    policy_dir = out / "policy"
    known = sum(e.kind == "known" for e in examples)
    result = WarmStartResult(policy_dir, known, len(examples) - known, unknown, steps, loss)
    if main_process():  # under `accelerate launch` every process trains; one writes
        with atomic_dir(policy_dir) as tmp:
            policy.model.save_pretrained(tmp, safe_serialization=True)
            policy.tokenizer.save_pretrained(tmp)
        save_config(config, out / "config.yaml")
        (out / "warm_start.json").write_text(json.dumps(
            {k: str(v) if isinstance(v, Path) else v for k, v in asdict(result).items()},
            indent=2))
    wait_for_everyone()
    return result
