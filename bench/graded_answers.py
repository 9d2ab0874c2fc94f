"""Build the graded set of the policy's own answers (bench/data/graded_answers.jsonl).

    .venv/bin/python bench/graded_answers.py generate --run runs/DIR [--questions 300]
                                                      [--policies start warm_start ppo]
    .venv/bin/python bench/graded_answers.py merge GRADES.jsonl [...]

`generate` lets the starting, warm-started and PPO-trained policies of a finished demo run answer
held-out (test-split) questions, greedy and sampled, and writes the answers, shuffled and without
any judge's opinion, to bench/data/to_grade_<policies>.jsonl (an answer already written for the
same question by an earlier call is not repeated). The demo's own 100 questions all go to the test
half; the others are split by a seeded hash of the question into dev (3/4) and test (1/4).
Grading is done by careful reading with the rules of bench/data/GRADING.md, one row at a time;
`merge` joins grade files ({"id", "grade", "reason"} per line) onto the answers and writes
bench/data/graded_answers.jsonl.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from pathlib import Path

from autojudge.config import load_config
from autojudge.io import write_jsonl
from autojudge.jobs.pipeline import EVAL_QUESTIONS
from autojudge.jobs.questions import held_out_questions
from autojudge.policy import answer, load_policy, sample

DATA = Path(__file__).parent / "data"
GRADES = ("correct", "incorrect", "abstain")


def half_of(question: str, demo: set[str]) -> str:
    if question in demo:
        return "test"
    digest = hashlib.sha256(f"graded:{question}".encode()).hexdigest()
    return "test" if int(digest[:8], 16) % 4 == 0 else "dev"


def generate(run: Path, n: int, seed: int, names: list[str]) -> Path:
    config = load_config(run / "config.yaml") if (run / "config.yaml").is_file() else load_config()
    demo, _ = held_out_questions(config, None, EVAL_QUESTIONS)
    everything, _ = held_out_questions(config, None, 10**9)
    demo_q = {r.question for r in demo}
    rest = [r for r in everything if r.question not in demo_q]
    records = demo + random.Random(seed).sample(rest, n - len(demo))
    policies = {"start": config.models.policy,
                "warm_start": str(run / "train" / "warm_start" / "policy"),
                "ppo": str(run / "train" / "ppo" / "policy")}
    policies = {k: v for k, v in policies.items() if k in names}
    rows: list[dict] = []
    seen = {(r["question"], " ".join(r["answer"].split()).lower()) for r in _answers()}
    questions = [r.question for r in records]
    for name, path in policies.items():
        policy = load_policy(path)
        greedy = answer(policy, questions, config.generation, batch_size=64)
        sampled = [g[0] for g in sample(policy, questions, config.generation, 1, batch_size=64)]
        for i, r in enumerate(records):
            picks = [("greedy", greedy[i])]
            if name != "warm_start" or i % 2 == 0:  # fewer warm-start rows: mostly "I don't know"
                picks.append(("sampled", sampled[i]))
            for decoding, text in picks:
                key = (r.question, " ".join(text.split()).lower())
                if key in seen:
                    continue
                seen.add(key)
                rows.append({"question_id": r.id, "question": r.question,
                             "reference": list(r.reference), "answer": text, "policy": name,
                             "decoding": decoding, "half": half_of(r.question, demo_q),
                             "source": "halueval_qa" if (r.id or "").startswith("halueval")
                             else "geography"})
    random.Random(seed).shuffle(rows)
    tag = "_".join(policies)
    for i, row in enumerate(rows):
        row["id"] = f"{tag[0]}{i:04d}"
    out = DATA / f"to_grade_{tag}.jsonl"
    write_jsonl(out, rows)
    return out


def _answers() -> list[dict]:
    return [json.loads(line) for path in sorted(DATA.glob("to_grade_*.jsonl"))
            for line in path.open() if line.strip()]


def merge(grade_files: list[Path]) -> Path:
    answers = {r["id"]: r for r in _answers()}
    graded: dict[str, dict] = {}
    for path in grade_files:
        for lineno, line in enumerate(path.open(), 1):
            if not line.strip():
                continue
            g = json.loads(line)
            if g.get("id") not in answers or g.get("grade") not in GRADES or not g.get("reason"):
                raise SystemExit(f"{path}:{lineno}: need a known id, a grade in {GRADES} and "
                                 f"a reason: {line.strip()[:120]}")
            graded[g["id"]] = {**answers[g["id"]], "grade": g["grade"], "reason": g["reason"],
                               "kind": g.get("kind", "")}
    missing = sorted(set(answers) - set(graded))
    if missing:
        print(f"warning: {len(missing)} answers not graded, first {missing[:5]}", file=sys.stderr)
    out = DATA / "graded_answers.jsonl"
    write_jsonl(out, [graded[k] for k in sorted(graded)])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate")
    gen.add_argument("--run", type=Path, required=True)
    gen.add_argument("--questions", type=int, default=300)
    gen.add_argument("--seed", type=int, default=7)
    gen.add_argument("--policies", nargs="+", default=["start", "warm_start", "ppo"])
    mer = sub.add_parser("merge")
    mer.add_argument("grades", type=Path, nargs="+")
    args = parser.parse_args()
    if args.command == "generate":
        print(f"wrote {generate(args.run, args.questions, args.seed, args.policies)}")
    else:
        print(f"wrote {merge(args.grades)}")


if __name__ == "__main__":
    main()
