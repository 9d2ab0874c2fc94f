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
