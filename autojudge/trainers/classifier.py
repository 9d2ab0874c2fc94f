"""Fine-tune a PairClassifier with accelerate: the one training loop for judge models."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from autojudge.judges.classifier import PairClassifier
from autojudge.trainers.tracking import RunLogger, Tracking, start_tracking


@dataclass(frozen=True)
class TrainStats:
    steps: int
    examples: int
    final_loss: float
    """Mean loss over the last 50 steps."""


def bucketed_batches(lengths: Sequence[int], batch_size: int, rng: random.Random,
                     chunk_batches: int = 50) -> list[list[int]]:
    """Index batches of similar length, so that little padding is computed: shuffle, sort
    chunks of `chunk_batches` batches by length, cut them into batches, shuffle the batches."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    size = batch_size * chunk_batches
    batches = []
    for start in range(0, len(order), size):
        chunk = sorted(order[start:start + size], key=lambda i: lengths[i])
        batches.extend(chunk[b:b + batch_size] for b in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def process_share(batch: Sequence[int], index: int, count: int) -> list[int]:
    """Process `index`'s share of a batch split between `count` processes: every count-th item
    from its own; a batch with fewer items than processes gives the short ones its last item
    (each process must take every step, or the gradient averaging waits for ever)."""
    return list(batch[index::count]) or [batch[-1]]


def fit_pair_classifier(clf: PairClassifier, texts_a: Sequence[str], texts_b: Sequence[str],
                        labels: Sequence[int], *, lr: float, epochs: int, batch_size: int,
                        seed: int, desc: str = "training",
                        tracking: Tracking | None = None) -> TrainStats:
    """Cross-entropy fine-tuning with AdamW, linear warm-up and decay, gradient clipping; batches
    of similar length (`bucketed_batches`); each step's loss to `tracking`'s trackers. Under
    `accelerate launch` with several processes each process takes its share of every batch
    (`process_share`) and the gradients are averaged: the same steps as one process would take."""
    import torch
    from accelerate import Accelerator
    from tqdm.auto import tqdm

    accelerator = Accelerator(**(tracking.accelerator_kwargs() if tracking else {}))
    start_tracking(accelerator, tracking)
    logger = RunLogger(None, accelerator)
    name = tracking.run if tracking else desc
    torch.manual_seed(seed)
    lengths = [len(a) + len(b) for a, b in zip(texts_a, texts_b, strict=True)]
    steps_per_epoch = math.ceil(len(labels) / batch_size)
    total = steps_per_epoch * epochs
    warmup = max(1, total // 16)
    optimizer = torch.optim.AdamW(clf.model.parameters(), lr=lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / (total - warmup))))
    model, optimizer, schedule = accelerator.prepare(clf.model, optimizer, schedule)
    model.train()
    losses: list[float] = []
    bar = tqdm(total=total, desc=desc, unit="step", disable=not accelerator.is_main_process)
    for epoch in range(epochs):
        for batch in bucketed_batches(lengths, batch_size, random.Random(seed + epoch)):
            idx = process_share(batch, accelerator.process_index, accelerator.num_processes)
            enc = clf.encode([texts_a[i] for i in idx], [texts_b[i] for i in idx])
            enc = {k: v.to(accelerator.device) for k, v in enc.items()}
            target = torch.tensor([labels[i] for i in idx], device=accelerator.device)  # (B,)
            loss = torch.nn.functional.cross_entropy(model(**enc).logits, target)
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            losses.append(loss.item())
            logger.log(len(losses), {f"{name}/loss": losses[-1],
                                     f"{name}/lr": schedule.get_last_lr()[0]})
            bar.update(1)
            bar.set_postfix(loss=f"{sum(losses[-50:]) / len(losses[-50:]):.3f}")
    bar.close()
    logger.close()
    clf.model = accelerator.unwrap_model(model).eval()
    clf.invalidate()
    tail = losses[-50:]
    return TrainStats(len(losses), len(labels) * epochs, sum(tail) / max(1, len(tail)))
