"""`autojudge eval`: rates by hand, and the command end to end on a tiny policy and judge."""

from __future__ import annotations

import json

import pytest

from autojudge.types import Rates, Verdict


def test_rates_by_hand():
    c, i, a = Verdict.CORRECT, Verdict.INCORRECT, Verdict.ABSTAIN
    r = Rates.of([c, c, i, a])
    assert (r.accuracy, r.hallucination, r.abstention) == (0.5, 0.25, 0.25)
    assert r.truthfulness == 0.25
    # correct given attempted: 0.5 / 0.75 = 2/3; F = 2 · 0.5 · 2/3 / (0.5 + 2/3) = 4/7
    assert r.correct_given_attempted == pytest.approx(2 / 3)
    assert r.simpleqa_f == pytest.approx(4 / 7)
    assert Rates.of([a]).correct_given_attempted == 0.0
    with pytest.raises(ValueError, match="no verdicts"):
        Rates.of([])


def test_disagreement_and_grader_rates_by_hand():
    from autojudge.policy_eval import disagreement, grader_rates

    rows = [{"verdict": v, "graders": {"strict": g}, "question": "q", "reference": ["r"],
             "answer": "a", "p_correct": 0.9}
            for v, g in [("correct", "correct"), ("correct", "incorrect"), ("correct", None),
                         ("correct", "abstain"), ("incorrect", "incorrect"),
                         ("abstain", "abstain")]]
    # the judge says correct 4 times; the grader tells 3 of them and calls 1 incorrect (an
    # abstention is counted among the told answers but is not a contradiction)
    d = disagreement(rows, "strict")
    assert (d["share"], d["n"], len(d["examples"])) == (pytest.approx(1 / 3), 3, 1)
    r = grader_rates(rows, "strict")
    assert r["told"] == 5 and r["cant_tell"] == pytest.approx(1 / 6)
    assert r["rates"]["accuracy"] == 0.2 and r["rates"]["hallucination"] == 0.4


def test_eval_command_compares_two_models(tiny_causal_lm_dir, tiny_judge_dir, tmp_path, capsys):
    from autojudge.cli import main

    data = tmp_path / "qa.jsonl"
    data.write_text("\n".join(json.dumps({"id": f"q{i}", "question": f"who wrote book {i} ?",
                                          "reference": ["the author"]}) for i in range(5)) + "\n")
    out = tmp_path / "eval"
    rc = main(["eval", "--model", str(tiny_causal_lm_dir), "--compare", str(tiny_causal_lm_dir),
               "--data", str(data), "--questions", "4", "--samples", "2", "--judge",
               str(tiny_judge_dir), "--out", str(out), "--config", "configs/tiny.yaml"])
    assert rc == 0
    report = json.loads((out / "eval.json").read_text())
    first, second = report["models"].values()
    assert first["questions"] == 4 and first["samples"] == 8
    assert first["greedy"] == second["greedy"]  # same model, greedy: same answers and verdicts
    g = first["greedy"]
    assert g["accuracy"] + g["hallucination"] + g["abstention"] == pytest.approx(1.0)
    assert set(report["graders"]) == {"reward_judge", "strict"}
    strict = report["graders"]["strict"][next(iter(report["models"]))]
    assert strict["n"] == 4 and 0.0 <= strict["cant_tell"] <= 1.0
    assert set(report["disagreement"]["strict"][next(iter(report["models"]))]) == {
        "share", "n", "examples"}
    table = capsys.readouterr().out
    assert "truthfulness" in table and "SimpleQA F" in table and "strict (among told)" in table
    assert (out / "rates.png").stat().st_size > 1000
    assert "| question | reference | answer | verdict |" in (out / "report.md").read_text()
    assert len(list(out.glob("answers_*.jsonl"))) == 2


def test_train_command_warm_starts_then_runs_ppo(tiny_causal_lm_dir, tiny_judge_dir, tmp_path):
    from autojudge.cli import main
    from autojudge.policy import load_policy

    data = tmp_path / "qa.jsonl"
    data.write_text("\n".join(json.dumps({"id": f"q{i}", "question": f"who wrote book {i} ?",
                                          "reference": ["the author"]}) for i in range(6)) + "\n")
    out = tmp_path / "run"
    args = ["train", "--config", "configs/tiny.yaml", "--model", str(tiny_causal_lm_dir),
            "--judge", str(tiny_judge_dir), "--data", str(data), "--out", str(out),
            "warm_start.questions=4", "warm_start.samples=2", "warm_start.epochs=1",
            "ppo.steps=1"]
    assert main(args) == 0
    assert (out / "warm_start" / "warm_start.json").is_file()
    log = [json.loads(line) for line in (out / "ppo" / "log.jsonl").open()]
    assert [row["step"] for row in log] == [1]
    load_policy(out / "ppo" / "policy")
    # resumed with more steps: the warm-start is reused and PPO goes on from step 1
    assert main(args[:-1] + ["ppo.steps=2", "--resume"]) == 0
    log = [json.loads(line) for line in (out / "ppo" / "log.jsonl").open()]
    assert [row["step"] for row in log] == [1, 2]


def test_train_sft_idk_alone(tiny_causal_lm_dir, tiny_judge_dir, tmp_path, capsys):
    from autojudge.cli import main

    data = tmp_path / "qa.jsonl"
    data.write_text(json.dumps({"question": "who wrote it ?", "reference": ["nobody"]}) + "\n")
    assert main(["train", "sft-idk", "--config", "configs/tiny.yaml", "--model",
                 str(tiny_causal_lm_dir), "--judge", str(tiny_judge_dir), "--data", str(data),
                 "--out", str(tmp_path / "w"), "warm_start.samples=2"]) == 0
    assert not (tmp_path / "w" / "ppo").exists()
    assert "final policy:" in capsys.readouterr().out


def test_load_policy_loads_the_weights_in_models_dtype_whatever_the_checkpoint_holds(
        tiny_causal_lm_dir, tmp_path):
    import torch

    from autojudge.policy import load_policy

    bf16_dir = tmp_path / "bf16"
    policy = load_policy(tiny_causal_lm_dir)
    policy.model.to(torch.bfloat16).save_pretrained(bf16_dir)
    policy.tokenizer.save_pretrained(bf16_dir)
    assert {p.dtype for p in load_policy(bf16_dir).model.parameters()} == {torch.float32}
    assert {p.dtype for p in load_policy(bf16_dir, "bfloat16").model.parameters()} == {
        torch.bfloat16}
    with pytest.raises(ValueError, match="dtype"):
        load_policy(bf16_dir, "int8")
