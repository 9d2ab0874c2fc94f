"""`autojudge judge export`: the judge with its cross-encoders as ONNX judges as the original."""

from __future__ import annotations

import numpy as np
import pytest

from autojudge.types import Record

CAPITAL = "What is the capital of France?"
RECORDS = [
    Record(CAPITAL, ("Paris",), "Paris"),
    Record(CAPITAL, ("Paris",), "The capital of France is Paris."),
    Record(CAPITAL, ("Paris",), "Lyon"),
    Record(CAPITAL, ("Paris",), "The capital is Berlin, which lies on the Seine."),
    Record(CAPITAL, ("Paris",), "I don't know."),
    Record("Which river flows through Paris?", ("the Seine",), "The Seine; it is 777 km long."),
    Record("Who founded company 3?", ("Ann 3",), "Company 3 was founded by Bob 3 in 1990."),
    Record("The capital of Peru is", ("Lima",), "Lima, but I am not sure."),
    Record("The capital of Kenya is", ("Nairobi",), ""),
]


def _table(judgements):
    return [(j.verdict, j.p_correct, j.p_incorrect, j.p_abstain, j.facts) for j in judgements]


def test_exported_judge_gives_the_same_judgements(tiny_judge_dir, tmp_path, capsys):
    from autojudge.cli import main
    from autojudge.judges.classifier import ExportedPairClassifier
    from autojudge.judges.loader import load_judge

    out = tmp_path / "onnx-judge"
    assert main(["judge", "export", str(out), "--judge", str(tiny_judge_dir)]) == 0
    assert "model_int8.xml" in capsys.readouterr().out
    for part in ("comparison", "facts"):
        assert {"model.onnx", "model_int8.xml", "config.json"} <= {
            p.name for p in (out / part).iterdir()}
    assert not list(out.rglob("*.safetensors"))  # what runs is the ONNX, not torch weights
    original, exported = load_judge(str(tiny_judge_dir)), load_judge(str(out))
    assert isinstance(exported.comparison.classifier, ExportedPairClassifier)
    assert isinstance(exported.fact_judge.classifier, ExportedPairClassifier)
    assert exported.combiner == original.combiner
    # on a CPU both run the same int8 graph: the same judgements, to the bit
    assert _table(exported.judge(RECORDS)) == _table(original.judge(RECORDS))
    # the float32 graph follows the torch model
    for judge in (original, exported):
        judge.comparison.quantize = judge.fact_judge.quantize = False
    np.testing.assert_allclose(exported.comparison.logits(RECORDS),
                               original.comparison.logits(RECORDS), atol=1e-4)
    assert [j.verdict for j in exported.judge(RECORDS)] == \
        [j.verdict for j in original.judge(RECORDS)]
    # an exported judge exports again, unchanged
    again = tmp_path / "again"
    assert main(["judge", "export", str(again), "--judge", str(out)]) == 0
    for name in ("comparison/model.onnx", "facts/model_int8.xml", "judge.json"):
        assert (again / name).read_bytes() == (out / name).read_bytes()


@pytest.mark.parametrize("case", ["not empty", "not an ensemble"])
def test_export_refuses_clearly(tiny_judge_dir, tmp_path, capsys, case):
    from autojudge.cli import main

    out = tmp_path / "out"
    if case == "not empty":
        out.mkdir()
        (out / "keep.txt").write_text("mine")
    spec = str(tiny_judge_dir) if case == "not empty" else "abstention"
    assert main(["judge", "export", str(out), "--judge", spec]) == 1
    err = capsys.readouterr().err
    assert "autojudge: error:" in err and "Traceback" not in err
    assert ("not an empty folder" in err) if case == "not empty" else ("ensemble" in err)
    if case == "not empty":
        assert [p.name for p in out.iterdir()] == ["keep.txt"]
