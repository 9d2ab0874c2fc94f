"""A judgement that failed (`error` set) is never a verdict: no reward, not counted, not
trained on; callers with no way to say "no reward" refuse the batch."""

from __future__ import annotations

import pytest

from autojudge.client import from_line
from autojudge.config import RewardConfig, WarmStartConfig
from autojudge.judges.base import JudgeError, from_probs
from autojudge.judges.metrics import judge_outputs
from autojudge.policy_eval import judged_rows, _rates
from autojudge.rewards import adapters
from autojudge.rewards.calibrate import stats_of
from autojudge.rewards.schemes import Reward
from autojudge.trainers.warm_start import select_examples
from autojudge.types import Judgement, Record, Verdict


class Flaky:
    """Correct for answers containing "Paris", fails for answers containing "down"."""

    name = "flaky"

    def judge(self, items):
        return [Judgement.failure(self.name, "LLM request failed: APIConnectionError")
                if "down" in r.answer else
                from_probs(float("Paris" in r.answer), float("Paris" not in r.answer), 0.0,
                           self.name) for r in items]


def records(*answers):
    return [Record("Capital of France?", ("Paris",), a, id=f"q{i}")
            for i, a in enumerate(answers)]


def test_a_failure_has_no_verdict():
    failed = Judgement.failure("j", "timeout")
    assert failed.failed and failed.verdict is None
    assert failed.to_dict() == {
        "verdict": None, "p_correct": None, "p_incorrect": None, "p_abstain": None,
        "facts": [], "judge": "j", "error": "timeout", "flags": []}
    assert from_probs(0.2, 0.5, 0.3, "j", error="bad reply").verdict is None
    with pytest.raises(ValueError, match="a verdict or an error"):
        Judgement(Verdict.INCORRECT, 0.0, 1.0, 0.0, judge="j", error="x")
    assert from_line(failed.to_dict(), "j") == failed  # as served, read back


@pytest.mark.parametrize("scheme", ["ternary", "expected", "facts"])
def test_reward_gives_a_failure_no_reward(scheme):
    reward = Reward(RewardConfig(scheme=scheme, length_weight=0.1, length_limit=1))
    out = reward([Judgement.failure("j", "down"), from_probs(0, 1, 0, "j")], ["a b c", "a"])
    assert out == [None, -1.0]  # not -1.0 (incorrect), not -1.2 (incorrect and too long)


def test_trl_gets_none_and_the_failed_share_is_logged():
    logged = {}
    fn = adapters.trl_reward(Flaky(), RewardConfig())
    out = fn(prompts=["Capital?"] * 4, completions=["Paris", "Lyon", "down", "down"],
             reference=["Paris"] * 4, log_metric=lambda k, v: logged.setdefault(k, v))
    assert out == [1.0, -1.0, None, None]
    assert logged["autojudge/failed"] == 0.5 and logged["autojudge/incorrect"] == 0.25


def test_verl_and_openrlhf_refuse_a_batch_with_a_failure(monkeypatch):
    monkeypatch.setattr(adapters, "_SHARED", adapters.JudgedReward(Flaky(), RewardConfig()))
    assert adapters.compute_score("x", "Paris", "Paris", {"question": "q"}) == 1.0
    with pytest.raises(JudgeError, match="failed on 1 of 1 samples .*veRL needs a reward"):
        adapters.compute_score("x", "down", "Paris", {"question": "q"})
    with pytest.raises(JudgeError, match="failed on 1 of 2 samples .*OpenRLHF needs"):
        adapters.reward_func(["<|user|> q <|assistant|> Paris", "<|user|> q <|assistant|> down"],
                             ["<|user|> q <|assistant|>"] * 2, ["Paris", "Paris"])


def test_eval_rates_leave_failures_out_and_refuse_all_failed():
    rows = judged_rows(Flaky(), records("Paris", "Lyon", "down"), [["Paris"], ["Lyon"], ["down"]])
    assert [r["verdict"] for r in rows] == ["correct", "incorrect", None]
    rates = _rates(rows)  # among the two judged: not 1/3 incorrect + a fake third
    assert (rates.accuracy, rates.hallucination) == (0.5, 0.5)
    with pytest.raises(JudgeError, match="failed on all 1 answers"):
        _rates(rows[2:])


def test_warm_start_and_calibration_skip_failed_samples():
    rows = judged_rows(Flaky(), records("a", "b"), [["down", "down"], ["Lyon", "Lyon"]])
    # q0's samples all failed: before, they read as "wrong every time" → an "I don't know"
    # example for a question nobody judged
    examples, unknown = select_examples(rows, WarmStartConfig(min_abstain=5), seed=0)
    assert unknown == 1 and [e.question for e in examples] == ["Capital of France?"]
    assert [(s.id, s.incorrect) for s in stats_of(rows)] == [("q1", 2)]


def test_judge_metrics_refuse_failures():
    with pytest.raises(JudgeError, match="flaky failed on 1 of 2 pairs"):
        judge_outputs(Flaky(), records("Paris", "down"))


def test_ppo_scoring_refuses_a_failed_judgement():
    import pytest as _pytest

    from autojudge.config import RewardConfig
    from autojudge.judges.base import JudgeError
    from autojudge.rewards.schemes import Reward
    from autojudge.trainers.ppo_rollout import score_answers
    from autojudge.types import Judgement, Record

    class Down:
        name = "down"

        def judge(self, items):
            return [Judgement.failure("down", "endpoint unreachable") for _ in items]

    with _pytest.raises(JudgeError, match="failed on 1 of 1"):
        score_answers(Down(), Reward(RewardConfig()), [Record("q?", ("a",))], ["a"], "cpu")
