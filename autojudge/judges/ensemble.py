"""The default judge: comparison + fact-overlap + abstention rules, calibrated on validation.

Rule. For each item the comparison judge gives logits z = (z_correct, z_incorrect, z_abstain);
the abstention rules give r ∈ {0, 1}; the fact judge gives b = 1 − min over the answer's claims
of P(supported), its doubt about the least supported claim, and k = max over the claims of
P(contradicted), so that a contradiction can count for more than an unsupported extra detail
(both 0 for an empty answer); the quantity checker (quantities.py) gives m, x ∈ {0, 1}: the
answer's numbers match / contradict the references'. The final probabilities are

    softmax(z / T + (0, w_b · b + w_k · k + w_m · m + w_x · x, w_r · r) + c)

with temperature T, weights w and class offsets c fitted on the validation split by minimising
the negative log-likelihood (temperature scaling extended by five features; the weights w with
every kind of answer weighing the same and signs fixed by their meaning, then T, w_r and c on
the split as it comes; see Combiner.fit), so that p_correct = 0.8 means right about 80% of the
time. The verdict is the most probable class.
Judges saved before k, m and x existed load with w_k = w_m = w_x = 0.

Degenerate answers (degenerate.py) are judged by rule, whatever the models say: only an answer's
first 2,000 characters and its first 16 claims are judged (flagged "truncated",
"claims_capped"), and an answer that repeats itself (a sentence 3 times or more) is incorrect
with probability 1 (flagged "repetition"), even when what it repeats is right.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from autojudge.judges.abstention import find_abstention
from autojudge.judges.classifier import PairClassifier, softmax
from autojudge.judges.comparison import ComparisonJudge
from autojudge.judges.degenerate import judged_part, screen
from autojudge.judges.facts import LABELS as FACT_LABELS, MAX_CLAIMS, FactJudge, to_facts
from autojudge.judges.base import JudgeBase, from_probs, read_meta, write_meta
from autojudge.judges.overlap import overlap
from autojudge.quantities import QuantityCheck, check_quantities
from autojudge.types import Fact, FactStatus, Judgement, Record, Verdict

CONTRADICTED = FACT_LABELS.index("contradicted")


@dataclass
class Features:
    z: np.ndarray
    """(N, 3) comparison logits."""
    bad: np.ndarray
    """(N,) the fact judge's doubt about the least supported claim (0 without claims)."""
    rule: np.ndarray
    """(N,) 1.0 where the abstention rules fire."""
    facts: list[tuple[Fact, ...]]
    contradiction: np.ndarray | None = None
    """(N,) the largest P(contradicted) over the answer's claims (0 without claims)."""
    quantity_match: np.ndarray | None = None
    """(N,) 1.0 where the answer's numbers match the references' (quantities.py)."""
    quantity_mismatch: np.ndarray | None = None
    """(N,) 1.0 where they contradict them."""
    ref_match: np.ndarray | None = None
    """(N,) 1.0 where a reference (or its demonym) is stated in the answer (overlap.py)."""
    extra: np.ndarray | None = None
    """(N,) log(1 + content words the answer adds beyond the question and references)."""
    exact: np.ndarray | None = None
    """(N,) 1.0 where a reference is stated and nothing beyond question and references is."""
    ref_missing: np.ndarray | None = None
    """(N,) 1.0 where every reference is short and none is stated."""
    repetition: np.ndarray | None = None
    """(N,) share of the answer's word trigrams that repeat an earlier one."""

    def take(self, mask: np.ndarray) -> Features:
        """The rows where `mask` is true."""
        rows = np.flatnonzero(mask)
        return Features(**{k: (v[rows] if isinstance(v, np.ndarray) else
                               [v[i] for i in rows] if isinstance(v, list) else v)
                           for k, v in vars(self).items()})

    def column(self, name: str) -> np.ndarray:
        """A feature by name; a missing one is all zeros."""
        value = getattr(self, name)
        return np.zeros(len(self.z), dtype=np.float32) if value is None else value


WEIGHTS = {"w_fact": "bad", "w_contradiction": "contradiction",
           "w_quantity_match": "quantity_match", "w_quantity_mismatch": "quantity_mismatch",
           "w_ref_match": "ref_match", "w_extra": "extra", "w_exact": "exact",
           "w_ref_missing": "ref_missing", "w_repetition": "repetition"}
"""Combiner weight → the feature it multiplies on the incorrect logit."""


@dataclass
class Combiner:
    """The fitted calibration of the ensemble rule (see the module docstring)."""

    temperature: float = 1.0
    w_fact: float = 0.0
    w_rule: float = 0.0
    offsets: tuple[float, float, float] = (0.0, 0.0, 0.0)
    w_contradiction: float = 0.0
    w_quantity_match: float = 0.0
    w_quantity_mismatch: float = 0.0
    w_ref_match: float = 0.0
    w_extra: float = 0.0
    w_exact: float = 0.0
    w_ref_missing: float = 0.0
    w_repetition: float = 0.0
    correct_at: float | None = None
    """The verdict rule: "correct" needs p_correct ≥ this (None: the most probable class)."""

    def probs(self, f: Features) -> np.ndarray:
        """(N, 3) calibrated probabilities, in float64: in float32 the optimiser's numerical
        gradients vanish and the fit stops where it started."""
        incorrect = sum(getattr(self, w) * f.column(name).astype(np.float64)
                        for w, name in WEIGHTS.items())
        shift = np.stack([np.zeros(len(f.z)), incorrect, self.w_rule * f.rule.astype(np.float64)],
                         axis=1)  # (N, 3)
        return softmax(f.z.astype(np.float64) / self.temperature + shift
                       + np.asarray(self.offsets))

    @classmethod
    def fit(cls, f: Features, labels: np.ndarray, kinds: Sequence[str] | None = None,
            on_policy: np.ndarray | None = None) -> Combiner:
        """Minimum negative log-likelihood. With `kinds` (the kind of answer of each item), the
        feature weights are fitted with every kind weighing the same, so that rare hard kinds
        (changed numbers, negations, claims against evidence) shape them rather than the easy
        bulk; temperature, w_r and offsets are then refitted on the items as they come, which
        keeps p_correct calibrated. Feature weights have the sign their meaning gives them
        (doubt and contradiction and a quantity mismatch can only count against an answer, a
        quantity match only for it); weights of features that are all zero stay 0.
        `on_policy` marks items that are a policy's own answers, graded by careful reading:
        they weigh as much as all other kinds together in the feature weights, and they alone
        decide temperature, w_r and offsets, so that p_correct is calibrated on real answers
        rather than on generated ones."""
        labels = np.asarray(labels)
        used = [w for w, name in WEIGHTS.items() if np.any(f.column(name))]
        if kinds is None:
            return _fit(cls(), f, labels, np.ones(len(labels)), used)
        _, index, counts = np.unique(np.asarray(kinds), return_inverse=True, return_counts=True)
        weights = 1.0 / counts[index]
        if on_policy is None or not np.any(on_policy):
            balanced = _fit(cls(), f, labels, weights, used)
            return _fit(balanced, f, labels, np.ones(len(labels)), [])
        mask = np.asarray(on_policy, dtype=bool)
        weights = np.where(mask, weights[~mask].sum() / mask.sum(), weights)
        balanced = _fit(cls(), f, labels, weights, used)
        if POLICY_SHARE >= 1.0:
            return _fit(balanced, f.take(mask), labels[mask], np.ones(int(mask.sum())), [])
        final = np.where(mask, POLICY_SHARE / mask.sum(), (1 - POLICY_SHARE) / (~mask).sum())
        return _fit(balanced, f, labels, final, [])


POLICY_SHARE = 1.0
"""Share of the weight the policy's graded answers carry when temperature, w_r and offsets
are fitted (the rest is the synthetic validation split's)."""
PRECISION = 0.90
"""Target precision of verdict "correct" on the policy's graded answers when the verdict rule
is chosen: a reward that calls a wrong answer right teaches the policy to fabricate."""


def choose_threshold(p_correct: np.ndarray, is_correct: np.ndarray, precision: float,
                     floor: float = 0.5, ceiling: float = 0.95) -> float:
    """The lowest threshold in [floor, ceiling] at which the answers with p_correct above it are
    right at least `precision` of the time; where none is, the one with the best F0.5 (precision
    counted twice as much as recall: a wrong answer rewarded as right does more harm than a
    right one missed)."""
    steps = range(round(floor * 100), round(ceiling * 100) + 1)
    best, best_f = ceiling, -1.0
    for step in steps:
        chosen = p_correct >= step / 100
        if not chosen.sum():
            continue
        prec = is_correct[chosen].mean()
        if prec >= precision:
            return step / 100
        rec = (chosen & is_correct).sum() / max(1, is_correct.sum())
        f = 1.25 * prec * rec / (0.25 * prec + rec) if prec + rec else 0.0
        if f > best_f:
            best, best_f = step / 100, f
    return best


CAP = 20.0
"""Largest size of any weight or offset: a feature that separates a small calibration set
perfectly would otherwise drive its weight (and the fit) to infinity."""
SIGNS = {"w_fact": (0.0, CAP), "w_contradiction": (0.0, CAP),
         "w_quantity_match": (-CAP, 0.0), "w_quantity_mismatch": (0.0, CAP),
         "w_ref_match": (-CAP, 0.0), "w_extra": (0.0, CAP), "w_exact": (-CAP, 0.0),
         "w_ref_missing": (0.0, CAP), "w_repetition": (0.0, CAP)}
"""Bounds on each feature weight (see Combiner.fit)."""


def _fit(start: Combiner, f: Features, labels: np.ndarray, weights: np.ndarray,
         free: Sequence[str]) -> Combiner:
    """Temperature, w_rule, offsets and the weights named in `free` (the others as in `start`)
    by weighted NLL."""
    from scipy.optimize import minimize

    def make(theta: np.ndarray) -> Combiner:
        return replace(start, temperature=float(np.exp(theta[0])), w_rule=float(theta[1]),
                       offsets=(0.0, float(theta[2]), float(theta[3])),
                       **dict(zip(free, map(float, theta[4:]), strict=True)))

    def nll(theta: np.ndarray) -> float:
        p = make(theta).probs(f)[np.arange(len(labels)), labels]  # (N,)
        return float(-(weights * np.log(np.clip(p, 1e-12, None))).sum() / weights.sum())

    bounds = [(-3.0, 3.0), (0.0, 1.5 * CAP), (-CAP, CAP), (-CAP, CAP)] + [SIGNS[w] for w in free]
    return make(minimize(nll, np.zeros(4 + len(free)), method="L-BFGS-B", bounds=bounds).x)


class EnsembleJudge(JudgeBase):
    """The default judge (see the module docstring)."""

    name = "autojudge-ensemble"

    def __init__(self, comparison: ComparisonJudge, facts: FactJudge,
                 combiner: Combiner | None = None) -> None:
        self.comparison = comparison
        self.fact_judge = facts
        self.combiner = combiner or Combiner()
        self.folder: Path | None = None
        """The folder it was loaded from (it identifies the judge in `score`'s resume check)."""

    def features(self, items: Sequence[Record]) -> Features:
        """The features of each item's judged part (degenerate.judged_part)."""
        items = [r if r.answer is None else replace(r, answer=judged_part(r.answer))
                 for r in items]
        z = self.comparison.logits(items)
        scored = self.fact_judge.claim_probs(items)
        facts = [to_facts(claims, p) for claims, p in scored]
        bad = np.array([1.0 - min((f.probability if f.status is FactStatus.SUPPORTED
                                   else 1.0 - f.probability) for f in fs) if fs else 0.0
                        for fs in facts], dtype=np.float32)
        contradiction = np.array([p[:, CONTRADICTED].max() if len(p) else 0.0
                                  for _, p in scored], dtype=np.float32)
        rule = np.array([float(find_abstention(r.answer or "").abstains) for r in items],
                        dtype=np.float32)
        checks = [check_quantities(r.answer or "", r.reference) for r in items]
        match = np.array([c is QuantityCheck.MATCH for c in checks], dtype=np.float32)
        mismatch = np.array([c is QuantityCheck.MISMATCH for c in checks], dtype=np.float32)
        surface = np.array([overlap(r.question, r.reference, r.answer or "").vector()
                            for r in items], dtype=np.float32).reshape(len(items), 5)  # (N, 5)
        return Features(z, bad, rule, facts, contradiction, match, mismatch, *surface.T)

    def calibrate(self, items: Sequence[Record], labels: Sequence[int],
                  policy_items: Sequence[Record] = (), policy_labels: Sequence[int] = (),
                  precision: float = PRECISION) -> EnsembleJudge:
        """Fit the combiner on labelled items; their `kind` (if recorded) balances the fit.
        With a policy's own graded answers, those also calibrate the probabilities and choose
        the verdict rule: the lowest p_correct threshold whose "correct" verdicts reach
        `precision` on them (see choose_threshold)."""
        items = [*items, *policy_items]
        labels = np.asarray([*labels, *policy_labels])
        on_policy = np.arange(len(items)) >= len(items) - len(policy_items)
        kinds = ["policy" if p else r.extra.get("kind") for r, p in zip(items, on_policy)]
        f = self.features(items)
        self.combiner = Combiner.fit(f, labels, None if None in kinds else kinds,
                                     on_policy if len(policy_items) else None)
        if len(policy_items):
            p = self.combiner.probs(f.take(on_policy))[:, 0]
            self.combiner = replace(self.combiner, correct_at=choose_threshold(
                p, labels[on_policy] == 0, precision))
        return self

    def judge_records(self, records: Sequence[Record]) -> list[Judgement]:
        f = self.features(records)
        probs = self.combiner.probs(f)
        out = []
        for p, fs, item in zip(probs, f.facts, records, strict=True):
            j = from_probs(*map(float, p), judge=self.name, facts=fs,
                           correct_at=self.combiner.correct_at)
            # An abstention makes no claims: its facts are not reported.
            j = replace(j, facts=()) if j.verdict is Verdict.ABSTAIN else j
            rules = screen(item.answer or "")
            if rules.repetitive:  # by rule, whatever the models say (degenerate.py)
                j = Judgement(Verdict.INCORRECT, 0.0, 1.0, 0.0, judge=self.name, facts=j.facts)
            out.append(replace(j, flags=rules.flags))
        return out

    # --- persistence: a folder with comparison/, facts/ and judge.json ------------------------

    def save(self, path: str | Path) -> None:
        """Everything the judge is: both cross-encoders and, in judge.json, the combiner, each
        part's int8 switch, input window and batch size, and the fact judge's claim cap."""
        path, parts = Path(path), {"comparison": self.comparison, "facts": self.fact_judge}
        for name, part in parts.items():
            part.classifier.save(path / name)
        write_meta(path, "ensemble", {
            "combiner": asdict(self.combiner),
            "quantize": {name: part.quantize for name, part in parts.items()},
            "max_length": {name: part.classifier.max_length for name, part in parts.items()},
            "batch_size": {name: part.batch_size for name, part in parts.items()},
            "max_claims": self.fact_judge.max_claims})

    @classmethod
    def load(cls, path: str | Path) -> EnsembleJudge:
        path = Path(path)
        meta = read_meta(path)
        combiner = combiner_from_json(meta["combiner"])
        # Older judges: one int8 switch for both parts, windows of 128, the default batch
        # sizes and claim cap.
        quantize = _per_part(meta.get("quantize", True))
        lengths = _per_part(meta.get("max_length", 128))
        batch = _per_part(meta.get("batch_size", 32))
        comparison = ComparisonJudge(PairClassifier.load(path / "comparison",
                                                         lengths["comparison"]),
                                     quantize["comparison"], batch["comparison"])
        facts = FactJudge(PairClassifier.load(path / "facts", lengths["facts"]),
                          quantize["facts"], batch["facts"],
                          meta.get("max_claims", MAX_CLAIMS))
        judge = cls(comparison, facts, combiner)
        judge.folder = path
        return judge


def _per_part(value: Any) -> dict[str, Any]:
    """A judge.json setting per part ({"comparison": .., "facts": ..}); one value for both in
    judges saved before the parts could differ."""
    return value if isinstance(value, dict) else {"comparison": value, "facts": value}


def combiner_from_json(fields: dict) -> Combiner:
    """A saved combiner; weights it predates are 0."""
    return Combiner(**{**fields, "offsets": tuple(fields["offsets"])})
