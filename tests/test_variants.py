"""Answer variants for judge training, checked by hand."""

import random

import pytest

from autojudge.data import variants


@pytest.mark.parametrize("gold, expected", [
    ("4", ("four", {"three", "five"})),
    ("four", ("4", {"5"})),
    ("12000", ("12,000", {"13,000"})),  # + 10^(digits − 2)
    ("1,500", ("1500", {"15,000"})),
    ("1989", None),  # a year: no thousands separator
    ("Paris", None),
])
def test_number_variant(gold, expected):
    got = variants.number_variant(gold, random.Random(0))
    if expected is None:
        assert got is None
    else:
        assert got[0] == expected[0] and got[1] in expected[1]


def test_perturbed_number_changes_only_the_number():
    for seed in range(20):
        out = variants.perturbed_number("in November 1989", random.Random(seed))
        year = int(out.split()[-1])
        assert out.startswith("in November ") and 1 <= abs(year - 1989) <= 10
    assert variants.perturbed_number("Paris", random.Random(0)) is None


def test_passage_sentence_and_its_swapped_twin():
    context = "Paris is large. The Seine flows through Paris in France. Lyon is smaller."
    sentence = variants.context_sentence("Seine", context)
    assert sentence == "The Seine flows through Paris in France."
    assert variants.swapped(sentence, "Seine", "Loire") == "The Loire flows through Paris in France."
    assert variants.swapped(sentence, "Seine", "Paris") is None  # the wrong one is already there


def test_list_of_guesses_holds_the_gold():
    text = variants.list_of_guesses("Paris", ["Lyon"], random.Random(1))
    assert "Paris" in text and "Lyon" in text and " or " in text
    assert variants.list_of_guesses("Paris", [], random.Random(1)) is None


def test_counterfactual_pairs_make_the_reference_decide():
    from autojudge.data.pairs import _counterfactual
    from autojudge.data.sources import QAItem

    item = QAItem("w1", "What is the capital of South Africa?", ["Pretoria"], "qa_wikidata",
                  statement="The capital of South Africa is {a}.")
    pairs = list(_counterfactual(item, "Johannesburg", lambda a: f"It is {a}."))
    assert pairs == [
        ("It is Johannesburg.", ["Johannesburg"], "correct", "counterfactual_match"),
        ("It is Pretoria.", ["Johannesburg"], "incorrect", "counterfactual_mismatch"),
        ("The capital of South Africa is Pretoria.", ["Johannesburg"], "incorrect",
         "counterfactual_statement")]
