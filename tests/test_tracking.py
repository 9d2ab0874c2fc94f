"""accelerate's trackers for PPO, the warm-start and judge training: what `--log-with` names,
offline unless told otherwise, and the values the runs log (TensorBoard, read back offline)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from autojudge.cli import build_parser
from autojudge.cli.options import config_of
from autojudge.config import ConfigError, load_config
from autojudge.trainers import tracking
from autojudge.trainers.tracking import (TRACKERS, Tracking, TrackerError, chosen_trackers,
                                         start_tracking)

pytest.importorskip("tensorboard")


def scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar TensorBoard holds under `folder`: tag → [(step, value)]."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out: dict[str, list[tuple[int, float]]] = {}
    for events in sorted({p.parent for p in folder.rglob("events.out.tfevents.*")}):
        acc = EventAccumulator(str(events))
        acc.Reload()
        for tag in acc.Tags()["scalars"]:
            out.setdefault(tag, []).extend((e.step, e.value) for e in acc.Scalars(tag))
    return out


def test_log_with_is_one_option_for_every_training_command():
    parser = build_parser()
    for command in (["judge", "train"], ["train", "ppo"], ["train", "sft-idk"], ["demo"]):
        args = parser.parse_args([*command, "--log-with", "tensorboard, wandb"])
        assert config_of(args).tracking.log_with == ["tensorboard", "wandb"], command
        args = parser.parse_args([*command, "--log-with", "none"])
        assert config_of(args).tracking.log_with == [], command
    assert config_of(parser.parse_args(["judge", "train"])).tracking.log_with is None
    with pytest.raises(ConfigError, match=r"tracking.log_with\[0\]: 'wandbb' is not one of "
                                          r"'tensorboard', 'wandb'"):
        config_of(parser.parse_args(["judge", "train", "--log-with", "wandbb"]))
    assert set(TRACKERS) == {"tensorboard", "wandb", "trackio", "mlflow", "comet_ml", "aim",
                             "clearml", "dvclive", "swanlab"}


def test_which_trackers_start(monkeypatch):
    assert chosen_trackers(None) == ["tensorboard"]  # installed here
    assert chosen_trackers([]) == []
    assert chosen_trackers(["tensorboard", "tensorboard"]) == ["tensorboard"]
    monkeypatch.setattr(tracking, "_installed", lambda name: name != "tensorboard")
    assert chosen_trackers(None) == []  # the default needs nothing that is not installed
    with pytest.raises(TrackerError, match=r"names tensorboard, which is not installed "
                                           r"\(pip install 'autojudge-rl\[train\]'\)"):
        chosen_trackers(["wandb", "tensorboard"])


class FakeAccelerator:
    is_main_process = True

    def __init__(self) -> None:
        self.started: list[tuple] = []

    def init_trackers(self, project, config=None, init_kwargs=None):
        self.started.append((project, config, init_kwargs))


def fake_tracking(tmp_path: Path, online: bool = False) -> Tracking:
    return Tracking(("wandb", "swanlab", "mlflow", "comet_ml"), tmp_path / "trackers",
                    "proj", "ppo", online, {"ppo.lr": 0.1})


@pytest.mark.parametrize("online", [False, True])
def test_trackers_are_offline_unless_asked_or_set(tmp_path, monkeypatch, online):
    for name in ("WANDB_MODE", "SWANLAB_MODE", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SWANLAB_MODE", "cloud")  # the user's own choice wins
    accelerator = FakeAccelerator()
    start_tracking(accelerator, fake_tracking(tmp_path, online))
    (project, config, init_kwargs), = accelerator.started
    assert project == "proj" and config == {"ppo.lr": 0.1}
    assert os.environ["SWANLAB_MODE"] == "cloud"
    if online:
        assert "WANDB_MODE" not in os.environ and "MLFLOW_TRACKING_URI" not in os.environ
        assert init_kwargs["comet_ml"] == {}
    else:
        assert os.environ["WANDB_MODE"] == "offline"
        assert os.environ["MLFLOW_TRACKING_URI"] == (tmp_path / "trackers" / "mlruns").as_uri()
        assert init_kwargs["comet_ml"] == {"online": False}
    assert init_kwargs["wandb"] == {"name": "ppo", "dir": str(tmp_path / "trackers")}
    assert (tmp_path / "trackers").is_dir()


def test_judge_training_logs_each_steps_loss(tiny_encoder_dir, tmp_path):
    from autojudge.judges.classifier import PairClassifier
    from autojudge.trainers.classifier import fit_pair_classifier

    config = load_config(None, ["tracking.log_with=[tensorboard]"])
    clf = PairClassifier.from_encoder(tiny_encoder_dir, ("a", "b", "c"), 32)
    texts = [f"the answer is {w}" for w in ("paris", "berlin", "tokyo", "rome", "oslo")] * 4
    stats = fit_pair_classifier(clf, texts, texts[::-1], [i % 3 for i in range(20)], lr=1e-3,
                                epochs=2, batch_size=4, seed=0,
                                tracking=Tracking.of(config, tmp_path, "comparison-judge"))
    logged = scalars(tmp_path / "trackers" / "autojudge")
    losses = logged["comparison-judge/loss"]
    assert [step for step, _ in losses] == list(range(1, stats.steps + 1))
    assert sum(v for _, v in losses) / len(losses) == pytest.approx(stats.final_loss, rel=1e-5)
    assert len(logged["comparison-judge/lr"]) == stats.steps


def test_ppo_logs_to_trackers_and_jsonl_alike(tiny_causal_lm_dir, tmp_path):
    from autojudge.policy import load_policy
    from autojudge.rewards.schemes import Reward
    from autojudge.trainers.ppo import train_ppo
    from tests.ppo_smoke import QUESTIONS, ContainsJudge, smoke_config

    config = smoke_config(tiny_causal_lm_dir, "ppo.steps=2", "tracking.project=tiny")
    result = train_ppo(config, load_policy(tiny_causal_lm_dir), ContainsJudge(),
                       Reward(config.reward), QUESTIONS, tmp_path)
    rows = [json.loads(line) for line in result.log_path.read_text().splitlines()]
    logged = scalars(tmp_path / "trackers" / "tiny")
    for key in ("rollout/reward", "loss/policy", "policy/kl"):
        assert logged[key] == [(r["step"], pytest.approx(r[key], rel=1e-6)) for r in rows], key


def test_the_warm_start_logs_its_loss_and_no_tracker_writes_nothing(tiny_causal_lm, tmp_path):
    from autojudge.trainers.warm_start import Example, fine_tune

    config = load_config("configs/tiny.yaml", ["tracking.log_with=[]", "warm_start.epochs=1"])
    examples = [Example(f"who wrote book {i} ?", "I don't know.", "abstain") for i in range(4)]
    fine_tune(tiny_causal_lm, examples, config.generation, config.warm_start, 0,
              Tracking.of(config, tmp_path, "warm-start"))
    assert not (tmp_path / "trackers").exists()
    config = load_config("configs/tiny.yaml", ["warm_start.epochs=1"])  # default: TensorBoard
    steps, _ = fine_tune(tiny_causal_lm, examples, config.generation, config.warm_start, 0,
                         Tracking.of(config, tmp_path, "warm-start"))
    logged = scalars(tmp_path / "trackers")
    assert [s for s, _ in logged["warm-start/loss"]] == list(range(1, steps + 1))


def test_a_tracker_change_does_not_stop_a_resume(tiny_causal_lm_dir, tmp_path):
    from autojudge.policy import load_policy
    from autojudge.trainers.ppo import check_resumable, train_ppo
    from autojudge.rewards.schemes import Reward
    from tests.ppo_smoke import QUESTIONS, ContainsJudge, smoke_config

    config = smoke_config(tiny_causal_lm_dir, "ppo.steps=1", "tracking.log_with=[]")
    train_ppo(config, load_policy(tiny_causal_lm_dir), ContainsJudge(), Reward(config.reward),
              QUESTIONS, tmp_path)
    checkpoint = next((tmp_path / "checkpoints").iterdir())
    again = smoke_config(tiny_causal_lm_dir, "ppo.steps=1", "tracking.log_with=[tensorboard]",
                         "tracking.project=other")
    with pytest.warns(UserWarning, match="tracking.log_with"):
        check_resumable(checkpoint, again)


def test_wandb_runs_offline_by_default(tiny_encoder_dir, tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    from autojudge.judges.classifier import PairClassifier
    from autojudge.trainers.classifier import fit_pair_classifier

    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    config = load_config(None, ["tracking.log_with=[wandb]"])
    clf = PairClassifier.from_encoder(tiny_encoder_dir, ("a", "b", "c"), 32)
    texts = ["the answer is paris", "the answer is rome"] * 4
    fit_pair_classifier(clf, texts, texts[::-1], [0, 1] * 4, lr=1e-3, epochs=1, batch_size=4,
                        seed=0, tracking=Tracking.of(config, tmp_path, "comparison-judge"))
    assert os.environ["WANDB_MODE"] == "offline"
    (run,) = (tmp_path / "trackers" / "wandb").glob("offline-run-*")
    assert list(run.glob("*.wandb"))  # the run's records, to `wandb sync` later
