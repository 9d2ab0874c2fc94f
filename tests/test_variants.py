"""Answer variants for judge training, checked by hand."""

import random

import pytest

from autojudge.data import variants
from autojudge.quantities import QuantityCheck, check_quantities, words_to_number
from autojudge.text import normalize


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


@pytest.mark.parametrize("n, british, words", [
    (206, True, "two hundred and six"), (206, False, "two hundred six"), (45, False, "forty-five"),
    (1200, False, "one thousand two hundred"), (1005, True, "one thousand and five"),
    (17, False, "seventeen")])
def test_spelled(n, british, words):
    assert variants.spelled(n, british) == words
    assert words_to_number(words) == n


@pytest.mark.parametrize("gold", ["135 feet long", "about 9.81 meters per second", "30 °C",
                                  "two weeks", "5,560 kg", "206", "five solo tackles",
                                  "one month old"])
def test_quantity_variant_agrees_and_its_twin_does_not(gold):
    for seed in range(5):
        right, wrong = variants.quantity_variant(gold, random.Random(seed))
        assert check_quantities(right, [gold]) is QuantityCheck.MATCH, right
        assert check_quantities(wrong, [gold]) is QuantityCheck.MISMATCH, wrong
        assert normalize(right) != normalize(gold)


def test_quantity_variant_examples():
    right, wrong = variants.quantity_variant("135 feet long", random.Random(0))
    assert right == "about 41.1 metres long" and wrong.startswith("about ")  # same shape
    assert variants.quantity_variant("five solo tackles", random.Random(0))[0] == "5 solo tackles"
    assert variants.quantity_variant("about 9.81 meters per second",
                                     random.Random(0))[0].count("about") == 1


@pytest.mark.parametrize("gold", ["the 2015 season", "16th century", "$5 million",
                                  "more than 48 hours", "several hundred", "3 and 4", "Paris",
                                  "around a 100 dollars"])
def test_quantity_variant_leaves_alone(gold):
    assert variants.quantity_variant(gold, random.Random(0)) is None


def test_surname_variant():
    others = ["Christopher Marlowe", "The Globe", "Ben Jonson", "John Shakespeare"]
    right, wrong = variants.surname_variant("Who wrote Hamlet?", "William Shakespeare", others,
                                            random.Random(0))
    assert right == "Shakespeare"
    assert wrong in {"Christopher Shakespeare", "Ben Shakespeare"}  # not "The", not John's own
    assert variants.surname_variant("Where is it?", "New York", others, random.Random(0)) is None
    assert variants.surname_variant("Who?", "Pacific Ocean", others, random.Random(0)) is None


def test_quantity_variant_keeps_the_sign():
    right, wrong = variants.quantity_variant("−11.7 °C", random.Random(0))  # a Unicode minus
    assert right == "about 10.9°F"
    assert check_quantities(wrong, ["−11.7 °C"]) is QuantityCheck.MISMATCH
