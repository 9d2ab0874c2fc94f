"""bench/audit.py: the blind sample hides who wrote each answer; the report's rates by hand."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))

import audit  # noqa: E402


def answer(policy, seed, i, verdict, strict):
    return {"policy": policy, "seed": seed, "id": f"q{i}", "question": f"Question {i}?",
            "reference": [f"ref{i}"], "answer": f"{policy}{seed} says {i}", "verdict": verdict,
            "graders": {"strict": strict}}


@pytest.fixture
def answers(monkeypatch):
    monkeypatch.setattr(audit, "dev_half_questions",
                        lambda: {f"Question {i}?" for i in range(6, 10)})  # q0..q5: not dev
    rows = [answer("start", None, i, "incorrect", "incorrect") for i in range(10)]
    rows += [answer("warm_start", 0, i, "abstain", "abstain") for i in range(10)]
    for seed in (0, 1, 2):
        rows += [answer("ppo", seed, i, "correct", None) for i in range(10)]
    return rows


def test_sample_is_blind_and_paired(answers):
    to_grade, key = audit.sample(answers, 4, seed=0)
    assert len(to_grade) == len(key) == 8
    assert all(set(r) == {"audit_id", "question", "reference", "answer"} for r in to_grade)
    assert [r["audit_id"] for r in to_grade] == [k["audit_id"] for k in key]
    by_policy = {p: sorted(k["id"] for k in key if k["policy"] == p) for p in ("start", "ppo")}
    assert by_policy["start"] == by_policy["ppo"]  # the same questions, once each
    assert all(int(q[1:]) < 6 for q in by_policy["start"])  # never the graded dev half
    assert {k["seed"] for k in key if k["policy"] == "ppo"} == {0, 1, 2}  # seeds in turn
    assert not any(k["policy"] == "warm_start" for k in key)
    with pytest.raises(SystemExit, match="only 6"):
        audit.sample(answers, 7, seed=0)


def test_report_rates_by_hand(answers):
    _, key = audit.sample(answers, 4, seed=0)
    # the audit: start all incorrect; PPO right on two questions, wrong on one, abstains on one
    ppo_ids = sorted(k["id"] for k in key if k["policy"] == "ppo")
    grade = {ppo_ids[0]: "correct", ppo_ids[1]: "correct", ppo_ids[2]: "incorrect",
             ppo_ids[3]: "abstain"}
    graded = [{"audit_id": k["audit_id"], "reason": "read",
               "grade": "incorrect" if k["policy"] == "start" else grade[k["id"]]} for k in key]
    figures = audit.report(audit.joined(key, graded))
    ppo, start = figures["policies"]["ppo"], figures["policies"]["start"]
    assert ppo["audit"]["accuracy"]["value"] == 0.5
    assert ppo["audit"]["abstention"]["value"] == 0.25
    assert start["audit"]["hallucination"]["value"] == 1.0
    assert figures["differences"]["audit"]["hallucination"]["value"] == -0.75
    assert ppo["reward_judge"]["accuracy"]["value"] == 1.0
    assert ppo["strict"]["cant_tell"] == 1.0
    agree = figures["agreement_with_audit"]["reward_judge"]
    assert agree["told"] == 8 and agree["agree"] == 6 / 8
    assert agree["correct_but_audit_incorrect"] == 1
    # the judge said "correct" on the 4 PPO answers, 2 of them correct by the audit (both found)
    assert agree["says_correct"] == 4 and agree["precision_correct"] == 0.5
    assert agree["recall_correct"] == 1.0


def test_every_row_must_be_graded_with_a_reason(answers):
    _, key = audit.sample(answers, 2, seed=0)
    graded = [{"audit_id": k["audit_id"], "grade": "correct", "reason": "ok"} for k in key]
    with pytest.raises(SystemExit, match="not graded"):
        audit.joined(key, graded[:-1])
    with pytest.raises(SystemExit, match="no reason"):
        audit.joined(key, [{**graded[0], "reason": ""}, *graded[1:]])
    with pytest.raises(SystemExit, match="grade 'right'"):
        audit.joined(key, [{**graded[0], "grade": "right"}, *graded[1:]])


def test_a_demo_run_is_audited_on_its_greedy_answers(tmp_path, monkeypatch):
    import json

    monkeypatch.setattr(audit, "dev_half_questions",
                        lambda: {f"Question {i}?" for i in range(3, 9)})
    (tmp_path / "eval").mkdir()
    for label, verdict in (("before", "incorrect"), ("after", "abstain")):
        rows = [{**answer("x", None, i, verdict, None), "sample": s}
                for i in range(3) for s in (0, 1)]  # sample 1: a sampled answer, not audited
        (tmp_path / "eval" / f"answers_{label}.jsonl").write_text(
            "".join(json.dumps(r) + "\n" for r in rows))
    rows = audit.demo_answers(tmp_path)
    assert len(rows) == 6 and {r["sample"] for r in rows} == {0}
    assert {(r["policy"], r["seed"], r["verdict"]) for r in rows} == {
        ("start", None, "incorrect"), ("ppo", 0, "abstain")}
    to_grade, key = audit.sample(rows, 3, seed=0)
    assert len(to_grade) == 6
    with pytest.raises(SystemExit, match="no such file"):
        audit.demo_answers(tmp_path / "elsewhere")
