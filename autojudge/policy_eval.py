"""`autojudge eval`: a policy's greedy (and optionally sampled) answers to QA records, judged:
accuracy, hallucination, abstention, truthfulness, correct-given-attempted, SimpleQA F."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autojudge._extras import pyplot
from autojudge.config import GenerationConfig
from autojudge.io import write_jsonl
from autojudge.judges.base import Judge, JudgeError
from autojudge.policy import answer, load_policy, sample
from autojudge.types import Rates, Record, Verdict


@dataclass(frozen=True)
class PolicyReport:
    """One model's judged answers and their rates."""

    model: str
    greedy: Rates
    greedy_rows: list[dict[str, Any]]
    """One row per question: id, question, reference, answer and the Judgement's fields."""
    sampled: Rates | None = None
    sampled_rows: tuple[dict[str, Any], ...] = ()
    graders: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Independent grader name → its rates on the greedy answers (grader_rates)."""
    disagreement: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Independent grader name → how often the reward judge's "correct" is its "incorrect"."""

    @property
    def judge_failed(self) -> int:
        """Greedy answers the reward judge failed on: left out of the rates, never a verdict."""
        return sum(r["verdict"] is None for r in self.greedy_rows)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "questions": len(self.greedy_rows),
                "judge_failed": self.judge_failed, "greedy": self.greedy.to_dict(),
                "sampled": self.sampled.to_dict() if self.sampled else None,
                "samples": len(self.sampled_rows), "graders": self.graders,
                "disagreement": self.disagreement}


def evaluate_policy(model: str, judge: Judge, records: Sequence[Record],
                    generation: GenerationConfig, *, samples: int = 0,
                    batch_size: int = 16, graders: Mapping[str, Judge] | None = None,
                    dtype: str = "float32") -> PolicyReport:
    """Greedy answers to every record (and `samples` sampled answers each if > 0), judged by
    the reward judge and, for the greedy answers, by every independent grader; the policy
    loaded in `dtype` (`models.dtype`)."""
    policy = load_policy(model, dtype)
    answers = answer(policy, [r.question for r in records], generation, batch_size=batch_size)
    greedy = judged_rows(judge, records, [[a] for a in answers])
    graders = dict(graders or {})
    add_grades(greedy, records, graders)
    sampled: list[dict[str, Any]] = []
    if samples:
        groups = sample(policy, [r.question for r in records], generation, samples,
                        batch_size=batch_size * 4)
        sampled = judged_rows(judge, records, groups)
    return PolicyReport(model, _rates(greedy), greedy, _rates(sampled) if sampled else None,
                        tuple(sampled), {name: grader_rates(greedy, name) for name in graders},
                        {name: disagreement(greedy, name) for name in graders})


def add_grades(rows: list[dict[str, Any]], records: Sequence[Record],
               graders: Mapping[str, Judge]) -> None:
    """Each row's `graders`: grader name → its verdict, or None where it could not tell or
    failed (a failed judgement is never a verdict)."""
    items = [Record(r.question, r.reference, row["answer"], r.id)
             for r, row in zip(records, rows, strict=True)]
    for row in rows:
        row.setdefault("graders", {})
    for name, grader in graders.items():
        for row, j in zip(rows, grader.judge(items), strict=True):
            row["graders"][name] = None if j.error else j.verdict.value


def grader_rates(rows: Sequence[dict[str, Any]], name: str) -> dict[str, Any]:
    """A grader's rates among the answers it could tell, and the share it could not."""
    told = [Verdict(r["graders"][name]) for r in rows if r["graders"].get(name)]
    rates = Rates.of(told).to_dict() if told else None
    return {"rates": rates, "cant_tell": 1 - len(told) / len(rows) if rows else 0.0,
            "told": len(told), "n": len(rows)}


def disagreement(rows: Sequence[dict[str, Any]], name: str, examples: int = 5
                 ) -> dict[str, Any]:
    """Of the answers the reward judge calls correct and the grader can tell, the share the
    grader calls incorrect: where reward hacking would show."""
    judged = [r for r in rows if r["verdict"] == "correct" and r["graders"].get(name)]
    wrong = [r for r in judged if r["graders"][name] == "incorrect"]
    return {"share": len(wrong) / len(judged) if judged else 0.0, "n": len(judged),
            "examples": [{k: r[k] for k in ("question", "reference", "answer", "p_correct")}
                         for r in wrong[:examples]]}


def judged_rows(judge: Judge, records: Sequence[Record], groups: Sequence[Sequence[str]]
                ) -> list[dict[str, Any]]:
    """Judge each record's answers (one group per record): one row per answer with the
    question's id, its index in the group (`sample`) and the Judgement's fields."""
    items = [Record(r.question, r.reference, a, r.id)
             for r, group in zip(records, groups, strict=True) for a in group]
    index = [i for group in groups for i in range(len(group))]
    return [{"id": it.id or it.question, "question": it.question, "reference": list(it.reference),
             "answer": it.answer, "sample": i, **j.to_dict()}
            for it, i, j in zip(items, index, judge.judge(items), strict=True)]


def _rates(rows: Sequence[dict[str, Any]]) -> Rates:
    """Rates among the answers the judge could judge; a run where it judged none is refused."""
    judged = [Verdict(r["verdict"]) for r in rows if r["verdict"] is not None]
    if not judged:
        raise JudgeError(f"the judge failed on all {len(rows)} answers (the first: "
                         f"{rows[0]['error'] if rows else 'none'})")
    return Rates.of(judged)


METRICS = (("accuracy", "accuracy"), ("hallucination", "hallucination"),
           ("abstention", "abstention"), ("truthfulness", "truthfulness"),
           ("correct|attempted", "correct_given_attempted"), ("SimpleQA F", "simpleqa_f"))


CANT_TELL = "can't tell"


def format_table(reports: Sequence[PolicyReport], labels: Sequence[str] | None = None) -> str:
    """Metrics down, models across (greedy answers; sampled in brackets when measured), by the
    reward judge and then by every independent grader, with their disagreement."""
    labels = list(labels or [Path(r.model).name for r in reports])
    width = max(14, *(len(lab) + 2 for lab in labels))
    lines = [f"{'reward judge':<20}" + "".join(f"{lab:>{width}}" for lab in labels),
             "-" * (20 + width * len(labels))]
    for title, key in METRICS:
        cells = []
        for r in reports:
            cell = f"{getattr(r.greedy, key):.3f}"
            if r.sampled:
                cell += f" ({getattr(r.sampled, key):.3f})"
            cells.append(f"{cell:>{width}}")
        lines.append(f"{title:<20}" + "".join(cells))
    lines.append(f"{'questions':<20}" + "".join(f"{len(r.greedy_rows):>{width}}"
                                               for r in reports))
    if any(r.judge_failed for r in reports):
        lines.append(f"{'judge failed':<20}" + "".join(f"{r.judge_failed:>{width}}"
                                                      for r in reports))
    for name in reports[0].graders:
        lines += ["", f"{name + ' (among told)':<20}" + "".join(f"{lab:>{width}}"
                                                                for lab in labels),
                  "-" * (20 + width * len(labels))]
        for title, key in METRICS:
            values = [(r.graders[name]["rates"] or {}).get(key) for r in reports]
            lines.append(f"{title:<20}" + "".join(
                f"{'-' if v is None else f'{v:.3f}':>{width}}" for v in values))
        lines.append(f"{CANT_TELL:<20}" + "".join(
            f"{r.graders[name]['cant_tell']:>{width}.3f}" for r in reports))
        lines.append(f"{'disagreement':<20}" + "".join(
            f"{r.disagreement[name]['share']:>{width}.3f}" for r in reports))
    return "\n".join(lines)


def plot_rates(reports: Sequence[PolicyReport], labels: Sequence[str], path: Path) -> Path:
    """Grouped bars: correct / incorrect / abstain share and truthfulness per model."""
    plt = pyplot("the rates plot")
    import numpy as np

    keys = [("accuracy", "correct"), ("hallucination", "incorrect"), ("abstention", "abstain"),
            ("truthfulness", "truthfulness")]
    x = np.arange(len(keys))
    width = 0.8 / len(reports)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for i, (report, label) in enumerate(zip(reports, labels)):
        values = [getattr(report.greedy, k) for k, _ in keys]
        ax.bar(x + i * width - 0.4 + width / 2, values, width, label=label)
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xticks(x, [name for _, name in keys])
    ax.set_ylabel("share of questions (greedy answers)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_report(reports: Sequence[PolicyReport], labels: Sequence[str], out: Path,
                 meta: dict[str, Any]) -> list[Path]:
    """eval.json, report.md, rates.png and answers_<label>.jsonl in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "eval.json", out / "report.md", out / "rates.png"]
    data = {**meta, "models": {lab: r.to_dict() for lab, r in zip(labels, reports)},
            "graders": {"reward_judge": {lab: r.greedy.to_dict()
                                         for lab, r in zip(labels, reports)},
                        **{name: {lab: r.graders[name] for lab, r in zip(labels, reports)}
                           for name in reports[0].graders}},
            "disagreement": {name: {lab: r.disagreement[name] for lab, r in zip(labels, reports)}
                             for name in reports[0].graders}}
    paths[0].write_text(json.dumps(data, indent=2) + "\n")
    for lab, r in zip(labels, reports):
        write_jsonl(out / f"answers_{_slug(lab)}.jsonl", [*r.greedy_rows, *r.sampled_rows])
    examples = "\n".join(
        f"| {_cell(row['question'])} | {_cell(row['reference'][0])} | {_cell(row['answer'])} | "
        f"{row['verdict']} |" for row in reports[-1].greedy_rows[:10])
    paths[1].write_text(
        f"# Policy evaluation\n\n{meta.get('questions', '')} questions from "
        f"`{meta.get('data', '')}`, judged by `{meta.get('judge', '')}`.\n\n"
        f"```\n{format_table(reports, labels)}\n```\n\n![rates](rates.png)\n\n"
        f"## First answers of {labels[-1]}\n\n| question | reference | answer | verdict |\n"
        f"|---|---|---|---|\n{examples}\n", encoding="utf-8")
    plot_rates(reports, labels, paths[2])  # last: without matplotlib the numbers are still saved
    return paths


def _slug(label: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in label)


def _cell(text: str, n: int = 80) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= n else text[: n - 1] + "…"
