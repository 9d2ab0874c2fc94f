"""Every command uses the judge its config names: `--config` and overrides reach the one judge
resolver, and a missing default judge is trained for *that* config, announced; `load_judge`
only loads."""

from __future__ import annotations

import pytest

from autojudge.cli import main
from autojudge.config import load_config
from autojudge.jobs import judge as resolver
from autojudge.jobs import pipeline
from autojudge.judges.base import JudgeError
from autojudge.judges.loader import default_judge_dir, load_judge


class Resolved(Exception):
    """Raised in place of training a judge: carries the config the command resolved with."""

    def __init__(self, config):
        super().__init__("resolved")
        self.config = config


@pytest.fixture
def resolved(monkeypatch):
    def stop(config):
        raise Resolved(config)

    monkeypatch.setattr(resolver, "ensure_judge", stop)
    monkeypatch.setattr(pipeline.models, "resolve", lambda name: None)
    monkeypatch.setattr(pipeline, "build", lambda data: None)


def command_lines(tmp_path):
    rows = tmp_path / "in.jsonl"
    rows.write_text('{"question": "q?", "reference": "a", "answer": "a"}\n')
    out = str(tmp_path / "out")
    return {
        "score": ["score", "--input", str(rows), "--output", f"{out}.jsonl"],
        "judge eval": ["judge", "eval", "--out", out],
        "calibrate": ["calibrate", "--out", out],
        "train": ["train", "--out", out],
        "train ppo": ["train", "ppo", "--out", out],
        "train sft-idk": ["train", "sft-idk", "--out", out],
        "eval": ["eval", "--out", out],
        "serve": ["serve", "--port", "8765"],
        "demo": ["demo", "--out", out],
    }


@pytest.mark.parametrize("command", ["score", "judge eval", "calibrate", "train", "train ppo",
                                     "train sft-idk", "eval", "serve", "demo"])
def test_config_and_overrides_reach_the_judge(command, resolved, tmp_path):
    argv = command_lines(tmp_path)[command]
    with pytest.raises(Resolved) as got:
        main([*argv, "--config", "configs/gpu.yaml", "data.seed=7"])
    config = got.value.config
    gpu = load_config("configs/gpu.yaml")
    assert config.models.encoder == gpu.models.encoder != load_config().models.encoder
    assert config.data.seed == 7
    assert default_judge_dir(config) != default_judge_dir(load_config())


def test_load_judge_only_loads(isolated_home, monkeypatch):
    # no default judge in an empty home: a clear error naming the command, no training
    monkeypatch.setattr(resolver, "ensure_judge", lambda config: pytest.fail("trained"))
    with pytest.raises(JudgeError, match="autojudge judge train"):
        load_judge("default")


def test_resolver_trains_a_missing_default_for_its_config(monkeypatch, tiny_judge_dir):
    asked = []
    monkeypatch.setattr(resolver, "ensure_judge", lambda config: asked.append(config))
    monkeypatch.setattr(resolver, "load_default", lambda config: load_judge(str(tiny_judge_dir)))
    config = load_config(None, ["data.seed=7"])
    judge = resolver.resolve_judge(config)
    assert asked == [config] and judge.name == "autojudge-ensemble"
    assert resolver.resolve_judge(config, "abstention").name == "abstention" and len(asked) == 1


def test_calibrate_finds_the_default_judges_measured_errors(isolated_home, tmp_path):
    # `calibrate --input ... --judge default` used e1 = e2 = 0: it found no folder for "default"
    from autojudge.jobs.calibrate import judge_folder

    config = load_config(None, ["data.seed=7"])
    assert judge_folder(config, "default") is None  # none trained yet
    folder = default_judge_dir(config)
    folder.mkdir(parents=True)
    assert judge_folder(config, "default") == folder
    assert judge_folder(config, str(tmp_path)) == tmp_path
    assert judge_folder(config, "abstention") is None


def test_two_processes_train_one_judge(tiny_encoder_dir, tmp_path):
    """Under `accelerate launch --num_processes 2` the processes train the missing default judge
    together; the main one alone builds the data and writes the judge, and both then find it."""
    import shutil

    from tests.data_fixtures import fake_sources
    from tests.launch import launch_two

    home = tmp_path / "home"
    (home / "downloads").mkdir(parents=True)
    for path in fake_sources(tmp_path):
        shutil.move(path, home / "downloads" / path.name)
    proc = launch_two("judge_train_smoke.py", tiny_encoder_dir, home, hf_home=tmp_path / "hf",
                      timeout=300, env={"AUTOJUDGE_HOME": str(home)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    writes = {p.name: p.read_text().split() for p in home.glob("writes-*.txt")}
    assert sorted(writes) == ["writes-0.txt"]  # process 1 wrote nothing
    assert sorted(writes["writes-0.txt"]) == ["data", "judges"]
    assert len(list((home / "judges").glob("default-*/judge.json"))) == 1


def test_process_share_splits_every_batch():
    """Each process takes its share of a batch; together they take it all, and a batch smaller
    than the number of processes still gives every process an item (or the step would hang)."""
    from autojudge.trainers.classifier import process_share

    batch = [10, 11, 12, 13, 14]
    shares = [process_share(batch, i, 2) for i in range(2)]
    assert shares == [[10, 12, 14], [11, 13]]
    assert process_share([7], 1, 2) == [7]
