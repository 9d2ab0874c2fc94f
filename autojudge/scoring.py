"""`autojudge score`: judge a file row by row, streaming, resumable, in input order.

Rows are judged in fixed chunks aligned to their position in the input, and the output is
written chunk by chunk. A resumed run truncates the output to its last whole chunk and goes on
from there, so it computes exactly what an uninterrupted run would have, batch for batch.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from autojudge.io import InputError, Row, read_rows
from autojudge.judges.base import Judge
from autojudge.types import Judgement

EMPTY = {"verdict": None, "p_correct": None, "p_incorrect": None, "p_abstain": None,
         "facts": [], "error": None}


@dataclass(frozen=True)
class ScoreSummary:
    rows: int
    judged: int
    errors: int
    resumed_from: int
    verdicts: dict[str, int]


def score_file(source: Path, output: Path, judge: Judge, *, mapping: Mapping[str, str] | None
               = None, split: str | None = None, resume: bool = False, chunk_size: int = 256,
               progress: bool = True) -> ScoreSummary:
    """Judge every row of `source` into `output` (JSONL, one line per input row)."""
    from tqdm.auto import tqdm

    done = _prepare_output(output, resume, chunk_size)
    rows = read_rows(source, mapping=mapping, split=split)
    total = _count_rows(source)
    judged = errors = 0
    verdicts: dict[str, int] = {}
    with output.open("a", encoding="utf-8") as out, tqdm(
            total=total, initial=done, unit="row", desc="scoring", disable=not progress) as bar:
        for chunk in _chunks(islice(rows, done, None), chunk_size):
            for line in _judge_chunk(chunk, judge):
                errors += line["error"] is not None
                if line["verdict"] is not None:
                    judged += 1
                    verdicts[line["verdict"]] = verdicts.get(line["verdict"], 0) + 1
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
            out.flush()
            bar.update(len(chunk))
    return ScoreSummary(done + judged + errors, judged, errors, done, verdicts)


def _judge_chunk(chunk: list[Row], judge: Judge) -> Iterator[dict[str, Any]]:
    valid = [row.record for row in chunk if row.record is not None]
    judgements = iter(judge.judge(valid)) if valid else iter(())
    for row in chunk:
        yield result_line(row, None if row.record is None else next(judgements))


def result_line(row: Row, judgement: Judgement | None) -> dict[str, Any]:
    """The output line of one row: its input fields plus the judgement's (or the row's error).
    `autojudge score` and `autojudge serve` both answer with exactly this."""
    line = dict(row.fields)
    if judgement is None:
        line.update({**EMPTY, "error": row.error})
    else:
        line.update(judgement.to_dict())
        line.pop("judge", None)
    return line


def _prepare_output(output: Path, resume: bool, chunk_size: int) -> int:
    """How many input rows are already done; the output is cut back to a whole chunk."""
    if not output.exists():
        output.parent.mkdir(parents=True, exist_ok=True)
        output.touch()
        return 0
    if not resume:
        raise InputError(f"{output} exists; pass --resume to continue it, or choose another path")
    with output.open("rb") as fh:
        lines = fh.read().split(b"\n")
    complete = lines[:-1]  # a killed run may leave a partial last line
    done = (len(complete) // chunk_size) * chunk_size
    with output.open("wb") as fh:
        fh.write(b"".join(line + b"\n" for line in complete[:done]))
    return done


def _chunks(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    while chunk := list(islice(rows, size)):
        yield chunk


def _count_rows(source: Path) -> int | None:
    if source.suffix.lower() in (".jsonl", ".json"):
        with source.open("rb") as fh:
            return sum(1 for line in fh if line.strip())
    return None
