"""Judge speed on a CPU: our int8 comparison judge beside sentence-transformers' CrossEncoder and
kept-library int8 backends, each with and without length sorting; and the full ensemble.

    .venv/bin/python bench/judge_speed.py [--judge default|PATH] [--pairs 2000] [--rounds 5]
                                          [--openvino-python PATH]

Same pairs (a seeded sample of the judge test split), same weights (the judge's trained
comparison model, loaded by every method), same thread count, in one run; rounds alternate the
order, and each figure is the median over rounds (pairs/s, and the ratio to
`CrossEncoder.predict` within each round). Methods:
- sentence-transformers `CrossEncoder.predict` (float32 torch; it sorts pairs by length itself;
  "input order" calls it on each run of 32 pairs);
- ONNX Runtime dynamic int8 (where onnxruntime is installed), the recipe of sentence-
  transformers' ONNX int8 backend (`export_dynamic_quantized_onnx_model`, "avx512_vnni":
  per-tensor QInt8 weights, activations quantised per batch), on our exported graph with our
  batching; sentence-transformers 6's `backend="onnx"` itself does not install beside it
  (optimum-onnx needs transformers < 4.58, sentence-transformers 6 needs >= 5);
- sentence-transformers' OpenVINO int8 backend (`export_static_quantized_openvino_model`), with
  `--openvino-python` naming the Python of an environment that has `sentence-transformers
  [openvino]` (it wants an older transformers than ours; bench/_openvino_worker.py);
- ours: OpenVINO static int8 quantised by NNCF (the default on a CPU), and float32 torch.
Writes bench/results/judge_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from _common import write_result  # noqa: E402

from autojudge.config import load_config  # noqa: E402
from autojudge.data.build import build, split_path  # noqa: E402
from autojudge.data.labelled import labelled_pairs  # noqa: E402
from autojudge.jobs.judge import resolve_judge  # noqa: E402
from autojudge.judges.classifier import PairClassifier  # noqa: E402
from autojudge.judges.comparison import pair_texts  # noqa: E402
from autojudge.judges.int8 import ANCHOR_PAIRS, export_onnx  # noqa: E402

BASE = "sentence-transformers CrossEncoder.predict"
OURS = "autojudge int8 (OpenVINO static, NNCF), length-sorted (default)"
ENSEMBLE = "autojudge full ensemble (records/s)"
ORT_DYNAMIC = "ONNX Runtime dynamic int8 (ST ONNX int8 recipe)"
ST_OPENVINO = "sentence-transformers OpenVINO int8 backend"
TARGETS = {"ours_vs_crossencoder": 3.5, "ours_vs_best_kept_int8": 1.0,
           "ensemble_pairs_per_s": 300.0, "comparison_vs_crossencoder_issue12": 3.0}


def in_order(model, clf: PairClassifier, texts_a, texts_b, batch_size: int = 32) -> np.ndarray:
    """(N, C) logits of `model` (ONNX or torch forward) over runs of `batch_size` pairs in input
    order, each padded to its longest pair: no length sorting."""
    out = []
    for i in range(0, len(texts_a), batch_size):
        out.append(model(clf.encode(texts_a[i:i + batch_size], texts_b[i:i + batch_size])))
    return np.concatenate(out)


class OrtModel:
    """An ONNX Runtime session with the judge's calling convention: token arrays in, logits out."""

    def __init__(self, path: Path, threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        self.session = ort.InferenceSession(str(path), options,
                                            providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]

    def __call__(self, feed) -> np.ndarray:
        return self.session.run(None, {n: np.asarray(feed[n], np.int64) for n in self.inputs})[0]


def dynamic_int8(clf: PairClassifier, folder: Path, threads: int) -> OrtModel | None:
    """sentence-transformers' ONNX int8 recipe ("avx512_vnni", dynamic, per-tensor) with ONNX
    Runtime, on the same exported graph as ours; None where onnxruntime is not installed."""
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError:
        return None
    fp32 = export_onnx(clf.model, clf._example(), folder / "model.onnx")
    quantize_dynamic(fp32, folder / "dynamic.onnx", per_channel=False, reduce_range=False,
                     weight_type=QuantType.QInt8,
                     extra_options={"WeightSymmetric": True, "ActivationSymmetric": False})
    return OrtModel(folder / "dynamic.onnx", threads)


class OpenVinoWorker:
    """bench/_openvino_worker.py in another environment, timed on request."""

    def __init__(self, python: str, model_dir: Path, max_length: int, pairs, folder: Path):
        anchors = [json.loads(line) for line in ANCHOR_PAIRS.read_text().splitlines()]
        (folder / "pairs.json").write_text(json.dumps(pairs))
        (folder / "calibration.json").write_text(json.dumps([f"{p['a']} {p['b']}"
                                                             for p in anchors]))
        self.proc = subprocess.Popen(
            [python, str(Path(__file__).parent / "_openvino_worker.py"), str(model_dir),
             str(max_length), str(folder / "pairs.json"), str(folder / "calibration.json"),
             str(folder / "openvino")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env={**os.environ, "CI": "true"})  # OpenVINO's and NNCF's telemetry off, as ours
        self._reply("ready")

    def _reply(self, expect: str | None = None) -> str:
        line = self.proc.stdout.readline().strip()
        if not line or (expect and line != expect):
            raise RuntimeError(f"OpenVINO worker: expected {expect or 'a reply'}, got {line!r}")
        return line

    def timed(self, command: str) -> float:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return float(self._reply())

    def logits(self, path: Path) -> np.ndarray:
        self.proc.stdin.write(f"logits {path}\n")
        self.proc.stdin.flush()
        self._reply("saved")
        return np.load(path)

    def close(self) -> None:
        self.proc.stdin.write("quit\n")
        self.proc.stdin.flush()
        self.proc.wait(timeout=60)


def methods(judge, items, clf, cross, dynamic, texts_a, texts_b):
    """name → a call judging the same pairs, returning (N, C) scores (None for the ensemble)."""
    pairs = list(zip(texts_a, texts_b, strict=True))
    runs = {
        BASE: lambda: cross.predict(pairs, batch_size=32),
        "CrossEncoder.predict, input order": lambda: np.concatenate(
            [cross.predict(pairs[i:i + 32], batch_size=32) for i in range(0, len(pairs), 32)]),
        OURS: lambda: clf.logits(texts_a, texts_b, quantize=True),
        "autojudge int8 (OpenVINO static, NNCF), input order": lambda: in_order(
            clf.int8(), clf, texts_a, texts_b),
        "autojudge float32 (torch), length-sorted": lambda: clf.logits(texts_a, texts_b),
        ENSEMBLE: lambda: judge.judge(items) and None,
    }
    if dynamic is not None:
        same = PairClassifier(clf.model, clf.tokenizer, clf.labels, clf.max_length)
        same._int8 = dynamic  # our tokenisation and batching, the dynamic model
        runs[f"{ORT_DYNAMIC}, length-sorted"] = lambda: same.logits(texts_a, texts_b,
                                                                    quantize=True)
        runs[f"{ORT_DYNAMIC}, input order"] = lambda: in_order(dynamic, clf, texts_a, texts_b)
    return runs


def measure(runs: dict, worker: OpenVinoWorker | None, rounds: int) -> dict[str, list[float]]:
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    remote = {f"{ST_OPENVINO}, length-sorted": "sorted", f"{ST_OPENVINO}, input order": "plain"}
    if worker:
        seconds.update({name: [] for name in remote})
    for r in range(rounds):
        names = list(seconds) if r % 2 == 0 else list(seconds)[::-1]
        for name in names:
            if name in remote:
                seconds[name].append(worker.timed(remote[name]))
                continue
            start = time.perf_counter()
            runs[name]()
            seconds[name].append(time.perf_counter() - start)
        print(f"round {r + 1}/{rounds} done", file=sys.stderr)
    return seconds


def agreement(scores: dict[str, np.ndarray], reference: np.ndarray) -> dict[str, float]:
    """Share of pairs whose top class is the float32 CrossEncoder's."""
    return {name: float((s.argmax(1) == reference.argmax(1)).mean())
            for name, s in scores.items()}


def summarise(seconds: dict[str, list[float]], n: int) -> dict:
    base = seconds[BASE]
    figures = {}
    for name, times in seconds.items():
        figures[name] = {"pairs_per_s": n / statistics.median(times),
                         "ratio_vs_crossencoder": statistics.median(
                             [b / t for b, t in zip(base, times, strict=True)]),
                         "seconds": times}
    kept = {name: f for name, f in figures.items()
            if name.startswith(ORT_DYNAMIC) or name.startswith(ST_OPENVINO)}
    best = max(kept, key=lambda k: kept[k]["pairs_per_s"])
    ours_vs_best = statistics.median([b / t for b, t in zip(seconds[best], seconds[OURS],
                                                              strict=True)])
    checks = {"ours_vs_crossencoder": figures[OURS]["ratio_vs_crossencoder"],
              "ours_vs_best_kept_int8": ours_vs_best,
              "ensemble_pairs_per_s": figures[ENSEMBLE]["pairs_per_s"],
              "comparison_vs_crossencoder_issue12": figures[OURS]["ratio_vs_crossencoder"]}
    return {"methods": figures, "best_kept_library_int8": best,
            "targets": {k: {"value": v, "target": TARGETS[k], "met": v >= TARGETS[k]}
                        for k, v in checks.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--judge", default="default")
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--openvino-python", help="Python with sentence-transformers[openvino]")
    args = parser.parse_args()
    import torch
    from sentence_transformers import CrossEncoder

    config = load_config()
    build(config.data)
    judge = resolve_judge(config, args.judge, train_missing=False)
    items, _ = labelled_pairs(split_path(config.data, "judge", "test"), args.pairs,
                              config.data.seed)
    texts_a, texts_b = pair_texts(items)
    clf = judge.comparison.classifier
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clf.save(folder / "model")
        cross = CrossEncoder(str(folder / "model"), device="cpu", max_length=clf.max_length)
        runs = methods(judge, items, clf, cross,
                       dynamic_int8(clf, folder, torch.get_num_threads()), texts_a, texts_b)
        worker = OpenVinoWorker(args.openvino_python, folder / "model", clf.max_length,
                                [list(p) for p in zip(texts_a, texts_b)], folder) \
            if args.openvino_python else None
        scores = {name: np.asarray(fn()) for name, fn in runs.items() if name != ENSEMBLE}
        judge.judge(items[:64])  # warm-up
        if worker:
            worker.timed("sorted")
            scores[ST_OPENVINO] = worker.logits(folder / "ov.npy")
        seconds = measure(runs, worker, args.rounds)
        if worker:
            worker.close()
    result = summarise(seconds, len(items))
    result["top_class_agreement_with_crossencoder"] = agreement(scores, scores[BASE])
    print(f"{'method':<68}{'pairs/s':>9}{'× CrossEncoder':>16}")
    for name, f in result["methods"].items():
        print(f"{name:<68}{f['pairs_per_s']:>9.1f}{f['ratio_vs_crossencoder']:>16.2f}")
    for name, t in result["targets"].items():
        verdict = "met" if t["met"] else "MISSED"
        print(f"target {name}: {t['value']:.2f} (>= {t['target']}) {verdict}")
    path = write_result("judge_speed", {"pairs": len(items), "rounds": args.rounds,
                                        "threads": torch.get_num_threads(), **result})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
