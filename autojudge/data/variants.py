"""Harder answer variants for judge training: hedges, lists of guesses, number formats.

Each function returns an answer text (or None when the gold answer does not lend itself), and the
label it deserves is fixed by the caller's choice of function, documented on each.
"""

from __future__ import annotations

import random
import re

from autojudge.quantities import CELSIUS_ZERO, Quantity, locate_quantities
from autojudge.text import person_name

HEDGES: tuple[str, ...] = (
    "I'm not sure, but I think it's {a}.",
    "I don't know for certain, but my best guess is {a}.",
    "Possibly {a}.",
    "Not 100% sure, though I believe the answer is {a}.",
    "It might be {a}.",
    "If I remember correctly, it is {a}.",
    "I'm not sure, but it's {a}.",
    "I can't be certain, but I'd say {a}.",
    "Hard to say, but probably {a}.",
    "I think it's {a}, though I'm not completely sure.",
    "My best guess would be {a}.",
)
"""A hedge that still commits to an answer is judged on that answer, not as an abstention."""

NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
                "seventeen", "eighteen", "nineteen", "twenty")


def hedged(answer: str, rng: random.Random) -> str:
    """Label: that of `answer` (correct if it is a gold, incorrect if it is wrong)."""
    return rng.choice(HEDGES).format(a=answer)


def list_of_guesses(gold: str, wrongs: list[str], rng: random.Random) -> str | None:
    """Label: incorrect. Listing candidates that include the gold is not answering."""
    if not wrongs:
        return None
    options = [gold, *wrongs[:2]]
    rng.shuffle(options)
    head = ", ".join(options[:-1])
    return rng.choice(("{h} or {t}.", "Either {h} or {t}.", "It could be {h}, or {t}.")).format(
        h=head, t=options[-1])


def number_variant(gold: str, rng: random.Random) -> tuple[str, str] | None:
    """(correct rewrite, wrong neighbour) for a gold that is a small or large number, else None."""
    text = gold.strip()
    if re.fullmatch(r"\d{1,2}", text) and int(text) < len(NUMBER_WORDS):
        value = int(text)
        wrong = value + rng.choice((-1, 1)) if value > 0 else 1
        return NUMBER_WORDS[value], NUMBER_WORDS[wrong] if wrong < len(NUMBER_WORDS) else str(wrong)
    if text.lower() in NUMBER_WORDS:
        value = NUMBER_WORDS.index(text.lower())
        return str(value), str(value + 1)
    if re.fullmatch(r"\d{4,9}", text) and not re.fullmatch(r"1[5-9]\d\d|20\d\d", text):
        value = int(text)  # not a year: years are written without separators
        return f"{value:,}", f"{value + 10 ** (len(text) - 2):,}"
    if re.fullmatch(r"\d{1,3}(,\d{3})+", text):
        value = int(text.replace(",", ""))
        return str(value), f"{value * 10:,}"
    return None


_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")


def spelled(n: int, british: bool = False) -> str:
    """A whole number from 0 to 999,999 in words: 206 → "two hundred six" ("two hundred and six"
    when `british`)."""
    if n < len(NUMBER_WORDS):
        return NUMBER_WORDS[n]
    if n < 100:
        return _TENS[n // 10] + (f"-{NUMBER_WORDS[n % 10]}" if n % 10 else "")
    if n < 1000:
        rest = n % 100
        joint = " and " if british else " "
        return f"{NUMBER_WORDS[n // 100]} hundred" + (joint + spelled(rest) if rest else "")
    rest = n % 1000
    joint = " and " if british and rest < 100 else " "
    tail = joint + spelled(rest, british) if rest else ""
    return f"{spelled(n // 1000, british)} thousand{tail}"


UNITS_TO_WRITE = {
    "time": (("seconds", 1.0), ("minutes", 60.0), ("hours", 3600.0), ("days", 86400.0)),
    "length": (("metres", 1.0), ("kilometres", 1e3), ("feet", 0.3048), ("miles", 1609.344)),
    "speed": (("km/h", 1 / 3.6), ("mph", 0.44704), ("metres per second", 1.0)),
    "mass": (("kilograms", 1.0), ("pounds", 0.45359237), ("tonnes", 1e3), ("grams", 1e-3)),
    "temperature": (("°C", 1.0), ("°F", 5 / 9)),
}
"""Units a converted quantity is written in (factor to the base unit of quantities.py)."""
_ORDINAL = re.compile(r"\d(?:st|nd|rd|th)\b|\b(?:first|second|third|\w+th)\s+centur",
                      re.IGNORECASE)
_MONEY = re.compile(r"[$£€]\s*$")
_ARTICLE = re.compile(r"\b(?:a|an)\s+$", re.IGNORECASE)  # "around a 100 dollars"
_HEDGED = re.compile(r"\b(?:about|around|roughly|approximately|nearly|almost)\s*$", re.IGNORECASE)


def quantity_variant(gold: str, rng: random.Random) -> tuple[str, str] | None:
    """(the gold with its one quantity written another way, the same with a wrong value) for a
    gold that holds exactly one quantity: a measure converted to another unit ("135 feet long"
    → "about 41.1 metres long", wrong twin ×2 or ÷2 or ×3, written the same way), a count in
    digits spelled out or one in words written in digits ("5 solo tackles" ↔ "five solo
    tackles", wrong twin a neighbour); None for years, dates, ordinals, money and the rest.
    Labels: correct, incorrect."""
    found = locate_quantities(gold)
    if len(found) != 1 or _ORDINAL.search(gold):
        return None
    (q, (start, end)), = found
    if _MONEY.search(gold[:start]) or _ARTICLE.search(gold[:start]) or q.bound != "=":
        return None
    if q.dimension in UNITS_TO_WRITE:
        written = _converted(q, rng)
        if written is None:
            return None
        unit, factor = written
        wrong = q._replace(value=_scaled(q, rng.choice((0.5, 2.0, 3.0))))
        # "about" when the right value rounds and the gold is not hedged already; the wrong twin
        # is written the same way, so that the hedge tells nothing
        hedge = "about " if _rounds(q, unit, factor) and not (
            q.approx or _HEDGED.search(gold[:start])) else ""
        right_text, wrong_text = _write(q, unit, factor, hedge), _write(wrong, unit, factor, hedge)
    elif q.dimension == "count" and q.value.is_integer() and 0 <= q.value < 1e6:
        n = int(q.value)
        wrong_n = n + rng.choice((-1, 1)) * max(1, round(n * 0.1)) if n else 1
        if not gold[start].isdigit() and gold[start:end].split()[0].lower() not in NUMBER_WORDS \
                and not gold[start:end].lower().startswith(_TENS[2:]):
            return None  # "several hundred": no number to write in digits
        if gold[start].isdigit():
            british = rng.random() < 0.5
            right_text, wrong_text = spelled(n, british), spelled(max(0, wrong_n), british)
        else:
            right_text, wrong_text = f"{n:,}", f"{max(0, wrong_n):,}"
    else:
        return None
    return gold[:start] + right_text + gold[end:], gold[:start] + wrong_text + gold[end:]


def _converted(q: Quantity, rng: random.Random) -> tuple[str, float] | None:
    """A unit other than the written one, preferring those in which the value reads naturally
    (1 to 1,000; else 0.1 to 10^6)."""
    written = locate_quantities(f"1 {q.unit}")[0][0].value if q.unit else None
    others = [(unit, factor) for unit, factor in UNITS_TO_WRITE[q.dimension]
              if written is None or abs(locate_quantities(f"1 {unit}")[0][0].value - written)
              > 1e-6 * abs(written)]
    for low, high in ((1.0, 1e3), (0.1, 1e6)):
        options = [o for o in others if low <= abs(_in_unit(q, *o)) < high]
        if options:
            return rng.choice(options)
    return None


def _in_unit(q: Quantity, unit: str, factor: float) -> float:
    if q.dimension == "temperature":
        celsius = q.value - CELSIUS_ZERO
        return celsius if unit == "°C" else celsius * 9 / 5 + 32
    return q.value / factor


def _scaled(q: Quantity, times: float) -> float:
    """The value `times` as large (for temperatures, in degrees Celsius)."""
    if q.dimension == "temperature":
        celsius = q.value - CELSIUS_ZERO
        return celsius * times + CELSIUS_ZERO + (10.0 if celsius == 0 else 0.0)
    return q.value * times


def _write(q: Quantity, unit: str, factor: float, hedge: str) -> str:
    """The quantity in `unit`, to three significant figures, after `hedge`."""
    shown = float(f"{_in_unit(q, unit, factor):.3g}")
    text = f"{shown:,.0f}" if shown.is_integer() else f"{shown:,}"
    return f"{hedge}{text}{'' if unit.startswith('°') else ' '}{unit}"


def _rounds(q: Quantity, unit: str, factor: float) -> bool:
    """Whether three significant figures change the value in `unit`."""
    value = _in_unit(q, unit, factor)
    return abs(float(f"{value:.3g}") - value) > 1e-9 * max(1.0, abs(value))


def surname_variant(question: str, gold: str, others: list[str], rng: random.Random
                    ) -> tuple[str, str] | None:
    """(the surname alone, another given name with that surname) for a question that asks for a
    person whose gold reads as a person's name (text.person_name): "Shakespeare" and "Edmund
    Shakespeare" for William Shakespeare, the given name taken from another person among
    `others`. Labels: correct, incorrect."""
    names = person_name(gold, question)
    if names is None:
        return None
    given = [n.split()[0] for n in others if (p := person_name(n, question)) is not None
             and p[0] != names[0] and p[-1] != names[-1]]
    if not given:
        return None
    return names[-1], f"{rng.choice(given)} {names[-1]}"


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])")


def context_sentence(gold: str, context: str, max_words: int = 45) -> str | None:
    """The passage's sentence that holds the gold answer. Label: correct (extra true detail)."""
    for sentence in _SENTENCE_END.split(context):
        if gold in sentence and len(sentence.split()) <= max_words:
            return sentence.strip()
    return None


def swapped(sentence: str, gold: str, wrong: str) -> str | None:
    """The same sentence with the gold answer replaced by a wrong one. Label: incorrect — a wrong
    answer that looks like the right one."""
    if gold not in sentence or wrong in sentence:
        return None
    return sentence.replace(gold, wrong, 1)


def negated(answer: str, rng: random.Random) -> str:
    """Label: incorrect when `answer` is a gold (denying it), correct when it is a wrong one
    followed by the gold — see `corrected`."""
    return rng.choice(("It is not {a}.", "Definitely not {a}.", "No, it isn't {a}.")).format(
        a=answer)


def corrected(gold: str, wrong: str, rng: random.Random) -> str:
    """Label: correct. Mentions a wrong answer only to rule it out."""
    return rng.choice(("{g}, not {w}.", "Not {w}; it is {g}.", "It's {g} (people often say {w}).")
                      ).format(g=gold, w=wrong)


_NUMBER = re.compile(r"\d+")


def perturbed_number(gold: str, rng: random.Random) -> str | None:
    """The gold with its first number changed (years by 1–10). Label: incorrect."""
    match = _NUMBER.search(gold)
    if match is None:
        return None
    value = int(match.group())
    delta = rng.randint(1, 10) if 1000 <= value <= 2100 else max(1, value // 4)
    new = value + delta if rng.random() < 0.5 or value - delta < 0 else value - delta
    return gold[:match.start()] + str(new) + gold[match.end():]


def blended(statement: str, gold: str, wrong: str, rng: random.Random) -> str:
    """Label: incorrect. The gold and a wrong value of the same kind given together, as a blend,
    a pair or a second claim: the reader cannot tell which one is the answer."""
    value = rng.choice(("{g} and {w}", "a mix of {g} and {w}", "{g}, or possibly {w}",
                        "both {w} and {g}", "a blend of {w} and {g}")).format(g=gold, w=wrong)
    return statement.replace("{a}", value)


def contradicted(statement: str, gold: str, wrong: str, rng: random.Random) -> str:
    """Label: incorrect. The gold stated, then contradicted by a wrong value."""
    tail = rng.choice(("It is also {w}.", "Some sources say it is {w}.",
                       "More precisely, it is {w}.", "In fact, it is {w}.")).format(w=wrong)
    return f"{statement.replace('{a}', gold)} {tail}"


NON_ANSWERS = ("not specified", "a matter of ongoing debate", "determined by several factors",
               "a complex and multifaceted topic", "the subject of many studies",
               "a well-known and important part of its history",
               "closely tied to its cultural heritage")


def non_answer(statement: str, rng: random.Random) -> str:
    """Label: incorrect. The question restated as a statement that never gives a value."""
    return statement.replace("{a}", rng.choice(NON_ANSWERS))


def repeated(text: str, rng: random.Random) -> str:
    """Label: that of `text`. The answer said 3 to 10 times over."""
    sentence = text if text.rstrip().endswith((".", "!", "?")) else f"{text}."
    return " ".join([sentence] * rng.randint(3, 10))


YES_NO = {"yes": ("Yes.", "Yes, that's right.", "Yes, it is.", "That is correct, yes.",
                  "Indeed, yes."),
          "no": ("No.", "No, that's not the case.", "No, it isn't.", "That is not correct, no.",
                 "Not at all, no.")}


def polarity(gold: str, rng: random.Random) -> tuple[str, str] | None:
    """(answer with the gold's polarity, answer with the opposite one) for a yes/no gold."""
    key = gold.strip().lower().rstrip(".")
    if key not in YES_NO:
        return None
    other = "no" if key == "yes" else "yes"
    return rng.choice(YES_NO[key]), rng.choice(YES_NO[other])


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_DATE = re.compile(rf"^({'|'.join(_MONTHS)}) (\d{{1,2}}), (\d{{4}})$")


def date_variant(gold: str, rng: random.Random) -> tuple[str, str] | None:
    """(the same date in another format, a neighbouring date in that format) for a gold like
    "February 7, 2016"; None for anything else."""
    match = _DATE.match(gold.strip())
    if match is None:
        return None
    month, day, year = _MONTHS.index(match[1]) + 1, int(match[2]), int(match[3])
    form = rng.choice(("{d} {M} {y}", "{y}-{m:02d}-{d:02d}", "{M} {o}, {y}", "the {o} of {M} {y}",
                       "{B}. {d}, {y}"))
    shifted = day + 1 if day < 28 else day - 1

    def write(d: int) -> str:
        return form.format(d=d, m=month, M=_MONTHS[month - 1], B=_MONTHS[month - 1][:3], y=year,
                           o=_ordinal(d))

    return write(day), write(shifted)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
