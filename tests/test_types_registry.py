import pytest

from autojudge.registry import Registry, UnknownNameError
from autojudge.types import Judgement, Verdict


def test_judgement_probabilities_must_sum_to_one():
    ok = Judgement(Verdict.CORRECT, 0.7, 0.2, 0.1, judge="t")
    assert ok.to_dict()["verdict"] == "correct"
    with pytest.raises(ValueError, match="sum to 1"):
        Judgement(Verdict.CORRECT, 0.7, 0.7, 0.1, judge="t")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        Judgement(Verdict.CORRECT, float("nan"), 0.5, 0.5, judge="t")


def test_registry_lists_known_names_and_restores():
    reg: Registry[int] = Registry("widget")
    reg.add("a", 1)
    with pytest.raises(UnknownNameError, match="unknown widget 'b'; known: a"):
        reg.get("b")
    with reg.restored():
        reg.add("b", 2)
        assert reg.get("b") == 2
    assert reg.names() == ["a"]
    with pytest.raises(ValueError, match="already registered"):
        reg.add("a", 3)


def test_record_takes_one_string_reference_whole():
    from autojudge.types import Record

    assert Record("Q?", "Paris", "Paris").reference == ("Paris",)
    assert Record("Q?", ["Paris", "City of Paris"]).reference == ("Paris", "City of Paris")
    with pytest.raises(TypeError, match="reference must be a string"):
        Record("Q?", ("Paris", 3))
    with pytest.raises(TypeError, match="answer must be a string"):
        Record("Q?", "Paris", 7)
