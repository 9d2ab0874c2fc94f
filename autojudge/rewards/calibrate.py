"""`autojudge calibrate`: sample and judge a policy's answers (or read judged samples), then sweep
the rewards, recommend values for a stated target and write the table, JSON and plots."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autojudge._extras import pyplot
from autojudge.cache import say
from autojudge.config import RewardConfig
from autojudge.io import InputError, read_rows
from autojudge.judges.base import Judge
from autojudge.policy import sample
from autojudge.policy_eval import judged_rows
from autojudge.rewards import calibration as cal
from autojudge.types import Record, Verdict


def sample_rows(policy: Any, judge: Judge, records: Sequence[Record], generation: Any, k: int,
                batch_size: int = 64) -> list[dict[str, Any]]:
    """K sampled answers per question from `policy` (an autojudge Policy), judged: one row per
    sample with the question's id and the Judgement's fields (the `--input` format)."""
    groups = sample(policy, [r.question for r in records], generation, k, batch_size=batch_size)
    return judged_rows(judge, records, groups)


def read_judged(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Judged samples from a file (`autojudge score` output or samples.jsonl): the valid rows and
    one `file:line: field ...` message per row that is left out."""
    rows, errors = [], []
    verdicts = {v.value for v in Verdict}
    for row in read_rows(path, require=("question",)):
        if row.error:
            errors.append(row.error)
        elif row.fields.get("verdict") is None and row.fields.get("error"):
            errors.append(f"{row.location}: the judge failed on it ({row.fields['error']})")
        elif row.fields.get("verdict") not in verdicts:
            errors.append(f"{row.location}: field 'verdict': expected one of "
                          f"{', '.join(sorted(verdicts))}, got {row.fields.get('verdict')!r}")
        else:
            rows.append({**row.fields, "id": str(row.fields.get("id") or row.fields["question"])})
    if not rows:
        raise InputError(f"{path}: no judged samples (rows need 'question' and 'verdict')"
                         + (f"; first problem: {errors[0]}" if errors else ""))
    return rows, errors


def stats_of(rows: Sequence[dict[str, Any]]) -> list[cal.QuestionStats]:
    """Verdict counts per question; samples the judge failed on (no verdict) are left out."""
    groups: dict[str, list[Verdict]] = defaultdict(list)
    for row in rows:
        if row["verdict"] is not None:
            groups[row["id"]].append(Verdict(row["verdict"]))
    return cal.question_stats(groups.items())


def judge_errors(folder: Path | None) -> tuple[float, float]:
    """(e1, e2) from a saved judge's measured confusion on its test split; (0, 0) if unknown.
    e1 = correct judged incorrect, e2 = incorrect judged correct (abstentions left aside)."""
    metrics = folder / "metrics.json" if folder else None
    if not metrics or not metrics.is_file():
        return 0.0, 0.0
    confusion = json.loads(metrics.read_text())["metrics"]["confusion"]
    (cc, ci, _), (ic, ii, _) = confusion[0], confusion[1]
    e1, e2 = ci / max(1, cc + ci), ic / max(1, ic + ii)
    if e1 + e2 >= 0.9:  # barely better than a coin: dividing by 1 − e1 − e2 would explode
        say(f"warning: the judge in {folder} errs too often to correct for (e1 = {e1:.2f}, "
            f"e2 = {e2:.2f}); calibrating on its verdicts as they are")
        return 0.0, 0.0
    return e1, e2


@dataclass
class CalibrationReport:
    """Everything `calibrate` measured and recommends; `to_dict` is the JSON file."""

    values: RewardConfig
    e1: float
    e2: float
    stats: list[cal.QuestionStats]
    p: np.ndarray
    """(Q,) de-biased P(correct | attempt) per question."""
    abstain_sweep: list[cal.SweepRow]
    incorrect_sweep: list[cal.SweepRow]
    risk: cal.RiskCoverage
    current: cal.SweepRow
    """The configured rewards."""
    recommendation: cal.Recommendation | None
    samples: int
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.meta,
            "questions": len(self.stats), "samples": self.samples,
            "judge_errors": {"e1": self.e1, "e2": self.e2},
            "policy": {"sample_correct": sum(s.correct for s in self.stats) / self.samples,
                       "sample_incorrect": sum(s.incorrect for s in self.stats) / self.samples,
                       "sample_abstain": sum(s.abstain for s in self.stats) / self.samples},
            "current": self.current.to_dict(),
            "recommendation": self.recommendation.to_dict() if self.recommendation else None,
            "risk_coverage_area": self.risk.area,
            "sweep_abstain": [r.to_dict() for r in self.abstain_sweep],
            "sweep_incorrect": [r.to_dict() for r in self.incorrect_sweep],
            "per_question": [{"id": s.id, "correct": s.correct, "incorrect": s.incorrect,
                              "abstain": s.abstain, "p_correct": float(p)}
                             for s, p in zip(self.stats, self.p)],
        }


def calibrate(rows: Sequence[dict[str, Any]], values: RewardConfig, e1: float = 0.0,
              e2: float = 0.0, *, max_hallucination: float | None = None,
              threshold: float | None = None) -> CalibrationReport:
    stats = stats_of(rows)
    p = cal.true_p(stats, e1, e2)
    recommendation = None
    if max_hallucination is not None or threshold is not None:
        recommendation = cal.recommend(p, values.correct, values.incorrect, e1, e2,
                                       max_hallucination=max_hallucination, threshold=threshold)
    return CalibrationReport(
        values, e1, e2, stats, p,
        cal.sweep_abstain(p, values.correct, values.incorrect, e1, e2),
        cal.sweep_incorrect(p, values.correct, values.abstain, e1, e2),
        cal.risk_coverage(p),
        cal.sweep_row(p, values.correct, values.abstain, values.incorrect, e1, e2),
        recommendation, len(rows))


def format_report(report: CalibrationReport) -> str:
    d = report.to_dict()
    pol = d["policy"]
    lines = [f"{d['questions']} questions, {d['samples']} judged samples: "
             f"{pol['sample_correct']:.1%} correct, {pol['sample_incorrect']:.1%} incorrect, "
             f"{pol['sample_abstain']:.1%} abstain; judge errors e1 = {report.e1:.3f}, "
             f"e2 = {report.e2:.3f}", "", "sweep of R_abstain "
             f"(R_correct = {report.values.correct:g}, R_incorrect = {report.values.incorrect:g}):"]
    lines += _table(report.abstain_sweep)
    lines += ["", f"sweep of R_incorrect (R_correct = {report.values.correct:g}, "
                  f"R_abstain = {report.values.abstain:g}):"]
    lines += _table(report.incorrect_sweep)
    lines.append(f"\nrisk–coverage area (hallucination vs answer rate): {report.risk.area:.4f}")
    rec = report.recommendation
    if rec:
        m = rec.metrics
        lines.append(
            f"recommended for {rec.target}: reward.correct={rec.correct:g} "
            f"reward.abstain={rec.abstain:.3f} reward.incorrect={rec.incorrect:g} "
            f"(t* = {rec.threshold:.3f}, t*_eff = {rec.effective_threshold:.3f}) → expected "
            f"answer rate {m.answer_rate:.1%}, accuracy {m.accuracy:.1%}, hallucination "
            f"{m.hallucination:.1%}, truthfulness {m.truthfulness:+.3f}")
    return "\n".join(lines)


def _table(rows: Sequence[cal.SweepRow]) -> list[str]:
    head = (f"{'R_c':>6}{'R_a':>7}{'R_i':>7}{'t*':>7}{'t*eff':>7}{'answer':>8}{'acc':>7}"
            f"{'halluc':>8}{'abstain':>9}{'truth':>8}{'c|att':>7}{'F':>7}")
    out = [head, "-" * len(head)]
    for r in rows:
        m = r.metrics
        out.append(f"{r.correct:>6.2f}{r.abstain:>7.2f}{r.incorrect:>7.2f}{r.threshold:>7.3f}"
                   f"{r.effective_threshold:>7.3f}{m.answer_rate:>8.3f}{m.accuracy:>7.3f}"
                   f"{m.hallucination:>8.3f}{m.abstention:>9.3f}{m.truthfulness:>+8.3f}"
                   f"{m.correct_given_attempted:>7.3f}{m.simpleqa_f:>7.3f}")
    return out


def plot_report(report: CalibrationReport, out: Path) -> list[Path]:
    """risk_coverage.png and threshold_metrics.png in `out`."""
    plt = pyplot("the calibration plots")

    rec = report.recommendation
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    ax.plot(report.risk.coverage, report.risk.hallucination,
            label=f"threshold policy (area {report.risk.area:.4f})")
    cur = report.current.metrics
    ax.scatter([cur.answer_rate], [cur.hallucination], color="black", zorder=3,
               label=f"configured rewards (t*_eff {report.current.effective_threshold:.2f})")
    if rec:
        ax.scatter([rec.metrics.answer_rate], [rec.metrics.hallucination], color="red", zorder=3,
                   marker="*", s=120, label=f"recommended ({rec.target})")
    ax.set_xlabel("answer rate (coverage)")
    ax.set_ylabel("hallucination rate (incorrect / all)")
    ax.set_title(f"Risk–coverage, {len(report.stats)} questions")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    paths = [out / "risk_coverage.png"]
    fig.savefig(paths[0], dpi=120)
    plt.close(fig)

    grid = np.linspace(0.0, 0.99, 100)
    ms = [cal.policy_metrics(report.p, float(t)) for t in grid]
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, values in (("accuracy", [m.accuracy for m in ms]),
                         ("hallucination", [m.hallucination for m in ms]),
                         ("abstention", [m.abstention for m in ms]),
                         ("truthfulness", [m.truthfulness for m in ms]),
                         ("SimpleQA F", [m.simpleqa_f for m in ms])):
        ax.plot(grid, values, label=name)
    if rec:
        ax.axvline(rec.effective_threshold, color="red", linestyle="--",
                   label=f"recommended t*_eff {rec.effective_threshold:.2f}")
    ax.set_xlabel("answer threshold on P(correct)")
    ax.set_ylabel("rate")
    ax.set_title("Threshold policy metrics")
    ax.legend(fontsize=8)
    fig.tight_layout()
    paths.append(out / "threshold_metrics.png")
    fig.savefig(paths[1], dpi=120)
    plt.close(fig)
    return paths
