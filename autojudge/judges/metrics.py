"""Judge quality: accuracy, macro-F1, per-class precision/recall, AUROC, ECE, confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autojudge.judges.base import JudgeError
from autojudge.types import Record

CLASSES = ("correct", "incorrect", "abstain")


def expected_calibration_error(p: np.ndarray, hit: np.ndarray, bins: int = 15) -> float:
    """Σ_b |B|/N · |mean(hit in B) − mean(p in B)| over equal-width bins of p."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.mean() * abs(hit[mask].mean() - p[mask].mean())
    return float(total)


def reliability(p: np.ndarray, hit: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Per bin: mean predicted probability, observed frequency, count (for the plot)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    return [{"p_mean": float(p[which == b].mean()), "observed": float(hit[which == b].mean()),
             "count": int((which == b).sum())} for b in range(bins) if (which == b).any()]


def judge_metrics(labels: Sequence[int], probs: np.ndarray, verdicts: np.ndarray | None = None
                  ) -> dict[str, Any]:
    """Every figure `autojudge judge eval` reports; `probs` is (N, 3) in CLASSES order and
    `verdicts` the judge's (N,) class indices (the most probable class when not given)."""
    from sklearn.metrics import (accuracy_score, confusion_matrix, f1_score,
                                 precision_recall_fscore_support, roc_auc_score)

    y = np.asarray(labels)
    pred = probs.argmax(axis=1) if verdicts is None else np.asarray(verdicts)
    precision, recall, f1, support = precision_recall_fscore_support(
        y, pred, labels=[0, 1, 2], zero_division=0)
    per_class = {}
    for k, name in enumerate(CLASSES):
        positives = y == k
        auroc = (float(roc_auc_score(positives, probs[:, k]))
                 if 0 < positives.sum() < len(y) else None)
        per_class[name] = {"precision": float(precision[k]), "recall": float(recall[k]),
                           "f1": float(f1[k]), "support": int(support[k]), "auroc": auroc}
    answered = y != 2  # correct vs incorrect, among items that are not abstentions
    auroc_ci = (float(roc_auc_score(y[answered] == 0, probs[answered, 0]))
                if len(set(y[answered])) == 2 else None)
    hit = (y == 0).astype(float)
    return {
        "n": int(len(y)),
        "accuracy": float(accuracy_score(y, pred)),
        "macro_f1": float(f1_score(y, pred, labels=[0, 1, 2], average="macro", zero_division=0)),
        "auroc_correct_vs_incorrect": auroc_ci,
        "ece_p_correct": expected_calibration_error(probs[:, 0], hit),
        "per_class": per_class,
        "confusion": confusion_matrix(y, pred, labels=[0, 1, 2]).tolist(),
        "reliability": reliability(probs[:, 0], hit),
    }


def judge_outputs(judge: Any, items: Sequence[Record], chunk: int = 512
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(N, 3) probabilities (correct, incorrect, abstain) and (N,) verdict indices of any Judge,
    judged in chunks with a progress bar. A verdict need not be the most probable class (a
    judge's verdict rule may ask more of "correct"). A judgement that failed has no verdict to
    measure: JudgeError, naming how many failed."""
    from tqdm.auto import tqdm

    rows, verdicts, failed = [], [], []
    for start in tqdm(range(0, len(items), chunk), desc=f"judging ({judge.name})", unit="chunk"):
        for j in judge.judge(items[start:start + chunk]):
            if j.verdict is None:
                failed.append(j.error)
                continue
            rows.append([j.p_correct, j.p_incorrect, j.p_abstain])
            verdicts.append(CLASSES.index(j.verdict.value))
    if failed:
        raise JudgeError(f"{judge.name} failed on {len(failed)} of {len(items)} pairs (the "
                         f"first: {failed[0]}); its metrics need a verdict on every pair")
    return np.array(rows).reshape(-1, 3), np.array(verdicts, dtype=int)
