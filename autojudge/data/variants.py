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
