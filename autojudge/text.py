"""Text helpers shared by the data builders and the judges: normalisation, country adjectives."""

from __future__ import annotations

import re

_PUNCT = re.compile(r"[^\w\s]")
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize(text: str) -> str:
    """Lower case, punctuation and articles dropped, spaces collapsed (SQuAD's normalisation)."""
    return " ".join(_ARTICLES.sub(" ", _PUNCT.sub(" ", text.lower())).split())


DEMONYMS = {
    "france": "french", "germany": "german", "italy": "italian", "spain": "spanish",
    "england": "english", "united kingdom": "british", "britain": "british",
    "united states of america": "american", "united states": "american", "usa": "american",
    "russia": "russian", "china": "chinese", "japan": "japanese", "india": "indian",
    "canada": "canadian", "australia": "australian", "mexico": "mexican", "brazil": "brazilian",
    "argentina": "argentine", "netherlands": "dutch", "belgium": "belgian", "sweden": "swedish",
    "norway": "norwegian", "denmark": "danish", "finland": "finnish", "poland": "polish",
    "greece": "greek", "turkey": "turkish", "portugal": "portuguese", "austria": "austrian",
    "switzerland": "swiss", "ireland": "irish", "scotland": "scottish", "wales": "welsh",
    "israel": "israeli", "egypt": "egyptian", "iran": "iranian", "iraq": "iraqi",
    "korea": "korean", "south korea": "korean", "north korea": "korean", "vietnam": "vietnamese",
    "thailand": "thai", "indonesia": "indonesian", "philippines": "filipino",
    "pakistan": "pakistani", "ukraine": "ukrainian", "hungary": "hungarian",
    "czech republic": "czech", "romania": "romanian", "bulgaria": "bulgarian",
    "serbia": "serbian", "croatia": "croatian", "chile": "chilean", "peru": "peruvian",
    "colombia": "colombian", "cuba": "cuban", "nigeria": "nigerian", "kenya": "kenyan",
    "south africa": "south african", "new zealand": "new zealander", "iceland": "icelandic",
    "latin": "latin", "arabic": "arab", "saudi arabia": "saudi", "ethiopia": "ethiopian",
    "soviet union": "soviet", "ottoman empire": "ottoman", "roman empire": "roman",
}
"""Country → adjective, both ways: "French" states France when a nationality is asked."""


_NAME = re.compile(r"[A-Z][a-z][\w'’-]*$")
_WHO = re.compile(r"\bwho(?:m|se)?\b", re.IGNORECASE)
NOT_SURNAMES = frozenset("""
ocean sea river lake mountain mountains mount island islands city county state states province
university college school academy institute company corporation church cathedral war wars party
bay gulf kingdom republic empire union league club team prize award street road bridge tower
""".split())
"""Last words of names that are places or things, not persons' surnames."""


def person_name(reference: str, question: str) -> list[str] | None:
    """The words of a reference that reads as a person's name, for a question that asks for a
    person ("who", "whom", "whose"): two or three capitalised words whose last is not a place's
    or a thing's ("Ocean", "University") and not in the question; else None."""
    names = reference.split()
    if not (_WHO.search(question) and 2 <= len(names) <= 3 and all(map(_NAME.match, names))
            and names[0].lower() not in ("the", "an")):
        return None
    last = names[-1].lower()
    if len(last) < 3 or last in NOT_SURNAMES or last in normalize(question).split():
        return None
    return names
