"""int8 inference: an item's result must not depend on what it is batched with."""

from __future__ import annotations

import numpy as np
import pytest

QUIET = (["Question: who wrote the book ?\nReference: the author"], ["Answer: the author"])
LOUD = (["Question: " + " ".join(["capital city of france paris"] * 12)] * 7,
        ["Answer: " + " ".join(["the the the london"] * 10)] * 7)
"""One ordinary pair, and neighbours with long, repetitive text (other activation ranges)."""


def anchors(n: int = 24) -> tuple[list[str], list[str]]:
    """The first `n` pairs the int8 ranges are calibrated on: the tiny model's int8 tracks its
    float logits within 0.2 there (on the real judge, agreement is measured by bench/)."""
    import json

    from autojudge.judges.int8 import ANCHOR_PAIRS

    pairs = [json.loads(line) for line in ANCHOR_PAIRS.read_text("utf-8").splitlines()[:n]]
    return [p["a"] for p in pairs], [p["b"] for p in pairs]


@pytest.fixture
def tiny_classifier(tiny_encoder_dir):
    """A tiny 3-label cross-encoder whose logits differ from pair to pair by about ±1 (weights
    drawn wider than BERT's 0.02, which leaves every logit near 0), its int8 model built
    afresh (none in memory, none on disk)."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from autojudge.judges import int8
    from autojudge.judges.classifier import PairClassifier

    int8._BUILT.clear()
    torch.manual_seed(1)
    config = BertConfig.from_pretrained(tiny_encoder_dir, num_labels=3, initializer_range=0.3)
    return PairClassifier(BertForSequenceClassification(config),
                          AutoTokenizer.from_pretrained(tiny_encoder_dir), "abc", max_length=64)


def test_int8_logits_do_not_depend_on_the_batch(tiny_classifier):
    from autojudge.judges.classifier import _bucket

    clf = tiny_classifier
    (a, b) = QUIET
    # neighbours as short as the pair (so in its batch) with other words, and long ones
    loud_a = ["Question: paris paris paris london ?\nReference: france",
              "Question: capital city city city\nReference: london london"] + LOUD[0][:5]
    loud_b = ["Answer: the the the", "Answer: paris paris paris"] + LOUD[1][:5]
    lengths = [len(x) for x in clf.tokenizer(a + loud_a[:2], b + loud_b[:2])["input_ids"]]
    assert len({_bucket(n) for n in lengths}) == 1
    alone = clf.logits(a, b, quantize=True)
    crowded = clf.logits(a + loud_a, b + loud_b, quantize=True, batch_size=8)
    np.testing.assert_array_equal(alone[0], crowded[0])
    # neighbours of every length, in batches of several sizes: still the same bits
    for size in (2, 3, 5):
        again = clf.logits(loud_a[:size] + a, loud_b[:size] + b, quantize=True, batch_size=size)
        np.testing.assert_array_equal(alone[0], again[-1])


def test_activation_ranges_are_constants_of_the_model(tiny_classifier):
    """Every activation quantiser of the int8 model takes its range from constants fixed at
    calibration, never from the data it is given (as dynamic int8 would)."""
    clf = tiny_classifier
    ops = list(clf.int8().model.get_ordered_ops())
    quantisers = [op for op in ops if op.get_type_name() == "FakeQuantize"]
    assert len(quantisers) >= 12  # the tiny model has 12 Linear layers' inputs and weights
    for op in quantisers:
        ranges = [op.input_value(i).get_node().get_type_name() for i in range(1, 5)]
        assert set(ranges) == {"Constant"}, (op.get_friendly_name(), ranges)


def test_int8_tracks_float(tiny_classifier):
    clf = tiny_classifier
    texts_a, texts_b = anchors()
    exact = clf.logits(texts_a, texts_b)
    assert np.ptp(exact, axis=0).max() > 1.0  # the pairs' logits differ: a real comparison
    np.testing.assert_allclose(clf.logits(texts_a, texts_b, quantize=True), exact, atol=0.3)


def test_int8_follows_new_weights_and_is_reused_from_the_cache(tiny_classifier, monkeypatch):
    import torch

    from autojudge.cache import home
    from autojudge.judges import int8

    clf = tiny_classifier
    texts_a, texts_b = anchors()
    before = clf.logits(texts_a, texts_b, quantize=True)
    with torch.no_grad():  # the head turned around: every logit changes sign
        clf.model.classifier.weight.neg_()
        clf.model.classifier.bias.neg_()
    clf.invalidate()
    after = clf.logits(texts_a, texts_b, quantize=True)
    assert np.abs(after - before).max() > 1.0  # not the old model from a cache
    np.testing.assert_allclose(after, clf.logits(texts_a, texts_b), atol=0.3)
    assert len(list((home() / "int8").glob("*.xml"))) == 2
    # a new process finds the file: nothing is exported again
    int8._BUILT.clear()
    clf.invalidate()
    monkeypatch.setattr(int8, "exported_program", lambda *_: pytest.fail("built again"))
    np.testing.assert_array_equal(clf.logits(texts_a, texts_b, quantize=True), after)


def test_off_the_cpu_the_float_model_runs(tiny_classifier, monkeypatch):
    clf = tiny_classifier
    monkeypatch.setattr(type(clf), "_on_cpu", lambda self: False)
    monkeypatch.setattr(type(clf), "int8", lambda self: pytest.fail("int8 used off the CPU"))
    np.testing.assert_array_equal(clf.logits(*QUIET, quantize=True), clf.logits(*QUIET))


def test_inputs_go_to_the_models_device(tiny_classifier, monkeypatch):
    """A judge trained on an accelerator stays there: its inputs are built on the CPU and must
    follow it (a `meta`-device stand-in for the GPU records where they arrive)."""
    import torch
    from types import SimpleNamespace

    class OnAccelerator(torch.nn.Module):
        device = torch.device("meta")

        def __init__(self):
            super().__init__()
            self.seen: list[torch.device] = []

        def forward(self, **enc):
            self.seen += [v.device for v in enc.values()]
            return SimpleNamespace(logits=torch.zeros(len(enc["input_ids"]), 3))

    clf, model = tiny_classifier, OnAccelerator()
    monkeypatch.setattr(clf, "model", model)
    out = clf.logits(*QUIET, quantize=True)  # off the CPU: the float model, never int8
    assert out.shape == (len(QUIET[0]), 3)
    assert model.seen and set(model.seen) == {torch.device("meta")}


def test_batches_hold_one_length_bucket():
    from autojudge.judges.classifier import BUCKET, _bucket, _split_buckets

    assert [_bucket(n) for n in (1, BUCKET, BUCKET + 1)] == [BUCKET, BUCKET, 2 * BUCKET]
    padded = [16, 16, 32, 32, 48]
    parts = _split_buckets(np.array([0, 1, 2, 3, 4]), padded)
    assert [p.tolist() for p in parts] == [[0, 1], [2, 3], [4]]


def test_building_int8_leaves_the_global_random_streams_alone(tiny_classifier):
    import random

    import torch

    torch.manual_seed(0)
    np.random.seed(0)
    random.seed(0)
    before = torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate()
    tiny_classifier.int8()
    assert torch.equal(torch.get_rng_state(), before[0])
    assert np.array_equal(np.random.get_state()[1], before[1])
    assert random.getstate() == before[2]


def test_building_and_running_int8_sends_no_telemetry(tiny_encoder_dir, tmp_path):
    """OpenVINO and NNCF would set up usage statistics in ~/intel/ (and send them from the
    converter and the quantiser): a fresh process that builds and runs an int8 model leaves no
    ~/intel/ behind."""
    import os
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(f"""
        from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification
        from autojudge.judges.classifier import PairClassifier
        config = BertConfig.from_pretrained({str(tiny_encoder_dir)!r}, num_labels=3)
        clf = PairClassifier(BertForSequenceClassification(config),
                             AutoTokenizer.from_pretrained({str(tiny_encoder_dir)!r}), "abc", 64)
        clf.logits(["Question: who ?"], ["Answer: me"], quantize=True)
        """)
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "AUTOJUDGE_HOME": str(tmp_path / "cache")}
    env.pop("CI", None)
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=300,
                   cwd=os.path.dirname(os.path.dirname(__file__)))
    assert list((tmp_path / "cache" / "int8").glob("*.xml"))  # it did build
    assert not (home / "intel").exists()
