"""Surface reading of an answer against its references: does it state a reference, what else
does it say, does it repeat itself. Features for the ensemble and the strict checker's core.

Rule. Texts are normalised (lower case, punctuation and articles dropped). A reference is
*stated* when its normalised words occur in the answer as a contiguous run, or its demonym does
("French" for France), or the answer's numbers agree with its (quantities.py: "two hundred and
six" for 206, "500 seconds" for "about 8 minutes"), or it is a person's name and the answer gives
the surname alone (`surname_stated`): `match`. The answer's *extra* words are its content words
that are in neither the question, the references nor a list of function and frame words ("the
answer is", "I think"), leaving out the numbers and units that agree with a reference: what the
answer claims beyond restating the question and giving a reference. A short answer that gives a
reference and nothing more (`exact`) is the clearest correct answer; many extra words are where
a small policy's fabrications live. `repetition` is the share of the
answer's word trigrams that occur earlier in it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from autojudge.quantities import agreeing_spans
from autojudge.text import DEMONYMS, normalize, person_name


FUNCTION_WORDS = frozenset("""
a an the of in on at to for from by with as and or but nor so yet is are was were be been being
am it its it's this that these those there here which who whom whose what when where why how
i me my we our you your he him his she her they them their one ones also very much more most
known called named answer correct think believe say would could should may might must can will
just only really actually probably likely perhaps maybe possibly guess sure certain not no yes
do does did has have had than then such some any all each both either neither about around
located situated based commonly generally usually often typically specifically primarily mainly
mostly well s t roughly approximately nearly almost circa
""".split())
"""Words that carry no claim of their own: function words and the frames answers come in."""

_ADJECTIVE_OF = {adj: country for country, adj in DEMONYMS.items()}


def _count(words: list[str], phrase: list[str]) -> int:
    n = len(phrase)
    return sum(words[i:i + n] == phrase for i in range(len(words) - n + 1)) if n else 0


def aliases(reference: str) -> list[list[str]]:
    """A reference's normalised words, and its demonym or country when it has one."""
    key = normalize(reference)
    forms = [key]
    for table in (DEMONYMS, _ADJECTIVE_OF):
        if key in table:
            forms.append(table[key])
    return [f.split() for f in forms if f]


def states(answer_words: list[str], reference: str, question_words: Sequence[str] = ()) -> bool:
    """Whether the answer's words contain the reference (or an alias of it) as a run, more
    often than the question does: restating "the French colonial empire" is not answering
    "France"."""
    question = list(question_words)
    return any(_count(answer_words, form) > _count(question, form) for form in aliases(reference))


def surname_stated(answer: str, reference: str, question: str) -> bool:
    """Whether, for a question that asks for a person, a reference that reads as a person's
    name (text.person_name) is stated by its surname alone: "Shakespeare" and "by Shakespeare"
    state William Shakespeare, while "Samuel Adams" does not state John Adams (another
    capitalised word stands before the surname), nor does a surname the question already
    contains."""
    names = person_name(reference, question)
    if names is None or names[-1].lower() in FUNCTION_WORDS:
        return False
    for found in re.finditer(rf"(?<![\w-]){re.escape(names[-1])}(?![\w-])", answer):
        before = _BEFORE.search(answer, 0, found.start())
        if before is None or before[1].rstrip(".") in {*names[:-1], *TITLES} \
                or before[1] == f"{names[0][0]}.":
            return True
    return False


_BEFORE = re.compile(r"([A-Z][\w'’.-]*)\s+$")
TITLES = frozenset("Mr Mrs Ms Dr Sir Dame Lord Lady President King Queen Saint St Pope".split())


def content_words(text: str) -> list[str]:
    return [w for w in normalize(text).split() if w not in FUNCTION_WORDS]


SHORT = 4
"""A reference of at most this many words is a value (a name, a date), not a sentence."""


@dataclass(frozen=True)
class Overlap:
    match: bool
    """A reference (or its demonym) occurs in the answer."""
    extra: int
    """Content words in neither the question nor the references (counted only when every
    reference is short: beside a sentence-long reference, other words are paraphrase, not
    added claims)."""
    exact: bool
    """A reference is stated and nothing beyond the question and the references is."""
    short_reference_missing: bool
    """Every reference is short (≤ SHORT words) and none is stated: the value asked for is not
    there."""
    repetition: float
    """Share of the answer's word trigrams that occur earlier in it."""

    def vector(self) -> tuple[float, float, float, float, float]:
        return (float(self.match), math.log1p(self.extra), float(self.exact),
                float(self.short_reference_missing), self.repetition)


def overlap(question: str, references: Sequence[str], answer: str) -> Overlap:
    words = normalize(answer).split()
    question_words = normalize(question).split()
    numbers = agreeing_spans(answer, references)
    match = bool(numbers) or any(states(words, ref, question_words)
                                 or surname_stated(answer, ref, question) for ref in references)
    known = set(question_words)
    for ref in references:
        known.update(w for form in aliases(ref) for w in form)
    claims = _cut(answer, numbers)
    extra = sum(1 for w in normalize(claims).split() if w not in FUNCTION_WORDS and w not in known)
    short = all(len(normalize(r).split()) <= SHORT for r in references) and bool(references)
    extra = extra if short else 0
    return Overlap(match, extra, match and extra == 0, short and not match, repetition(words))


def _cut(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """`text` without the characters of `spans`."""
    for start, end in sorted(spans, reverse=True):
        text = f"{text[:start]} {text[end:]}"
    return text


def repetition(words: list[str]) -> float:
    grams = [tuple(words[i:i + 3]) for i in range(len(words) - 2)]
    if len(grams) < 2:
        return 0.0
    seen: set[tuple[str, ...]] = set()
    repeats = 0
    for g in grams:
        repeats += g in seen
        seen.add(g)
    return repeats / len(grams)
