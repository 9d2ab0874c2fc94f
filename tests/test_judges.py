"""Judges: abstention rules, claim splitting, calibration math, and every registered judge."""

import numpy as np
import pytest

from autojudge.data import phrasings, variants
from autojudge.judges.abstention import find_abstention
from autojudge.judges.base import JUDGES, JudgeError
from autojudge.judges.loader import load_judge
from autojudge.judges.ensemble import Combiner, Features
from autojudge.judges.facts import split_claims
from autojudge.judges.metrics import expected_calibration_error, judge_metrics
from autojudge.types import Record, Verdict


@pytest.mark.parametrize("text", phrasings.ABSTENTIONS + (
    "That's a good question. Honestly, I have no idea who won it.",
    "I'm sorry, but I don't have information about that person.",
    "I don't know, maybe not.", "It's hard to say, I think, so I don't know.",
    "I'm not sure, perhaps I'm wrong to guess at all, so I won't answer.",
    "I'd rather not say.", "Pass.", "I'll pass on this one.", "Can't say.",
    "Let me pass on this question.", "I'll skip this one, sorry.",
))
def test_abstentions_are_detected(text):
    assert find_abstention(text).abstains


@pytest.mark.parametrize("text", [h.format(a="Paris") for h in variants.HEDGES] + [
    "Paris.", "The capital of France is Paris.", "It is not Paris; it is Lyon.",
    "He was unable to attend the ceremony.", "She did not know him before 1990.",
    "I think it's Paris.", "I can't say enough good things about this rice cooker.",
    "I can't tell you how stiff this roll is.",
    "I don't know, maybe Paris.", "I'm not sure; probably Paris.",
    "It's Paris, I think, but I don't know.", "Not sure - my guess is Paris.",
    "Pass the salt: it is sodium chloride.", "I'd rather not say, but probably Paris.",
    "I think so, at the tip of the tongue, but I'm not certain.",
    "I believe not, though I'm not sure.",
])
def test_answers_and_committed_hedges_are_not_abstentions(text):
    assert not find_abstention(text).abstains


@pytest.mark.parametrize("text, claims", [
    ("Paris", ["Paris"]),
    ("Washington, D.C.", ["Washington, D.C."]),
    ("Paris, which was founded in 1820.", ["Paris", "was founded in 1820."]),
    ("The capital is Paris. It lies on the Seine; it has 2 million people.",
     ["The capital is Paris.", "It lies on the Seine", "it has 2 million people."]),
    ("He was born in 1950, and he died in 2001.", ["He was born in 1950", "he died in 2001."]),
])
def test_split_claims(text, claims):
    assert split_claims(text) == claims


def test_ece_by_hand():
    # bin of 0.9: observed 1/2 vs 0.9 → 0.4, weight 1/2; bin of 0.1: 0 vs 0.1 → 0.1, weight 1/2
    p = np.array([0.9, 0.9, 0.1, 0.1])
    hit = np.array([1.0, 0.0, 0.0, 0.0])
    assert expected_calibration_error(p, hit) == pytest.approx(0.25)


def features(z, rule=None, **columns) -> Features:
    n = len(z)
    return Features(z, columns.pop("bad", np.zeros(n)),
                    np.zeros(n) if rule is None else rule, [()] * n, **columns)


def test_combiner_recovers_a_known_temperature():
    rng = np.random.default_rng(0)
    f = features(rng.normal(0, 3, size=(4000, 3)))
    true = Combiner(temperature=2.0)
    labels = np.array([rng.choice(3, p=p) for p in true.probs(f)])
    fitted = Combiner.fit(f, labels)
    assert fitted.temperature == pytest.approx(2.0, rel=0.1)


def test_combiner_learns_that_the_rule_means_abstain():
    rng = np.random.default_rng(1)
    z = rng.normal(0, 1, size=(2000, 3))  # uninformative logits
    rule = (rng.random(2000) < 0.3).astype(float)
    labels = np.where(rule == 1, 2, rng.integers(0, 2, size=2000))
    fitted = Combiner.fit(features(z, rule), labels)
    assert fitted.w_rule > 3
    assert fitted.probs(features(z[:1], np.ones(1)))[0, 2] > 0.9


def test_combiner_learns_quantity_and_contradiction_weights():
    # logits say "correct" (+2) for everything; a mismatch or a contradiction means incorrect
    rng = np.random.default_rng(2)
    n = 3000
    z = np.tile([2.0, 0.0, -9.0], (n, 1))
    mismatch = (rng.random(n) < 0.3).astype(float)
    contradiction = np.where(mismatch == 1, 0.0, rng.random(n))
    labels = ((mismatch == 1) | (contradiction > 0.8)).astype(int)
    fitted = Combiner.fit(features(z, quantity_mismatch=mismatch, contradiction=contradiction),
                          labels)
    assert fitted.w_quantity_mismatch > 3 and fitted.w_contradiction > 3
    assert fitted.w_quantity_match == 0.0  # an all-zero feature keeps its weight at 0


def test_old_combiner_files_load_with_zero_new_weights(tmp_path):
    import json

    from autojudge.judges.ensemble import combiner_from_json

    old = {"temperature": 1.0, "w_fact": 0.2, "w_rule": 15.0, "offsets": [0.0, 0.5, -7.0]}
    combiner = combiner_from_json(json.loads(json.dumps(old)))
    assert combiner.w_fact == 0.2 and combiner.offsets == (0.0, 0.5, -7.0)
    assert combiner.w_contradiction == combiner.w_quantity_mismatch == 0.0


def test_judge_metrics_on_a_perfect_judge():
    labels = [0, 1, 2, 0, 1]
    probs = np.eye(3)[labels] * 0.98 + 0.02 / 3
    m = judge_metrics(labels, probs)
    assert m["accuracy"] == 1.0 and m["macro_f1"] == 1.0
    assert m["auroc_correct_vs_incorrect"] == 1.0
    assert m["confusion"] == [[2, 0, 0], [0, 2, 0], [0, 0, 1]]


ITEMS = [
    Record("What is the capital of France?", ("Paris",), "Paris."),
    Record("What is the capital of France?", ("Paris", "City of Paris"), "I don't know."),
    Record("Who wrote the book?", ("one",), "two, which was born in 1950, and died in 2001."),
    Record("What year?", ("1950",), ""),
]


@pytest.fixture(params=["abstention", "folder"])
def any_judge(request, tiny_judge_dir):
    return load_judge(str(tiny_judge_dir)) if request.param == "folder" else load_judge(
        request.param)


def test_every_registered_judge_conforms(any_judge):
    # default and folders are loaded as saved folders (covered by "folder"); llm has its own
    # tests against a server, http(s) against a real `autojudge serve` (test_serve.py)
    names = set(JUDGES.names()) - {"llm", "http", "https"}
    assert names == {"abstention"}, "add new judge kinds to the any_judge fixture"
    out = any_judge.judge(ITEMS)
    assert len(out) == len(ITEMS)
    for j in out:
        assert abs(j.p_correct + j.p_incorrect + j.p_abstain - 1) < 1e-6
        assert j.verdict in Verdict and j.judge == any_judge.name
    assert out[1].verdict is Verdict.ABSTAIN
    assert any_judge.judge([]) == []
    assert [j.to_dict() for j in any_judge.judge(ITEMS[::-1])] == [j.to_dict() for j in out[::-1]]


def test_saved_judge_has_card_config_and_safetensors(tiny_judge_dir):
    for name in ("README.md", "config.yaml", "judge.json", "metrics.json",
                 "comparison/model.safetensors", "facts/model.safetensors"):
        assert (tiny_judge_dir / name).is_file(), name
    assert "Held-out test split" in (tiny_judge_dir / "README.md").read_text()


def test_answers_get_their_facts(tiny_judge_dir):
    judge = load_judge(str(tiny_judge_dir))
    short, long_, empty = judge.judge([ITEMS[0], ITEMS[2], ITEMS[3]])
    assert [f.text for f in short.facts] == ["Paris."] and empty.facts == ()
    assert [f.text for f in long_.facts] == ["two", "was born in 1950", "died in 2001."]


def test_unknown_judges_fail_clearly(tmp_path):
    with pytest.raises(KeyError, match="unknown judge 'nope'; known: default, a saved judge "
                                       "folder, abstention, http, https, llm"):
        load_judge("nope:x")
    with pytest.raises(JudgeError, match="not a saved judge"):
        load_judge(str(tmp_path))


def test_judge_eval_cli_writes_table_json_and_plot(tiny_judge_dir, tiny_encoder_dir, tmp_path,
                                                   isolated_home, capsys):
    import json
    import shutil

    from autojudge.cli import main

    shutil.copytree(tiny_judge_dir.parent / "downloads", isolated_home / "downloads")
    out = tmp_path / "eval"
    assert main(["judge", "eval", "--config", "configs/tiny.yaml", "--judge", str(tiny_judge_dir),
                 "--out", str(out), f"models.encoder={tiny_encoder_dir}"]) == 0
    printed = capsys.readouterr().out
    for name in ("autojudge-ensemble", "token-f1", "cosine", "confusion"):
        assert name in printed
    results = json.loads((out / "judge_eval.json").read_text())
    assert set(results["judges"]) == {"autojudge-ensemble", "token-f1", "cosine"}
    assert (out / "reliability.png").stat().st_size > 10_000


def test_recalibrate_keeps_models_and_refits_the_combiner(tiny_judge_dir, tmp_path):
    import json

    from autojudge.config import load_config
    from autojudge.trainers.judges import recalibrate_judge

    config = load_config("configs/tiny.yaml", [])
    home = tiny_judge_dir.parent
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AUTOJUDGE_HOME", str(home))
        out = recalibrate_judge(config, tiny_judge_dir, tmp_path / "again")
    meta = json.loads((out / "judge.json").read_text())
    assert "w_quantity_mismatch" in meta["combiner"]
    card = json.loads((out / "metrics.json").read_text())
    assert card["training"]["recalibrated"] is True and "comparison" in card["training"]
    assert len(load_judge(str(out)).judge(ITEMS)) == len(ITEMS)


def test_a_saved_judge_reloads_with_its_input_window(tiny_judge_dir, tmp_path):
    from autojudge.judges.ensemble import EnsembleJudge

    judge = EnsembleJudge.load(tiny_judge_dir)
    judge.comparison.classifier.max_length, judge.fact_judge.classifier.max_length = 96, 80
    judge.save(tmp_path)
    again = load_judge(str(tmp_path))
    assert (again.comparison.classifier.max_length, again.fact_judge.classifier.max_length) \
        == (96, 80)
    assert again.folder == tmp_path


def test_the_fact_judge_starts_from_a_copy_of_the_comparison_judge(tiny_encoder_dir):
    """Started from the bare encoder the fact judge collapsed to the class prior; it starts
    from the trained comparison judge instead, as an independent copy with entailment labels."""
    import torch

    from autojudge.judges import comparison, facts
    from autojudge.judges.classifier import PairClassifier
    from autojudge.trainers.judges import fact_start

    comp = PairClassifier.from_encoder(tiny_encoder_dir, comparison.LABELS, 32)
    nli = fact_start(comp)
    assert nli.labels == facts.LABELS
    assert nli.model.config.id2label == dict(enumerate(facts.LABELS))
    pairs = (["q one", "q two"], ["a b", "c"])
    assert np.array_equal(nli.logits(*pairs), comp.logits(*pairs))  # the comparison judge's weights
    with torch.no_grad():
        next(nli.model.parameters()).add_(1.0)  # training the copy ...
    assert not np.array_equal(nli.logits(*pairs), comp.logits(*pairs))
    assert comp.model.config.id2label == dict(enumerate(comparison.LABELS))  # ... leaves it be
