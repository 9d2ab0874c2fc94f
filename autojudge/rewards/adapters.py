"""Our judge + reward as a list-based function (`reward`, `JudgedReward`) and as the reward
function of other RL frameworks.

- TRL (GRPOTrainer, RLOOTrainer; checked with 1.9): `reward_funcs=[trl_reward(...)]`; the
  dataset needs a column with the reference answer(s) (`reference` unless told otherwise).
- veRL (checked with 0.9): `reward.custom_reward_function.path=<this file>` and
  `.name=compute_score`; its reward loop calls `compute_score(data_source=, solution_str=,
  ground_truth=, extra_info=, **kwargs)` once per sample from a thread pool. `ground_truth` is
  the reference, the question comes from `extra_info["question"]`. `compute_score_batch` takes
  the lists of veRL's older "batch" reward manager.
- OpenRLHF (checked with 0.11): `--reward.remote_url <this file>` with `--data.label_key`
  naming the reference column; OpenRLHF imports this module and calls `reward_func(queries,
  prompts, labels)`, one sample per call, from several threads.

The module-level functions build their judge once per process, on the first call (under a
lock: concurrent first calls wait for the one load), from AUTOJUDGE_JUDGE (a judge spec or the
URL of `autojudge serve`; default `default`) and AUTOJUDGE_CONFIG (a YAML recipe for the reward
values; default the embedded ones). With per-sample calls, the URL of a running `autojudge
serve` is the efficient setup: its micro-batcher gathers the concurrent calls into batches.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Sequence
from typing import Any

from autojudge.config import RewardConfig, load_config
from autojudge.io import ItemError, parse_references
from autojudge.judges.base import Judge, JudgeError
from autojudge.judges.loader import load_judge
from autojudge.rewards.schemes import _MARKUP, Reward
from autojudge.types import Judgement, Rates, Record


def reward(questions: Sequence[str], references: Sequence[str | Sequence[str]],
           answers: Sequence[str], *, judge: Judge | str = "default",
           values: Reward | RewardConfig | None = None, batch_size: int | None = None,
           show_progress: bool = False) -> list[float | None]:
    """One shaped reward per answer, judged against its references (each a string or a list
    of acceptable answers) by `judge` (a Judge or a spec for `load_judge`; load it once and
    pass it when calling often) under `values` (the configured reward by default). Where the
    judge failed (an unreachable endpoint, "can't tell") the reward is None, never the reward
    of a verdict: leave that answer out. `autojudge.io.ItemError` names the index and field of
    a bad item."""
    scorer = JudgedReward(judge, values)
    return scorer(questions, references, answers, batch_size=batch_size,
                  show_progress=show_progress)


class JudgedReward:
    """Judge (question, references, answer) items and turn the Judgements into rewards."""

    def __init__(self, judge: Judge | str = "default",
                 reward: Reward | RewardConfig | None = None) -> None:
        self.judge = load_judge(judge) if isinstance(judge, str) else judge
        self.reward = reward if isinstance(reward, Reward) else Reward(reward or RewardConfig())

    def judgements(self, questions: Sequence[str], references: Sequence[Any],
                   answers: Sequence[str], *, batch_size: int | None = None,
                   show_progress: bool = False) -> list[Judgement]:
        if not len(questions) == len(references) == len(answers):
            raise ValueError(f"{len(questions)} questions, {len(references)} references and "
                             f"{len(answers)} answers: one of each per sample")
        items = [_record(i, q, ref, a)
                 for i, (q, ref, a) in enumerate(zip(questions, references, answers))]
        if batch_size is None and not show_progress:  # a judge of one's own may take only items
            return self.judge.judge(items)
        return self.judge.judge(items, batch_size=batch_size, show_progress=show_progress)

    def __call__(self, questions: Sequence[str], references: Sequence[Any],
                 answers: Sequence[str], *, batch_size: int | None = None,
                 show_progress: bool = False) -> list[float | None]:
        """One reward per answer; None where the judge failed (see Reward)."""
        judgements = self.judgements(questions, references, answers, batch_size=batch_size,
                                     show_progress=show_progress)
        return self.reward(judgements, list(answers))


def _record(index: int, question: Any, reference: Any, answer: Any) -> Record:
    """One sample as a Record; the question may be empty (veRL passes one only in
    extra_info), the references are read as `parse_references` reads labels."""
    for field, value in (("question", question), ("answer", answer)):
        if not isinstance(value, str):
            raise ItemError(f"items[{index}]: field {field!r}: expected a string, got "
                            f"{type(value).__name__}")
    try:
        return Record(question, parse_references(reference), answer)
    except ValueError as err:
        raise ItemError(f"items[{index}]: field 'reference': {err}") from None


def rates(judgements: Sequence[Judgement]) -> dict[str, float]:
    """Shares of all samples: correct / incorrect / abstain verdicts, failed judgements (no
    verdict), and truthfulness (correct − incorrect)."""
    r = Rates.of(j.verdict for j in judgements)
    return {"correct": r.accuracy, "incorrect": r.hallucination, "abstain": r.abstention,
            "failed": sum(j.failed for j in judgements) / len(judgements),
            "truthfulness": r.truthfulness}


def require_verdicts(judgements: Sequence[Judgement], who: str) -> None:
    """Refuse (JudgeError) a batch in which the judge failed, for a caller (`who`) that has no
    way to say "no reward": a failed judgement is never passed on as a reward."""
    failed = [j for j in judgements if j.failed]
    if failed:
        raise JudgeError(f"the judge failed on {len(failed)} of {len(judgements)} samples "
                         f"(first: {failed[0].error}); {who} needs a reward for every sample")


def verdict_rewards(scorer: JudgedReward, judgements: Sequence[Judgement],
                    answers: Sequence[str], who: str) -> list[float]:
    """The rewards of a batch for a caller (`who`) that needs one for every sample: a batch
    with a failed judgement is refused (`require_verdicts`)."""
    require_verdicts(judgements, who)
    return [r for r in scorer.reward(judgements, answers) if r is not None]


# --- TRL ---------------------------------------------------------------------------------------

def trl_reward(judge: Judge | str = "default", reward: Reward | RewardConfig | None = None, *,
               reference_column: str = "reference",
               question_column: str | None = None) -> Callable[..., list[float | None]]:
    """A TRL reward function. TRL calls it with `prompts`, `completions`, `completion_ids`, its
    own helpers and every dataset column as keywords; we take the reference column (and the
    question column if named, else the prompt's last user turn) and log the verdict rates and
    the share of failed judgements. A failed judgement's reward is None, which TRL reads as
    "no reward" for that sample."""
    scorer = JudgedReward(judge, reward)

    def autojudge_reward(prompts: list[Any], completions: list[Any],
                         **columns: Any) -> list[float | None]:
        if reference_column not in columns:
            known = ", ".join(sorted(k for k in columns if not k.startswith(("log_", "trainer",
                                                                           "completion_"))))
            raise KeyError(f"autojudge reward: the dataset has no {reference_column!r} column "
                           f"(columns: {known}); pass reference_column=...")
        questions = (columns[question_column] if question_column
                     else [message_text(p, "user") for p in prompts])
        answers = [message_text(c, "assistant") for c in completions]
        judgements = scorer.judgements(questions, columns[reference_column], answers)
        log_metric = columns.get("log_metric")
        if callable(log_metric):
            for name, value in rates(judgements).items():
                log_metric(f"autojudge/{name}", value)
        return scorer.reward(judgements, answers)

    return autojudge_reward


def message_text(value: Any, role: str) -> str:
    """Plain text of a prompt or completion: a string, or the last `role` message of a
    conversation (a list of {"role", "content"} dicts)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(isinstance(m, dict) for m in value):
        picked = [m for m in value if m.get("role") == role] or value
        content = picked[-1].get("content", "")
        return content if isinstance(content, str) else " ".join(
            part.get("text", "") for part in content if isinstance(part, dict))
    raise ValueError(f"expected text or a list of chat messages, got {type(value).__name__}")


# --- veRL and OpenRLHF: module-level functions, configured from the environment ----------------

_SHARED: JudgedReward | None = None
_SHARED_LOCK = threading.Lock()


def shared() -> JudgedReward:
    """The judge + reward the module-level adapters use, built once per process: threads that
    call first at the same time wait for the one load instead of each loading a judge."""
    global _SHARED
    if _SHARED is None:
        with _SHARED_LOCK:
            if _SHARED is None:
                config = load_config(os.environ.get("AUTOJUDGE_CONFIG") or None)
                spec = os.environ.get("AUTOJUDGE_JUDGE", "default")
                _SHARED = JudgedReward(load_judge(spec, config=config), config.reward)
    return _SHARED


def compute_score(data_source: str | None = None, solution_str: str = "",
                  ground_truth: Any = None, extra_info: dict[str, Any] | None = None,
                  **kwargs: Any) -> float:
    """veRL's reward function: one sample's reward. `data_source` and the keywords veRL adds
    (`reward_router_address`, `reward_kwargs` entries, ...) are not used. A failed judgement
    raises JudgeError: veRL has no "no reward", and an outage must not read as "incorrect"."""
    return compute_score_batch([data_source], [solution_str], [ground_truth], [extra_info])[0]


def compute_score_batch(data_sources: Sequence[str | None], solution_strs: Sequence[str],
                        ground_truths: Sequence[Any],
                        extra_infos: Sequence[dict[str, Any] | None] | None = None,
                        **kwargs: Any) -> list[float]:
    """veRL's batch reward-manager form (`reward_manager.name=batch` in the versions that have
    it): the rewards of whole lists, judged in one call. A failed judgement raises
    JudgeError."""
    infos = list(extra_infos) if extra_infos is not None else [None] * len(solution_strs)
    if not len(data_sources) == len(solution_strs) == len(ground_truths) == len(infos):
        raise ValueError(f"{len(data_sources)} data_sources, {len(solution_strs)} solution_strs, "
                         f"{len(ground_truths)} ground_truths and {len(infos)} extra_infos: "
                         "one of each per sample")
    questions = [(info or {}).get("question", "") for info in infos]
    scorer = shared()
    judgements = scorer.judgements(questions, ground_truths, list(solution_strs))
    return verdict_rewards(scorer, judgements, list(solution_strs), "veRL")


def reward_func(queries: Sequence[str], prompts: Sequence[str],
                labels: Sequence[Any], **kwargs: Any) -> dict[str, Any]:
    """OpenRLHF's custom reward function: queries are prompt + response (special tokens kept),
    labels the references (see `openrlhf_items`); OpenRLHF 0.11 passes one sample per call.
    Returns float tensors of rewards, scores in [0, 1] (for dynamic filtering) and verdict
    rates for logging. A batch with a failed judgement raises JudgeError (OpenRLHF logs it and
    gives the sample no reward)."""
    import torch

    scorer = shared()
    items = openrlhf_items(queries, prompts, labels)
    answers = [item["answer"] for item in items]
    judgements = scorer.judgements([item["question"] for item in items],
                                   [item["reference"] for item in items], answers)
    rewards = verdict_rewards(scorer, judgements, answers, "OpenRLHF")
    logs = {f"autojudge/{k}": torch.tensor(v) for k, v in rates(judgements).items()}
    return {"rewards": torch.tensor(rewards, dtype=torch.float32),
            "scores": torch.tensor(unit_scores(rewards, scorer.reward.values),
                                   dtype=torch.float32),
            "extra_logs": logs}


# --- OpenRLHF's request, read one way for the function and the served endpoint ---------------

_TRAILING_END_TOKENS = re.compile(r"(?:\s*(?:<\|[^|>]{1,40}\|>|</s>))+\s*$")
"""End-of-turn tokens a generated query may end with (`<|im_end|>`, `</s>`, ...)."""
_USER_TURN = re.compile(r"(?:<\|im_start\|>\s*user|<\|user\|>|\[INST\])")


def prompt_question(prompt: str) -> str:
    """The question in a chat-templated prompt: the last user turn where the template marks
    turns (ChatML's `<|im_start|>user`, `<|user|>`, `[INST]`), else the whole prompt; template
    tokens removed, whitespace collapsed."""
    turns = list(_USER_TURN.finditer(prompt))
    text = prompt[turns[-1].end():] if turns else prompt
    if turns:
        end = _MARKUP.search(text)
        text = text[:end.start()] if end else text
    return " ".join(_MARKUP.sub(" ", text).split())


def openrlhf_items(queries: Sequence[str], prompts: Sequence[str],
                   labels: Sequence[Any]) -> list[dict[str, Any]]:
    """OpenRLHF's (queries, prompts, labels) as items: the question is the prompt's last user
    turn (`prompt_question`), the answer the query with its prompt removed and trailing
    end-of-turn tokens stripped, the reference the label (`autojudge.io.parse_references`). A query that does
    not start with its prompt is refused (ValueError naming its index)."""
    if not len(queries) == len(prompts) == len(labels):
        raise ValueError(f"query, prompts and labels differ in length ({len(queries)}, "
                         f"{len(prompts)}, {len(labels)})")
    items = []
    for i, (query, prompt, label) in enumerate(zip(queries, prompts, labels)):
        if not query.startswith(prompt):
            raise ValueError(f"query[{i}]: does not start with prompts[{i}]")
        items.append({"question": prompt_question(prompt), "reference": list(parse_references(label)),
                      "answer": _TRAILING_END_TOKENS.sub("", query[len(prompt):])})
    return items


def unit_scores(rewards: Sequence[float], values: RewardConfig) -> list[float]:
    """Rewards mapped onto [0, 1] (incorrect → 0, correct → 1), as OpenRLHF's dynamic filtering
    expects of `scores`."""
    low, high = values.incorrect, values.correct
    return [min(1.0, max(0.0, (r - low) / (high - low))) for r in rewards]
