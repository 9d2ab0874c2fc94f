"""`autojudge judge export`: a saved ensemble judge with its cross-encoders as ONNX (and their
int8 models as OpenVINO IR)."""

from __future__ import annotations

import shutil
from pathlib import Path

from autojudge.judges.base import Judge, JudgeError
from autojudge.judges.ensemble import EnsembleJudge


def export_judge(judge: Judge, folder: str | Path) -> Path:
    """Write `judge` (an ensemble judge) to the new or empty `folder`: judge.json (the combiner
    and settings, as `save` writes them) and, for the comparison and the fact judge, the
    cross-encoder as float32 ONNX and its int8 model as OpenVINO IR (`PairClassifier.export`,
    with tokenizer and config) in place of torch weights. `load_judge(folder)` reads it back;
    on a CPU it gives the same judgements as `judge`, the int8 model being the one `judge`
    runs."""
    if not isinstance(judge, EnsembleJudge):
        raise JudgeError(f"only the ensemble judge (default or a saved folder) can be exported, "
                         f"not {getattr(judge, 'name', type(judge).__name__)!r}")
    folder = check_target(folder)
    judge.save(folder)
    for name, part in (("comparison", judge.comparison), ("facts", judge.fact_judge)):
        shutil.rmtree(folder / name)  # torch weights out, ONNX in
        part.classifier.export(folder / name)
    return folder


def check_target(folder: str | Path) -> Path:
    """`folder`, if it is new or an empty folder; JudgeError otherwise (nothing is overwritten)."""
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise JudgeError(f"{folder} exists and is not an empty folder; export into a new one")
    return folder
