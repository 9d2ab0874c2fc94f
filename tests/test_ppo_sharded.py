"""PPO with the policy really sharded by FSDP2 across 2 CPU processes (tests/ppo_fsdp_smoke.py):
sampling, the passes and the update run on sharded weights, and the saved policy holds the
gathered weights, written once."""

from __future__ import annotations

import json

import torch
from safetensors.torch import load_file

from autojudge.policy import load_policy
from autojudge.trainers.ppo_state import latest_checkpoint
from tests.launch import launch_two


def test_ppo_under_fsdp2_on_two_processes_saves_the_gathered_policy(tiny_causal_lm_dir,
                                                                       tmp_path):
    proc = launch_two("ppo_fsdp_smoke.py", tiny_causal_lm_dir, tmp_path / "out",
                      hf_home=tmp_path / "hf")
    assert proc.returncode == 0, proc.stderr[-3000:]
    reports = [json.loads(f.read_text()) for f in sorted(tmp_path.glob("sharded-*.json"))]
    assert len(reports) == 2  # one per process
    for (prepared,) in reports:  # each process held about half of every weight
        assert prepared["distributed_type"] == "DistributedType.FSDP"
        assert prepared["dtensors"] > 0 and prepared["local"] < 0.6 * prepared["full"]
    log = [json.loads(line) for line in (tmp_path / "out" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2]
    assert (latest_checkpoint(tmp_path / "out") / "pytorch_model_fsdp_0").is_dir()
    start = load_file(tiny_causal_lm_dir / "model.safetensors")
    saved = load_file(tmp_path / "out" / "policy" / "model.safetensors")
    assert {k: v.shape for k, v in saved.items()} == {k: v.shape for k, v in start.items()}
    assert any(not torch.equal(saved[k], start[k]) for k in start)  # trained, not the start
    assert load_policy(tmp_path / "out" / "policy").model.config.hidden_size == 16
