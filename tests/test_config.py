from pathlib import Path

import pytest

from autojudge.config import Config, ConfigError, load_config, save_config


def test_defaults_match_the_default_recipe():
    assert load_config("configs/default.yaml") == Config()


def test_yaml_then_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("ppo:\n  lr: 3e-5\n  steps: 4\nreward:\n  incorrect: -2\n")
    config = load_config(path, ["ppo.lr=1e-5", "reward.abstain=0.5", "models.policy=/x/y"])
    assert config.ppo.lr == 1e-5 and isinstance(config.ppo.lr, float)
    assert config.ppo.steps == 4
    assert config.reward.incorrect == -2.0 and isinstance(config.reward.incorrect, float)
    assert config.models.policy == "/x/y"


def test_threshold_is_derived():
    # t* = (0 - (-1)) / (1 - (-1)) = 0.5; with abstain 0.5: (0.5 + 1) / 2 = 0.75
    assert load_config().reward.threshold == 0.5
    assert load_config(None, ["reward.abstain=0.5"]).reward.threshold == 0.75


@pytest.mark.parametrize("override, message", [
    ("ppo.lrr=1", "unknown key 'ppo.lrr'"),
    ("nope.x=1", "unknown key 'nope'"),
    ("ppo.steps=2.5", "ppo.steps: expected int, got float 2.5"),
    ("ppo.steps=true", "ppo.steps: expected int, got bool True"),
    ("ppo.lr=fast", "ppo.lr: expected float, got str 'fast'"),
    ("models.policy=3", "models.policy: expected str, got int 3"),
    ("ppo=3", "ppo: expected a mapping"),
    ("ppo.lr", "not of the form key.path=value"),
    ("reward.correct=-5", "reward.correct must be greater than reward.incorrect"),
    ("generation.max_new_tokens=0", "generation.max_new_tokens must be at least 1"),
    ("ppo.mixed_precision=no", "reads an unquoted yes/no/on/off as a boolean"),
])
def test_bad_values_name_the_key(override, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(".", r"\.")):
        load_config(None, [override])


def test_unknown_key_in_file_names_path(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("data:\n  seeed: 3\n")
    with pytest.raises(ConfigError, match=r"unknown key 'data\.seeed'; known keys here: .*seed"):
        load_config(path)


def test_missing_file_and_non_mapping(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "absent.yaml")
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_config(path)


def test_saved_config_loads_back_equal(tmp_path):
    config = load_config(None, ["data.seed=7", "generation.temperature=0.7"])
    save_config(config, tmp_path / "resolved.yaml")
    assert load_config(tmp_path / "resolved.yaml") == config


def test_min_new_tokens_must_not_exceed_max_new_tokens():
    with pytest.raises(ConfigError, match="min_new_tokens"):
        load_config(None, ["generation.max_new_tokens=8", "generation.min_new_tokens=9"])
    assert load_config(None, ["generation.min_new_tokens=8",
                              "generation.max_new_tokens=8"]).generation.min_new_tokens == 8


@pytest.mark.parametrize("path", sorted(Path("configs").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_config_loads(path):
    config = load_config(path)
    assert config.ppo.batch_size % config.ppo.minibatch_size == 0
