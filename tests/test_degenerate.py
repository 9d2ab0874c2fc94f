"""Degenerate answers are judged by stated rules, whatever the models say: repetition is
incorrect, only an answer's first 2,000 characters and first 16 claims are judged.

The tiny judge is random, so the ensemble tests give it a combiner that calls every answer
correct: what comes out incorrect there was made so by the rule alone."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict

import pytest

from autojudge.cli import main
from autojudge.judges.degenerate import (CLAIMS_CAPPED, MAX_ANSWER_CHARS, REPETITION, TRUNCATED,
                                         claims_checked, is_repetitive, judged_part, screen)
from autojudge.judges.ensemble import Combiner
from autojudge.judges.facts import MAX_CLAIMS
from autojudge.judges.loader import load_judge
from autojudge.types import Record, Verdict

HAMLET = ("Who wrote Hamlet?", ("William Shakespeare",))
WRONG_X10 = " ".join(["It was Christopher Marlowe."] * 10)
RIGHT_X10 = " ".join(["It was William Shakespeare."] * 10)
YES_MAN = Combiner(offsets=(0.0, -20.0, -20.0))
"""A combiner for which every answer is correct (p_correct ≈ 1)."""


@pytest.fixture
def credulous_judge_dir(tiny_judge_dir, tmp_path):
    """The tiny judge with YES_MAN as its combiner, saved as a judge folder."""
    folder = tmp_path / "credulous"
    shutil.copytree(tiny_judge_dir, folder)
    meta = json.loads((folder / "judge.json").read_text())
    meta["combiner"] = asdict(YES_MAN)
    (folder / "judge.json").write_text(json.dumps(meta))
    return folder


@pytest.mark.parametrize("text", [
    WRONG_X10, RIGHT_X10, "Paris. Paris. Paris.", "I don't know. I don't know. I don't know.",
    "it was marlowe it was marlowe it was marlowe",          # a loop without punctuation
    "The answer is Lyon. the answer is LYON! The answer is Lyon?",  # case and punctuation
])
def test_repetition_is_detected(text):
    assert is_repetitive(text)


@pytest.mark.parametrize("text", [
    "It was William Shakespeare.", "It was Marlowe. It was Marlowe.",  # twice is not a loop
    "The king of France, the king of Spain and the king of England met in 1520.",
    "Paris is the capital. Lyon is larger than Nice. Marseille is a port.", "", "Paris",
])
def test_ordinary_answers_are_not_repetitive(text):
    assert not is_repetitive(text)


def test_long_answers_are_cut_at_a_space():
    answer = "word " * 1000  # 5,000 characters
    assert len(judged_part(answer)) <= MAX_ANSWER_CHARS
    assert judged_part(answer).endswith("word") and judged_part("short") == "short"
    assert judged_part("x" * 3000) == "x" * MAX_ANSWER_CHARS  # no space: a hard cut
    many = " ".join(f"Claim {i} is true." for i in range(40))
    assert claims_checked(many) == MAX_CLAIMS and claims_checked("Paris.") == 1
    assert screen(many).flags == (CLAIMS_CAPPED,)
    assert screen("Paris. " * 400).flags == (REPETITION, TRUNCATED, CLAIMS_CAPPED)


def test_the_judge_calls_a_repeated_answer_incorrect_whatever_its_models_say(
        credulous_judge_dir):
    judge = load_judge(str(credulous_judge_dir))
    once, wrong, right, idk = judge.judge([
        Record(*HAMLET, "It was Christopher Marlowe."), Record(*HAMLET, WRONG_X10),
        Record(*HAMLET, RIGHT_X10),
        Record(*HAMLET, "I don't know. I don't know. I don't know.")])
    assert once.verdict is Verdict.CORRECT and once.flags == ()  # the models: all correct
    for j in (wrong, right, idk):
        assert j.verdict is Verdict.INCORRECT and (j.p_correct, j.p_incorrect) == (0.0, 1.0)
        assert j.flags == (REPETITION,)


def test_the_judge_reads_only_the_first_characters_and_claims(credulous_judge_dir):
    judge = load_judge(str(credulous_judge_dir))
    tail = " ".join(f"Claim {i} is about bridge {i}." for i in range(600))  # ~18,000 chars
    (j,) = judge.judge([Record(*HAMLET, "It was William Shakespeare. " + tail)])
    assert j.flags == (TRUNCATED, CLAIMS_CAPPED) and j.verdict is Verdict.CORRECT
    assert len(j.facts) == MAX_CLAIMS  # the cost of the answer: 16 claim checks, not 600
    assert j.facts[0].text == "It was William Shakespeare."
    assert all(f.text in tail[:MAX_ANSWER_CHARS] for f in j.facts[1:])
    long_claim = "It was " + " ".join(f"word{i}" for i in range(1000)) + "."  # one claim
    (one_claim,) = judge.judge([Record(*HAMLET, long_claim)])
    assert one_claim.flags == (TRUNCATED,)
    assert len(one_claim.facts) == 1 and len(one_claim.facts[0].text) <= MAX_ANSWER_CHARS


def test_score_cli_judges_a_repeated_wrong_answer_incorrect(credulous_judge_dir, tmp_path,
                                                            capsys):
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"question": HAMLET[0], "reference": HAMLET[1][0],
                                          "answer": a}) + "\n"
                              for a in (WRONG_X10, "William Shakespeare.")))
    out = tmp_path / "out.jsonl"
    assert main(["score", "--input", str(source), "--output", str(out), "--judge",
                 str(credulous_judge_dir)]) == 0
    repeated, plain = [json.loads(line) for line in out.read_text().splitlines()]
    assert repeated["verdict"] == "incorrect" and repeated["flags"] == ["repetition"]
    assert repeated["p_correct"] == 0.0 and repeated["error"] is None
    assert plain["verdict"] == "correct" and plain["flags"] == []
    assert "correct 1, incorrect 1" in capsys.readouterr().out
