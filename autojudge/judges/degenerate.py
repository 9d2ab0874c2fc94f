"""Rules for degenerate answers, which the default judge applies whatever its models say.

- Repetition. An answer is *repetitive* when one of its sentences occurs REPEATS (3) or more
  times (compared normalised: case, punctuation and articles ignored), or when at least half of
  its word trigrams repeat an earlier one, over at least MIN_TRIGRAMS trigrams (a passage said
  three times without sentence punctuation; said twice, it stays under half). A repetitive
  answer is judged incorrect with probability 1 and flagged "repetition", whatever it repeats: a
  repeated correct answer and a repeated "I don't know" are incorrect too, so that looping never
  earns more than a wrong answer.
- Length. Only the first MAX_ANSWER_CHARS (2,000) characters of an answer are judged, cut at a
  space; a longer answer is flagged "truncated". What lies past the cut is not read.
- Claims. The fact judge checks an answer's first MAX_CLAIMS (16) claims (facts.py); an answer
  with more is flagged "claims_capped".

With the two caps, judging one answer costs at most one comparison and MAX_CLAIMS claim checks,
however long it is.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from autojudge.judges.facts import MAX_CLAIMS, sentences, split_claims
from autojudge.judges.overlap import repetition
from autojudge.text import normalize

MAX_ANSWER_CHARS = 2_000
"""Characters of an answer that are judged (its first ones)."""
REPEATS = 3
"""Occurrences of one sentence that make an answer repetitive."""
MIN_TRIGRAMS = 4
"""Word trigrams an answer needs before its share of repeated trigrams counts."""

REPETITION = "repetition"
"""Flag: judged incorrect for repeating itself."""
TRUNCATED = "truncated"
"""Flag: only the first MAX_ANSWER_CHARS characters were judged."""
CLAIMS_CAPPED = "claims_capped"
"""Flag: only the first MAX_CLAIMS claims were checked."""


@dataclass(frozen=True)
class Screen:
    """What the rules make of one answer."""

    text: str
    """The part of the answer that is judged."""
    flags: tuple[str, ...]

    @property
    def repetitive(self) -> bool:
        return REPETITION in self.flags


def judged_part(answer: str) -> str:
    """The first MAX_ANSWER_CHARS characters, cut back to the last space when there is one."""
    if len(answer) <= MAX_ANSWER_CHARS:
        return answer
    head = answer[:MAX_ANSWER_CHARS]
    inside_a_word = not head[-1].isspace() and not answer[MAX_ANSWER_CHARS].isspace()
    if inside_a_word and len(head.split()) > 1:
        head = head.rsplit(None, 1)[0]
    return head.rstrip()


def is_repetitive(text: str) -> bool:
    """One sentence REPEATS times or more, or half its word trigrams repeated (see above)."""
    counts = Counter(key for s in sentences(text) if (key := normalize(s)))
    if counts and counts.most_common(1)[0][1] >= REPEATS:
        return True
    words = normalize(text).split()
    return len(words) - 2 >= MIN_TRIGRAMS and repetition(words) >= 0.5


def claims_checked(answer: str) -> int:
    """How many claims of `answer` the fact judge checks: what judging it costs, beside one
    comparison (the server's per-request bound counts these)."""
    return min(len(split_claims(judged_part(answer))), MAX_CLAIMS)


def screen(answer: str) -> Screen:
    """The judged part of `answer` and the flags the rules raise on it."""
    text = judged_part(answer)
    flags = ((REPETITION,) * is_repetitive(text) + (TRUNCATED,) * (text != answer)
             + (CLAIMS_CAPPED,) * (len(split_claims(text)) > MAX_CLAIMS))
    return Screen(text, flags)
