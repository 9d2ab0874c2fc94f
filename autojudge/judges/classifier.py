"""A cross-encoder over text pairs: the model under the comparison and fact-overlap judges."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from autojudge.judges.int8 import ANCHOR_PAIRS, CpuModel, export_onnx, int8_model
from autojudge.models import resolve

FLOAT_ONNX = "model.onnx"
"""An exported classifier's float32 graph, ONNX (`PairClassifier.export`)."""
INT8_IR = "model_int8.xml"
"""An exported classifier's int8 model, OpenVINO IR (with model_int8.bin): the one the judge
runs on a CPU."""


class PairClassifier:
    """An encoder with a classification head over (text_a, text_b), fast batched inference.

    Speed comes from sorting by length (little padding), inference mode, and int8 on CPU
    (OpenVINO, statically quantised by NNCF: `autojudge.judges.int8`). A pair's scores do not
    depend on its neighbours: every batch holds pairs of one length bucket and is padded to
    that bucket's length (padding to the longest neighbour changes the float sums in attention
    by rounding, which int8 can turn into a visible difference), and the int8 scales are fixed.
    Off the CPU (a model moved to a GPU) the float model runs, in its own precision.
    """

    def __init__(self, model: Any, tokenizer: Any, labels: Sequence[str],
                 max_length: int = 128) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.labels = tuple(labels)
        self.max_length = max_length
        self._int8: CpuModel | None = None

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
        """A saved classifier (`save`), or an exported one (`export`: no torch weights)."""
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        path = Path(path)
        if (path / INT8_IR).is_file() and not list(path.glob("*.safetensors")):
            return ExportedPairClassifier.load(path, max_length)
        model = AutoModelForSequenceClassification.from_pretrained(path)
        labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
        return cls(model, AutoTokenizer.from_pretrained(path), labels, max_length)

    def save(self, path: str | Path) -> None:
        self.model.save_pretrained(path, safe_serialization=True)
        self.tokenizer.save_pretrained(path)

    def export(self, path: str | Path) -> Path:
        """The classifier in the folder `path`: FLOAT_ONNX (float32 ONNX), INT8_IR (the int8
        model this classifier runs on a CPU, as it is), the tokenizer and the model config
        (labels). `load` reads it back without torch weights."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.tokenizer.save_pretrained(path)
        self.model.config.save_pretrained(path)
        export_onnx(self.model, self._example(), path / FLOAT_ONNX)
        self.int8().save(path / INT8_IR)
        return path

    def encode(self, texts_a: Sequence[str], texts_b: Sequence[str], pad_to: int | None = None):
        """Token tensors for a batch, padded to the longest pair, or to `pad_to` tokens."""
        return self.tokenizer(list(texts_a), list(texts_b), truncation=True,
                              max_length=pad_to or self.max_length,
                              padding="max_length" if pad_to else True, return_tensors="pt")

    def logits(self, texts_a: Sequence[str], texts_b: Sequence[str], batch_size: int = 32,
               quantize: bool = False, progress: bool = False) -> np.ndarray:
        """Raw class scores, (N, C), in input order; int8 on a CPU when `quantize`. Batches of
        32 length-sorted pairs were the fastest on a 2-core CPU (bench/judge_speed.py)."""
        from tqdm.auto import tqdm

        if not texts_a:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        forward = self.int8() if quantize and self._on_cpu() else self._float
        out = np.zeros((len(texts_a), len(self.labels)), dtype=np.float32)
        for idx, pad_to in tqdm(self.batches(texts_a, texts_b, batch_size), desc="judging",
                                unit="batch", disable=not progress):
            enc = self.encode([texts_a[i] for i in idx], [texts_b[i] for i in idx], pad_to)
            out[idx] = forward(enc)  # (B, C)
        return out

    def batches(self, texts_a: Sequence[str], texts_b: Sequence[str], batch_size: int
                ) -> list[tuple[np.ndarray, int]]:
        """The pairs' indices in batches of at most `batch_size`, each with the length it is
        padded to: sorted by length bucket then length, cut where the bucket changes."""
        ids = self.tokenizer(list(texts_a), list(texts_b), truncation=True,
                             max_length=self.max_length)["input_ids"]
        padded = [min(_bucket(len(x)), self.max_length) for x in ids]
        order = np.lexsort((np.arange(len(ids)), [len(x) for x in ids], padded))  # bucket, length
        batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
        return [(part, padded[part[0]]) for idx in batches for part in _split_buckets(idx, padded)]

    def _float(self, enc: Any) -> np.ndarray:
        """(B, C) logits of the float model, on its device and in its precision."""
        import torch

        self.model.eval()
        with torch.inference_mode():
            return self.model(**enc.to(self.model.device)).logits.float().cpu().numpy()

    def _on_cpu(self) -> bool:
        return self.model.device.type == "cpu"

    def int8(self) -> CpuModel:
        """The statically quantised model (CPU), built once from the float model, with its
        activation ranges fixed by the anchor pairs."""
        if self._int8 is None:
            pairs = [json.loads(line) for line in ANCHOR_PAIRS.read_text("utf-8").splitlines()]
            texts_a, texts_b = [p["a"] for p in pairs], [p["b"] for p in pairs]
            calibration = [{k: v.numpy() for k, v in self.encode(
                [texts_a[i] for i in idx], [texts_b[i] for i in idx], pad_to).items()}
                for idx, pad_to in self.batches(texts_a, texts_b, 32)]
            context = (self.tokenizer.backend_tokenizer.to_str(), str(self.max_length))
            self._int8 = CpuModel(int8_model(self.model, self._example(), calibration,
                                             context))
        return self._int8

    def _example(self) -> dict[str, Any]:
        """Token tensors of the shape the exporter traces with: two pairs, two buckets long."""
        return dict(self.encode(["Question: who?"] * 2, ["Answer: me."] * 2, pad_to=2 * BUCKET))

    def invalidate(self) -> None:
        """Forget the int8 model after the weights change."""
        self._int8 = None


class ExportedPairClassifier(PairClassifier):
    """A classifier exported by `PairClassifier.export`, read from its folder `source`: no torch
    weights; OpenVINO runs the int8 model, or the float32 ONNX graph when not quantised."""

    def __init__(self, source: Path, config: Any, tokenizer: Any, max_length: int = 128) -> None:
        super().__init__(None, tokenizer,
                         [config.id2label[i] for i in range(config.num_labels)], max_length)
        self.source = source
        self.config = config
        self.float_model = CpuModel(source / FLOAT_ONNX)
        self._int8 = CpuModel(source / INT8_IR)

    @classmethod
    def load(cls, path: str | Path, max_length: int = 128) -> ExportedPairClassifier:
        from transformers import AutoConfig, AutoTokenizer

        path = Path(path)
        return cls(path, AutoConfig.from_pretrained(path), AutoTokenizer.from_pretrained(path),
                   max_length)

    def save(self, path: str | Path) -> None:
        self.export(path)

    def export(self, path: str | Path) -> Path:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.tokenizer.save_pretrained(path)
        self.config.save_pretrained(path)
        shutil.copyfile(self.source / FLOAT_ONNX, path / FLOAT_ONNX)
        self.int8().save(path / INT8_IR)
        return path

    def _float(self, enc: Any) -> np.ndarray:
        return self.float_model(enc)

    def _on_cpu(self) -> bool:
        return True

    def invalidate(self) -> None:
        """Its weights are the exported files; there is nothing to rebuild."""


BUCKET = 16
"""Pairs are padded up to a multiple of this many tokens."""


def _bucket(length: int) -> int:
    return -(-length // BUCKET) * BUCKET


def _split_buckets(idx: np.ndarray, padded: Sequence[int]) -> list[np.ndarray]:
    """Cut a batch of bucket-sorted indices where the bucket changes."""
    cuts = [i for i in range(1, len(idx)) if padded[idx[i]] != padded[idx[i - 1]]]
    return np.split(idx, cuts)


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = logits / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
