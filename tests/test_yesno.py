"""Yes/no judge pairs: every wording of yes or no (negations included) comes with its flipped
twin, so only agreement with the reference tells the label; and the training
sample can lift rare kinds of pair."""

import random
from collections import Counter

from autojudge.config import DataConfig
from autojudge.data import sources, yesno
from autojudge.data.labelled import by_kind
from autojudge.judges.abstention import find_abstention
from autojudge.types import Record


def test_every_wording_has_its_flipped_twin():
    items = [sources.YesNoItem(f"s{i}", f"Is thing {i} red?", i % 2 == 0,
                               f"Thing {i} is {'red' if i % 2 == 0 else 'blue'}. It was painted.",
                               "geography_yes_no") for i in range(200)]
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


def test_a_restated_question_keeps_its_split():
    """"Is Lyon in Spain?" states the fact of "What is the country of Lyon?": it goes wherever
    that question went, whatever its own text hashes to."""
    from autojudge.data.splits import split_of

    config = DataConfig(seed=2, val_fraction=0.3, test_fraction=0.3)
    items = [sources.YesNoItem(f"g{i}", f"Is place {i} in land {i}?", i % 2 == 0,
                               f"Place {i} is in land {i}.", "geography_yes_no",
                               restates=f"What is the country of place {i}?")
             for i in range(60)]
    pairs = list(yesno.yes_no_pairs(items, config))
    moved = 0
    for split, pair in pairs:
        item = items[int(pair["id"].split(":")[0][1:])]
        assert split == split_of(item.restates, config)
        moved += split != split_of(item.question, config)
    assert moved  # the two texts hash to different splits often enough for this to matter

