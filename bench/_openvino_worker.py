"""sentence-transformers' OpenVINO int8 backend, timed on request (bench/judge_speed.py runs it).

    PYTHON bench/_openvino_worker.py MODEL_DIR MAX_LENGTH PAIRS_JSON CALIBRATION_JSON WORK_DIR

Runs in its own environment (sentence-transformers[openvino] wants an older transformers than
autojudge's), so it is a separate process: it exports MODEL_DIR to OpenVINO, quantises it with
sentence-transformers' `export_static_quantized_openvino_model` (NNCF static int8, calibrated on
CALIBRATION_JSON's texts, its default configuration), loads the int8 model with
`CrossEncoder(..., backend="openvino")`, prints `ready`, then answers each line on stdin:
`sorted` → `predict` on all the pairs (it sorts them by length itself), `plain` → `predict` on
each run of 32 pairs in input order (no sorting across batches); either prints the seconds;
`logits PATH` → saves the last run's scores (input order); `quit`.
Between requests it waits on stdin, so it takes no CPU while the others are timed.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def prepare(model_dir: Path, max_length: int, calibration: list[str], work: Path):
    from optimum.intel import OVQuantizationConfig
    from sentence_transformers import CrossEncoder
    from sentence_transformers.backend import export_static_quantized_openvino_model

    exported = CrossEncoder(str(model_dir), backend="openvino", device="cpu",
                            max_length=max_length)
    exported.save_pretrained(str(work))
    data = work / "calibration"
    data.mkdir(exist_ok=True)
    with open(data / "train.jsonl", "w", encoding="utf-8") as f:
        for text in calibration:
            f.write(json.dumps({"sentence": text}) + "\n")
    export_static_quantized_openvino_model(
        exported, OVQuantizationConfig(num_samples=len(calibration)), str(work),
        dataset_name=str(data), dataset_config_name="default", dataset_split="train",
        column_name="sentence")
    return CrossEncoder(str(work), backend="openvino", device="cpu", max_length=max_length,
                        model_kwargs={
                            "file_name": "openvino/openvino_model_qint8_quantized.xml",
                            "export": False})


def main() -> None:
    model_dir, max_length = Path(sys.argv[1]), int(sys.argv[2])
    pairs_file, calibration_file, work = map(Path, sys.argv[3:6])
    pairs = [tuple(p) for p in json.loads(pairs_file.read_text())]
    with contextlib.redirect_stdout(sys.stderr):  # stdout carries only the replies
        model = prepare(model_dir, max_length, json.loads(calibration_file.read_text()), work)
    last = None
    print("ready", flush=True)
    for line in sys.stdin:
        command, _, arg = line.strip().partition(" ")
        if command in ("plain", "sorted"):
            start = time.perf_counter()
            if command == "sorted":
                last = np.asarray(model.predict(pairs, batch_size=32))
            else:
                last = np.concatenate([np.asarray(model.predict(pairs[i:i + 32], batch_size=32))
                                       for i in range(0, len(pairs), 32)])
            print(time.perf_counter() - start, flush=True)
        elif command == "logits":
            np.save(arg, last)
            print("saved", flush=True)
        else:
            break


if __name__ == "__main__":
    main()
