"""Quantity checker: do the numbers (with their units) in an answer agree with the references?
Shared by the judges (the ensemble's features, the strict checker) and the data builders
(numbers written another way).

Rule. Numbers are read from text as digits ("1,235", "3.5", "5th"), number words ("two hundred
and six", "a dozen") and scale words ("4.5 billion"), each with the unit that follows it, if any
(time, length, speed, mass, temperature, percent; converted to one base unit per dimension).
A bare integer from 1000 to 2100 written without a separator is a year; other bare numbers are
counts. A number right after "more than", "over", "at least" ... is a lower bound, after "less
than", "under", "up to" ... an upper bound. Two quantities are comparable when their dimensions
are equal. Two values agree when

    |a − q| ≤ tol · max(|a|, |q|)

with tol = 10% when the reference is hedged ("about", "around", "roughly", "approximately",
"nearly", "almost", "circa", "~" just before it), 2% when only the answer is ("about 200 °F" is
not 212 °F), else 1% when the units differ (conversion rounding), else exact; for temperatures
|a| and |q| are taken in degrees Celsius and at least 10, since nobody hedges on the kelvin
scale. A value and a bound agree when the value lies strictly beyond the bound, two bounds when
their ranges overlap ("more than 5" and "less than 10" do).
An answer MATCHES when one of its quantities agrees with a quantity of one reference; it
MISMATCHES when some of its quantities are comparable with the references' but none agrees;
otherwise the check does NOT APPLY (no numbers on one side, or none of the same dimension).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import Enum
from typing import NamedTuple


class QuantityCheck(str, Enum):
    MATCH = "match"
    MISMATCH = "mismatch"
    NOT_APPLICABLE = "not_applicable"


class Quantity(NamedTuple):
    value: float
    """In the dimension's base unit (seconds, metres, m/s, kilograms, kelvin, percent)."""
    dimension: str
    """"time", "length", "speed", "mass", "temperature", "percent", "year" or "count"."""
    unit: str
    """The unit as written, lower-cased ("" for years and counts)."""
    bound: str = "="
    """"=" a value, ">" a lower bound ("more than 5"), "<" an upper bound ("under 5")."""
    approx: bool = False
    """Hedged ("about 5")."""


CELSIUS_ZERO = 273.15
"""0 °C in kelvin."""

_SMALL = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * i for i, w in enumerate(
    "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if w != "_"}
_SCALES = {"hundred": 100, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_WORD = "|".join([*_SMALL, *_TENS, *_SCALES, "dozen", "a", "and"])
_WORDS = re.compile(rf"\b(?:{_WORD})(?:[\s-]+(?:{_WORD}))*\b", re.IGNORECASE)
_DIGITS = re.compile(r"(?<![\w.])([-−]|minus\s+)?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?:st|nd|rd|th)?"
                     r"(?:\s+(million|billion|trillion|thousand))?(?![\w])", re.IGNORECASE)
_HEDGE = re.compile(r"(?:\b(?:about|around|roughly|approximately|approx|nearly|almost|circa|"
                    r"close to|some|c\.|ca\.)|~)\s*[$£€]?\s*$", re.IGNORECASE)
_MORE = re.compile(r"\b(?<!no )(?:more than|over|greater than|at least|above|upwards of|"
                   r"in excess of|exceeding|(?:longer|larger|bigger|higher|taller|older|later|"
                   r"heavier|farther|further) than)\s*[$£€]?\s*$", re.IGNORECASE)
_LESS = re.compile(r"\b(?:less than|fewer than|under|below|at most|up to|no more than|"
                   r"(?:shorter|smaller|lower|younger|earlier|lighter|closer) than)"
                   r"\s*[$£€]?\s*$", re.IGNORECASE)

# unit pattern → (dimension, factor to base, offset to base); longest patterns first.
_UNITS: list[tuple[str, tuple[str, float, float]]] = [
    (r"km/h|kmh|kph|kilomet(?:re|er)s? (?:per|an|a) hour", ("speed", 1 / 3.6, 0.0)),
    (r"mph|miles? (?:per|an|a) hour", ("speed", 0.44704, 0.0)),
    (r"m/s|met(?:re|er)s? (?:per|a) second", ("speed", 1.0, 0.0)),
    (r"knots?", ("speed", 0.514444, 0.0)),
    (r"°\s?c|degrees? (?:celsius|centigrade|c)\b|celsius|(?-i:C)\b",
     ("temperature", 1.0, 273.15)),
    (r"°\s?f|degrees? (?:fahrenheit|f)\b|fahrenheit|(?-i:F)\b",
     ("temperature", 5 / 9, 273.15 - 160 / 9)),
    (r"kelvins?", ("temperature", 1.0, 0.0)),
    (r"milliseconds?|ms", ("time", 1e-3, 0.0)),
    (r"seconds?|secs?|s\b", ("time", 1.0, 0.0)),
    (r"minutes?|mins?", ("time", 60.0, 0.0)),
    (r"hours?|hrs?|h\b", ("time", 3600.0, 0.0)),
    (r"days?", ("time", 86400.0, 0.0)),
    (r"weeks?", ("time", 604800.0, 0.0)),
    (r"months?", ("time", 2629800.0, 0.0)),
    (r"years?|yrs?", ("time", 31557600.0, 0.0)),
    (r"decades?", ("time", 315576000.0, 0.0)),
    (r"centuries|century", ("time", 3155760000.0, 0.0)),
    (r"millimet(?:re|er)s?|mm", ("length", 1e-3, 0.0)),
    (r"centimet(?:re|er)s?|cm", ("length", 1e-2, 0.0)),
    (r"kilomet(?:re|er)s?|km", ("length", 1e3, 0.0)),
    (r"met(?:re|er)s?|m\b", ("length", 1.0, 0.0)),
    (r"miles?|mi\b", ("length", 1609.344, 0.0)),
    (r"feet|foot|ft", ("length", 0.3048, 0.0)),
    (r"inch(?:es)?", ("length", 0.0254, 0.0)),
    (r"yards?|yd", ("length", 0.9144, 0.0)),
    (r"light[- ]years?", ("length", 9.4607e15, 0.0)),
    (r"milligrams?|mg", ("mass", 1e-6, 0.0)),
    (r"kilograms?|kilos?|kg", ("mass", 1.0, 0.0)),
    (r"grams?|g\b", ("mass", 1e-3, 0.0)),
    (r"tonnes?|metric tons?|tons?", ("mass", 1e3, 0.0)),
    (r"pounds?|lbs?", ("mass", 0.45359237, 0.0)),
    (r"ounces?|oz", ("mass", 0.028349523, 0.0)),
    (r"%|percent|per cent", ("percent", 1.0, 0.0)),
]
_UNIT = re.compile(r"\s*(" + "|".join(f"(?:{p})" for p, _ in _UNITS) + r")(?![a-z])",
                   re.IGNORECASE)
_UNIT_KEYS = [(re.compile(rf"(?:{p})$", re.IGNORECASE), spec) for p, spec in _UNITS]


def words_to_number(text: str) -> float | None:
    """ "two hundred and six" → 206, "a dozen" → 12, "three million" → 3e6; None if no number."""
    total, current, seen = 0.0, 0.0, False
    for word in re.split(r"[\s-]+", text.lower()):
        if word in _SMALL:
            current += _SMALL[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word == "dozen":
            current = (current or 1) * 12
        elif word == "hundred":
            current = (current or 1) * 100
        elif word in _SCALES:
            total += (current or 1) * _SCALES[word]
            current = 0.0
        elif word == "a":  # "a hundred", "a dozen": counts only before a scale word
            continue
        else:
            continue  # "and"
        seen = seen or word not in ("a", "and")
    return total + current if seen else None


def _unit_after(text: str, end: int) -> tuple[str, tuple[str, float, float], int] | None:
    """The unit right after position `end`: as written, its spec and where it ends."""
    match = _UNIT.match(text, end)
    if match is None:
        return None
    unit = match.group(1)
    for pattern, spec in _UNIT_KEYS:
        if pattern.match(unit):
            return unit.lower(), spec, match.end()
    return None


def _numbers(text: str) -> list[tuple[float, int, int, bool]]:
    """(value, start, end, written in digits) for every number in `text`."""
    found = []
    for m in _DIGITS.finditer(text):
        value = float(m.group(2).replace(",", "") + (m.group(3) or ""))
        if m.group(4):
            value *= _SCALES[m.group(4).lower()]
        found.append((-value if m.group(1) else value, m.start(), m.end(), True))
    for m in _WORDS.finditer(text):
        if any(s < m.end() and m.start() < e for _, s, e, _ in found):
            continue
        value = words_to_number(m.group())
        if value is not None:
            found.append((value, m.start(), m.end(), False))
    return sorted(found, key=lambda f: f[1])


def parse_quantities(text: str) -> list[Quantity]:
    """Every number in `text` with its unit, in base units (see the module docstring)."""
    return [q for q, _ in locate_quantities(text)]


def locate_quantities(text: str) -> list[tuple[Quantity, tuple[int, int]]]:
    """Every quantity of `text` with the span of its number and unit."""
    out = []
    for value, start, end, digits in _numbers(text):
        before = text[max(0, start - 30):start]
        bound = ">" if _MORE.search(before) else "<" if _LESS.search(before) else "="
        approx = _HEDGE.search(before) is not None
        unit = _unit_after(text, end)
        if unit is not None:
            name, (dimension, factor, offset), end = unit
            out.append((Quantity(value * factor + offset, dimension, name, bound, approx),
                        (start, end)))
        elif digits and "," not in text[start:end] and value.is_integer() and 1000 <= value <= 2100:
            out.append((Quantity(value, "year", "", bound, approx), (start, end)))
        elif digits or value != 1:  # a lone "one" is a pronoun ("no one", "one of them")
            out.append((Quantity(value, "count", "", bound, approx), (start, end)))
    return out


def agreeing_spans(answer: str, references: Sequence[str]) -> list[tuple[int, int]]:
    """The spans (number and unit) of the answer's quantities that agree with a quantity of a
    reference: "two hundred and six" for 206, "500 seconds" for "about 8 minutes"."""
    theirs = [q for reference in references for q in parse_quantities(reference)]
    return [span for a, span in locate_quantities(answer) if any(agree(a, q) for q in theirs)]


def agree(a: Quantity, q: Quantity) -> bool:
    """Same dimension and consistent values (the tolerances of the module docstring): `a` is the
    answer's, `q` the reference's."""
    if a.dimension != q.dimension:
        return False
    if a.bound == q.bound == "=":
        tol = 0.10 if q.approx else 0.02 if a.approx else 0.01 if a.unit != q.unit else 1e-9
        scale = max(abs(a.value), abs(q.value)) if a.dimension != "temperature" else \
            max(abs(a.value - CELSIUS_ZERO), abs(q.value - CELSIUS_ZERO), 10.0)
        return abs(a.value - q.value) <= tol * scale + 1e-12
    if a.bound == "=" or q.bound == "=":
        point, limit = (a, q) if a.bound == "=" else (q, a)
        return point.value > limit.value if limit.bound == ">" else point.value < limit.value
    if a.bound == q.bound:
        return True
    low, high = (a, q) if a.bound == ">" else (q, a)
    return low.value < high.value


def check_quantities(answer: str, references: Sequence[str]) -> QuantityCheck:
    """MATCH, MISMATCH or NOT_APPLICABLE for an answer against its references."""
    mine = parse_quantities(answer)
    if not mine:
        return QuantityCheck.NOT_APPLICABLE
    comparable = False
    for reference in references:
        for q in parse_quantities(reference):
            for a in mine:
                if a.dimension == q.dimension:
                    comparable = True
                    if agree(a, q):
                        return QuantityCheck.MATCH
    return QuantityCheck.MISMATCH if comparable else QuantityCheck.NOT_APPLICABLE
