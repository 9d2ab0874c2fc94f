"""Bad input gets a clear message naming file, line and field; valid rows are never lost."""

import json
import re

import pytest

from autojudge.io import InputError, parse_mapping, read_records, read_rows, write_jsonl

GOOD = {"question": "What is the capital of France?", "reference": "Paris", "answer": "Paris."}


def lines(tmp_path, *rows: bytes, name="in.jsonl"):
    path = tmp_path / name
    path.write_bytes(b"\n".join(rows) + b"\n")
    return path


def good(i: int) -> bytes:
    return json.dumps({**GOOD, "id": f"g{i}"}).encode()


def test_empty_file(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    with pytest.raises(InputError, match=r"empty\.jsonl: file is empty"):
        list(read_rows(path))


def test_blank_lines_only(tmp_path):
    with pytest.raises(InputError, match="no records found"):
        list(read_rows(lines(tmp_path, b"", b"  ")))


@pytest.mark.parametrize("bad, message", [
    (b'{"question": "q", "reference": "r", "answer": ', r":2: invalid JSON: Expecting value"),
    (json.dumps({"question": "q", "reference": "r"}).encode(), r":2: field 'answer' is missing"),
    (json.dumps({"question": ["a", "b"], "reference": "r", "answer": "x"}).encode(),
     r":2: field 'question': expected a string, got a list"),
    (json.dumps({"question": "q", "reference": [1, 2], "answer": "x"}).encode(),
     r":2: field 'reference': expected a string or a list of strings, got a list"),
    (json.dumps({"question": "q", "reference": [], "answer": "x"}).encode(),
     r":2: field 'reference': no non-empty reference answer"),
    (b'{"question": "q\xff", "reference": "r", "answer": "x"}',
     r":2: not valid UTF-8 \(byte 0xff at column 16\)"),
    (b"[1, 2]", r":2: expected a JSON object, got a list"),
    (json.dumps({"question": "q", "reference": "r", "answer": "x" * 1_048_576}).encode(),
     r":2: field 'answer' is 1,048,576 characters; the limit is 100,000"),
])
def test_bad_row_is_reported_and_neighbours_survive(tmp_path, bad, message):
    path = lines(tmp_path, good(1), bad, good(3))
    rows = list(read_rows(path))
    assert [r.record is not None for r in rows] == [True, False, True]
    assert rows[1].error.startswith(str(path))
    assert re.search(message, rows[1].error), rows[1].error
    records, errors = read_records(path)
    assert [r.id for r in records] == ["g1", "g3"] and len(errors) == 1


def test_reference_list_and_passthrough(tmp_path):
    row = {"question": "q", "reference": ["Paris", "City of Paris"], "answer": "Paris",
           "id": 7, "model": "m1", "meta": {"k": 1}}
    (record,), _ = read_records(lines(tmp_path, json.dumps(row).encode()))
    assert record.reference == ("Paris", "City of Paris")
    assert record.id == "7"
    assert record.extra == {"model": "m1", "meta": {"k": 1}}


def test_column_mapping(tmp_path):
    row = {"prompt": "q", "gold": "r", "completion": "a"}
    path = lines(tmp_path, json.dumps(row).encode())
    mapping = parse_mapping(["answer=completion", "question=prompt", "reference=gold"])
    (record,), errors = read_records(path, mapping=mapping)
    assert (record.question, record.reference, record.answer) == ("q", ("r",), "a")
    assert record.extra == {}
    _, errors = read_records(path, mapping={"answer": "completion"})
    assert "field 'question' is missing" in errors[0]
    _, errors = read_records(path, mapping={"answer": "nope", "question": "prompt",
                                            "reference": "gold"})
    assert "field 'answer' (column 'nope') is missing" in errors[0]
    with pytest.raises(InputError, match="not one of"):
        parse_mapping(["completion=answer"])
    with pytest.raises(InputError, match="expected FIELD=COLUMN"):
        parse_mapping(["answer"])


def test_qa_set_needs_no_answer(tmp_path):
    path = lines(tmp_path, json.dumps({"question": "q", "reference": "r"}).encode())
    (record,), errors = read_records(path, require=("question", "reference"))
    assert record.answer is None and not errors


def test_csv_with_list_reference_and_bad_bytes(tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes(b'question,reference,answer\n'
                     b'q1,"[""Paris"", ""paris city""]",Paris\n'
                     b'q2,r\xff,x\n'
                     b'q3,r,\n'
                     b'q4,r,y\n')
    rows = list(read_rows(path))
    assert rows[0].record.reference == ("Paris", "paris city")
    assert rows[1].error == f"{path}:3: field 'reference' is not valid UTF-8"
    assert rows[2].error == f"{path}:4: field 'answer' is missing"
    assert rows[3].record.answer == "y"


def test_parquet_and_saved_dataset(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasets import Dataset, DatasetDict

    table = {"question": ["q1", "q2"], "reference": [["a", "b"], ["c"]], "answer": ["a", None]}
    pq.write_table(pa.table(table), tmp_path / "in.parquet")
    rows = list(read_rows(tmp_path / "in.parquet"))
    assert rows[0].record.reference == ("a", "b")
    assert rows[1].error.endswith("in.parquet:row 2: field 'answer' is missing")

    Dataset.from_dict(table).save_to_disk(tmp_path / "ds")
    assert [r.record is not None for r in read_rows(tmp_path / "ds")] == [True, False]
    DatasetDict({"a": Dataset.from_dict(table), "b": Dataset.from_dict(table)}).save_to_disk(
        tmp_path / "dd")
    with pytest.raises(InputError, match=r"choose a split with --split \(a, b\)"):
        list(read_rows(tmp_path / "dd"))
    assert len(list(read_rows(tmp_path / "dd", split="b"))) == 2


def test_whole_file_problems(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        list(read_rows(tmp_path / "absent.jsonl"))
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(InputError, match="unknown format '.txt'"):
        list(read_rows(tmp_path / "x.txt"))
    (tmp_path / "folder").mkdir()
    with pytest.raises(InputError, match="not one saved with datasets"):
        list(read_rows(tmp_path / "folder"))


def test_write_jsonl_is_atomic(tmp_path):
    path = tmp_path / "out.jsonl"
    write_jsonl(path, [{"a": 1}])

    def broken():
        yield {"a": 2}
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        write_jsonl(path, broken())
    assert path.read_text() == '{"a": 1}\n'  # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]  # no temp file left


def test_bundled_samples_read_cleanly():
    from pathlib import Path

    samples = Path(__file__).parents[1] / "data" / "samples"
    qa, errors = read_records(samples / "qa.jsonl", require=("question", "reference"))
    assert len(qa) == 40 and not errors
    pairs, errors = read_records(samples / "judge_pairs.jsonl")
    assert len(pairs) == 60 and not errors
    assert {p.extra["label"] for p in pairs} == {"correct", "incorrect", "abstain"}


def test_blank_lines_are_rows_with_an_error(tmp_path):
    rows = list(read_rows(lines(tmp_path, b"", good(1), b"  ", good(2))))
    assert [r.error for r in rows] == [f"{tmp_path}/in.jsonl:1: blank line", None,
                                       f"{tmp_path}/in.jsonl:3: blank line", None]
    path = tmp_path / "in.csv"
    path.write_bytes(b"question,reference,answer\nq1,r,a\n\nq2,r,b\n")
    assert [r.error or r.record.question for r in read_rows(path)] == [
        "q1", f"{path}:3: blank line", "q2"]


def test_json_safe_makes_any_column_value_plain_json():
    import datetime as dt
    from decimal import Decimal

    import numpy as np

    from autojudge.io import json_safe

    value = {"nan": float("nan"), "inf": [float("inf"), -float("inf"), 2.5],
             "bytes": b"\x00\xffA", "when": dt.datetime(2024, 1, 2, 3, 4, 5, 600000),
             "utc": dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc), "day": dt.date(2024, 1, 2),
             "clock": dt.time(3, 4), "took": dt.timedelta(minutes=1, milliseconds=500),
             "money": Decimal("1.10"), "pair": (1, np.int64(2)), "np": np.float32(0.5),
             "array": np.array([1.0, np.nan]), 7: None, "other": object}
    assert json_safe(value) == {
        "nan": None, "inf": [None, None, 2.5],
        "bytes": "AP9B",  # base64 of 00 ff 41
        "when": "2024-01-02T03:04:05.600000", "utc": "2024-01-02T00:00:00+00:00",
        "day": "2024-01-02", "clock": "03:04:00", "took": 60.5, "money": "1.10",
        "pair": [1, 2], "np": 0.5, "array": [1.0, None], "7": None,
        "other": "<class 'object'>"}
