"""`autojudge score`: judge a file row by row, streaming, resumable, in input order.

Rows are judged in fixed chunks aligned to their position in the input, and the output gets one
line per input line (a blank or unreadable line gets one with its error), chunk by chunk. Beside
it, `<output>.meta.json` records what a resume must match: the judge, the chunk size, the column
mapping and split, and a fingerprint of each chunk's input rows. A resumed run checks them all,
cuts the output back to its last whole chunk and goes on from there, so it computes exactly what
an uninterrupted run would have, batch for batch; a difference is refused, never mixed in.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO

from autojudge.io import InputError, Row, atomic_open, json_line, json_safe, read_rows
from autojudge.judges.base import Judge
from autojudge.types import Judgement

OUTPUT_FIELDS = ("verdict", "p_correct", "p_incorrect", "p_abstain", "facts", "judge", "error",
                 "flags")
"""What each output line adds to the input's fields."""
INPUT_PREFIX = "input_"
"""An input field named like an output field is kept as `input_<name>` (again if that is taken)."""
EMPTY = {"verdict": None, "p_correct": None, "p_incorrect": None, "p_abstain": None,
         "facts": [], "judge": None, "error": None, "flags": []}


@dataclass(frozen=True)
class JudgeIdentity:
    """Which judge made an output: its name, what it was loaded from, and for a saved judge a
    hash of its judge.json (retraining changes it; moving the folder does not)."""

    name: str
    source: str
    digest: str | None = None

    @property
    def key(self) -> str:
        """What a resume must match."""
        if self.digest:
            return f"{self.name}#{self.digest}"
        return self.name if self.source == self.name else f"{self.name} ({self.source})"


def identify(judge: Judge, spec: str | None = None) -> JudgeIdentity:
    """`judge`'s identity; `spec` is what it was loaded from (`--judge`). A saved judge is
    hashed: the folder `spec` names, or the judge's own `folder` attribute if it has one."""
    folder = getattr(judge, "folder", None)
    if folder is None and spec and Path(spec).expanduser().is_dir():
        folder = Path(spec).expanduser()
    if folder is not None and (Path(folder) / "judge.json").is_file():
        digest = hashlib.sha256((Path(folder) / "judge.json").read_bytes()).hexdigest()[:16]
        return JudgeIdentity(judge.name, str(Path(folder).resolve()), digest)
    return JudgeIdentity(judge.name, spec or judge.name)


@dataclass
class ScoreSummary:
    """Counts over the whole output, a resumed run's earlier rows included."""

    rows: int = 0
    judged: int = 0
    """Rows with a verdict and no error."""
    errors: int = 0
    """Rows with an error: unreadable, invalid, or the judge could not decide."""
    resumed_from: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)
    first_error: str | None = None

    def add(self, line: Mapping[str, Any]) -> None:
        self.rows += 1
        if line["error"] is not None:
            self.errors += 1
            self.first_error = self.first_error or line["error"]
        elif line["verdict"] is not None:
            self.judged += 1
            self.verdicts[line["verdict"]] = self.verdicts.get(line["verdict"], 0) + 1

    @property
    def failure(self) -> str | None:
        """Why the run counts as failed (no row judged), or None."""
        if self.judged:
            return None
        return (f"no row was judged: all {self.rows} rows have errors (the first: "
                f"{self.first_error})")

    def describe(self, output: Path) -> str:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(self.verdicts.items())) or "none"
        resumed = f" (resumed after {self.resumed_from})" if self.resumed_from else ""
        return (f"{self.rows} rows{resumed}: {self.judged} judged ({counts}), {self.errors} with "
                f"errors → {output}")


def meta_path(output: Path) -> Path:
    """Where the record of a run sits: beside its output."""
    return output.with_name(output.name + ".meta.json")


def check_paths(source: Path, output: Path, resume: bool = False) -> None:
    """Refuse, before any work, an output that would overwrite the input or an earlier run."""
    if not source.exists():
        raise InputError(f"{source}: no such file or folder")
    for path in (output, meta_path(output)):
        target = path.resolve()  # follows symlinks; a relative path is made absolute
        if target.is_relative_to(source.resolve()) or (
                path.exists() and path.is_file() and source.is_file() and path.samefile(source)):
            raise InputError(f"--output {output} would overwrite the input {source}; choose "
                             "another path")
    if output.is_dir():
        raise InputError(f"--output {output} is a folder; name a .jsonl file")
    folder = next(p for p in output.resolve().parents if p.exists())
    if not folder.is_dir():
        raise InputError(f"cannot create {output.parent}: {folder} is a file")
    if _has_content(output) and not resume:
        raise InputError(f"{output} exists; pass --resume to continue it, or choose another path")


def score_file(source: Path, output: Path, judge: Judge, *, judge_source: str | None = None,
               mapping: Mapping[str, str] | None = None, split: str | None = None,
               resume: bool = False, chunk_size: int = 256, progress: bool = True
               ) -> ScoreSummary:
    """Judge every row of `source` into `output` (JSONL, one line per input line);
    `judge_source` is what the judge was loaded from, recorded to identify it."""
    from tqdm.auto import tqdm

    if chunk_size < 1:
        raise InputError(f"the chunk size must be at least 1, got {chunk_size}")
    check_paths(source, output, resume)
    setup = {"judge": asdict(identify(judge, judge_source)), "chunk_size": chunk_size,
             "map": dict(sorted((mapping or {}).items())), "split": split}
    chunks = _chunks(read_rows(source, mapping=mapping, split=split), chunk_size)
    summary = ScoreSummary()
    digests: list[str] = []
    keep = None
    if resume and _has_content(output):
        digests, keep = _resume(source, output, setup, chunks, summary)
    with _Writer(output, {**setup, "input": str(source.resolve())}, digests, keep) as writer, tqdm(
            total=_count_rows(source), initial=summary.rows, unit="row", desc="scoring",
            disable=not progress) as bar:
        for chunk in chunks:
            lines = list(_judge_chunk(chunk, judge))
            for line in lines:
                summary.add(line)
            writer.write(lines, _digest(chunk))
            bar.update(len(chunk))
    return summary


def _judge_chunk(chunk: list[Row], judge: Judge) -> Iterator[dict[str, Any]]:
    valid = [row.record for row in chunk if row.record is not None]
    judgements = iter(judge.judge(valid)) if valid else iter(())
    for row in chunk:
        yield result_line(row, None if row.record is None else next(judgements), judge.name)


def result_line(row: Row, judgement: Judgement | None, judge: str | None = None
                ) -> dict[str, Any]:
    """The output line of one row: its input fields (one named like an output field kept as
    `input_<name>`) plus the judgement's, or the row's error and `judge`, the judge that would
    have judged it. `autojudge score` and `autojudge serve` both answer with exactly this."""
    line: dict[str, Any] = {}
    for name, value in row.fields.items():
        key = name
        while key in OUTPUT_FIELDS or key in line or (key != name and key in row.fields):
            key = INPUT_PREFIX + key
        line[key] = value
    if judgement is None:
        line.update({**EMPTY, "judge": judge, "error": row.error})
    else:
        line.update(json_safe(judgement.to_dict()))
    return line


# --- resuming ----------------------------------------------------------------------------------

def _resume(source: Path, output: Path, setup: dict[str, Any], chunks: Iterator[list[Row]],
            summary: ScoreSummary) -> tuple[list[str], int]:
    """Check the earlier run against this one and read past the input rows it judged; return its
    chunk fingerprints and the byte length of its output's whole chunks."""
    meta = meta_path(output)
    try:
        recorded = json.loads(meta.read_text(encoding="utf-8"))
        digests = list(recorded["chunks"])
    except (OSError, ValueError, KeyError, TypeError):
        raise InputError(f"{output} cannot be resumed: {meta} (the record of the judge, chunk "
                         "size and input it was started with) is missing or damaged; choose "
                         "another --output") from None
    _compare(recorded, setup, output)
    size = setup["chunk_size"]
    kept, length = _whole_chunks(output, size, len(digests), summary)
    for i in range(kept // size):
        if _digest(next(chunks, [])) != digests[i]:
            raise InputError(f"{source} has changed since {output} was started (rows "
                             f"{i * size + 1}-{(i + 1) * size} differ); resuming would mix "
                             "results of different rows. Choose another --output")
    summary.resumed_from = kept
    return digests[:kept // size], length


def _compare(recorded: Mapping[str, Any], setup: Mapping[str, Any], output: Path) -> None:
    def show(name: str, value: Any) -> str:
        if name == "judge":
            return JudgeIdentity(**value).key
        if name == "map":
            return ",".join(f"{k}={v}" for k, v in value.items()) or "none"
        return str(value)

    differ = []
    for name, flag in (("judge", "--judge"), ("chunk_size", "--chunk-size"), ("map", "--map"),
                       ("split", "--split")):
        try:
            old, new = show(name, recorded.get(name)), show(name, setup[name])
        except (TypeError, AttributeError):
            old, new = "unknown", show(name, setup[name])
        if old != new:
            differ.append(f"{flag} {old} (now {new})")
    if differ:
        raise InputError(f"{output} was started with {'; '.join(differ)}; resuming would mix "
                         "the two. Pass the same options, or choose another --output")


def _whole_chunks(output: Path, size: int, limit: int, summary: ScoreSummary) -> tuple[int, int]:
    """Lines and bytes of the output's first whole chunks (at most `limit`), counted into
    `summary`; a killed run may have left a partial chunk or a partial last line after them."""
    kept = length = 0
    pending: list[bytes] = []
    with output.open("rb") as fh:
        for raw in fh:
            if not raw.endswith(b"\n") or kept >= limit * size:
                break
            pending.append(raw)
            if len(pending) == size:
                for number, line in enumerate(pending, start=kept + 1):
                    try:
                        summary.add(json.loads(line))
                    except (ValueError, KeyError, TypeError):
                        raise InputError(f"{output}:{number}: not a line `autojudge score` "
                                         "wrote; it cannot be resumed") from None
                kept += size
                length += sum(map(len, pending))
                pending = []
    return kept, length


def _digest(chunk: list[Row]) -> str:
    """A fingerprint of what the chunk's output depends on: each row's fields or problem."""
    h = hashlib.sha256()
    for row in chunk:
        problem = row.error.removeprefix(f"{row.location}: ") if row.error else None
        h.update(json.dumps([row.fields, problem], sort_keys=True, ensure_ascii=False)
                 .encode("utf-8", "surrogatepass") + b"\n")
    return h.hexdigest()[:16]


class _Writer:
    """Appends whole chunks to the output and records each in the meta file. Nothing is created
    before the first chunk, so a run that fails early leaves no empty output behind."""

    def __init__(self, output: Path, setup: dict[str, Any], digests: list[str],
                 keep: int | None) -> None:
        self.output, self.setup, self.digests, self.keep = output, setup, digests, keep
        self.fh: BinaryIO | None = None

    def __enter__(self) -> _Writer:
        return self

    def write(self, lines: list[dict[str, Any]], digest: str) -> None:
        if self.fh is None:
            self.fh = self._open()
        self.fh.write(b"".join(json_line(line) for line in lines))
        self.fh.flush()
        self.digests.append(digest)
        with atomic_open(meta_path(self.output)) as meta:
            json.dump({**self.setup, "chunks": self.digests}, meta)

    def _open(self) -> BinaryIO:
        try:
            self.output.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise InputError(f"cannot create {self.output.parent}: {err.strerror}") from None
        if not self.keep:
            return self.output.open("wb")
        fh = self.output.open("r+b")
        fh.truncate(self.keep)  # drop a partial chunk left by a killed run
        fh.seek(self.keep)
        return fh

    def __exit__(self, *_: object) -> None:
        if self.fh is not None:
            self.fh.close()
        elif self.keep:  # resumed with nothing left to judge: still drop a partial tail
            with self.output.open("r+b") as fh:
                fh.truncate(self.keep)


def _has_content(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 0


def _chunks(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    while chunk := list(islice(rows, size)):
        yield chunk


def _count_rows(source: Path) -> int | None:
    if source.suffix.lower() in (".jsonl", ".json"):
        with source.open("rb") as fh:
            return sum(1 for _ in fh)
    return None
