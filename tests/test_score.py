"""`autojudge score`: one line per input row, in order; resume gives exactly the full output."""

import json

import pytest

from autojudge.cli import main
from autojudge.io import InputError
from autojudge.judges.loader import load_judge
from autojudge.scoring import score_file


def write_input(path, n=50):
    lines = []
    for i in range(n):
        if i % 17 == 5:
            lines.append('{"question": "broken')
        elif i % 13 == 7:
            lines.append(json.dumps({"question": f"q{i}", "answer": "x"}))  # no reference
        else:
            answer = "I don't know." if i % 5 == 0 else f"answer {i}, which is two"
            lines.append(json.dumps({"id": i, "question": f"What is {i}?", "reference": [f"{i}"],
                                     "answer": answer, "model": "m"}))
    path.write_text("\n".join(lines) + "\n")
    return path


class Dies:
    """Wraps a judge and dies (like a kill) on its n-th call."""

    def __init__(self, judge, calls):
        self.judge_, self.calls, self.name = judge, calls, judge.name
        self.folder = judge.folder  # the same saved judge, as far as a resume can tell

    def judge(self, items):
        self.calls -= 1
        if self.calls < 0:
            raise KeyboardInterrupt
        return self.judge_.judge(items)


def test_resume_yields_exactly_the_uninterrupted_output(tmp_path, tiny_judge_dir):
    judge = load_judge(str(tiny_judge_dir))
    source = write_input(tmp_path / "in.jsonl")
    full = tmp_path / "full.jsonl"
    score_file(source, full, judge, chunk_size=8, progress=False)

    part = tmp_path / "part.jsonl"
    with pytest.raises(KeyboardInterrupt):
        score_file(source, part, Dies(judge, 3), chunk_size=8, progress=False)
    with part.open("a") as fh:
        fh.write('{"half a line')  # as if killed in the middle of a write
    with pytest.raises(InputError, match="exists; pass --resume"):
        score_file(source, part, judge, chunk_size=8, progress=False)
    summary = score_file(source, part, judge, chunk_size=8, resume=True, progress=False)
    assert summary.resumed_from == 24
    assert part.read_bytes() == full.read_bytes()


def test_every_row_kept_in_order_with_errors(tmp_path, tiny_judge_dir):
    source = write_input(tmp_path / "in.jsonl")
    out = tmp_path / "out.jsonl"
    summary = score_file(source, out, load_judge(str(tiny_judge_dir)), chunk_size=8,
                         progress=False)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 50 and summary.rows == 50
    for i, row in enumerate(rows):
        if i % 17 == 5:
            assert row["error"].endswith(f"in.jsonl:{i + 1}: invalid JSON: Unterminated string "
                                         "starting at (column 14)") and row["verdict"] is None
        elif i % 13 == 7:
            assert "field 'reference' is missing" in row["error"] and row["verdict"] is None
        else:
            assert row["id"] == i and row["model"] == "m" and row["error"] is None
            assert row["verdict"] in ("correct", "incorrect", "abstain")
            assert abs(row["p_correct"] + row["p_incorrect"] + row["p_abstain"] - 1) < 1e-6
            if i % 5 == 0:
                assert row["verdict"] == "abstain"
                assert row["facts"] == []
            else:
                assert [f["text"] for f in row["facts"]] == [f"answer {i}", "is two"]
    assert summary.errors == sum(1 for r in rows if r["error"])


def test_score_cli(tmp_path, tiny_judge_dir, capsys):
    source = write_input(tmp_path / "in.jsonl", n=10)
    out = tmp_path / "out.jsonl"
    assert main(["score", "--input", str(source), "--output", str(out), "--judge",
                 str(tiny_judge_dir)]) == 0
    assert "10 rows: " in capsys.readouterr().out
    assert main(["score", "--input", str(source), "--output", str(out), "--judge",
                 "abstention"]) == 1
    assert "exists; pass --resume" in capsys.readouterr().err
    assert main(["score", "--input", str(tmp_path / "nope.jsonl"), "--output",
                 str(tmp_path / "o.jsonl"), "--judge", "abstention"]) == 1
    assert "no such file" in capsys.readouterr().err
