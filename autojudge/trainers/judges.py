"""Train the default judge: comparison and fact-overlap cross-encoders, then calibrate the ensemble."""

from __future__ import annotations

import copy
import json
import random
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from autojudge.cache import atomic_dir, say
from autojudge.config import Config, save_config
from autojudge.data.build import build, split_path
from autojudge.data.labelled import labelled_pairs, policy_answers
from autojudge.judges import comparison, facts
from autojudge.judges.classifier import PairClassifier
from autojudge.judges.comparison import ComparisonJudge
from autojudge.judges.ensemble import EnsembleJudge
from autojudge.judges.facts import FactJudge
from autojudge.judges.loader import default_judge_dir
from autojudge.judges.metrics import judge_metrics, judge_outputs
from autojudge.models import resolve
from autojudge.trainers.classifier import fit_pair_classifier
from autojudge.trainers.processes import main_first, main_process, shared_choice, wait_for_everyone
from autojudge.trainers.tracking import Tracking

FACT_LR_SCALE = 0.4
"""The fact judge's learning rate relative to `judge.lr`."""


def fact_start(comp: PairClassifier) -> PairClassifier:
    """A copy of the trained comparison judge, its classes read as entailment classes
    (correct → supported, incorrect → contradicted, abstain → unsupported): where the fact judge
    starts. Started from the bare encoder it collapsed to the class prior at the full and at
    0.4× the rate (final loss 0.82–0.88 where the prior's is 0.90; P(contradicted) between 0.48
    and 0.52 for every claim, so the facts reported were noise). From the comparison judge it
    ends at loss 0.54, right on 0.92 of held-out QA claims and 0.58 of VitaminC claims (data
    format 8, when VitaminC was still to be had)."""
    model = copy.deepcopy(comp.model)
    model.config.id2label = dict(enumerate(facts.LABELS))
    model.config.label2id = {label: i for i, label in enumerate(facts.LABELS)}
    return PairClassifier(model, comp.tokenizer, facts.LABELS, comp.max_length)


def ensure_judge(config: Config) -> Path:
    """The default judge's folder for this config, trained first if it is not there yet: a step
    the jobs that need a judge take on purpose, announced with its expected duration. Under
    `accelerate launch` the main process decides, and all processes train it together."""
    folder = default_judge_dir(config)
    if shared_choice(not (folder / "judge.json").is_file()):
        say(f"no default judge for this config yet ({config.models.encoder}, data seed "
            f"{config.data.seed}): training one, once; about 15 minutes on 2 CPU cores, "
            f"into {folder}")
        train_judge(config, folder)
    return folder


def nli_examples(config: Config, split: str, n: int) -> tuple[list[str], list[str], list[int]]:
    """Half HaluEval passage/claim pairs, half QA pairs (correct → supported, incorrect →
    contradicted) written the way the fact judge will see them."""
    rng = random.Random(config.data.seed)
    rows = [json.loads(line) for line in
            split_path(config.data, "nli", split).read_text(encoding="utf-8").splitlines()]
    rows = rng.sample(rows, min(n // 2, len(rows)))
    texts_a = [r["premise"] for r in rows]
    texts_b = [r["hypothesis"] for r in rows]
    labels = [facts.LABELS.index(r["label"]) for r in rows]
    qa, qa_labels = labelled_pairs(split_path(config.data, "judge", split), n, config.data.seed)
    mapping = {0: 0, 1: 1}  # correct → supported, incorrect → contradicted; abstain skipped
    kept = [(r, mapping[y]) for r, y in zip(qa, qa_labels, strict=True) if y in mapping]
    for record, label in kept[: n - len(rows)]:
        texts_a.append(facts.premise(record))
        texts_b.append(facts.hypothesis(record.answer or ""))
        labels.append(label)
    return texts_a, texts_b, labels


def train_judge(config: Config, target: Path | None = None) -> Path:
    """Train, calibrate, evaluate and save the default judge; returns its folder. Under
    `accelerate launch` every process trains on its share of each batch (fit_pair_classifier);
    the main process alone builds the data, calibrates, measures and writes the judge."""
    cfg = config.judge
    target = target or default_judge_dir(config)
    logs = target.with_name(f"{target.name}-training")  # trackers' files, beside the judge
    started = time.monotonic()
    with main_first():  # one process downloads and writes; the others then find it all there
        build(config.data)
        resolve(config.models.encoder)
    say("training the comparison judge ...")
    records, labels = labelled_pairs(split_path(config.data, "judge", "train"), cfg.train_pairs,
                                     config.data.seed, cfg.kind_balance)
    comp = PairClassifier.from_encoder(config.models.encoder, comparison.LABELS, cfg.max_length)
    comp_stats = fit_pair_classifier(comp, *comparison.pair_texts(records), labels, lr=cfg.lr,
                                     epochs=cfg.epochs, batch_size=cfg.batch_size,
                                     seed=config.data.seed, desc="comparison judge",
                                     tracking=Tracking.of(config, logs, "comparison-judge"))
    say("training the fact-overlap judge ...")
    nli = fact_start(comp)
    texts_a, texts_b, nli_labels = nli_examples(config, "train", cfg.nli_pairs)
    nli_stats = fit_pair_classifier(nli, texts_a, texts_b, nli_labels,
                                    lr=cfg.lr * FACT_LR_SCALE,
                                    epochs=cfg.epochs, batch_size=cfg.batch_size,
                                    seed=config.data.seed, desc="fact judge",
                                    tracking=Tracking.of(config, logs, "fact-judge"))
    judge = EnsembleJudge(ComparisonJudge(comp, cfg.quantize), FactJudge(nli, cfg.quantize))
    if main_process():
        calibrate_and_save(config, judge, target, {
            "comparison": asdict(comp_stats), "facts": asdict(nli_stats),
            "minutes": round((time.monotonic() - started) / 60, 1)})
    wait_for_everyone()
    return target


def recalibrate_judge(config: Config, source: Path, target: Path) -> Path:
    """A saved judge's models with the combiner refitted by the current rule (no retraining);
    the model card keeps the original training figures."""
    judge = EnsembleJudge.load(source)
    training = json.loads((source / "metrics.json").read_text())["training"]
    return calibrate_and_save(config, judge, target, {**training, "recalibrated": True})


def calibrate_and_save(config: Config, judge: EnsembleJudge, target: Path,
                       training: dict[str, Any]) -> Path:
    """Fit the combiner on validation, measure on test, save the judge with its model card."""
    cfg = config.judge
    say("calibrating the ensemble on the validation split ...")
    val, val_labels = labelled_pairs(split_path(config.data, "judge", "val"),
                                     cfg.calibration_pairs, config.data.seed)
    graded, graded_labels = policy_answers()
    if graded:
        say(f"  and on {len(graded)} of the policy's own answers, graded by careful reading")
    judge.calibrate(val, val_labels, graded, graded_labels)
    say("measuring on the test split ...")
    test, test_labels = labelled_pairs(split_path(config.data, "judge", "test"), cfg.eval_pairs,
                                       config.data.seed)
    probs, verdicts = judge_outputs(judge, test)
    metrics = judge_metrics(test_labels, probs, verdicts)
    with atomic_dir(target) as tmp:
        judge.save(tmp)
        save_config(config, tmp / "config.yaml")
        card = {"metrics": metrics, "training": training}
        (tmp / "metrics.json").write_text(json.dumps(card, indent=2) + "\n")
        (tmp / "README.md").write_text(model_card(config, card))
    say(f"judge saved to {target}")
    return target


def model_card(config: Config, card: dict[str, Any]) -> str:
    m = card["metrics"]
    rows = "\n".join(f"| {name} | {c['precision']:.3f} | {c['recall']:.3f} | {c['f1']:.3f} | "
                     f"{c['auroc'] if c['auroc'] is None else round(c['auroc'], 3)} | "
                     f"{c['support']} |" for name, c in m["per_class"].items())
    return f"""# autojudge default judge

Comparison cross-encoder + fact-overlap entailment cross-encoder + abstention rules, combined and
calibrated on the validation split (see `autojudge/judges/ensemble.py`). Base encoder:
`{config.models.encoder}`. Trained on {config.judge.train_pairs:,} judge pairs and
{config.judge.nli_pairs:,} entailment pairs from `autojudge data build` (seed {config.data.seed};
sources: GeoNames and ISO geography questions, HaluEval QA; split by question).

## Held-out test split ({m['n']:,} pairs)

accuracy {m['accuracy']:.3f} · macro-F1 {m['macro_f1']:.3f} · AUROC correct vs incorrect
{m['auroc_correct_vs_incorrect']:.3f} · ECE of p_correct {m['ece_p_correct']:.3f}

| class | precision | recall | F1 | AUROC | support |
|---|---|---|---|---|---|
{rows}

Confusion (rows true, columns predicted; correct / incorrect / abstain): {m['confusion']}

Training took {card['training']['minutes']} minutes. The resolved config is `config.yaml`.
"""
