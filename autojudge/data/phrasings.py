"""Ways of saying "I don't know", and of wrapping an answer in a sentence.

Abstentions are split: `train_abstentions()` feeds judge training, `heldout_abstentions()` only
validation and test, so a judge is measured on phrasings it has never seen.
"""

from __future__ import annotations

ABSTENTIONS: tuple[str, ...] = (
    "I don't know.",
    "I do not know the answer to that.",
    "I'm not sure.",
    "I am not sure about this one.",
    "I cannot answer that.",
    "I can't answer that question.",
    "I have no idea.",
    "No idea, sorry.",
    "Sorry, I don't know.",
    "I'm afraid I don't know.",
    "I don't have enough information to answer that.",
    "I don't have that information.",
    "I'm unable to answer this question.",
    "I am unable to provide an answer.",
    "I don't know the answer.",
    "Honestly, I don't know.",
    "I'm not certain, so I won't guess.",
    "I would rather not guess; I don't know.",
    "That is beyond what I know.",
    "I don't have reliable knowledge about that.",
    "Unfortunately, I can't tell you.",
    "I couldn't say.",
    "I'm not able to answer that with confidence, so I'll abstain.",
    "I lack the knowledge to answer this.",
    "Not sure, sorry!",
    "I really don't know the answer to this question.",
    "I'm not aware of the answer.",
    "I can't recall.",
    "I don't remember.",
    "That's a tricky one. I honestly don't know.",
    "Good question, but I don't know the answer.",
    "I have no information about that.",
    "I'm uncertain and can't give a reliable answer.",
    "I cannot say for sure, so I'd rather not answer.",
    "My knowledge doesn't cover this, sorry.",
    "Unknown to me.",
    "I am not in a position to answer that.",
    "Sorry, that's not something I know.",
    "I don't know who or what that refers to.",
    "I'm sorry, but I don't know.",
    "I have no comment.",
    "I'd rather not guess.",
    "No comment.",
    "I can't say for certain, and I won't guess.",
    "There is no way for me to know that.",
    "I'm not able to verify that, so I won't answer.",
    "That isn't something I can answer reliably.",
    "I'd need more context to answer that.",
    "I don't have a confident answer to this.",
    "I can't give you an accurate answer.",
    "I would only be guessing, so I'll say I don't know.",
    "I'm drawing a blank on this one.",
    "I prefer not to answer without being sure.",
    "Nothing I could say about that would be reliable.",
    "I'm not familiar with that.",
    "I have no reliable answer.",
)

ANSWER_TEMPLATES: tuple[str, ...] = (
    "{a}",
    "{a}.",
    "The answer is {a}.",
    "It is {a}.",
    "It's {a}.",
    "I believe it is {a}.",
    "{a}, I think.",
    "That would be {a}.",
    "I think the answer is {a}.",
    "The correct answer is {a}.",
)
"""Used for correct and incorrect answers alike, so the wrapper says nothing about the label."""


def train_abstentions() -> tuple[str, ...]:
    return tuple(p for i, p in enumerate(ABSTENTIONS) if i % 4 != 3)


def heldout_abstentions() -> tuple[str, ...]:
    return tuple(p for i, p in enumerate(ABSTENTIONS) if i % 4 == 3)
