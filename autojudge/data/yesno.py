"""Judge pairs for yes/no questions: whether an answer says yes or no, in any wording, and
whether that is what the reference says.

A negation is not a sign of a wrong answer: "It isn't." is right when the reference says no, and
every wording comes with its twin of the other polarity, so that only agreement with the
reference tells the label. The questions come from geography ("Is Lyon in Spain?", the fact as
the reason) and HaluEval's yes/no questions (the knowledge passage as the reason).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from autojudge.config import DataConfig
from autojudge.data.sources import YesNoItem
from autojudge.data.splits import split_of

SAYS = {
    True: ("Yes.", "Yes, it is.", "Yes, that's right.", "That's correct.", "Absolutely.",
           "Indeed.", "Yes, definitely.", "True.", "That's true.", "Certainly.", "Correct.",
           "It is, yes.", "Yes, that is the case."),
    False: ("No.", "No, it isn't.", "Not at all.", "That's not the case.", "No, that's false.",
            "Definitely not.", "Nope.", "That's a myth.", "Not true.", "It's not.",
            "No, not really.", "False.", "That isn't so.", "Absolutely not.", "Certainly not."),
}
"""Ways of saying yes and no, the negations among them on both sides."""

HEDGES = {
    True: ("I think so.", "Probably yes.", "I believe so.", "Most likely, yes.", "I'd say yes."),
    False: ("I don't think so.", "Probably not.", "I believe not.", "Most likely not.",
            "I'd say no.", "I doubt it."),
}
"""Hedges that still commit to yes or no (judged on what they commit to)."""

VERDICT_AFTER = {True: ("So yes.", "So the answer is yes.", "That means yes."),
                 False: ("So no.", "So the answer is no.", "That means no.")}
"""The verdict said after the reasoning."""

REASONED_RATE = 0.5
"""Share of questions that also get answers with the reasoning in them."""


def _first_sentence(text: str) -> str:
    head, sep, _ = text.partition(". ")
    return head + "." if sep else text


def _reference(item: YesNoItem, rng: random.Random) -> str:
    """The reference as references come: a bare "Yes", or the answer with its reason."""
    word = "Yes" if item.yes else "No"
    return rng.choice((word, f"{word}. {_first_sentence(item.support)}", f"{word}. {item.support}"))


def reasoned_pairs(item: YesNoItem, rng: random.Random) -> Iterable[tuple[str, str, str]]:
    """(answer, label, kind) for one question: each wording with its flipped twin."""
    hedge = rng.random() < 0.3
    reason = _first_sentence(item.support) if rng.random() < REASONED_RATE else None
    reason_first = rng.random() < 0.5
    for says in (item.yes, not item.yes):
        label = "correct" if says == item.yes else "incorrect"
        suffix = "" if says == item.yes else "_flipped"
        yield rng.choice(SAYS[says]), label, f"yesno{suffix}"
        if hedge:
            yield rng.choice(HEDGES[says]), label, f"yesno_hedged{suffix}"
        if reason and reason_first:
            yield (f"{reason} {rng.choice(VERDICT_AFTER[says])}", label,
                   f"yesno_reason_first{suffix}")
        elif reason:
            yield f"{rng.choice(SAYS[says])} {reason}", label, f"yesno_reasoned{suffix}"


def yes_no_pairs(items: list[YesNoItem],
                 config: DataConfig) -> Iterable[tuple[str, dict[str, Any]]]:
    """(split, pair) for every yes/no item; split by question, like every other pair (by the
    question it restates, when it restates one)."""
    for item in items:
        split = split_of(item.restates or item.question, config)
        rng = random.Random(f"{config.seed}:{item.source}:{item.id}")
        reference = _reference(item, rng)
        for answer, label, kind in reasoned_pairs(item, rng):
            yield split, {"id": f"{item.id}:{kind}", "question": item.question,
                          "reference": [reference], "answer": answer, "label": label,
                          "source": item.source, "kind": kind}
