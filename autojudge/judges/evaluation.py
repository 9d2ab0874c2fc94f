"""`autojudge judge eval`: a judge side by side with token-F1 and embedding-cosine baselines."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from autojudge._extras import pyplot
from autojudge.config import Config
from autojudge.data.build import split_path
from autojudge.data.labelled import labelled_pairs
from autojudge.judges.abstention import find_abstention
from autojudge.judges.base import Judge
from autojudge.judges.baselines import cosine_scores, token_f1_scores
from autojudge.judges.metrics import judge_metrics, judge_outputs
from autojudge.types import Record


def judge_probs(judge: Judge, items: Sequence[Record], chunk: int = 512) -> np.ndarray:
    """(N, 3) probabilities (correct, incorrect, abstain)."""
    return judge_outputs(judge, items, chunk)[0]


def baseline_probs(scores: np.ndarray, items: Sequence[Record], platt: tuple[float, float]
                   ) -> np.ndarray:
    """A similarity score as three-class probabilities: Platt-scaled p_correct, abstention rules."""
    a, b = platt
    p_correct = 1 / (1 + np.exp(-(a * scores + b)))
    rule = np.array([find_abstention(r.answer or "").abstains for r in items])
    p_abstain = np.where(rule, 0.98, 0.02)
    return np.stack([p_correct * (1 - p_abstain), (1 - p_correct) * (1 - p_abstain), p_abstain], 1)


def fit_platt(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Logistic fit of P(correct | score) on non-abstention validation pairs."""
    from sklearn.linear_model import LogisticRegression

    keep = labels != 2
    model = LogisticRegression().fit(scores[keep, None], labels[keep] == 0)
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def evaluate(judge: Judge, config: Config, *, split: str = "test", pairs: int = 0,
             baselines: bool = True) -> dict[str, Any]:
    """Metrics of `judge` and (optionally) the baselines on one split of the judge pairs."""
    items, labels = labelled_pairs(split_path(config.data, "judge", split), pairs,
                                   config.data.seed)
    probs, verdicts = judge_outputs(judge, items)
    return {"split": split,
            "judges": evaluate_items(judge.name, probs, items, labels, config, baselines,
                                     verdicts)}


def evaluate_items(name: str, probs: np.ndarray, items: Sequence[Record], labels: Sequence[int],
                   config: Config, baselines: bool = True, verdicts: np.ndarray | None = None
                   ) -> dict[str, dict[str, Any]]:
    """Judge name → metrics, for a judge's (N, 3) probabilities (and verdicts, when its rule is
    not the most probable class) on labelled items and for the baselines (fitted on the
    validation split)."""
    results = {name: judge_metrics(labels, probs, verdicts)}
    if baselines:
        val, val_labels = labelled_pairs(split_path(config.data, "judge", "val"),
                                         config.judge.calibration_pairs, config.data.seed)
        y_val = np.asarray(val_labels)
        for name, score in (("token-f1", token_f1_scores),
                            ("cosine", lambda xs: cosine_scores(xs, config.models.encoder))):
            platt = fit_platt(score(val), y_val)
            results[name] = judge_metrics(labels, baseline_probs(score(items), items, platt))
    return results


def format_table(results: dict[str, Any]) -> str:
    head = (f"{'judge':<22}{'n':>7}{'acc':>7}{'macroF1':>9}{'AUROC c/i':>11}{'ECE':>7}"
            f"{'abst P':>8}{'abst R':>8}")
    lines = [head, "-" * len(head)]
    for name, m in results["judges"].items():
        ab = m["per_class"]["abstain"]
        auroc = m["auroc_correct_vs_incorrect"]
        lines.append(f"{name:<22}{m['n']:>7}{m['accuracy']:>7.3f}{m['macro_f1']:>9.3f}"
                     f"{(auroc if auroc is not None else float('nan')):>11.3f}"
                     f"{m['ece_p_correct']:>7.3f}{ab['precision']:>8.3f}{ab['recall']:>8.3f}")
    first = next(iter(results["judges"].values()))
    lines.append(f"\nconfusion of {next(iter(results['judges']))} (rows true, columns predicted; "
                 f"correct / incorrect / abstain): {first['confusion']}")
    return "\n".join(lines)


def plot_reliability(results: dict[str, Any], path: Path) -> Path:
    """Observed frequency of correct against p_correct, one line per judge."""
    plt = pyplot("the reliability plot")

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfect calibration")
    for name, m in results["judges"].items():
        bins = m["reliability"]
        ax.plot([b["p_mean"] for b in bins], [b["observed"] for b in bins], marker="o",
                label=f"{name} (ECE {m['ece_p_correct']:.3f})")
    ax.set_xlabel("predicted p_correct")
    ax.set_ylabel("observed share correct")
    ax.set_title(f"Reliability on the {results['split']} split")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
