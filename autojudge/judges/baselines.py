"""Baselines the judges are compared with: SQuAD token-F1 and embedding cosine similarity.

Each scores how close the answer is to the best-matching reference; `autojudge judge eval` fits
one threshold per baseline on the validation split. Abstentions are left to the abstention rules,
so the baselines are measured on what they are for: correct vs incorrect.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from autojudge._extras import require
from autojudge.data.sources import normalize
from autojudge.models import resolve
from autojudge.types import Record


def token_f1(answer: str, reference: str) -> float:
    a, r = normalize(answer).split(), normalize(reference).split()
    common = sum((Counter(a) & Counter(r)).values())
    if not a or not r or common == 0:
        return 0.0
    precision, recall = common / len(a), common / len(r)
    return 2 * precision * recall / (precision + recall)


def token_f1_scores(items: Sequence[Record]) -> np.ndarray:
    """(N,) best token-F1 of each answer against any of its references."""
    return np.array([max(token_f1(r.answer or "", ref) for ref in r.reference) for r in items])


def cosine_scores(items: Sequence[Record], encoder: str, batch_size: int = 64) -> np.ndarray:
    """(N,) best cosine similarity between the answer's and a reference's sentence embedding."""
    require("sentence_transformers", "train",
            "the cosine baseline of `autojudge judge eval` (--no-baselines skips it)")
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(resolve(encoder)), device="cpu")
    refs = [ref for r in items for ref in r.reference]
    emb_a = model.encode([r.answer or "" for r in items], batch_size=batch_size,
                         normalize_embeddings=True)  # (N, D)
    emb_r = model.encode(refs, batch_size=batch_size, normalize_embeddings=True)  # (R, D)
    out, k = np.zeros(len(items)), 0
    for i, r in enumerate(items):
        out[i] = float((emb_r[k:k + len(r.reference)] @ emb_a[i]).max())
        k += len(r.reference)
    return out
