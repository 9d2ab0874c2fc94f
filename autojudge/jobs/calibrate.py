"""Calibrate the abstention reward: sample a policy and judge it (or read judged samples),
choose R_abstain for a target; check a trained policy against a calibration."""

from __future__ import annotations

import dataclasses
import json
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autojudge.cache import say
from autojudge.config import Config, RewardConfig
from autojudge.data.build import split_path
from autojudge.io import InputError, read_records, write_jsonl
from autojudge.jobs.judge import resolve_judge
from autojudge.jobs.questions import held_out_questions
from autojudge.judges.base import Judge
from autojudge.judges.loader import default_judge_dir
from autojudge.policy import load_policy
from autojudge.rewards.calibrate import (CalibrationReport, calibrate, format_report,
                                         judge_errors, plot_report, read_judged, sample_rows)
from autojudge.rewards.calibration import CheckResult, check


@dataclass(frozen=True)
class Sampling:
    """Where calibration samples come from: a policy answering QA records, judged."""

    judge: str = "default"
    base_url: str | None = None
    model: str | None = None
    data: Path | None = None
    questions: int = 200
    samples: int = 8


def judge_folder(config: Config, spec: str) -> Path | None:
    """The saved folder behind a judge spec (its measured confusion gives e1, e2), if any."""
    if spec == "default":
        folder = default_judge_dir(config)
        return folder if folder.is_dir() else None
    return Path(spec) if Path(spec).is_dir() else None


def sample_judged(config: Config, how: Sampling, ids: set[str] | None = None
                  ) -> list[dict[str, Any]]:
    """Sample and judge (all questions in `ids` if given, else `how.questions` of them)."""
    judge = resolve_judge(config, how.judge, how.base_url)
    records, _ = held_out_questions(config, how.data, how.questions, ids)
    model = how.model or config.models.policy
    say(f"sampling {how.samples} answers to each of {len(records)} questions from {model}")
    return sample_rows(load_policy(model, config.models.dtype), judge, records,
                       config.generation, how.samples)


def read_samples(path: Path) -> list[dict[str, Any]]:
    """Judged samples from a file; malformed rows are reported and left out."""
    rows, errors = read_judged(path)
    for message in errors[:5]:
        say(f"left out {message}")
    if errors:
        say(f"{len(errors)} rows left out of {len(rows) + len(errors)}")
    return rows


def calibrate_rewards(config: Config, out: Path, how: Sampling, *, input: Path | None = None,
                      e1: float | None = None, e2: float | None = None,
                      max_hallucination: float | None = None, threshold: float | None = None
                      ) -> CalibrationReport:
    """Sample (or read `input`), calibrate, and write calibration.json, the plots and
    samples.jsonl to `out`. e1 / e2 default to the judge's measured confusion."""
    out.mkdir(parents=True, exist_ok=True)
    if input:
        rows = read_samples(input)
    else:
        rows = sample_judged(config, how)
        write_jsonl(out / "samples.jsonl", rows)
    measured = judge_errors(judge_folder(config, how.judge))
    e1 = measured[0] if e1 is None else e1
    e2 = measured[1] if e2 is None else e2
    report = calibrate(rows, config.reward, e1, e2, max_hallucination=max_hallucination,
                       threshold=threshold)
    report.meta.update({"model": how.model or (None if input else config.models.policy),
                        "input": str(input) if input else None, "judge": how.judge})
    (out / "calibration.json").write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    plot_report(report, out)
    return report


def check_policy(config: Config, out: Path, calibration_json: Path, how: Sampling, *,
                 input: Path | None = None) -> tuple[CheckResult, float]:
    """Whether a trained policy abstains below the calibration's threshold and answers above
    it; writes check.json. Returns the result and the threshold."""
    if not calibration_json.is_file():
        raise InputError(f"{calibration_json}: no such calibration file")
    calibration = json.loads(calibration_json.read_text())
    p_start = {q["id"]: q["p_correct"] for q in calibration["per_question"]}
    threshold = (calibration["recommendation"] or calibration["current"])["effective_threshold"]
    if input:
        rows, _ = read_judged(input)
    else:
        rows = sample_judged(config, how, ids=set(p_start))
        out.mkdir(parents=True, exist_ok=True)
        write_jsonl(out / "check_samples.jsonl", rows)
    abstained: dict[str, list[bool]] = defaultdict(list)
    for row in rows:
        if row["verdict"] is not None:  # a sample the judge failed on says nothing
            abstained[row["id"]].append(row["verdict"] == "abstain")
    result = check(p_start, abstained, threshold)
    out.mkdir(parents=True, exist_ok=True)
    (out / "check.json").write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    return result, threshold


def calibrate_demo_reward(config: Config, judge: Judge, out: Path, questions: int,
                          samples: int, *, threshold: float | None = None,
                          max_hallucination: float | None = None) -> RewardConfig:
    """The demo's step 5: sample the base policy on validation questions and choose R_abstain
    for the target (an answer threshold, or a hallucination bound); without a target the
    configured rewards are kept."""
    if threshold is None and max_hallucination is None:
        say("[5/7] reward calibration skipped: keeping the configured rewards")
        return config.reward
    records, _ = read_records(split_path(config.data, "qa", "val"),
                              require=("question", "reference"))
    records = random.Random(config.data.seed).sample(records, min(questions, len(records)))
    say(f"[5/7] calibrating the reward: {samples} samples × {len(records)} validation questions")
    rows = sample_rows(load_policy(config.models.policy, config.models.dtype), judge, records,
                       config.generation, samples)
    e1, e2 = judge_errors(judge_folder(config, "default"))
    report = calibrate(rows, config.reward, e1, e2, max_hallucination=max_hallucination,
                       threshold=None if max_hallucination is not None else threshold)
    out.mkdir(parents=True, exist_ok=True)
    write_jsonl(out / "samples.jsonl", rows)
    (out / "calibration.json").write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    plot_report(report, out)
    (out / "calibration.txt").write_text(format_report(report) + "\n")
    rec = report.recommendation
    say(f"      recommended for {rec.target}: reward.abstain = {rec.abstain:.3f} (t*_eff "
        f"{rec.effective_threshold:.2f})")
    return dataclasses.replace(config.reward, abstain=rec.abstain)
