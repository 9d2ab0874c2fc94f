import ast
import dataclasses
import inspect
import re
import typing
import warnings
from pathlib import Path

import pytest

from autojudge import config as config_module
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
    ("reward.correct=-5", "reward.correct (-5.0) must be greater than reward.incorrect (-1.0)"),
    ("generation.max_new_tokens=0",
     "generation.max_new_tokens: 0 is out of range; it must be >= 1"),
    ("ppo.mixed_precision=no", "reads an unquoted yes/no/on/off as a boolean"),
])
def test_bad_values_name_the_key(override, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
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
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no reward-order warning either
        config = load_config(path)
    assert config.ppo.batch_size % config.ppo.minibatch_size == 0


# --- ranges ------------------------------------------------------------------------------------

def _numeric_fields() -> list[tuple[str, dataclasses.Field, type]]:
    """(dotted key, field, int or float) for every numeric field of every section."""
    out = []
    for section in dataclasses.fields(Config):
        cls = typing.get_type_hints(Config)[section.name]
        hints = typing.get_type_hints(cls)
        out += [(f"{section.name}.{f.name}", f, hints[f.name]) for f in dataclasses.fields(cls)
                if hints[f.name] in (int, float)]
    return out


def _docstrings(cls: type) -> dict[str, str]:
    """Field name → the docstring under it in the class body."""
    body = ast.parse(inspect.getsource(cls)).body[0].body
    return {a.target.id: b.value.value for a, b in zip(body, body[1:])
            if isinstance(a, ast.AnnAssign) and isinstance(b, ast.Expr)
            and isinstance(b.value, ast.Constant)}


@pytest.mark.parametrize("key, f", [(k, f) for k, f, _ in _numeric_fields()],
                         ids=[k for k, _, _ in _numeric_fields()])
def test_every_numeric_field_has_a_range_its_docstring_states(key, f):
    allowed = f.metadata.get("range")
    assert allowed is not None, f"{key} has no range"
    section = typing.get_type_hints(Config)[key.split(".")[0]]
    assert str(allowed) in _docstrings(section)[f.name], f"{key}'s docstring omits {allowed}"
    assert f.default in allowed


def test_range_reads_as_its_docstrings_do():
    # gt/ge/lt/le → the text a docstring carries; bounds themselves in or out as stated
    rng = config_module.Range
    assert str(rng(0, 1, lo_open=True)) == "in (0, 1]" and 0 not in rng(0, 1, lo_open=True)
    assert str(rng(0, 1, hi_open=True)) == "in [0, 1)" and 1 not in rng(0, 1, hi_open=True)
    assert str(rng(1)) == ">= 1" and 1 in rng(1) and str(rng(0, lo_open=True)) == "> 0"
    assert str(rng()) == "any finite number" and -1e300 in rng()


@pytest.mark.parametrize("override, message", [
    # the values issue 17 measured passing (or crashing later)
    ("ppo.steps=-1", "ppo.steps: -1 is out of range; it must be >= 1"),
    ("ppo.steps=0", "ppo.steps: 0 is out of range; it must be >= 1"),
    ("ppo.lr=-1e-5", "ppo.lr: -1e-05 is out of range; it must be > 0"),
    ("ppo.kl_coef=-0.1", "ppo.kl_coef: -0.1 is out of range; it must be >= 0"),
    ("ppo.clip_range=-0.2", "ppo.clip_range: -0.2 is out of range; it must be > 0"),
    ("generation.top_p=5", "generation.top_p: 5.0 is out of range; it must be in (0, 1]"),
    ("ppo.batch_size=0", "ppo.batch_size: 0 is out of range; it must be >= 1"),
    ("warm_start.samples=0", "warm_start.samples: 0 is out of range; it must be >= 1"),
    ("ppo.minibatch_size=0", "ppo.minibatch_size: 0 is out of range; it must be >= 1"),
    ("generation.temperature=0", "generation.temperature: 0.0 is out of range; it must be > 0"),
    ("data.val_fraction=1", "data.val_fraction: 1.0 is out of range; it must be in [0, 1)"),
    ("ppo.gamma=1.5", "ppo.gamma: 1.5 is out of range; it must be in [0, 1]"),
])
def test_out_of_range_values_name_key_value_and_range(override, message):
    with pytest.raises(ConfigError) as err:
        load_config(None, [override])
    assert str(err.value) == message


def test_bounds_that_are_allowed_load():
    config = load_config(None, ["generation.top_p=1", "ppo.gamma=0", "ppo.kl_coef=0",
                                "ppo.save_every=0", "judge.eval_pairs=0", "warm_start.right_at=1",
                                "data.val_fraction=0", "generation.temperature=1e-3"])
    assert config.generation.top_p == 1.0 and config.ppo.save_every == 0


@pytest.mark.parametrize("key", [k for k, _, tp in _numeric_fields() if tp is float])
@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_nan_and_infinity_are_refused_for_every_float(key, value):
    with pytest.raises(ConfigError, match=rf"^{key.replace('.', '[.]')}: -?(nan|inf) is not a "
                                          r"finite number$"):
        load_config(None, [f"{key}={value}"])


def test_reward_order():
    with pytest.raises(ConfigError, match=r"reward\.correct \(-1\.0\) must be greater than"):
        load_config(None, ["reward.correct=-1"])  # equal to R_incorrect: no threshold exists
    with pytest.warns(UserWarning, match=r"reward\.abstain \(1\.0\) >= reward\.correct"):
        load_config(None, ["reward.abstain=1"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_config(None, ["reward.abstain=0.99"]).reward.threshold == pytest.approx(0.995)


def test_minibatch_must_fit_in_the_batch():
    with pytest.raises(ConfigError, match=r"ppo\.minibatch_size \(32\) must divide "
                                          r"ppo\.batch_size \(16\)"):
        load_config(None, ["ppo.minibatch_size=32"])


def test_splits_must_leave_a_train_split():
    with pytest.raises(ConfigError, match=r"\(0\.5 \+ 0\.5\) must be below 1"):
        load_config(None, ["data.val_fraction=0.5", "data.test_fraction=0.5"])


# --- YAML syntax -------------------------------------------------------------------------------

@pytest.mark.parametrize("text, where, problem", [
    ("ppo:\n  lr: 1\n steps: 2\n", "line 3, column 2", "expected <block end>"),
    ("ppo:\n\tlr: 1\n", "line 2, column 1", "found character '\\t' that cannot start any token"),
    ("ppo: [1, 2\n", "line 2, column 1", "expected ',' or ']'"),
    ("ppo:\n  lr: 1\n  lr: 2\n", "line 3, column 3", "duplicate key 'lr' (first on line 2)"),
    ("ppo:\n  lr: 1\nppo:\n  steps: 2\n", "line 3, column 1",
     "duplicate key 'ppo' (first on line 1)"),
])
def test_malformed_yaml_is_one_line_with_file_line_and_column(tmp_path, text, where, problem):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert message.startswith(f"{path}, {where}: {problem}") and "\n" not in message


def test_malformed_override_value_names_the_override():
    with pytest.raises(ConfigError, match=r"^override 'ppo\.lr=\[1', line 1, column 3: "):
        load_config(None, ["ppo.lr=[1"])
    with pytest.raises(ConfigError, match=r"duplicate key 'lr'"):
        load_config(None, ["ppo={lr: 1, lr: 2}"])


def test_merge_keys_may_still_repeat_a_key(tmp_path):
    path = tmp_path / "merge.yaml"
    path.write_text("ppo: &base\n  lr: 1.0e-5\n  epochs: 3\n"
                    "warm_start:\n  <<: *base\n  lr: 2.0e-5\n")
    config = load_config(path)
    assert config.warm_start.lr == 2e-5 and config.warm_start.epochs == 3


def test_the_cli_prints_a_malformed_file_in_one_line(tmp_path, capsys):
    from autojudge.cli import main

    path = tmp_path / "bad.yaml"
    path.write_text("ppo:\n  lr: 1\n  lr: 2\n")
    assert main(["data", "build", "--config", str(path)]) == 1
    err = capsys.readouterr().err
    assert err == (f"autojudge: error: {path}, line 3, column 3: "
                   f"duplicate key 'lr' (first on line 2)\n")
