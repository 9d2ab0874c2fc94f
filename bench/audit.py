"""A blind audit, by careful reading, of the starting vs the PPO-trained policy's answers from
bench/truthfulness.py, beside the two graders' rates on the same answers.

    .venv/bin/python bench/audit.py sample [--answers FILE | --demo RUN] [--questions 100]
                                           [--seed 0] [--files audit]
    .venv/bin/python bench/audit.py report [--files audit] [--name audit]

`sample` picks `--questions` questions of the benchmark that lie outside the graded set's dev
half (bench/data/graded_answers.jsonl's dev half calibrates the judge; the benchmark's questions
come from the test split, which trains nothing), takes each one's
starting-policy answer and one PPO seed's answer (the seeds in turn), shuffles the pairs apart
and writes bench/data/audit_to_grade.jsonl (audit id, question, reference, answer: nothing that
tells which policy wrote it, no verdict) and bench/data/audit_key.jsonl (audit id → policy, seed,
question id). Grading is done by careful reading with the rules of bench/data/GRADING.md, one row
at a time, into bench/data/audit_graded.jsonl ({"audit_id", "grade", "kind", "reason"}).
`report` joins the three and writes bench/results/NAME.json: per policy, the audit's rates and
the reward judge's and the strict checker's on the same answers, each with a bootstrap 95%
interval over questions, the PPO − start differences (paired by question), and how often each
grader agrees with the audit (with the precision and recall of its "correct").

`--demo RUN` audits an `autojudge demo` run instead: its greedy answers before and after
training (RUN/eval/answers_before.jsonl, answers_after.jsonl). `--files NAME` names the three
files bench/data/NAME_{to_grade,key,graded}.jsonl, so that several audits live side by side.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from _common import RESULTS, write_result  # noqa: E402
from truthfulness import bootstrap  # noqa: E402

from autojudge.io import write_jsonl  # noqa: E402

DATA = Path(__file__).parent / "data"
GRADES = ("correct", "incorrect", "abstain")
POLICIES = ("start", "ppo")


def files(name: str) -> tuple[Path, Path, Path]:
    """The rows to grade, their key, and the grades of audit `name`."""
    return tuple(DATA / f"{name}_{n}.jsonl" for n in ("to_grade", "key", "graded"))


def read_jsonl(path: Path) -> list[dict]:
    rows = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise SystemExit(f"{path}:{n}: not JSON ({e.msg})") from None
    return rows


def demo_answers(run: Path) -> list[dict]:
    """A demo run's greedy answers, as the benchmark's answer rows (start: before, ppo: after)."""
    rows = []
    for policy, seed, label in (("start", None, "before"), ("ppo", 0, "after")):
        path = run / "eval" / f"answers_{label}.jsonl"
        if not path.is_file():
            raise SystemExit(f"{path}: no such file (is {run} an `autojudge demo` run?)")
        rows += [{**r, "policy": policy, "seed": seed} for r in read_jsonl(path)
                 if r.get("sample") in (None, 0)]
    return rows


def dev_half_questions() -> set[str]:
    """The graded set's dev half: its answers calibrate the judge, so an audit skips them."""
    return {r["question"] for r in read_jsonl(DATA / "graded_answers.jsonl")
            if r["half"] == "dev"}


def sample(answers: list[dict], questions: int, seed: int) -> tuple[list[dict], list[dict]]:
    """Rows to grade (blind) and their key."""
    by_policy: dict[tuple[str, int | None], dict[str, dict]] = {}
    for a in answers:
        by_policy.setdefault((a["policy"], a["seed"]), {})[a["id"]] = a
    seeds = sorted(s for p, s in by_policy if p == "ppo")
    dev = dev_half_questions()
    start = by_policy[("start", None)]
    eligible = sorted(q for q, a in start.items() if a["question"] not in dev)
    if len(eligible) < questions:
        raise SystemExit(f"only {len(eligible)} of the benchmark's questions lie outside the "
                         f"graded dev half; asked for {questions}")
    rng = random.Random(seed)
    chosen = rng.sample(eligible, questions)
    picked = []
    for i, qid in enumerate(chosen):
        ppo_seed = seeds[i % len(seeds)]
        picked += [start[qid], by_policy[("ppo", ppo_seed)][qid]]
    rng.shuffle(picked)
    to_grade, key = [], []
    for n, a in enumerate(picked):
        audit_id = f"a{n:03d}"
        to_grade.append({"audit_id": audit_id, "question": a["question"],
                         "reference": a["reference"], "answer": a["answer"]})
        key.append({"audit_id": audit_id, "policy": a["policy"], "seed": a["seed"],
                    "id": a["id"], "verdict": a["verdict"], "graders": a["graders"]})
    return to_grade, key


def joined(key: list[dict], graded: list[dict], where: Path | None = None) -> list[dict]:
    """Key rows with the audit's grade; every row graded once, with a known grade. `where`:
    the grades' file, named in errors (default: the standard audit's)."""
    where = where or files("audit")[2]
    grades = {}
    for g in graded:
        if g.get("grade") not in GRADES:
            raise SystemExit(f"{where}: {g.get('audit_id')}: grade {g.get('grade')!r} is not "
                             f"one of {', '.join(GRADES)}")
        if not str(g.get("reason", "")).strip():
            raise SystemExit(f"{where}: {g['audit_id']}: no reason")
        grades[g["audit_id"]] = g
    missing = [k["audit_id"] for k in key if k["audit_id"] not in grades]
    if missing:
        raise SystemExit(f"{where}: {len(missing)} rows not graded (first {missing[0]})")
    return [{**k, "audit": grades[k["audit_id"]]["grade"]} for k in key]


def verdict_of(row: dict, grader: str) -> str | None:
    if grader == "audit":
        return row["audit"]
    if grader == "reward_judge":
        return row["verdict"]
    return row["graders"].get(grader)


def matrix(rows: list[dict], grader: str, wanted: str) -> np.ndarray:
    """1/0 per question (sorted by id) for `wanted`, NaN where the grader can't tell."""
    out = []
    for r in sorted(rows, key=lambda r: r["id"]):
        v = verdict_of(r, grader)
        out.append(np.nan if v is None else float(v == wanted))
    return np.array(out)


def rates(rows: list[dict], grader: str) -> dict[str, object]:
    acc, hal, abst = (matrix(rows, grader, w) for w in GRADES)
    out: dict[str, object] = {"accuracy": bootstrap(acc), "hallucination": bootstrap(hal),
                              "abstention": bootstrap(abst),
                              "truthfulness": bootstrap(acc - hal)}
    out["cant_tell"] = float(np.isnan(acc).mean())
    return out


def report(rows: list[dict]) -> dict[str, object]:
    graders = ["audit", "reward_judge", *sorted({g for r in rows for g in r["graders"]})]
    per = {p: [r for r in rows if r["policy"] == p] for p in POLICIES}
    figures: dict[str, object] = {"answers": len(rows), "questions": len(per["start"]),
                                  "policies": {}, "differences": {}, "agreement_with_audit": {}}
    for p in POLICIES:
        figures["policies"][p] = {g: rates(per[p], g) for g in graders}
    for g in graders:
        diff = {}
        for rate, wanted in (("accuracy", "correct"), ("hallucination", "incorrect"),
                             ("abstention", "abstain")):
            diff[rate] = bootstrap(matrix(per["ppo"], g, wanted)
                                   - matrix(per["start"], g, wanted))
        figures["differences"][g] = diff
        if g != "audit":
            told = [r for r in rows if verdict_of(r, g) is not None]
            said = [r for r in told if verdict_of(r, g) == "correct"]
            right = [r for r in told if r["audit"] == "correct"]
            figures["agreement_with_audit"][g] = {
                "told": len(told),
                "agree": (sum(verdict_of(r, g) == r["audit"] for r in told) / len(told)
                          if told else None),
                "correct_but_audit_incorrect": sum(r["audit"] == "incorrect" for r in said),
                "says_correct": len(said),
                "precision_correct": (sum(r["audit"] == "correct" for r in said) / len(said)
                                      if said else None),
                "recall_correct": (sum(verdict_of(r, g) == "correct" for r in right) / len(right)
                                   if right else None)}
    return figures


def ratio(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def table(figures: dict) -> str:
    lines = [f"{figures['answers']} answers to {figures['questions']} questions (none in the "
             "graded dev half), start vs PPO; rate [95% interval]"]
    graders = list(figures["policies"]["start"])
    for rate in ("accuracy", "hallucination", "abstention"):
        lines += ["", f"{rate:<14}{'start':>24}{'ppo':>24}{'ppo - start':>24}"]
        for g in graders:
            cells = [figures["policies"][p][g][rate] for p in POLICIES]
            cells.append(figures["differences"][g][rate])
            lines.append(f"  {g:<12}" + "".join(
                f"{c['value']:>+8.3f} [{c['ci95'][0]:+.2f},{c['ci95'][1]:+.2f}]" for c in cells))
    lines.append("")
    for g, a in figures["agreement_with_audit"].items():
        lines.append(f"{g}: agrees with the audit on {ratio(a['agree'])} of the {a['told']} "
                     f"answers it could tell; of its {a['says_correct']} \"correct\", "
                     f"{a['correct_but_audit_incorrect']} the audit grades incorrect (precision "
                     f"{ratio(a['precision_correct'])}, recall {ratio(a['recall_correct'])})")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=("sample", "report"))
    parser.add_argument("--answers", type=Path, default=RESULTS / "truthfulness_answers.jsonl")
    parser.add_argument("--demo", type=Path, help="an `autojudge demo` run folder to audit")
    parser.add_argument("--files", default="audit",
                        help="bench/data/FILES_{to_grade,key,graded}.jsonl")
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name", default="audit")
    args = parser.parse_args()
    to_grade_path, key_path, graded_path = files(args.files)
    if args.step == "sample":
        answers = demo_answers(args.demo) if args.demo else read_jsonl(args.answers)
        to_grade, key = sample(answers, args.questions, args.seed)
        write_jsonl(to_grade_path, to_grade)
        write_jsonl(key_path, key)
        print(f"wrote {to_grade_path} ({len(to_grade)} answers, blind) and {key_path}")
        return
    figures = report(joined(read_jsonl(key_path), read_jsonl(graded_path), graded_path))
    print(table(figures))
    print(f"wrote {write_result(args.name, figures)}")


if __name__ == "__main__":
    main()
