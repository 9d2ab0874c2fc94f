"""The Python API: every judge kind takes Records, (question, reference, answer) tuples and dicts
with `batch_size` and `show_progress`; bad items are named by index and field; the list-based
`autojudge.reward`; `judge.save(folder)` / `load_judge(folder)` round-trip everything."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

import autojudge
from autojudge.client import JudgeClient
from autojudge.config import RewardConfig
from autojudge.io import ItemError
from autojudge.judges.abstention import AbstentionJudge
from autojudge.judges.base import META, SAVED, JudgeBase, JudgeError
from autojudge.judges.comparison import ComparisonJudge
from autojudge.judges.ensemble import EnsembleJudge
from autojudge.judges.facts import FactJudge
from autojudge.judges.llm import LLMJudge, ResponseCache
from autojudge.judges.loader import load_judge
from autojudge.judges.strict import StrictChecker
from autojudge.rewards.schemes import Reward
from autojudge.types import Record

QUESTION = "What is the capital of France?"
RECORDS = [
    Record(QUESTION, ("Paris",), "Paris."),
    Record(QUESTION, ("Paris", "City of Paris"), "I don't know."),
    Record("What is the population of the town?", ("1950",), "It has 2001 people."),
    Record(QUESTION, ("Paris",), "Lyon, which is a large city, and nothing else."),
    Record("What year?", ("1950",), ""),
]
TUPLES = [(r.question, r.reference[0] if len(r.reference) == 1 else list(r.reference), r.answer)
          for r in RECORDS]
DICTS = [{"question": q, "reference": ref, "answer": a} for q, ref, a in TUPLES]
STRICT_VALUES = {"capital": ["Paris", "Lyon"]}


def fake_llm(tmp_path) -> LLMJudge:
    """An LLM judge whose endpoint is a function: A for Paris, C for "I don't know", else B."""
    judge = LLMJudge("fake-model", "http://127.0.0.1:9/v1",
                     cache=ResponseCache(tmp_path / "llm.sqlite"))
    judge._ask = lambda prompt: ("C" if "I don't know" in prompt else
                                 "A" if "Predicted answer: Paris" in prompt else "B")
    return judge


@pytest.fixture
def served(tmp_path):
    """A JudgeClient talking to `autojudge serve`'s app (the abstention judge) in-process."""
    from fastapi.testclient import TestClient

    from autojudge.serve.app import create_app

    app = create_app(AbstentionJudge(), Reward(RewardConfig()))
    with TestClient(app, base_url="http://testserver") as http:
        client = JudgeClient("http://testserver", retries=0)
        client._http = http
        yield client


KINDS = ["ensemble", "comparison", "facts", "abstention", "strict", "llm", "http"]


@pytest.fixture(params=KINDS)
def each_judge(request, tiny_judge_dir, tmp_path):
    if request.param == "http":
        return request.getfixturevalue("served")
    if request.param in ("ensemble", "comparison", "facts"):
        ensemble = EnsembleJudge.load(tiny_judge_dir)
        return {"ensemble": ensemble, "comparison": ensemble.comparison,
                "facts": ensemble.fact_judge}[request.param]
    return {"abstention": AbstentionJudge(), "strict": StrictChecker(STRICT_VALUES),
            "llm": fake_llm(tmp_path)}[request.param]


def test_the_kinds_cover_every_judge_class():
    found, todo = set(), list(JudgeBase.__subclasses__())
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(cls.__subclasses__())
    assert {c.__name__ for c in found if c.__module__.startswith("autojudge.")} == {
        "EnsembleJudge", "ComparisonJudge", "FactJudge", "AbstentionJudge", "StrictChecker",
        "LLMJudge", "JudgeClient"}, "add the new judge kind to KINDS"


def plain(judgements) -> list[dict]:
    return [j.to_dict() for j in judgements]


def test_records_tuples_and_dicts_judge_alike(each_judge, capsys):
    expected = plain(each_judge.judge(RECORDS))
    assert len(expected) == len(RECORDS)
    assert plain(each_judge.judge(TUPLES)) == expected
    assert plain(each_judge.judge(DICTS)) == expected
    mixed = [RECORDS[0], TUPLES[1], DICTS[2], TUPLES[3], DICTS[4]]
    assert plain(each_judge.judge(iter(mixed))) == expected
    capsys.readouterr()
    assert plain(each_judge.judge(TUPLES, batch_size=2, show_progress=True)) == expected
    assert f"{len(RECORDS)}/{len(RECORDS)}" in capsys.readouterr().err  # the bar finished
    assert plain(each_judge.judge(DICTS, batch_size=1)) == expected
    assert each_judge.judge([]) == []


def test_bad_items_are_named_by_index_and_field(each_judge):
    bad = [
        ([RECORDS[0], {"question": "q", "reference": "r"}], r"items\[1\]: field 'answer' is "
                                                            r"missing"),
        ([TUPLES[0], TUPLES[1], ("q", 5, "a")], r"items\[2\]: field 'reference': expected a "
                                                r"string or a list of strings, got a number"),
        ([("q", [], "a")], r"items\[0\]: field 'reference': no non-empty reference"),
        ([("q", "r", None)], r"items\[0\]: field 'answer' is missing"),
        ([DICTS[0], {"question": 3, "reference": "r", "answer": "a"}],
         r"items\[1\]: field 'question': expected a string, got a number"),
        ([("q", "r")], r"items\[0\]: a tuple is \(question, reference, answer\), got 2 values"),
        ([TUPLES[0], "q"], r"items\[1\]: expected a Record, a \(question, reference, answer\) "
                           r"tuple or a dict"),
        (("q", "r", "a"), r"got one tuple; to judge one item, pass a list of one"),
    ]
    for items, message in bad:
        with pytest.raises(ItemError, match=message):
            each_judge.judge(items)
    for size in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="batch_size"):
            each_judge.judge(TUPLES, batch_size=size)


def test_dict_fields_that_are_not_ours_are_kept(each_judge):
    (record,) = autojudge.as_records([{**DICTS[0], "id": 7, "model": "m"}])
    assert record.id == "7" and record.extra == {"model": "m"}


# --- autojudge.reward -------------------------------------------------------------------------

def test_reward_gives_none_where_the_judge_failed():
    checker = StrictChecker(STRICT_VALUES)
    questions = ["What is the capital of France?"] * 4
    references = ["Paris", ["Paris", "City of Paris"], "Paris", '["Paris"]']
    answers = ["Paris", "I don't know.", "Lyon", "Something I cannot check."]
    # strict: correct, abstain, incorrect, can't tell (a failed judgement)
    assert autojudge.reward(questions, references, answers, judge=checker) == [
        1.0, 0.0, -1.0, None]
    values = RewardConfig(correct=2.0, abstain=0.5, incorrect=-3.0)
    assert autojudge.reward(questions, references, answers, judge=checker, values=values,
                            batch_size=1, show_progress=True) == [2.0, 0.5, -3.0, None]
    assert autojudge.reward(questions[:2], references[:2], answers[:2],
                            judge="abstention")[1] == 0.0  # a spec is loaded


def test_reward_names_a_bad_sample():
    with pytest.raises(ItemError, match=r"items\[1\]: field 'reference': no non-empty"):
        autojudge.reward(["q", "q"], ["a", ""], ["a", "b"], judge=AbstentionJudge())
    with pytest.raises(ItemError, match=r"items\[0\]: field 'answer': expected a string"):
        autojudge.reward(["q"], ["a"], [None], judge=AbstentionJudge())
    with pytest.raises(ValueError, match="one of each per sample"):
        autojudge.reward(["q"], ["a", "b"], ["a"], judge=AbstentionJudge())


# --- save / load ------------------------------------------------------------------------------

def changed_ensemble(tiny_judge_dir) -> EnsembleJudge:
    """The tiny judge with every saved setting away from its default."""
    judge = EnsembleJudge.load(tiny_judge_dir)
    judge.combiner = replace(judge.combiner, correct_at=0.71, w_extra=0.25)
    judge.comparison.quantize, judge.fact_judge.quantize = True, False
    judge.comparison.classifier.max_length, judge.fact_judge.classifier.max_length = 96, 80
    judge.comparison.batch_size, judge.fact_judge.batch_size = 7, 5
    judge.fact_judge.max_claims = 2
    return judge


def settings(judge: EnsembleJudge) -> tuple:
    comp, facts = judge.comparison, judge.fact_judge
    return (judge.combiner, comp.quantize, facts.quantize, comp.classifier.max_length,
            facts.classifier.max_length, comp.batch_size, facts.batch_size, facts.max_claims)


def test_an_ensemble_round_trips_everything(tiny_judge_dir, tmp_path):
    import torch

    judge = changed_ensemble(tiny_judge_dir)
    folder = tmp_path / "new" / "judge"  # created by save; a str path works as well
    judge.save(str(folder))
    again = load_judge(str(folder))
    assert isinstance(again, EnsembleJudge) and again.folder == folder
    assert settings(again) == settings(judge)
    for part in ("comparison", "fact_judge"):
        ours = getattr(judge, part).classifier
        theirs = getattr(again, part).classifier
        assert ours.labels == theirs.labels
        for (name, a), (_, b) in zip(ours.model.state_dict().items(),
                                     theirs.model.state_dict().items(), strict=True):
            assert torch.equal(a, b), name
    assert plain(again.judge(RECORDS)) == plain(judge.judge(RECORDS))
    again.save(tmp_path / "twice")
    assert (tmp_path / "twice" / META).read_text() == (folder / META).read_text()


def test_an_older_judge_folder_loads_with_the_old_defaults(tiny_judge_dir, tmp_path):
    import shutil

    shutil.copytree(tiny_judge_dir, tmp_path / "old")
    meta = json.loads((tmp_path / "old" / META).read_text())
    for key in ("max_length", "batch_size", "max_claims"):
        meta.pop(key, None)
    meta["quantize"] = False
    (tmp_path / "old" / META).write_text(json.dumps(meta))
    old = load_judge(tmp_path / "old")  # a Path works too
    assert settings(old)[1:] == (False, False, 128, 128, 32, 32, 16)


def test_the_other_kinds_round_trip(tmp_path, monkeypatch):
    checked = []
    monkeypatch.setattr(LLMJudge, "check", lambda self: checked.append(self.model))
    judges = {
        "abstention": AbstentionJudge(confidence=0.9),
        "strict": StrictChecker(STRICT_VALUES, max_extra=3),
        "llm": LLMJudge("m-1", "http://127.0.0.1:9/v1", concurrency=3, timeout=7.5, retries=2),
        "http": JudgeClient("http://127.0.0.1:9", timeout=3.0, retries=1, backoff=0.1,
                            max_items=7),
    }
    assert set(judges) | {"ensemble"} == set(SAVED.names()), "a saved kind is not tested"
    fields = {"abstention": ["confidence"], "strict": ["values", "max_extra"],
              "llm": ["model", "base_url", "concurrency", "timeout", "retries", "name"],
              "http": ["url", "timeout", "retries", "backoff", "max_items"]}
    for kind, judge in judges.items():
        judge.save(tmp_path / kind)
        again = load_judge(str(tmp_path / kind))
        assert type(again) is type(judge), kind
        assert [getattr(again, f) for f in fields[kind]] == \
            [getattr(judge, f) for f in fields[kind]], kind
        again.save(tmp_path / f"{kind}-twice")
        assert (tmp_path / f"{kind}-twice" / META).read_text() == \
            (tmp_path / kind / META).read_text(), kind
    assert checked == ["m-1"]  # a saved LLM judge checks its endpoint when loaded
    assert plain(load_judge(str(tmp_path / "strict")).judge(TUPLES)) == \
        plain(judges["strict"].judge(TUPLES))


def test_what_cannot_be_saved_or_loaded_says_so(tiny_judge_dir, tmp_path):
    with pytest.raises(JudgeError, match="a ComparisonJudge cannot be saved"):
        EnsembleJudge.load(tiny_judge_dir).comparison.save(tmp_path / "x")
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / META).write_text('{"kind": "oracle"}')
    with pytest.raises(JudgeError, match="unknown judge kind 'oracle'; known: abstention, "
                                         "ensemble, http, llm, strict"):
        load_judge(str(tmp_path / "odd"))


def test_the_public_names():
    assert autojudge.reward(["q"], ["a"], ["I don't know"], judge="abstention") == [0.0]
    for name in ("reward", "load_judge", "Judge", "JudgeBase", "Item", "ItemError",
                 "as_records", "JudgedReward", "Record", "Judgement", "__version__"):
        assert name in autojudge.__all__ and hasattr(autojudge, name), name
