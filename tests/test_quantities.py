"""Quantity checker: numbers, number words, units, hedges and bounds, checked by hand."""

import pytest

from autojudge.quantities import (Quantity, QuantityCheck, agreeing_spans, check_quantities,
                                 parse_quantities, words_to_number)


@pytest.mark.parametrize("text, value", [
    ("two hundred and six", 206), ("a dozen", 12), ("twenty-one", 21),
    ("three million", 3e6), ("one thousand nine hundred and eighty-nine", 1989), ("and", None),
])
def test_words_to_number(text, value):
    assert words_to_number(text) == value


@pytest.mark.parametrize("text, expected", [
    ("It fell in 1989.", [Quantity(1989, "year", "")]),
    ("1,235", [Quantity(1235, "count", "")]),
    ("4.5 billion", [Quantity(4.5e9, "count", "")]),
    ("About 8 minutes", [Quantity(480, "time", "minutes", "=", True)]),
    ("343 metres per second", [Quantity(343, "speed", "metres per second")]),
    ("more than five senses", [Quantity(5, "count", "", ">")]),
    ("under 3 kg", [Quantity(3, "mass", "kg", "<")]),
    ("the 1990s, no one knew", []),  # a decade and a pronoun are not quantities
])
def test_parse_quantities(text, expected):
    assert parse_quantities(text) == expected


def test_unit_conversion():
    # 100 °C = 373.15 K; 212 °F = (212 − 32) · 5/9 + 273.15 = 373.15 K
    (c,), (f,) = parse_quantities("100 °C"), parse_quantities("212 degrees Fahrenheit")
    assert c.value == pytest.approx(373.15) and f.value == pytest.approx(373.15)
    # 1,235 km/h = 1235 / 3.6 m/s = 343.06 m/s
    assert parse_quantities("1,235 km/h")[0].value == pytest.approx(343.06, abs=0.01)


@pytest.mark.parametrize("answer, reference, expected", [
    ("two hundred and six", "206", QuantityCheck.MATCH),
    ("208", "206", QuantityCheck.MISMATCH),
    ("1991", "The wall fell in 1989.", QuantityCheck.MISMATCH),
    ("About 8 seconds", "About 8 minutes", QuantityCheck.MISMATCH),
    # 500 s vs 480 s: 4% apart, within the 10% a hedge allows
    ("Around 500 seconds", "About 8 minutes", QuantityCheck.MATCH),
    ("500 seconds", "8 minutes", QuantityCheck.MISMATCH),  # no hedge: 1% for converted units
    ("About 1,235 km/h", "About 343 metres per second", QuantityCheck.MATCH),
    ("212 °F", "100 °C", QuantityCheck.MATCH),
    ("Humans have five senses", "Humans have many more than five senses",
     QuantityCheck.MISMATCH),
    ("Nine", "Humans have many more than five senses", QuantityCheck.MATCH),
    ("Only about three seconds", "Much longer than three seconds", QuantityCheck.MISMATCH),
    ("Several months, so 90 days", "Much longer than three seconds", QuantityCheck.MATCH),
    ("It is 1.2 m tall", "shorter than 1 metre", QuantityCheck.MISMATCH),
    ("Shakespeare wrote it around 1600", "William Shakespeare", QuantityCheck.NOT_APPLICABLE),
    ("Paris", "Paris has 2 million people", QuantityCheck.NOT_APPLICABLE),
    ("3 kg", "In 1989", QuantityCheck.NOT_APPLICABLE),  # no quantity of the same dimension
])
def test_check_quantities(answer, reference, expected):
    assert check_quantities(answer, [reference]) is expected


def test_any_reference_may_match():
    assert check_quantities("12", ["twelve", "a dozen"]) is QuantityCheck.MATCH
    assert check_quantities("13", ["twelve", "a dozen"]) is QuantityCheck.MISMATCH


def test_a_capital_f_or_c_after_a_number_is_a_temperature():
    (f,), (c,) = parse_quantities("It boils at 212 F."), parse_quantities("100 C")
    assert f.dimension == c.dimension == "temperature" and f.value == pytest.approx(c.value)
    assert parse_quantities("5 c")[0].dimension == "count"  # lower case: not a unit


def test_agreeing_spans_cover_number_and_unit():
    answer = "It takes around 500 seconds, not 9 hours."
    (span,) = agreeing_spans(answer, ["About 8 minutes"])
    assert answer[slice(*span)] == "500 seconds"
    assert agreeing_spans("two hundred and six bones", ["206"]) == [(0, 19)]
    assert agreeing_spans("208", ["206"]) == []


def test_a_hedged_temperature_is_hedged_in_degrees_not_kelvin():
    assert check_quantities("About 200 degrees Fahrenheit", ["212 °F"]) is QuantityCheck.MISMATCH
    assert check_quantities("About 210 degrees Fahrenheit", ["212 °F"]) is QuantityCheck.MATCH
    assert check_quantities("About 0.5 °C", ["around 0 °C"]) is QuantityCheck.MATCH  # 10° floor
    assert check_quantities("About 0.5 °C", ["0 °C"]) is QuantityCheck.MISMATCH
    assert check_quantities("98.6 °F", ["37 °C"]) is QuantityCheck.MATCH
