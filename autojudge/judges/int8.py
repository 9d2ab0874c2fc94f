"""int8 inference for the judges' cross-encoders, with results that do not depend on the batch.

Dynamic int8 picks each activation's scale per call from the min and max of the whole batch, so
the same pair could be judged differently beside different neighbours (a served request, a
`score` chunk, a PPO rollout). Here the model is exported to ONNX and quantised statically with
ONNX Runtime: every weight matrix int8 per output channel, and the input of every matrix product
with a weight quantised to uint8 with one range, fixed once from typical pairs (the anchor pairs)
and saturating beyond it. Products come out in float32 (MatMulIntegerToFloat), as does
everything else (attention, layer norms, GELU): the speed of int8, the determinism of float.

Building one takes seconds (the export traces the model), so a built model is kept, by a
fingerprint of everything it depends on, in this process and in $AUTOJUDGE_HOME/int8.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from autojudge.cache import home

ANCHOR_PAIRS = Path(__file__).parent / "anchor_pairs.jsonl"
"""Typical comparison and fact pairs (from data/samples) that fix the activation ranges."""
QUANTIZED_OPS = ("MatMul", "Gemm")
"""Operators whose weight input is quantised (the Linear layers); the products of two
activations in attention stay float."""
RECIPE = "ort-static-qdq-2"
"""Names the way int8 models are built here; part of their fingerprint, so a change to the
recipe never reuses a model built the old way."""
_BUILT: dict[str, bytes] = {}
"""int8 models built in this process, by fingerprint (a test session loads one judge often)."""


def export_onnx(model: Any, example: Mapping[str, Any], path: Path) -> Path:
    """`model` (a transformers sequence classifier) as one ONNX file at `path`, with inputs
    named as in `example` (token tensors (B, T)), a free batch size and length, and one output,
    `logits` (B, C). Exported from a float32 CPU copy, with torch's own exporter."""
    import copy

    import onnx
    import torch

    cpu = copy.deepcopy(model).float().cpu().eval()
    free = torch.export.Dim.DYNAMIC  # any size the traced code allows (some versions say >1)
    with tempfile.TemporaryDirectory() as tmp, torch.random.fork_rng(devices=[]), _quiet():
        torch.onnx.export(cpu, (), f"{tmp}/model.onnx", kwargs=dict(example), dynamo=True,
                          input_names=list(example), output_names=["logits"],
                          dynamic_shapes={name: {0: free, 1: free} for name in example},
                          verbose=False)
        proto = onnx.load(f"{tmp}/model.onnx")  # weights inline: one file
    # Shapes of intermediate values are optional, and torch 2.9 wrote some that onnx's shape
    # inference refuses (in ONNX Runtime's dynamic quantiser): let the readers infer them.
    del proto.graph.value_info[:]
    onnx.save(proto, path)
    return path


def quantize_static(fp32: Path, out: Path, calibration: Iterable[Mapping[str, np.ndarray]]
                    ) -> Path:
    """The int8 model of `fp32`, written to `out`: weights of MatMul / Gemm int8, symmetric,
    one scale per output channel; their inputs uint8 with the min-max range that `calibration`
    (feeds of int64 token arrays) gives, fixed from then on; their outputs float32."""
    import onnx
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod,
                                          QuantFormat, QuantType, quantize_static)

    graph = onnx.load(str(fp32), load_external_data=False).graph
    weights = {w.name for w in graph.initializer}
    nodes = [n.name for n in graph.node if n.op_type in QUANTIZED_OPS and n.input[1] in weights]
    feeds = iter([dict(feed) for feed in calibration])

    class Reader(CalibrationDataReader):
        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(feeds, None)

    with _no_preprocessing_hint():
        quantize_static(str(fp32), str(out), Reader(), quant_format=QuantFormat.QDQ,
                        op_types_to_quantize=list(QUANTIZED_OPS), nodes_to_quantize=nodes,
                        per_channel=True, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax,
                        extra_options={"WeightSymmetric": True, "ActivationSymmetric": False,
                                       "OpTypesToExcludeOutputQuantization":
                                           list(QUANTIZED_OPS)})
    return out


@contextlib.contextmanager
def _no_preprocessing_hint() -> Iterator[None]:
    """ONNX Runtime suggests its pre-processing step on the root logger; measured here, that
    step changed no logit and made the model slower, so the hint is dropped."""
    class Hint(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return "pre-processing" not in record.getMessage()

    hint = Hint()
    logging.getLogger().addFilter(hint)
    try:
        yield
    finally:
        logging.getLogger().removeFilter(hint)


def int8_onnx(model: Any, example: Mapping[str, Any],
              calibration: Iterable[Mapping[str, np.ndarray]], context: Iterable[str]) -> bytes:
    """The statically quantised ONNX model of `model` (see `quantize_static`), as bytes; built
    once for a fingerprint of the model's weights and config, the calibration feeds, `context`
    (what else decides them, e.g. the tokenizer) and the library versions, then reused."""
    feeds = [dict(feed) for feed in calibration]
    key = fingerprint(model, feeds, context)
    if key in _BUILT:
        return _BUILT[key]
    stored = home() / "int8" / f"{key}.onnx"
    if stored.is_file():
        data = stored.read_bytes()
    else:
        with tempfile.TemporaryDirectory() as tmp:
            fp32 = export_onnx(model, example, Path(tmp) / "model.onnx")
            data = quantize_static(fp32, Path(tmp) / "int8.onnx", feeds).read_bytes()
        _store(stored, data)
    _BUILT[key] = data
    return data


def fingerprint(model: Any, feeds: Iterable[Mapping[str, np.ndarray]],
                context: Iterable[str]) -> str:
    """A hash of all an int8 model depends on: weights, config, calibration feeds, `context`,
    the recipe and the versions of torch and ONNX Runtime."""
    import onnxruntime
    import torch

    digest = hashlib.sha256()
    for text in (RECIPE, torch.__version__, onnxruntime.__version__,
                 model.config.to_json_string(), *context):
        digest.update(text.encode() + b"\0")
    for name, tensor in model.state_dict().items():
        digest.update(name.encode() + str(tensor.dtype).encode())
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy())
    for feed in feeds:
        for name in sorted(feed):
            digest.update(name.encode() + np.ascontiguousarray(feed[name], np.int64).tobytes())
    return digest.hexdigest()[:32]


def _store(path: Path, data: bytes) -> None:
    """Write atomically; a cache that cannot be written is only a slower start."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_suffix(f".{os.getpid()}.part")
        part.write_bytes(data)
        part.replace(path)
    except OSError:
        pass


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Keep the exporter's progress lines and its notes about its own internals (a deprecation
    inside torch, shared axis names, torchvision's absent operators) off the user's screen."""
    exporter = logging.getLogger("torch.onnx")
    level = exporter.level
    exporter.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", UserWarning)
            yield
    finally:
        exporter.setLevel(level)


class OnnxModel:
    """An ONNX Runtime session on the CPU: token arrays (B, T) in, logits (B, C) out."""

    def __init__(self, model: bytes | Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        self.data = model if isinstance(model, bytes) else Path(model).read_bytes()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or _torch_threads()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only
        self.session = ort.InferenceSession(self.data, options,
                                            providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]

    def __call__(self, feed: Mapping[str, Any]) -> np.ndarray:
        """(B, C) float32 logits; inputs the graph does not take are left out."""
        arrays = {name: np.asarray(feed[name], dtype=np.int64) for name in self.inputs}
        return self.session.run(["logits"], arrays)[0]

    def save(self, path: Path) -> Path:
        path.write_bytes(self.data)
        return path


def _torch_threads() -> int:
    """The thread count torch uses here, so that ONNX Runtime follows torch.set_num_threads."""
    import torch

    return torch.get_num_threads()
