"""`autojudge score` on bad input and misuse: nothing lost, nothing silently mixed, a clear exit."""

import datetime as dt
import json
import os

import pytest

from autojudge.cli import main
from autojudge.io import InputError
from autojudge.judges.abstention import AbstentionJudge
from autojudge.judges.base import from_probs
from autojudge.scoring import score_file


class Fixed:
    """A fast fake judge: every answer correct with p = 0.7 (or failed, with `error`)."""

    def __init__(self, name="fixed", error=None):
        self.name, self.error, self.calls = name, error, 0

    def judge(self, items):
        self.calls += 1
        return [from_probs(0.7, 0.2, 0.1, self.name, error=self.error) for _ in items]


def rows(n, start=0, **extra):
    return [{"id": i, "question": f"q{i}", "reference": f"r{i}", "answer": f"a{i}", **extra}
            for i in range(start, start + n)]


def write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def read(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def strict_loads(line):
    def refuse(name):
        raise ValueError(f"not JSON: {name}")
    return json.loads(line, parse_constant=refuse)


def score(*argv):
    return main(["score", *map(str, argv)])


# --- the output never destroys the input -------------------------------------------------------

@pytest.mark.parametrize("how", ["same", "relative", "symlink", "hardlink"])
def test_output_that_is_the_input_is_refused(tmp_path, monkeypatch, capsys, how):
    source = write(tmp_path / "in.jsonl", rows(3))
    before = source.read_bytes()
    output = source
    if how == "relative":
        (tmp_path / "sub").mkdir()
        monkeypatch.chdir(tmp_path / "sub")
        output = "../in.jsonl"
    elif how == "symlink":
        output = tmp_path / "link.jsonl"
        output.symlink_to(source)
    elif how == "hardlink":
        output = tmp_path / "hard.jsonl"
        os.link(source, output)
    for resume in ([], ["--resume"]):
        assert score("--input", source, "--output", output, "--judge", "abstention", *resume) == 1
        assert "would overwrite the input" in capsys.readouterr().err
    assert source.read_bytes() == before


# --- a resume continues the same run or refuses ------------------------------------------------

def interrupted(tmp_path, inner, records, chunk_size=2, **kw):
    """The output of a run killed after its first chunk."""
    class Dies:
        name = inner.name

        def __init__(self):
            self.calls = 0

        def judge(self, items):
            self.calls += 1
            if self.calls > 1:
                raise KeyboardInterrupt
            return inner.judge(items)

    source = write(tmp_path / "in.jsonl", records)
    out = tmp_path / "out.jsonl"
    with pytest.raises(KeyboardInterrupt):
        score_file(source, out, Dies(), chunk_size=chunk_size, progress=False, **kw)
    assert len(read(out)) == chunk_size
    return source, out


def test_resume_after_the_input_changed_is_refused(tmp_path):
    source, out = interrupted(tmp_path, Fixed(), rows(6))
    written = out.read_bytes()
    write(source, rows(2, start=100) + rows(4, start=2))  # the judged rows were replaced
    with pytest.raises(InputError, match=r"in\.jsonl has changed since .*out\.jsonl was started "
                                         r"\(rows 1-2 differ\)"):
        score_file(source, out, Fixed(), chunk_size=2, resume=True, progress=False)
    assert out.read_bytes() == written

    write(source, rows(6))  # back as it was: the resume goes on
    summary = score_file(source, out, Fixed(), chunk_size=2, resume=True, progress=False)
    assert summary.resumed_from == 2 and [r["id"] for r in read(out)] == list(range(6))


def test_resume_with_another_judge_or_chunk_size_or_mapping_is_refused(tmp_path):
    source, out = interrupted(tmp_path, Fixed(), rows(6))
    written = out.read_bytes()
    with pytest.raises(InputError, match=r"started with --judge fixed \(now abstention\)"):
        score_file(source, out, AbstentionJudge(), chunk_size=2, resume=True, progress=False)
    with pytest.raises(InputError, match=r"--chunk-size 2 \(now 3\)"):
        score_file(source, out, Fixed(), chunk_size=3, resume=True, progress=False)
    with pytest.raises(InputError, match=r"--map none \(now answer=answer\)"):
        score_file(source, out, Fixed(), chunk_size=2, resume=True, progress=False,
                   mapping={"answer": "answer"})
    assert out.read_bytes() == written


def test_resume_with_a_retrained_judge_folder_is_refused(tmp_path):
    folder = tmp_path / "judge"
    folder.mkdir()
    (folder / "judge.json").write_text('{"kind": "ensemble", "combiner": {"w": 1}}')
    source, out = interrupted(tmp_path, Fixed("autojudge-ensemble"), rows(6),
                              judge_source=str(folder))
    (folder / "judge.json").write_text('{"kind": "ensemble", "combiner": {"w": 2}}')
    with pytest.raises(InputError, match=r"--judge autojudge-ensemble#[0-9a-f]{16} \(now "
                                         r"autojudge-ensemble#[0-9a-f]{16}\)"):
        score_file(source, out, Fixed("autojudge-ensemble"), judge_source=str(folder),
                   chunk_size=2, resume=True, progress=False)


def test_resume_without_its_record_is_refused(tmp_path):
    source, out = interrupted(tmp_path, Fixed(), rows(6))
    (tmp_path / "out.jsonl.meta.json").unlink()
    with pytest.raises(InputError, match=r"cannot be resumed: .*meta\.json .* is missing"):
        score_file(source, out, Fixed(), chunk_size=2, resume=True, progress=False)


def test_every_line_names_its_judge(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(rows(1)[0]) + "\n{broken\n")
    out = tmp_path / "out.jsonl"
    score_file(source, out, AbstentionJudge(), progress=False)
    assert [r["judge"] for r in read(out)] == ["abstention", "abstention"]
    assert read(out)[1]["error"].endswith("in.jsonl:2: invalid JSON: Expecting property name "
                                          "enclosed in double quotes (column 2)")


# --- a failed run leaves nothing in the way ----------------------------------------------------

def test_a_run_that_fails_early_leaves_no_output(tmp_path, capsys):
    source = write(tmp_path / "in.jsonl", rows(3))
    out = tmp_path / "out.jsonl"

    class Broken:
        name = "broken"

        def judge(self, items):
            raise RuntimeError("no GPU")

    with pytest.raises(RuntimeError):
        score_file(source, out, Broken(), progress=False)
    assert list(tmp_path.iterdir()) == [source]
    assert score("--input", source, "--output", out, "--judge", "abstention") == 0  # plain rerun
    assert len(read(out)) == 3


def test_an_output_folder_that_cannot_be_created_is_one_line(tmp_path, capsys):
    source = write(tmp_path / "in.jsonl", rows(2))
    (tmp_path / "file").write_text("")
    assert score("--input", source, "--output", tmp_path / "file" / "out.jsonl",
                 "--judge", "abstention") == 1
    err = capsys.readouterr().err
    assert err == f"autojudge: error: cannot create {tmp_path}/file: {tmp_path}/file is a file\n"


# --- one line per input line, strict JSON, nothing overwritten ---------------------------------

def test_blank_lines_keep_their_place(tmp_path):
    source = tmp_path / "in.jsonl"
    good = [json.dumps(r) for r in rows(3)]
    source.write_text(f"{good[0]}\n\n{good[1]}\n   \n{good[2]}\n\n")
    out = tmp_path / "out.jsonl"
    summary = score_file(source, out, AbstentionJudge(), progress=False)
    lines = read(out)
    assert len(lines) == len(source.read_text().splitlines()) == 6 and summary.rows == 6
    assert [line.get("id") for line in lines] == [0, None, 1, None, 2, None]
    assert [line["error"].rsplit(":", 2)[1:] for line in lines if line["error"]] == [
        ["2", " blank line"], ["4", " blank line"], ["6", " blank line"]]


def test_nan_and_infinity_are_written_as_null(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"question": "q", "reference": "r", "answer": "a", "score": NaN, '
                      '"more": [Infinity, -Infinity, 1.5], "deep": {"x": NaN}}\n')
    out = tmp_path / "out.jsonl"
    score_file(source, out, AbstentionJudge(), progress=False)
    line = strict_loads(out.read_text())
    assert (line["score"], line["more"], line["deep"]) == (None, [None, None, 1.5], {"x": None})


def test_input_fields_named_like_output_fields_are_kept(tmp_path):
    record = {**rows(1)[0], "judge": "human", "verdict": "correct", "error": "typo",
              "facts": ["f"], "input_error": "taken"}
    source = write(tmp_path / "in.jsonl", [record])
    out = tmp_path / "out.jsonl"
    score_file(source, out, Fixed(), progress=False)
    (line,) = read(out)
    assert (line["input_judge"], line["input_verdict"], line["input_facts"]) == (
        "human", "correct", ["f"])
    assert (line["input_error"], line["input_input_error"]) == ("taken", "typo")
    assert (line["judge"], line["verdict"], line["error"]) == ("fixed", "correct", None)


# --- a run that judged nothing fails -----------------------------------------------------------

def test_map_to_a_missing_column_exits_1(tmp_path, capsys):
    source = write(tmp_path / "in.jsonl", rows(3))
    out = tmp_path / "out.jsonl"
    assert score("--input", source, "--output", out, "--judge", "abstention",
                 "--map", "answer=completion") == 1
    err = capsys.readouterr().err
    assert "no row was judged: all 3 rows have errors" in err
    assert "field 'answer' (column 'completion') is missing" in err
    assert len(read(out)) == 3  # each row's error is still written


def test_judgements_that_failed_are_not_verdicts(tmp_path):
    source = write(tmp_path / "in.jsonl", rows(4))
    summary = score_file(source, tmp_path / "out.jsonl", Fixed(error="unreachable"),
                         progress=False)
    assert (summary.rows, summary.judged, summary.errors, summary.verdicts) == (4, 0, 4, {})
    assert summary.failure.startswith("no row was judged: all 4 rows have errors")


@pytest.mark.parametrize("size", ["0", "-1"])
def test_chunk_size_is_checked_by_the_cli(tmp_path, capsys, size):
    source = write(tmp_path / "in.jsonl", rows(2))
    with pytest.raises(SystemExit) as exit_:
        score("--input", source, "--output", tmp_path / "out.jsonl", "--judge", "abstention",
              "--chunk-size", size)
    assert exit_.value.code == 2
    assert "--chunk-size: expected a whole number of at least 1" in capsys.readouterr().err
    assert not (tmp_path / "out.jsonl").exists()


# --- any column type ---------------------------------------------------------------------------

def test_parquet_and_dataset_with_bytes_and_timestamps(tmp_path, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasets import Dataset

    table = pa.table({
        "question": ["q1", "q2"], "reference": ["r1", "r2"], "answer": ["a1", "a2"],
        "blob": pa.array([b"\x00\xff", None], pa.binary()),
        "at": pa.array([dt.datetime(2024, 5, 6, 7, 8, 9), None], pa.timestamp("us")),
        "day": pa.array([dt.date(2024, 5, 6), dt.date(2024, 5, 7)], pa.date32()),
    })
    pq.write_table(table, tmp_path / "in.parquet")
    Dataset(table).save_to_disk(tmp_path / "ds")
    for source in (tmp_path / "in.parquet", tmp_path / "ds"):
        out = tmp_path / f"{source.name}.out.jsonl"
        assert score("--input", source, "--output", out, "--judge", "abstention") == 0
        lines = [strict_loads(line) for line in out.read_text().splitlines()]
        assert [(r["blob"], r["at"], r["day"]) for r in lines] == [
            ("AP8=", "2024-05-06T07:08:09", "2024-05-06"), (None, None, "2024-05-07")]
