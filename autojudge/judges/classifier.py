"""A cross-encoder over text pairs: the model under the comparison and fact-overlap judges."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from autojudge.judges.int8 import ANCHOR_MARGIN, ANCHOR_PAIRS, quantize_anchored
from autojudge.models import resolve


class PairClassifier:
    """An encoder with a classification head over (text_a, text_b), fast batched inference.

    Speed comes from sorting by length (little padding), inference mode, and optional int8
    quantisation of the linear layers on CPU. A pair's scores do not depend on its neighbours:
    every batch holds pairs of one length bucket and is padded to that bucket's length (padding
    to the longest neighbour changes the float sums in attention by rounding, which int8 can
    turn into a visible difference), and the int8 scales are fixed (`autojudge.judges.int8`).
    """

    def __init__(self, model, tokenizer, labels: Sequence[str], max_length: int = 128) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.labels = tuple(labels)
        self.max_length = max_length
        self._fast = None

    @classmethod
    def from_encoder(cls, encoder: str | Path, labels: Sequence[str],
                     max_length: int = 128) -> PairClassifier:
        """A fresh head on a base encoder (a known name or a folder)."""
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging

        path = resolve(encoder)
        verbosity = logging.get_verbosity()
        logging.set_verbosity_error()  # the "newly initialised head" report is expected here
        try:
            model = AutoModelForSequenceClassification.from_pretrained(
                path, num_labels=len(labels), id2label=dict(enumerate(labels)),
                label2id={label: i for i, label in enumerate(labels)})
        finally:
            logging.set_verbosity(verbosity)
        return cls(model, AutoTokenizer.from_pretrained(path), labels, max_length)

    @classmethod
    def load(cls, path: str | Path, max_length: int = 128) -> PairClassifier:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        model = AutoModelForSequenceClassification.from_pretrained(path)
        labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
        return cls(model, AutoTokenizer.from_pretrained(path), labels, max_length)

    def save(self, path: str | Path) -> None:
        self.model.save_pretrained(path, safe_serialization=True)
        self.tokenizer.save_pretrained(path)

    def encode(self, texts_a: Sequence[str], texts_b: Sequence[str], pad_to: int | None = None):
        """Token tensors for a batch, padded to the longest pair, or to `pad_to` tokens."""
        return self.tokenizer(list(texts_a), list(texts_b), truncation=True,
                              max_length=pad_to or self.max_length,
                              padding="max_length" if pad_to else True, return_tensors="pt")

    def logits(self, texts_a: Sequence[str], texts_b: Sequence[str], batch_size: int = 32,
               quantize: bool = False, progress: bool = False) -> np.ndarray:
        """Raw class scores, (N, C), in input order. Batches of 32 length-sorted pairs were the
        fastest on a 2-core CPU (bench/judge_speed.py)."""
        if not texts_a:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        with _quantized_engine() if quantize else contextlib.nullcontext():
            return self._logits(texts_a, texts_b, batch_size, quantize, progress)

    def _logits(self, texts_a: Sequence[str], texts_b: Sequence[str], batch_size: int,
                quantize: bool, progress: bool) -> np.ndarray:
        import torch
        from tqdm.auto import tqdm

        model = self._quantized() if quantize else self.model
        model.eval()
        ids = self.tokenizer(list(texts_a), list(texts_b), truncation=True,
                             max_length=self.max_length)["input_ids"]
        padded = [min(_bucket(len(x)), self.max_length) for x in ids]
        order = np.lexsort((np.arange(len(ids)), [len(x) for x in ids], padded))  # bucket, length
        out = np.zeros((len(order), len(self.labels)), dtype=np.float32)
        batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
        batches = [part for idx in batches for part in _split_buckets(idx, padded)]
        with torch.inference_mode():
            for idx in tqdm(batches, desc="judging", unit="batch", disable=not progress):
                enc = self.encode([texts_a[i] for i in idx], [texts_b[i] for i in idx],
                                  pad_to=padded[idx[0]])
                out[idx] = model(**enc).logits.float().numpy()  # (B, C)
        return out

    def _quantized(self):
        """int8 dynamic quantisation of the Linear layers (CPU), made once, with each layer's
        activation range fixed from the anchor pairs (see `AnchoredLinear`)."""
        if self._fast is None:
            self._fast = quantize_anchored(self.model, self._activation_ranges())
        return self._fast

    def _activation_ranges(self) -> dict[str, tuple[float, float]]:
        """Min and max input of every Linear layer over the anchor pairs (float model)."""
        import json

        import torch

        pairs = [json.loads(line) for line in ANCHOR_PAIRS.read_text("utf-8").splitlines()]
        ranges: dict[str, list[float]] = {}

        def record(name: str):
            def hook(_module, inputs):
                x = inputs[0].detach()
                lo, hi = float(x.min()), float(x.max())
                old = ranges.setdefault(name, [lo, hi])
                old[0], old[1] = min(old[0], lo), max(old[1], hi)
            return hook

        handles = [m.register_forward_pre_hook(record(n)) for n, m in self.model.named_modules()
                   if isinstance(m, torch.nn.Linear)]
        try:
            self._logits([p["a"] for p in pairs], [p["b"] for p in pairs], 32, False, False)
        finally:
            for h in handles:
                h.remove()
        return {n: (ANCHOR_MARGIN * lo, ANCHOR_MARGIN * hi) for n, (lo, hi) in ranges.items()}

    def invalidate(self) -> None:
        """Forget the quantised copy after the weights change."""
        self._fast = None


BUCKET = 16
"""Pairs are padded up to a multiple of this many tokens."""


def _bucket(length: int) -> int:
    return -(-length // BUCKET) * BUCKET


def _split_buckets(idx: np.ndarray, padded: Sequence[int]) -> list[np.ndarray]:
    """Cut a batch of bucket-sorted indices where the bucket changes."""
    cuts = [i for i in range(1, len(idx)) if padded[idx[i]] != padded[idx[i - 1]]]
    return np.split(idx, cuts)


@contextlib.contextmanager
def _quantized_engine():
    """oneDNN's int8 kernels ran ~1.2× faster than the x86 default here; the process-wide
    setting is restored afterwards."""
    import torch

    engines = torch.backends.quantized.supported_engines
    previous = torch.backends.quantized.engine
    torch.backends.quantized.engine = "onednn" if "onednn" in engines else previous
    try:
        yield
    finally:
        torch.backends.quantized.engine = previous


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = logits / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
