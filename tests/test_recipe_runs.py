"""bench/recipe_runs.py on a run folder made by hand: the kept step is the best validation (the
earliest of a tie, as keep-best keeps it), and the all-abstaining validations are named."""

import json
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))

import recipe_runs  # noqa: E402


def make_run(root: Path, validations: list[tuple[int, float, float]]) -> Path:
    (root / "ppo").mkdir(parents=True)
    (root / "warm_start").mkdir()
    (root / "ppo" / "config.yaml").write_text(yaml.safe_dump({
        "ppo": {"seed": 2}, "reward": {"abstain": -0.5},
        "warm_start": {"right_at": 0.25, "abstain_per_known": 1.0, "min_abstain": 8}}))
    (root / "warm_start" / "warm_start.json").write_text(json.dumps({"known": 3, "abstain": 8}))
    lines = [{"step": 1, "rollout/reward": -0.9}]
    lines += [{"step": s, "val/reward": r, "val/correct": 0.1, "val/incorrect": 0.2,
               "val/abstain": a} for s, r, a in validations]
    (root / "ppo" / "log.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    return root


def test_kept_step_and_collapses(tmp_path):
    run = make_run(tmp_path / "r", [(4, -0.5, 1.0), (8, -0.4, 0.5), (12, -0.4, 0.6),
                                    (16, -0.5, 1.0)])
    r = recipe_runs.summarise(run)
    assert r["kept"]["step"] == 8 and r["kept"]["reward"] == -0.4
    assert r["all_abstain_at"] == [4, 16]
    assert (r["known"], r["abstain_examples"], r["ppo_seed"], r["steps_run"]) == (3, 8, 2, 16)
    assert r["warm_start"] == {"right_at": 0.25, "abstain_per_known": 1.0, "min_abstain": 8}


def test_a_run_without_validations_keeps_nothing(tmp_path):
    r = recipe_runs.summarise(make_run(tmp_path / "r", []))
    assert r["kept"] is None and r["all_abstain_at"] == [] and r["steps_run"] == 0
