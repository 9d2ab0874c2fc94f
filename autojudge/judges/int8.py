"""int8 inference for the judges' cross-encoders, with results that do not depend on the batch.

Dynamic int8 picks each activation's scale per call from the min and max of the whole batch, so
the same pair could be judged differently beside different neighbours (a served request, a
`score` chunk, a PPO rollout). Here the model is quantised statically: torch.export gives its
graph, OpenVINO converts it, and NNCF quantises it (int8 weights, int8 activations whose ranges
are fixed once to their extremes over typical pairs, the anchor pairs; NNCF's transformer
preset: SmoothQuant, fast bias correction, softmax and layer norms kept in float). OpenVINO runs
it on the CPU in float32 for everything not quantised: the speed of int8, the determinism of
float.

Building one takes seconds (export, conversion, calibration), so a built model is kept, by a
fingerprint of everything it depends on, in this process and in $AUTOJUDGE_HOME/int8.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import io
import logging
import os
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from autojudge.cache import home

ANCHOR_PAIRS = Path(__file__).parent / "anchor_pairs.jsonl"
"""Typical comparison and fact pairs (from data/samples) that fix the activation ranges."""
RECIPE = "openvino-nncf-transformer-minmax-1"
"""Names the way int8 models are built here; part of their fingerprint, so a change to the
recipe never reuses a model built the old way."""
_BUILT: dict[str, Any] = {}
"""int8 models (OpenVINO) built in this process, by fingerprint (a test session loads one judge
often)."""


def exported_program(model: Any, example: Mapping[str, Any]) -> Any:
    """torch.export's graph of `model` (a transformers sequence classifier, as a float32 CPU
    copy) with inputs named as in `example` (token tensors (B, T)), any batch size and length."""
    import copy

    import torch

    cpu = copy.deepcopy(model).float().cpu().eval()
    free = torch.export.Dim.DYNAMIC  # any size the traced code allows (some versions say >1)
    with _random_states_kept(), _quiet():
        return torch.export.export(cpu, (), kwargs=dict(example),
                                   dynamic_shapes={name: {0: free, 1: free} for name in example})


def export_onnx(model: Any, example: Mapping[str, Any], path: Path) -> Path:
    """`model` as one float32 ONNX file at `path` (inputs as in `example`, output `logits`
    (B, C)), written by torch's ONNX exporter from the same graph as the int8 model's."""
    import onnx
    import torch

    program = exported_program(model, example)
    with tempfile.TemporaryDirectory() as tmp, _quiet():
        torch.onnx.export(program, (), f"{tmp}/model.onnx", kwargs=dict(example), dynamo=True,
                          input_names=list(example), output_names=["logits"], verbose=False)
        proto = onnx.load(f"{tmp}/model.onnx")  # weights inline: one file
    # Shapes of intermediate values are optional, and torch 2.9 wrote some that onnx's shape
    # inference (which ONNX Runtime's quantiser runs) refuses: let the readers infer them.
    del proto.graph.value_info[:]
    onnx.save(proto, path)
    return path


def quantize_static(model: Any, calibration: Iterable[Mapping[str, np.ndarray]]) -> Any:
    """The int8 OpenVINO model of `model` (an OpenVINO model), each activation's range fixed to
    the min and max it takes over `calibration` (feeds of int64 token arrays, all of them used;
    NNCF's transformer preset would average per-batch extremes, which clipped more on pairs
    unlike the calibration ones and was no better on the test split)."""
    nncf = _imported("nncf")
    from nncf.quantization.range_estimator import RangeEstimatorParametersSet

    feeds = [dict(feed) for feed in calibration]
    names = [i.get_any_name() for i in model.inputs]
    minmax = nncf.AdvancedQuantizationParameters(
        activations_range_estimator_params=RangeEstimatorParametersSet.MINMAX)
    with _quiet():
        return nncf.quantize(model, nncf.Dataset(feeds, lambda f: {n: f[n] for n in names}),
                             subset_size=len(feeds), model_type=nncf.ModelType.TRANSFORMER,
                             advanced_parameters=minmax)


def int8_model(model: Any, example: Mapping[str, Any],
               calibration: Iterable[Mapping[str, np.ndarray]], context: Iterable[str]) -> Any:
    """The statically quantised OpenVINO model of `model` (see `quantize_static`); built once
    for a fingerprint of the model's weights and config, the calibration feeds, `context` (what
    else decides them, e.g. the tokenizer) and the library versions, then reused."""
    openvino = _imported("openvino")

    feeds = [dict(feed) for feed in calibration]
    key = fingerprint(model, feeds, context)
    if key not in _BUILT:
        stored = home() / "int8" / f"{key}.xml"
        if stored.is_file() and stored.with_suffix(".bin").is_file():
            _BUILT[key] = openvino.Core().read_model(stored)
        else:
            with _quiet(), _random_states_kept(), _no_telemetry():
                graph = openvino.convert_model(exported_program(model, example))
                # inputs named as ours (some OpenVINO versions number them), in the same order
                for port, name in zip(graph.inputs, example, strict=True):
                    port.get_tensor().set_names({name})
                _BUILT[key] = quantize_static(graph, feeds)
            _store(_BUILT[key], stored)
    return _BUILT[key]


def fingerprint(model: Any, feeds: Iterable[Mapping[str, np.ndarray]],
                context: Iterable[str]) -> str:
    """A hash of all an int8 model depends on: weights, config, calibration feeds, `context`,
    the recipe and the versions of torch, OpenVINO and NNCF."""
    from importlib.metadata import version

    import torch

    digest = hashlib.sha256()
    for text in (RECIPE, torch.__version__, version("openvino"), version("nncf"),
                 model.config.to_json_string(), *context):
        digest.update(text.encode() + b"\0")
    for name, tensor in model.state_dict().items():
        digest.update(name.encode() + str(tensor.dtype).encode())
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy())
    for feed in feeds:
        for name in sorted(feed):
            digest.update(name.encode() + np.ascontiguousarray(feed[name], np.int64).tobytes())
    return digest.hexdigest()[:32]


def save_model(model: Any, path: Path) -> Path:
    """An OpenVINO model as IR: `path` (.xml) and its .bin, weights exactly as they are."""
    openvino = _imported("openvino")

    openvino.save_model(model, path, compress_to_fp16=False)
    return path


def _store(model: Any, path: Path) -> None:
    """Write into the cache, renamed into place; a cache that cannot be written is only a
    slower start."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
            save_model(model, Path(tmp) / path.name)
            (Path(tmp) / path.name).with_suffix(".bin").replace(path.with_suffix(".bin"))
            (Path(tmp) / path.name).replace(path)  # the .xml last: it marks a complete pair
    except OSError:
        pass


class CpuModel:
    """An OpenVINO model compiled for the CPU: token arrays (B, T) in, logits (B, C) out.
    Float32 precision for what is not quantised (OpenVINO may otherwise pick bf16)."""

    def __init__(self, model: Any, threads: int | None = None) -> None:
        openvino = _imported("openvino")

        core = openvino.Core()
        self.model = core.read_model(model) if isinstance(model, (str, Path)) else model
        self.compiled = core.compile_model(self.model, "CPU", {
            "INFERENCE_NUM_THREADS": threads or _torch_threads(),
            "INFERENCE_PRECISION_HINT": "f32", "NUM_STREAMS": 1})
        self.inputs = [i.get_any_name() for i in self.compiled.inputs]

    def __call__(self, feed: Mapping[str, Any]) -> np.ndarray:
        """(B, C) float32 logits; inputs the graph does not take are left out."""
        arrays = {name: np.asarray(feed[name], dtype=np.int64) for name in self.inputs}
        return np.array(self.compiled(arrays)[0], dtype=np.float32)  # a copy: buffers are reused

    def save(self, path: Path) -> Path:
        return save_model(self.model, path)


def _torch_threads() -> int:
    """The thread count torch uses here, so that the int8 model follows torch.set_num_threads."""
    import torch

    return torch.get_num_threads()


def _imported(name: str) -> ModuleType:
    """`openvino` or `nncf`, imported with their telemetry off (see `_no_telemetry`)."""
    with _no_telemetry():
        return importlib.import_module(name)


@contextlib.contextmanager
def _no_telemetry() -> Iterator[None]:
    """OpenVINO and NNCF set up usage statistics when imported (writing ~/intel/) and send them
    from the converter and the quantiser, unless the user opted out or they run in CI. A judge
    must not phone home, so while they are imported and while a model is built they are told
    `CI=true`, the switch both honour (openvino_telemetry's disable_in_ci)."""
    previous = os.environ.get("CI")
    os.environ["CI"] = "true"
    try:
        yield
    finally:
        if previous is None:
            del os.environ["CI"]
        else:
            os.environ["CI"] = previous


@contextlib.contextmanager
def _random_states_kept() -> Iterator[None]:
    """Building a model must not move the caller's random streams (torch's, numpy's and
    Python's global ones; the conversion draws from Python's)."""
    import random

    import torch

    python, legacy = random.getstate(), np.random.get_state()
    try:
        with torch.random.fork_rng(devices=[]):
            yield
    finally:
        random.setstate(python)
        np.random.set_state(legacy)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Keep the converters' progress lines and their notes about their own internals (a
    deprecation inside torch, shared axis names, torchvision's absent operators, NNCF's
    statistics bars) off the user's screen; errors still show."""
    loggers = [logging.getLogger(name) for name in ("torch.onnx", "torch.export", "nncf")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", UserWarning)
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
