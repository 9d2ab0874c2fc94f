"""Harder answer variants for judge training: hedges, lists of guesses, number formats.

Each function returns an answer text (or None when the gold answer does not lend itself), and the
label it deserves is fixed by the caller's choice of function, documented on each.
"""

from __future__ import annotations

import random
import re

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
