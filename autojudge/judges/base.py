"""The Judge protocol and the base class of this package's judges, the registries of judge kinds
(filled by `autojudge.judges.loader`), the saved-judge folder format, and `from_probs`."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from autojudge.io import as_records
from autojudge.registry import Registry
from autojudge.types import Fact, Item, Judgement, Record, Verdict


@runtime_checkable
class Judge(Protocol):
    """Anything that turns items into one Judgement per item, in order."""

    @property
    def name(self) -> str: ...

    def judge(self, items: Iterable[Item], *, batch_size: int | None = None,
              show_progress: bool = False) -> list[Judgement]: ...


class JudgeError(ValueError):
    """A judge that cannot be loaded or used (not a saved judge, unknown kind, an endpoint that
    cannot be reached), or that failed where a verdict is required."""


PROGRESS_STEP = 256
"""Items per step when a progress bar is asked for without a batch size."""


class JudgeBase(ABC):
    """What every judge of this package shares: `judge` takes items in any form
    `autojudge.types.Item` allows and judges them `batch_size` at a time, with an optional
    progress bar. A judge kind implements `judge_records`; one that can be saved implements
    `save` and a `load` that `autojudge.judges.loader` registers in SAVED, and sets `name`
    (the judge's name in its Judgements; a class attribute, an attribute or a property)."""

    def judge(self, items: Iterable[Item], *, batch_size: int | None = None,
              show_progress: bool = False) -> list[Judgement]:
        """One Judgement per item, in order. Records, (question, reference, answer) tuples and
        dicts may be mixed; a bad item raises `autojudge.io.ItemError` naming its index and
        field, before anything is judged. Each item is judged on its own, so the verdicts do
        not depend on `batch_size`: it bounds how many items one step holds (a model judge's
        memory, a served judge's request) and is the progress bar's step. By default every item
        is judged in one step (steps of PROGRESS_STEP with `show_progress`)."""
        records = as_records(items)
        if batch_size is not None and (isinstance(batch_size, bool) or
                                       not isinstance(batch_size, int) or batch_size < 1):
            raise ValueError(f"batch_size must be a whole number of at least 1, got "
                             f"{batch_size!r}")
        step = batch_size or (PROGRESS_STEP if show_progress else max(1, len(records)))
        bar = _progress_bar(len(records)) if show_progress else None
        out: list[Judgement] = []
        for start in range(0, len(records), step):
            part = records[start:start + step]
            judged = self.judge_records(part)
            if len(judged) != len(part):
                raise JudgeError(f"{type(self).__name__} returned {len(judged)} judgements for "
                                 f"{len(part)} items")
            out.extend(judged)
            if bar is not None:
                bar.update(len(part))
        if bar is not None:
            bar.close()
        return out

    @abstractmethod
    def judge_records(self, records: Sequence[Record]) -> list[Judgement]:
        """One step: one Judgement per record, in order."""

    def save(self, path: str | Path) -> None:
        """Write the judge to a folder that `autojudge.load_judge(path)` loads back."""
        raise JudgeError(f"a {type(self).__name__} cannot be saved")


def _progress_bar(total: int) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="judging", unit="item")


JudgeFactory = Callable[[str, "str | None"], Judge]
"""Builds a judge from the part of the spec after `kind:` (empty for plain names) and an
optional endpoint URL (used by the LLM judge)."""

JUDGES: Registry[JudgeFactory] = Registry("judge")

SAVED: Registry[Callable[[Path], Judge]] = Registry("saved judge kind")
"""The `kind` written in a saved judge's judge.json → what loads that folder."""

META = "judge.json"
"""The file that makes a folder a saved judge: its kind and settings."""


def write_meta(path: str | Path, kind: str, fields: dict[str, Any]) -> Path:
    """Create the folder `path` if needed and write its judge.json: `kind` and `fields`."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / META).write_text(json.dumps({"kind": kind, **fields}, indent=2) + "\n",
                               encoding="utf-8")
    return folder


def read_meta(path: str | Path) -> dict[str, Any]:
    """A saved judge's judge.json; JudgeError when the folder has none."""
    meta = Path(path) / META
    if not meta.is_file():
        raise JudgeError(f"{path} is not a saved judge (no {META}); train one with "
                         "`autojudge judge train`, or save one with judge.save(folder).")
    data = json.loads(meta.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise JudgeError(f"{meta}: expected a JSON object")
    return data


def from_probs(p_correct: float, p_incorrect: float, p_abstain: float, judge: str,
               facts: tuple[Fact, ...] = (), error: str | None = None,
               correct_at: float | None = None) -> Judgement:
    """A Judgement from class probabilities (renormalised). The verdict is the most probable
    class; with `correct_at`, "correct" needs p_correct ≥ correct_at (a rule chosen for the
    precision of "correct") and an answer below it is incorrect or abstains, whichever is
    likelier. With `error`, the judgement failed and has no verdict."""
    total = p_correct + p_incorrect + p_abstain
    probs = (p_correct / total, p_incorrect / total, p_abstain / total)
    if error is not None:
        return Judgement(None, *probs, judge=judge, facts=facts, error=error)
    verdict = (Verdict.CORRECT, Verdict.INCORRECT, Verdict.ABSTAIN)[probs.index(max(probs))]
    if correct_at is not None:
        if probs[0] >= correct_at:
            verdict = Verdict.CORRECT
        elif verdict is Verdict.CORRECT or probs[0] >= max(probs[1:]):
            verdict = Verdict.INCORRECT if probs[1] >= probs[2] else Verdict.ABSTAIN
    return Judgement(verdict, *probs, judge=judge, facts=facts, error=error)
