"""The RL-framework adapters: TRL's reward_funcs (with real GRPOTrainer steps), veRL's
compute_score and OpenRLHF's reward_func, offline."""

from __future__ import annotations

import math

import pytest

from autojudge.config import RewardConfig
from autojudge.io import parse_references
from autojudge.judges.base import from_probs
from autojudge.rewards import adapters
from autojudge.types import Record


class SubstringJudge:
    """Correct iff a reference occurs in the answer; abstain on "don't know"."""

    name = "substring"

    def __init__(self) -> None:
        self.seen: list[Record] = []

    def judge(self, items):
        self.seen += items
        out = []
        for r in items:
            if "don't know" in r.answer.lower():
                out.append(from_probs(0.0, 0.0, 1.0, self.name))
            elif any(ref.lower() in r.answer.lower() for ref in r.reference):
                out.append(from_probs(1.0, 0.0, 0.0, self.name))
            else:
                out.append(from_probs(0.0, 1.0, 0.0, self.name))
        return out


def test_trl_reward_plain_and_conversational():
    judge = SubstringJudge()
    fn = adapters.trl_reward(judge, RewardConfig(abstain=0.25))
    logged = {}
    rewards = fn(prompts=["What is the capital of France?", "Who wrote Hamlet?"],
                 completions=["Paris.", "I don't know."], completion_ids=[[1], [2]],
                 reference=["Paris", '["Shakespeare", "William Shakespeare"]'],
                 trainer_state=None, log_metric=lambda k, v: logged.setdefault(k, v))
    assert rewards == [1.0, 0.25]
    assert judge.seen[1].reference == ("Shakespeare", "William Shakespeare")
    assert logged["autojudge/correct"] == 0.5 and logged["autojudge/truthfulness"] == 0.5

    convo = fn(prompts=[[{"role": "system", "content": "Be brief."},
                         {"role": "user", "content": "Capital of Peru?"}]],
               completions=[[{"role": "assistant", "content": "Quito"}]], reference=["Lima"])
    assert convo == [-1.0]
    assert judge.seen[-1].question == "Capital of Peru?" and judge.seen[-1].answer == "Quito"


def test_trl_reward_names_missing_column():
    fn = adapters.trl_reward(SubstringJudge())
    with pytest.raises(KeyError, match="no 'reference' column.*columns: answer"):
        fn(prompts=["q"], completions=["a"], answer=["x"], log_metric=print)


def test_references_parse():
    assert parse_references("Paris") == ("Paris",)
    assert parse_references('["a", "b"]') == ("a", "b")
    assert parse_references("[not json") == ("[not json",)
    with pytest.raises(ValueError, match="string or a list of strings"):
        parse_references(3)


@pytest.fixture
def shared_judge(monkeypatch):
    judge = SubstringJudge()
    monkeypatch.setattr(adapters, "_SHARED", adapters.JudgedReward(judge, RewardConfig()))
    return judge


def test_verl_compute_score(shared_judge):
    score = adapters.compute_score("squad", "It is Paris.", "Paris",
                                   {"question": "Capital of France?", "index": 3})
    assert score == 1.0 and shared_judge.seen[0].question == "Capital of France?"
    assert adapters.compute_score("squad", "Lyon", ["Paris"], None) == -1.0


def test_openrlhf_reward_func(shared_judge):
    prompts = ["<|user|> Capital of France? <|assistant|>", "<|user|> Who wrote Hamlet? "
               "<|assistant|>"]
    out = adapters.reward_func([prompts[0] + " Paris", prompts[1] + " I don't know"], prompts,
                               ["Paris", "Shakespeare"])
    assert out["rewards"].tolist() == [1.0, 0.0]
    assert out["scores"].tolist() == [1.0, 0.5]
    assert shared_judge.seen[0].question == "Capital of France?"
    assert shared_judge.seen[1].answer == " I don't know"
    assert float(out["extra_logs"]["autojudge/abstain"]) == 0.5


def test_shared_adapter_reads_environment(monkeypatch, tiny_judge_dir, tmp_path):
    config = tmp_path / "r.yaml"
    config.write_text("reward:\n  abstain: 0.3\n")
    monkeypatch.setenv("AUTOJUDGE_JUDGE", str(tiny_judge_dir))
    monkeypatch.setenv("AUTOJUDGE_CONFIG", str(config))
    monkeypatch.setattr(adapters, "_SHARED", None)
    score = adapters.compute_score("x", "I don't know.", "Paris", {"question": "Capital?"})
    assert adapters.shared().reward.values.abstain == 0.3
    assert math.isfinite(score) and score in (1.0, 0.3, -1.0)


def test_trl_grpo_trainer_runs_with_our_reward(tiny_causal_lm_dir, tmp_path):
    """Two real GRPOTrainer steps on a tiny random model with our reward, offline."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    judge = SubstringJudge()
    tokenizer = AutoTokenizer.from_pretrained(tiny_causal_lm_dir)
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(tiny_causal_lm_dir)
    before = [p.detach().clone() for p in model.parameters()]
    data = Dataset.from_dict({"prompt": ["the capital of france is", "the cat sat on the"] * 4,
                              "reference": ["paris", "mat"] * 4})
    args = GRPOConfig(output_dir=str(tmp_path), per_device_train_batch_size=4, num_generations=2,
                      max_completion_length=4, max_steps=2, learning_rate=1e-2, logging_steps=1,
                      report_to=[], use_cpu=True, bf16=False, save_strategy="no",
                      seed=0)
    trainer = GRPOTrainer(model=model, reward_funcs=[adapters.trl_reward(judge)], args=args,
                          train_dataset=data, processing_class=tokenizer)
    trainer.train()
    assert len(judge.seen) >= 8  # two steps of four completions each
    assert {r.reference for r in judge.seen} <= {("paris",), ("mat",)}
    logs = [h for h in trainer.state.log_history if "autojudge/correct" in h]
    assert logs and all(math.isfinite(h["reward"]) for h in logs)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_openrlhf_request_read_once_for_function_and_server():
    chatml = ("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
              "Capital of France?<|im_end|>\n<|im_start|>assistant\n")
    assert adapters.prompt_question(chatml) == "Capital of France?"
    assert adapters.prompt_question("Capital of France?") == "Capital of France?"
    item, = adapters.openrlhf_items([chatml + "Paris.<|im_end|>"], [chatml], ['["Paris"]'])
    assert item == {"question": "Capital of France?", "reference": ["Paris"], "answer": "Paris."}
    with pytest.raises(ValueError, match=r"query\[0\]"):
        adapters.openrlhf_items(["other"], [chatml], ["Paris"])
    values = RewardConfig(correct=1.0, abstain=0.0, incorrect=-3.0)
    assert adapters.unit_scores([1.0, 0.0, -3.0, -4.0], values) == [1.0, 0.75, 0.0, 0.0]


def test_verl_compute_score_takes_keywords_and_the_batch_form(shared_judge):
    # veRL 0.9's reward loop calls with keywords only, and adds keywords of its own
    assert adapters.compute_score(data_source="squad", solution_str="Paris.", ground_truth="Paris",
                                  extra_info={"question": "Capital?", "num_turns": 2},
                                  reward_router_address=None, extra_kwarg=1) == 1.0
    assert adapters.compute_score_batch(
        data_sources=["a", "b"], solution_strs=["Paris", "I don't know"],
        ground_truths=["Paris", "Lima"], extra_infos=[{"question": "Capital of France?"}, None],
        some_reward_kwarg=3) == [1.0, 0.0]
    assert shared_judge.seen[-2].question == "Capital of France?"
    with pytest.raises(ValueError, match="one of each per sample"):
        adapters.compute_score_batch(["a"], ["x", "y"], ["x"])


def test_openrlhf_reward_func_takes_extra_keywords(shared_judge):
    prompt = "<|im_start|>user\nCapital of France?<|im_end|>\n<|im_start|>assistant\n"
    out = adapters.reward_func([prompt + "Paris<|im_end|>"], [prompt], ["Paris"], extra=1)
    assert out["rewards"].tolist() == [1.0]
    assert shared_judge.seen[-1].answer == "Paris"


def test_the_shared_judge_loads_once_when_threads_call_first_together(monkeypatch):
    import threading
    import time

    loads = []

    def slow_load(spec, config=None):
        loads.append(spec)
        time.sleep(0.2)  # long enough for every thread to arrive while the first one loads
        return SubstringJudge()

    monkeypatch.setattr(adapters, "_SHARED", None)
    monkeypatch.setattr(adapters, "load_judge", slow_load)
    results = []
    threads = [threading.Thread(target=lambda: results.append(adapters.compute_score(
        solution_str="Paris", ground_truth="Paris"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [1.0] * 8 and len(loads) == 1
