"""Read (question, reference, answer) records from JSONL, CSV, Parquet or a saved HF dataset.

A bad row never stops the read: it comes back as a `Row` whose `error` names file, line and field,
and the rows around it are read as usual; a blank line is such a row too, so every line of the
input has its row. Only whole-file problems (missing, empty, unknown format) raise `InputError`.
Every value read is made plain JSON by `json_safe`, whatever the column type.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import json
import math
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from autojudge.types import Item, Record

FIELDS = ("question", "reference", "answer", "id")
MAX_FIELD_CHARS = 100_000
"""Longest question / reference / answer accepted; past it a row is reported, not judged."""
BLANK = "blank line"
"""The error of a blank input line (it keeps its place in the output)."""


class InputError(ValueError):
    """The input as a whole cannot be read."""


@dataclass(frozen=True)
class Row:
    """One input row: where it came from, its raw fields, and either a record or an error."""

    location: str
    """`file:line` (or `file:row N` for Parquet and datasets)."""
    fields: dict[str, Any]
    """The row as read, every column kept (empty when the line itself could not be parsed)."""
    record: Record | None
    error: str | None


def parse_mapping(items: Sequence[str]) -> dict[str, str]:
    """`["answer=completion"]` → `{"answer": "completion"}` (our field ← their column)."""
    mapping = {}
    for item in items:
        ours, sep, theirs = item.partition("=")
        if not sep or not ours or not theirs:
            raise InputError(f"--map {item!r}: expected FIELD=COLUMN, e.g. answer=completion")
        if ours not in FIELDS:
            raise InputError(f"--map {item!r}: {ours!r} is not one of {', '.join(FIELDS)}")
        mapping[ours] = theirs
    return mapping


def read_rows(
    path: str | Path,
    *,
    require: Sequence[str] = ("question", "reference", "answer"),
    mapping: Mapping[str, str] | None = None,
    split: str | None = None,
    max_chars: int = MAX_FIELD_CHARS,
) -> Iterator[Row]:
    """Yield every row of `path` in order; `require` names the fields a valid row must have."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    mapping = dict(mapping or {})
    if path.is_dir():
        raw = _dataset_rows(path, split)
    elif path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty; expected records with fields {', '.join(require)}")
    else:
        suffix = path.suffix.lower()
        readers = {".jsonl": _jsonl_rows, ".json": _jsonl_rows, ".csv": _csv_rows,
                   ".parquet": _parquet_rows}
        if suffix not in readers:
            raise InputError(f"{path}: unknown format {suffix!r}; use .jsonl, .csv, .parquet "
                             "or a folder saved with datasets' save_to_disk")
        raw = readers[suffix](path)
    held: list[Row] = []  # blank lines, held until a record shows the file is not all blank
    seen = False
    for location, fields, error in raw:
        if error == f"{location}: {BLANK}":
            held.append(Row(location, {}, None, error))
            continue
        seen = True
        yield from held
        held.clear()
        if error is not None:
            yield Row(location, {}, None, error)
        else:
            yield row_from_fields(location, fields, require=require, mapping=mapping,
                                  max_chars=max_chars)
    if not seen:
        raise InputError(f"{path}: no records found; expected fields {', '.join(require)}")
    yield from held


def read_records(path: str | Path, **kwargs: Any) -> tuple[list[Record], list[str]]:
    """All valid records and the error message of every invalid row."""
    records, errors = [], []
    for row in read_rows(path, **kwargs):
        if row.record is not None:
            records.append(row.record)
        else:
            errors.append(row.error or f"{row.location}: unreadable")
    return records, errors


def row_from_fields(
    location: str,
    fields: dict[str, Any],
    *,
    require: Sequence[str] = ("question", "reference", "answer"),
    mapping: Mapping[str, str] | None = None,
    max_chars: int = MAX_FIELD_CHARS,
) -> Row:
    """One row from fields already parsed (a file's line, an HTTP request's item), checked the
    same way; the error names `location` and the field."""
    record, problem = _to_record(fields, mapping or {}, require, max_chars)
    return Row(location, json_safe(fields), record,
               f"{location}: {problem}" if problem else None)


def _to_record(
    fields: Mapping[str, Any], mapping: Mapping[str, str], require: Sequence[str], max_chars: int
) -> tuple[Record | None, str | None]:
    values: dict[str, Any] = {}
    for name in FIELDS:
        column = mapping.get(name, name)
        value = fields.get(column)
        label = f"field {name!r}" if column == name else f"field {name!r} (column {column!r})"
        if value is None or (isinstance(value, str) and name != "answer" and not value.strip()):
            if name in require:
                return None, f"{label} is missing"
            continue
        if name == "reference":
            try:
                value = parse_references(value)
            except ValueError as err:
                return None, f"{label}: {err}"
        elif name == "id" and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        elif not isinstance(value, str):
            return None, f"{label}: expected a string, got {_kind(value)}"
        for text in value if isinstance(value, tuple) else (value,):
            if len(text) > max_chars:
                return None, f"{label} is {len(text):,} characters; the limit is {max_chars:,}"
            if _has_surrogates(text):
                return None, f"{label} is not valid UTF-8"
        values[name] = value
    used = {mapping.get(n, n) for n in FIELDS}
    extra = {k: json_safe(v) for k, v in fields.items() if k not in used}
    return Record(values["question"], values.get("reference", ()), values.get("answer"),
                  values.get("id"), extra), None


class ItemError(ValueError):
    """An item given to `Judge.judge` (or `autojudge.reward`) that cannot be judged; the message
    names its index and field."""


_TUPLE = ("question", "reference", "answer")


def as_records(items: Iterable[Item]) -> list[Record]:
    """Items in any form `Judge.judge` accepts (see `autojudge.types.Item`) as Records, checked
    as `autojudge score` checks a row (a question, a non-empty reference, a string answer);
    ItemError names the first bad item's index and field. Records pass through unchanged."""
    one = isinstance(items, (str, Record, Mapping)) or (
        isinstance(items, tuple) and bool(items) and isinstance(items[0], str))
    if one:
        raise ItemError(f"expected a list of items, got one {type(items).__name__}; to judge "
                        "one item, pass a list of one")
    return [_as_record(i, item) for i, item in enumerate(items)]


def _as_record(index: int, item: Any) -> Record:
    where = f"items[{index}]"
    if isinstance(item, Record):
        return item
    if isinstance(item, (tuple, list)):
        if len(item) != len(_TUPLE):
            raise ItemError(f"{where}: a tuple is (question, reference, answer), got "
                            f"{len(item)} values")
        item = dict(zip(_TUPLE, item))
    elif not isinstance(item, Mapping):
        raise ItemError(f"{where}: expected a Record, a (question, reference, answer) tuple or "
                        f"a dict with those keys, got {type(item).__name__}")
    # no length limit: that is for files and requests; the judges cut long answers themselves
    row = row_from_fields(where, dict(item), max_chars=sys.maxsize)
    if row.record is None:
        raise ItemError(row.error)
    return row.record


def json_safe(value: Any) -> Any:
    """`value` as plain JSON, whatever a Parquet or `datasets` column held: NaN and ±infinity →
    null, bytes → base64 text, dates and times → ISO 8601 text, durations → seconds, decimals →
    their exact text, tuples → lists, numpy values → Python ones, anything else → `str()`."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return json_safe(value.tolist())
    return str(value)


def parse_references(value: Any) -> tuple[str, ...]:
    """A reference value as a tuple of non-empty answers: a string, a JSON list of strings
    written as a string (as CSV files and RL frameworks pass labels), or a list of strings.
    ValueError says what is wrong."""
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            pass  # a reference that merely starts with "[" stays a string
    refs = [value] if isinstance(value, str) else value
    if not isinstance(refs, (list, tuple)) or not all(isinstance(r, str) for r in refs):
        raise ValueError(f"expected a string or a list of strings, got {_kind(value)}")
    refs = tuple(r for r in refs if r.strip())
    if not refs:
        raise ValueError("no non-empty reference answer")
    return refs


def _kind(value: Any) -> str:
    names = {list: "a list", dict: "an object", int: "a number", float: "a number",
             bool: "true/false"}
    return names.get(type(value), type(value).__name__)


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


# --- format readers: yield (location, fields, error) -------------------------------------------

RawRows = Iterator[tuple[str, dict[str, Any], str | None]]


def _jsonl_rows(path: Path) -> RawRows:
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            where = f"{path}:{number}"
            try:
                text = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as err:
                yield where, {}, f"{where}: not valid UTF-8 (byte 0x{raw[err.start]:02x} at " \
                                 f"column {err.start + 1})"
                continue
            if not text.strip():
                yield where, {}, f"{where}: {BLANK}"
                continue
            try:
                fields = json.loads(text)
            except json.JSONDecodeError as err:
                yield where, {}, f"{where}: invalid JSON: {err.msg} (column {err.colno})"
                continue
            if not isinstance(fields, dict):
                yield where, {}, f"{where}: expected a JSON object, got {_kind(fields)}"
                continue
            yield where, fields, None


def _csv_rows(path: Path) -> RawRows:
    # surrogateescape keeps undecodable bytes as markers, so one bad row is reported, not fatal.
    with path.open(encoding="utf-8", errors="surrogateescape", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            return
        for values in reader:
            where = f"{path}:{reader.line_num}"
            if not values:  # csv.DictReader would skip it; the output keeps its place
                yield where, {}, f"{where}: {BLANK}"
                continue
            if len(values) > len(header):
                yield where, {}, f"{where}: more values than header columns"
                continue
            fields = dict(zip(header, values + [""] * (len(header) - len(values))))
            yield where, {k: (v if v != "" else None) for k, v in fields.items()}, None


def _parquet_rows(path: Path) -> RawRows:
    import pyarrow.parquet as pq

    try:
        batches = pq.ParquetFile(path).iter_batches(batch_size=1024)
        number = 0
        for batch in batches:
            for fields in batch.to_pylist():
                number += 1
                yield f"{path}:row {number}", fields, None
    except Exception as err:  # pyarrow raises several types for a damaged file
        raise InputError(f"{path}: cannot read as Parquet: {err}") from None


def _dataset_rows(path: Path, split: str | None) -> RawRows:
    from datasets import Dataset, DatasetDict, load_from_disk

    try:
        loaded = load_from_disk(str(path))
    except FileNotFoundError:
        raise InputError(f"{path}: a folder, but not one saved with datasets' save_to_disk") from None
    if isinstance(loaded, DatasetDict):
        if split is None and len(loaded) == 1:
            split = next(iter(loaded))
        if split not in loaded:
            raise InputError(f"{path}: choose a split with --split ({', '.join(loaded)})")
        loaded = loaded[split]
    assert isinstance(loaded, Dataset)
    # Arrow batches give each column's stored values (an Image column's bytes, not a decoded
    # picture), which json_safe can always write.
    number = 0
    for batch in loaded.with_format("arrow").iter(batch_size=1024):
        for fields in batch.to_pylist():
            number += 1
            yield f"{path}:row {number}", fields, None


# --- writing -----------------------------------------------------------------------------------

def write_jsonl(path: str | Path, rows: Iterable[Mapping[str, Any]]) -> int:
    """Write rows atomically (temp file, then rename); returns how many were written."""
    count = 0
    with atomic_open(path) as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def json_line(row: Mapping[str, Any]) -> bytes:
    """One strict-JSON line (no NaN or infinity: pass values through `json_safe` first), UTF-8;
    a lone surrogate (undecodable input kept by the CSV reader) is written as a \\u escape."""
    text = json.dumps(row, ensure_ascii=False, allow_nan=False)
    return text.encode("utf-8", "backslashreplace") + b"\n"


@contextmanager
def atomic_open(path: str | Path) -> Iterator[Any]:
    """A text file that replaces `path` only once it is completely written; on failure the old
    file is intact and no temp file is left."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            yield fh
        os.chmod(tmp, 0o644)  # mkstemp makes it private
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
