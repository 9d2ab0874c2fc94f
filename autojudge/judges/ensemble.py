"""The default judge: comparison + fact-overlap + abstention rules, calibrated on validation.

Rule. For each item the comparison judge gives logits z = (z_correct, z_incorrect, z_abstain);
the abstention rules give r ∈ {0, 1}; the fact judge gives b = 1 − min over the answer's claims
of P(supported), its doubt about the least supported claim (0 for an empty answer). The final
probabilities are

    softmax(z / T + (0, w_b · b, w_r · r) + c)

with temperature T, weights w_b, w_r and class offsets c fitted on the validation split by
minimising the negative log-likelihood (temperature scaling, extended by two features), so that
p_correct = 0.8 means right about 80% of the time. The verdict is the most probable class.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from autojudge.judges.abstention import find_abstention
from autojudge.judges.classifier import PairClassifier, softmax
from autojudge.judges.comparison import ComparisonJudge
from autojudge.judges.facts import FactJudge
from autojudge.judges.base import from_probs
from autojudge.types import Fact, FactStatus, Record


@dataclass
class Combiner:
    """The fitted calibration of the ensemble rule (see the module docstring)."""

    temperature: float = 1.0
    w_fact: float = 0.0
    w_rule: float = 0.0
    offsets: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def probs(self, z: np.ndarray, bad: np.ndarray, rule: np.ndarray) -> np.ndarray:
        """(N, 3) calibrated probabilities from z (N, 3), bad (N,), rule (N,)."""
        shift = np.stack([np.zeros_like(bad), self.w_fact * bad, self.w_rule * rule], axis=1)
        return softmax(z / self.temperature + shift + np.asarray(self.offsets))

    @classmethod
    def fit(cls, z: np.ndarray, bad: np.ndarray, rule: np.ndarray,
            labels: np.ndarray) -> Combiner:
        from scipy.optimize import minimize

        def nll(theta: np.ndarray) -> float:
            c = cls(float(np.exp(theta[0])), theta[1], theta[2], (0.0, theta[3], theta[4]))
            p = c.probs(z, bad, rule)[np.arange(len(labels)), labels]
            return float(-np.log(np.clip(p, 1e-12, None)).mean())

        best = minimize(nll, np.zeros(5), method="L-BFGS-B").x
        return cls(float(np.exp(best[0])), float(best[1]), float(best[2]),
                   (0.0, float(best[3]), float(best[4])))


@dataclass
class Features:
    z: np.ndarray
    """(N, 3) comparison logits."""
    bad: np.ndarray
    """(N,) the fact judge's doubt about the least supported claim (0 without claims)."""
    rule: np.ndarray
    """(N,) 1.0 where the abstention rules fire."""
    facts: list[tuple[Fact, ...]]


class EnsembleJudge:
    name = "autojudge-ensemble"

    def __init__(self, comparison: ComparisonJudge, facts: FactJudge,
                 combiner: Combiner | None = None) -> None:
        self.comparison = comparison
        self.fact_judge = facts
        self.combiner = combiner or Combiner()

    def features(self, items: Sequence[Record]) -> Features:
        z = self.comparison.logits(items)
        facts = self.fact_judge.facts(items)
        bad = np.array([1.0 - min((f.probability if f.status is FactStatus.SUPPORTED
                                   else 1.0 - f.probability) for f in fs) if fs else 0.0
                        for fs in facts], dtype=np.float32)
        rule = np.array([float(find_abstention(r.answer or "").abstains) for r in items],
                        dtype=np.float32)
        return Features(z, bad, rule, facts)

    def calibrate(self, items: Sequence[Record], labels: Sequence[int]) -> EnsembleJudge:
        f = self.features(items)
        self.combiner = Combiner.fit(f.z, f.bad, f.rule, np.asarray(labels))
        return self

    def judge(self, items: Sequence[Record]) -> list:
        f = self.features(items)
        probs = self.combiner.probs(f.z, f.bad, f.rule)
        # An abstention makes no claims: its facts are not reported.
        return [from_probs(*map(float, p), judge=self.name, facts=fs if p.argmax() != 2 else ())
                for p, fs in zip(probs, f.facts, strict=True)]

    # --- persistence: a folder with comparison/, facts/ and judge.json ------------------------

    def save(self, path: Path) -> None:
        self.comparison.classifier.save(path / "comparison")
        self.fact_judge.classifier.save(path / "facts")
        (path / "judge.json").write_text(json.dumps(
            {"kind": "ensemble", "combiner": asdict(self.combiner),
             "quantize": self.comparison.quantize}, indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> EnsembleJudge:
        meta = json.loads((path / "judge.json").read_text())
        combiner = Combiner(**{**meta["combiner"], "offsets": tuple(meta["combiner"]["offsets"])})
        quantize = bool(meta.get("quantize", True))
        return cls(ComparisonJudge(PairClassifier.load(path / "comparison"), quantize),
                   FactJudge(PairClassifier.load(path / "facts"), quantize), combiner)
