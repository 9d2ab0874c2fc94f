"""The "I don't know" warm-start: example selection by hand, and a tiny end-to-end run."""

from __future__ import annotations

import json

import torch

from autojudge.config import WarmStartConfig, load_config
from autojudge.trainers.warm_start import select_examples, warm_start
from autojudge.types import Record


def rows(qid: str, verdicts: str, p: float = 0.9) -> list[dict]:
    kinds = {"c": "correct", "i": "incorrect", "a": "abstain"}
    return [{"id": qid, "question": f"q {qid}", "answer": f"{qid} answer {n}", "verdict": kinds[v],
             "p_correct": p - n / 100} for n, v in enumerate(verdicts)]


def test_select_examples_by_hand():
    cfg = WarmStartConfig(right_at=0.5, abstain_per_known=1.0, min_abstain=1)
    judged = (rows("known", "ccci") + rows("mixed", "ciii") + rows("never1", "iiii")
              + rows("never2", "iaii") + rows("never3", "aaaa"))
    examples, unknown = select_examples(judged, cfg, seed=0)
    # one known question → at most max(1, 1·1) = 1 abstention example of the 3 unknown ones
    assert unknown == 3
    assert sorted(e.kind for e in examples) == ["abstain", "known"]
    known = next(e for e in examples if e.kind == "known")
    assert known.target == "known answer 0"  # its most confident correct sample
    assert next(e for e in examples if e.kind == "abstain").target == "I don't know."


def test_default_rule_knows_one_right_sample_in_four_and_balances():
    """The default rule: 1 of 4 right samples makes a question known (the demo's answer
    threshold), and there is one "I don't know" example per known question, at least 8."""
    judged = [r for n in range(10) for r in rows(f"k{n}", "ciii")]
    judged += [r for n in range(30) for r in rows(f"u{n}", "iiii")]
    examples, unknown = select_examples(judged, WarmStartConfig(), seed=0)
    kinds = [e.kind for e in examples]
    assert unknown == 30 and kinds.count("known") == 10 and kinds.count("abstain") == 10
    few = rows("k", "ciii") + [r for n in range(30) for r in rows(f"u{n}", "iiii")]
    kinds = [e.kind for e in select_examples(few, WarmStartConfig(), seed=0)[0]]
    assert kinds.count("known") == 1 and kinds.count("abstain") == 8


def test_warm_start_trains_and_saves(tiny_causal_lm, tmp_path):
    from autojudge.policy import load_policy
    from tests.test_adapters import SubstringJudge

    config = load_config("configs/tiny.yaml", ["warm_start.questions=6", "warm_start.samples=2",
                                               "warm_start.epochs=1", "warm_start.lr=1e-2"])
    before = [p.detach().clone() for p in tiny_causal_lm.model.parameters()]
    questions = [Record(f"who wrote book {i} ?", ("zzz-never",), id=f"q{i}") for i in range(8)]
    result = warm_start(config, tiny_causal_lm, SubstringJudge(), questions, tmp_path)
    assert result.known == 0 and result.unknown == 6 and result.abstain == 6
    assert result.steps >= 1 and torch.isfinite(torch.tensor(result.final_loss))
    assert any(not torch.equal(a, b) for a, b in zip(before, tiny_causal_lm.model.parameters()))
    reloaded = load_policy(result.policy_dir)
    assert reloaded.model.config.vocab_size == tiny_causal_lm.model.config.vocab_size
    examples = [json.loads(line) for line in (tmp_path / "examples.jsonl").open()]
    assert {e["target"] for e in examples} == {"I don't know."}
    assert len((tmp_path / "samples.jsonl").read_text().splitlines()) == 12


def test_two_processes_write_each_file_once(tiny_causal_lm_dir, tmp_path):
    """Under `accelerate launch --num_processes 2` both processes train, the main one alone
    writes the samples, examples, policy and config."""
    from tests.launch import launch_two

    proc = launch_two("warm_start_smoke.py", tiny_causal_lm_dir, tmp_path / "out",
                      hf_home=tmp_path / "hf")
    assert proc.returncode == 0, proc.stderr[-3000:]
    writes = {p.name: p.read_text().split() for p in (tmp_path / "out").glob("writes-*.txt")}
    assert sorted(writes) == ["writes-0.txt"]  # process 1 wrote nothing
    assert sorted(writes["writes-0.txt"]) == ["run/config.yaml", "run/examples.jsonl",
                                              "run/policy", "run/samples.jsonl"]
    assert (tmp_path / "out" / "run" / "warm_start.json").is_file()
