"""The main job (`autojudge demo`): evaluate the base policy, calibrate the abstention reward,
warm-start, run PPO, evaluate again, and write the before/after report to one folder.

    [1/7] models  [2/7] data  [3/7] judge  [4/7] base policy evaluated on held-out questions
    [5/7] reward calibrated on validation questions  [6/7] warm-start + PPO on training
    questions  [7/7] trained policy evaluated on the same held-out questions → report.md
"""

from __future__ import annotations

import dataclasses
import json
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autojudge.cache import say
from autojudge.config import Config, save_config


@dataclass(frozen=True)
class PipelineResult:
    out: Path
    before: Any
    """PolicyReport of the starting policy."""
    after: Any
    """PolicyReport of the trained policy."""
    reward: Any
    """The RewardConfig PPO was trained with (after calibration)."""
    minutes: float


EVAL_QUESTIONS = 100
"""Held-out questions the policy answers before and after training."""
CALIBRATION_QUESTIONS, CALIBRATION_SAMPLES = 96, 4
"""Validation questions × answers sampled per question to calibrate the abstention reward."""
MAX_HALLUCINATION = 0.1
"""The calibration's target hallucination rate."""


def run_pipeline(config: Config, out: Path, *, eval_questions: int = EVAL_QUESTIONS,
                 calibration_questions: int = CALIBRATION_QUESTIONS,
                 calibration_samples: int = CALIBRATION_SAMPLES,
                 max_hallucination: float | None = MAX_HALLUCINATION) -> PipelineResult:
    from autojudge import models
    from autojudge.data.build import build
    from autojudge.judges.base import load_judge
    from autojudge.policy_eval import evaluate_policy
    from autojudge.trainers.judges import ensure_judge

    started = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    say("[1/7] models")
    for name in (config.models.policy, config.models.encoder):
        models.resolve(name)
    say("[2/7] data")
    build(config.data)
    say("[3/7] judge")
    folder = ensure_judge(config)
    judge = load_judge(str(folder))
    test, _ = held_out_questions(config, None, eval_questions)
    say(f"[4/7] the base policy answers {len(test)} held-out questions (greedy); the judge "
        "scores them")
    graders = independent_graders(config, test)
    before = evaluate_policy(config.models.policy, judge, test, config.generation,
                             graders=graders)
    say(f"      accuracy {before.greedy.accuracy:.1%}, hallucination "
        f"{before.greedy.hallucination:.1%}, abstention {before.greedy.abstention:.1%}")
    reward = calibrate_reward(config, judge, folder, out / "calibration", calibration_questions,
                              calibration_samples, max_hallucination)
    config = dataclasses.replace(config, reward=reward)
    save_config(config, out / "config.yaml")
    say(f"[6/7] warm-start and PPO ({config.ppo.steps} steps) with reward.abstain = "
        f"{reward.abstain:.3f}")
    policy_dir = train_policy(config, out / "train", judge=judge)
    say(f"[7/7] the trained policy answers the same {len(test)} questions")
    after = evaluate_policy(str(policy_dir), judge, test, config.generation, graders=graders)
    minutes = (time.monotonic() - started) / 60
    result = PipelineResult(out, before, after, reward, minutes)
    write_pipeline_report(result, config)
    return result


def calibrate_reward(config: Config, judge: Any, folder: Path, out: Path, questions: int,
                     samples: int, max_hallucination: float | None) -> Any:
    """[5/7] Sample the base policy on validation questions and choose R_abstain for the
    target; without a target (or a usable sample) the configured rewards are kept."""
    from autojudge.data.build import split_path
    from autojudge.io import read_records, write_jsonl
    from autojudge.policy import load_policy
    from autojudge.rewards.calibrate import (calibrate, format_report, judge_errors,
                                             plot_report, sample_rows)

    if max_hallucination is None:
        say("[5/7] reward calibration skipped: keeping the configured rewards")
        return config.reward
    records, _ = read_records(split_path(config.data, "qa", "val"),
                              require=("question", "reference"))
    records = random.Random(config.data.seed).sample(records, min(questions, len(records)))
    say(f"[5/7] calibrating the reward: {samples} samples × {len(records)} validation questions")
    rows = sample_rows(load_policy(config.models.policy), judge, records, config.generation,
                       samples)
    e1, e2 = judge_errors(folder)
    report = calibrate(rows, config.reward, e1, e2, max_hallucination=max_hallucination)
    out.mkdir(parents=True, exist_ok=True)
    write_jsonl(out / "samples.jsonl", rows)
    (out / "calibration.json").write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    plot_report(report, out)
    (out / "calibration.txt").write_text(format_report(report) + "\n")
    rec = report.recommendation
    say(f"      recommended for {rec.target}: reward.abstain = {rec.abstain:.3f} (t*_eff "
        f"{rec.effective_threshold:.2f})")
    return dataclasses.replace(config.reward, abstain=rec.abstain)


def write_pipeline_report(result: PipelineResult, config: Config) -> Path:
    """report.md, before_after.json, rates.png and training.png in the run folder."""
    from autojudge.policy_eval import format_table, write_report

    out = result.out
    labels = ["before", "after"]
    write_report([result.before, result.after], labels, out / "eval",
                 {"questions": len(result.before.greedy_rows), "judge": "default"})
    plots = [p for p in (plot_training(out / "train" / "ppo" / "log.jsonl",
                                       out / "training.png"),) if p]
    table = format_table([result.before, result.after], labels)
    (out / "before_after.json").write_text(json.dumps(
        {"before": result.before.to_dict(), "after": result.after.to_dict(),
         "reward": dataclasses.asdict(result.reward), "minutes": result.minutes}, indent=2) + "\n")
    images = "\n".join(f"![{p.stem}]({p.relative_to(out)})" for p in
                       [out / "eval" / "rates.png", *plots,
                        out / "calibration" / "risk_coverage.png"] if p.exists())
    path = out / "report.md"
    path.write_text(
        f"# autojudge demo\n\nPolicy `{config.models.policy}`, judged by the default judge on "
        f"{len(result.before.greedy_rows)} held-out questions (greedy answers), before and "
        f"after the warm-start and {config.ppo.steps} PPO steps. Reward: correct "
        f"{result.reward.correct:g}, abstain {result.reward.abstain:.3f}, incorrect "
        f"{result.reward.incorrect:g}. {result.minutes:.1f} minutes.\n\n```\n{table}\n```\n\n"
        f"{images}\n", encoding="utf-8")
    return path


def plot_training(log: Path, path: Path) -> Path | None:
    """Rollout correct / incorrect / abstain rates and reward per PPO step."""
    if not log.is_file():
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    if not rows:
        return None
    steps = [r["step"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, label in (("rollout/correct", "correct"), ("rollout/incorrect", "incorrect"),
                       ("rollout/abstain", "abstain"), ("rollout/reward", "reward")):
        ax.plot(steps, [r.get(key, float("nan")) for r in rows], marker=".", label=label)
    ax.set_xlabel("PPO step")
    ax.set_ylabel("share of rollout answers / mean reward")
    ax.set_title("Rollouts during PPO")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def independent_graders(config: Config, records: Any = (), spec: str | None = None,
                        base_url: str | None = None) -> dict[str, Any]:
    """Graders the policy is not trained against: the strict reference checker, its value index
    read from `records` and every QA split already built, and, with `spec`, any judge
    `load_judge` knows."""
    from autojudge.data.build import split_path
    from autojudge.io import read_records
    from autojudge.judges.base import load_judge
    from autojudge.judges.strict import StrictChecker, relation_values

    qa = list(records)
    for split in ("train", "val", "test"):
        if split_path(config.data, "qa", split).is_file():
            qa += read_records(split_path(config.data, "qa", split),
                               require=("question", "reference"))[0]
    graders: dict[str, Any] = {"strict": StrictChecker(relation_values(qa))}
    if spec:
        graders[spec] = load_judge(spec, base_url=base_url)
    return graders


def held_out_questions(config: Any, data: Path | None, n: int, ids: set[str] | None = None
                       ) -> tuple[list[Any], Path]:
    """`n` QA records (seeded choice) from `data` or the held-out test split (built if needed);
    with `ids`, exactly the records whose id (or question) is in it."""
    from autojudge.data.build import build, split_path
    from autojudge.io import read_records

    if data is None:
        build(config.data)
    path = data or split_path(config.data, "qa", "test")
    records, _ = read_records(path, require=("question", "reference"))
    if ids is not None:
        records = [r for r in records if (r.id or r.question) in ids]
    elif len(records) > n:
        records = random.Random(config.data.seed).sample(records, n)
    return records, path


def train_policy(config: Any, out: Path, *, model: str | None = None, judge_spec: str = "default",
                 base_url: str | None = None, data: Path | None = None, resume: bool = False,
                 only_warm_start: bool = False, judge: Any = None) -> Path:
    """Warm-start (if enabled or asked for alone) then PPO; returns the final policy folder.
    A resumed run reuses a finished warm-start instead of redoing it."""
    from autojudge.data.build import build, split_path
    from autojudge.io import read_records
    from autojudge.judges.base import load_judge
    from autojudge.policy import load_policy
    from autojudge.rewards.schemes import Reward
    from autojudge.trainers.ppo import train_ppo
    from autojudge.trainers.warm_start import warm_start

    if data is None:
        build(config.data)
    records, _ = read_records(data or split_path(config.data, "qa", "train"),
                              require=("question", "reference"))
    judge = judge or load_judge(judge_spec, base_url=base_url)
    start = model or config.models.policy
    warm_dir = out / "warm_start"
    if only_warm_start or config.warm_start.enabled:
        if resume and (warm_dir / "warm_start.json").is_file():
            say(f"warm-start already done: {warm_dir / 'policy'}")
        else:
            say(f"warm-start: sampling {config.warm_start.samples} answers to "
                f"{config.warm_start.questions} training questions from {start}")
            ws = warm_start(config, load_policy(start), judge, records, warm_dir)
            say(f"warm-start: {ws.known} known questions, {ws.abstain} \"I don't know\" examples "
                f"(of {ws.unknown} unknown), {ws.steps} steps, loss {ws.final_loss:.3f}")
        start = str(warm_dir / "policy")
        if only_warm_start:
            return warm_dir / "policy"
    say(f"PPO: {config.ppo.steps} steps of {config.ppo.batch_size} questions from {start}")
    result = train_ppo(config, load_policy(start), judge, Reward(config.reward), records,
                       out / "ppo", resume=resume)
    last = result.metrics
    if last:
        say(f"PPO step {result.step}: reward {last.get('rollout/reward', float('nan')):.3f}, "
            f"truthfulness {last.get('rollout/truthfulness', float('nan')):+.3f}; "
            f"log {result.log_path}")
    return result.policy_dir
