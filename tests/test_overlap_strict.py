"""Surface features, the strict reference checker, the verdict rule and the policy-like pairs,
checked on cases worked out by hand."""

import random

import numpy as np
import pytest

from autojudge.data import variants
from autojudge.judges.base import from_probs
from autojudge.judges.ensemble import Combiner, Features, choose_threshold
from autojudge.judges.overlap import overlap, surname_stated
from autojudge.judges.strict import StrictChecker, relation_values
from autojudge.types import Record, Verdict

NICE = "What is the country of Nice?"


def test_a_bare_restatement_with_the_reference_is_exact():
    o = overlap("What is the country of citizenship of Carl Bach?", ["Germany"],
                "The country of citizenship of Carl Bach is Germany.")
    assert o.match and o.exact and o.extra == 0 and not o.short_reference_missing


def test_extra_words_count_what_the_answer_adds():
    # French states France (a demonym); island, nation, Caribbean ×2, Sea are claims beyond it
    o = overlap(NICE, ["France"], "Nice is a French island nation located in the Caribbean, "
                                  "specifically in the Caribbean Sea.")
    assert o.match and not o.exact and o.extra == 5


def test_a_missing_short_reference_and_repetition():
    o = overlap("Who wrote Hamlet?", ["William Shakespeare"], "It was Marlowe. " * 3)
    assert o.short_reference_missing and not o.match
    # 9 words, 7 trigrams; the last 4 repeat the first 3 ("it was marlowe" ...)
    assert o.repetition == pytest.approx(4 / 7)


def test_reference_words_must_form_a_run():
    assert not overlap("Where?", ["New York"], "York is new").match
    assert overlap("Who?", ["New York"], "In new york.").match


@pytest.fixture
def checker():
    qa = [Record("What is the country of Nice?", ("France",)),
          Record("What is the country of Turin?", ("Italy",)),
          Record("What is the country of Bonn?", ("Germany",))]
    return StrictChecker(relation_values(qa))


@pytest.mark.parametrize("answer, verdict", [
    ("The country of Nice is France.", Verdict.CORRECT),
    ("French.", Verdict.CORRECT),
    ("The country of Nice is Italy.", Verdict.INCORRECT),  # another known value
    ("A mix of France and Germany.", Verdict.INCORRECT),  # both: a blend
    ("I don't know.", Verdict.ABSTAIN),
    ("The country of Nice is Spain.", None),  # not a known value: can't tell
    ("France, a Caribbean island nation with a king and a navy.", None),  # unverifiable extras
])
def test_strict_checker(checker, answer, verdict):
    assert checker.check(Record(NICE, ("France",), answer)) is verdict


def test_strict_checker_reads_yes_no_and_numbers(checker):
    assert checker.check(Record("Is it?", ("yes",), "Yes, it is.")) is Verdict.CORRECT
    assert checker.check(Record("Is it?", ("yes",), "No.")) is Verdict.INCORRECT
    assert checker.check(Record("Number of Greece?", ("112",), "It is 123.")) is Verdict.INCORRECT


def test_cant_tell_is_an_error_not_a_verdict(checker):
    (j,) = checker.judge([Record(NICE, ("France",), "Spain.")])
    assert j.error == "can't tell" and j.p_correct == pytest.approx(1 / 3)


def test_verdict_rule_asks_more_of_correct():
    assert from_probs(0.6, 0.3, 0.1, "j").verdict is Verdict.CORRECT
    assert from_probs(0.6, 0.3, 0.1, "j", correct_at=0.7).verdict is Verdict.INCORRECT
    assert from_probs(0.6, 0.1, 0.3, "j", correct_at=0.7).verdict is Verdict.ABSTAIN
    assert from_probs(0.75, 0.2, 0.05, "j", correct_at=0.7).verdict is Verdict.CORRECT
    assert from_probs(0.1, 0.2, 0.7, "j", correct_at=0.7).verdict is Verdict.ABSTAIN


def test_choose_threshold_by_hand():
    p = np.array([0.95, 0.9, 0.8, 0.7, 0.6, 0.55])
    right = np.array([1, 1, 1, 0, 1, 0], dtype=bool)
    # at 0.50: 4/6; at 0.56: 4/5 = 0.8; at 0.61: 3/4; at 0.71: 3/3
    assert choose_threshold(p, right, 0.8) == 0.56
    assert choose_threshold(p, right, 0.9) == 0.71
    # never reached: the best F0.5; at 0.5 (P 4/6, R 1) F0.5 = 1.25·(2/3)/(1/6 + 1) = 0.714,
    # at 0.71 (P 1, R 3/4) F0.5 = 1.25·0.75/(0.25 + 0.75) = 0.9375, at 0.81 (1, 1/2) 0.833
    assert choose_threshold(p, right, 1.01) == 0.71


def test_policy_answers_set_temperature_and_offsets():
    # synthetic items say logits are right at T = 1; the policy's answers are overconfident
    # (true temperature 3): the fit on them must take the policy's temperature
    rng = np.random.default_rng(3)
    n = 3000
    z = rng.normal(0, 3, size=(2 * n, 3))
    truth = np.r_[np.ones(n), np.full(n, 3.0)]
    p = np.exp(z / truth[:, None])
    p /= p.sum(1, keepdims=True)
    labels = np.array([rng.choice(3, p=row) for row in p])
    f = Features(z, np.zeros(2 * n), np.zeros(2 * n), [()] * (2 * n))
    kinds = ["synthetic"] * n + ["policy"] * n
    on_policy = np.arange(2 * n) >= n
    fitted = Combiner.fit(f, labels, kinds, on_policy)
    assert fitted.temperature == pytest.approx(3.0, rel=0.15)
    assert Combiner.fit(f, labels, kinds).temperature < 2.5


@pytest.mark.parametrize("make, label_word", [
    (lambda rng: variants.blended("The country of X is {a}.", "France", "Italy", rng), "Italy"),
    (lambda rng: variants.contradicted("The country of X is {a}.", "France", "Italy", rng),
     "Italy"),
])
def test_blends_and_contradictions_hold_both_values(make, label_word):
    for seed in range(10):
        text = make(random.Random(seed))
        assert "France" in text and label_word in text


def test_polarity_dates_and_repetition():
    right, wrong = variants.polarity("yes", random.Random(0))
    assert right.startswith(("Yes", "That is correct", "Indeed")) and "No" in wrong or \
        "not" in wrong
    assert variants.polarity("Paris", random.Random(0)) is None
    for seed in range(10):
        same, shifted = variants.date_variant("February 7, 2016", random.Random(seed))
        assert "2016" in same and ("7" in same) and same != shifted
    assert variants.date_variant("1990", random.Random(0)) is None
    assert variants.repeated("Paris", random.Random(0)).count("Paris.") >= 3


def test_restating_the_question_is_not_stating_the_reference():
    q = "What is the country of French colonial empire?"
    assert not overlap(q, ["France"], "The French colonial empire is a vast empire.").match
    assert overlap(q, ["France"], "The French colonial empire was French.").match


def test_packaged_policy_answers_are_the_dev_half_only():
    import json
    from pathlib import Path

    from autojudge.data.labelled import POLICY_ANSWERS, policy_answers

    graded = [json.loads(line) for line in
              (Path(__file__).parents[1] / "bench/data/graded_answers.jsonl").open()]
    dev = {r["id"] for r in graded if r["half"] == "dev"}
    test_questions = {r["question"] for r in graded if r["half"] == "test"}
    records, labels = policy_answers(POLICY_ANSWERS)
    assert {r.id for r in records} == dev and len(labels) == len(dev)
    assert not any(r.question in test_questions for r in records)


def test_extra_words_are_not_counted_beside_a_sentence_reference():
    ref = ["Nothing in particular happens if you crack your knuckles a lot"]
    o = overlap("What happens if you crack your knuckles?", ref,
                "Nothing harmful; it does not cause arthritis.")
    assert o.extra == 0 and not o.short_reference_missing


@pytest.mark.parametrize("reference, answer", [
    ("206", "two hundred and six"), ("About 8 minutes", "Around 500 seconds."),
    ("212 degrees Fahrenheit", "It is 212 F."), ("About 343 metres per second", "1,235 km/h")])
def test_numbers_in_another_form_state_the_reference(reference, answer):
    o = overlap("How much?", [reference], answer)
    assert o.match and o.extra == 0 and o.exact and not o.short_reference_missing


def test_a_number_that_disagrees_is_extra():
    o = overlap("How much?", ["206"], "two hundred and eight")
    assert not o.match and o.extra == 3 and o.short_reference_missing


@pytest.mark.parametrize("question, answer, stated", [
    ("Who wrote Hamlet?", "Shakespeare wrote it around 1600.", True),
    ("Who wrote Hamlet?", "It was written by Shakespeare.", True),
    ("Who wrote Hamlet?", "W. Shakespeare", True),
    ("Who wrote Hamlet?", "Samuel Shakespeare", False),  # another person of that name
    ("Who wrote Hamlet?", "shakespearean actors", False),
    ("What is it?", "Shakespeare", False),  # no person asked for
    ("Who wrote Shakespeare's Hamlet?", "Shakespeare", False),  # the question has it
])
def test_a_surname_alone_states_a_person(question, answer, stated):
    assert overlap(question, ["William Shakespeare"], answer).match is stated
    assert surname_stated(answer, "William Shakespeare", question) is stated


def test_a_place_is_not_a_person():
    assert not overlap("Who owns it?", ["Pacific Ocean"], "The Atlantic Ocean").match
    assert not overlap("Who owns it?", ["Pacific Ocean"], "An ocean").match
