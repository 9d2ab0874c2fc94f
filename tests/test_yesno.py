"""Yes/no judge pairs: every wording of yes or no (negations included) comes with its flipped
twin, so only agreement with the reference tells the label; the sources parse; and the training
sample can lift rare kinds of pair."""

import json
import random
from collections import Counter

from autojudge.config import DataConfig
from autojudge.data import sources, yesno
from autojudge.data.labelled import by_kind
from autojudge.judges.abstention import find_abstention
from autojudge.types import Record


def test_sources_parse_strategyqa_and_implicatures():
    raw = json.dumps({"examples": [
        {"input": "Would a pear sink in water?", "target_scores": {"Yes": 0, "No": 1},
         "target": "No. The density of a raw pear is about 0.59 g/cm^3.  Water is 1 g/cm^3."},
        {"input": "Odd one?", "target": "Perhaps. Who knows."}]}).encode()
    (item,) = sources.strategyqa_items(raw)
    assert (item.question, item.yes) == ("Would a pear sink in water?", False)
    assert item.support == "The density of a raw pear is about 0.59 g/cm^3. Water is 1 g/cm^3."
    raw = json.dumps({"examples": [
        {"input": "Speaker 1: 'Do you want to quit?' Speaker 2: 'I never give up.'",
         "target_scores": {"yes": 0.0, "no": 1.0}},
        {"input": "Speaker 1: 'Tie?' Speaker 2: 'Hm.'", "target_scores": {"yes": 0.5, "no": 0.5}}]}
    ).encode()
    (item,) = sources.implicature_items(raw)
    assert (item.question, item.support, item.yes) == ("Do you want to quit?", "I never give up.",
                                                       False)


def test_every_wording_has_its_flipped_twin():
    items = [sources.YesNoItem(f"s{i}", f"Is thing {i} red?", i % 2 == 0,
                               f"Thing {i} is {'red' if i % 2 == 0 else 'blue'}. It was painted.",
                               "strategyqa") for i in range(200)]
    items.append(sources.YesNoItem("i0", "Want tea?", False, "I just had some.", "implicatures"))
    pairs = [pair for _, pair in yesno.yes_no_pairs(items, DataConfig())]
    kinds = Counter(p["kind"] for p in pairs)
    for kind, n in kinds.items():
        if not kind.endswith("_flipped"):
            assert kinds[f"{kind}_flipped"] == n, kind
    for p in pairs:
        assert (p["label"] == "incorrect") == p["kind"].endswith("_flipped")
    # a negation is no clue: "No."-style answers are right for half the questions, wrong for half
    said_no = Counter(p["label"] for p in pairs if p["answer"] in yesno.SAYS[False])
    assert said_no["correct"] > 0 and said_no["incorrect"] > 0
    implied = [p for p in pairs if p["source"] == "implicatures"]
    assert {(p["reference"][0], p["label"]) for p in implied} == {("No", "correct"),
                                                                  ("Yes", "incorrect")}


def test_no_wording_reads_as_an_abstention():
    for table in (yesno.SAYS, yesno.HEDGES, yesno.VERDICT_AFTER):
        for texts in table.values():
            assert not any(find_abstention(t).abstains for t in texts)


def test_by_kind_lifts_rare_kinds_and_keeps_the_total():
    records = [Record(question=f"q{k}{i}", reference=["r"], answer="a", extra={"kind": k})
               for k, n in (("big", 9000), ("mid", 900), ("rare", 40)) for i in range(n)]
    random.Random(0).shuffle(records)
    got = Counter(r.extra["kind"] for r in by_kind(records, 2000, seed=1, balance=0.5))
    assert sum(got.values()) == 2000
    assert got["rare"] == 40  # all it has (its share would be more)
    assert abs(got["big"] / got["mid"] - (9000 / 900) ** 0.5) < 0.05  # the rest by sqrt(count)
    flat = Counter(r.extra["kind"] for r in by_kind(records, 300, seed=1, balance=0.0))
    assert flat == {"big": 130, "mid": 130, "rare": 40}  # what "rare" lacks goes to the others
    assert by_kind(records, 300, seed=1, balance=0.0) == by_kind(records, 300, seed=1, balance=0.0)
