"""PPO run state on disk: atomic checkpoints (weights, optimizer, RNG, step) and the metrics log."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from autojudge.config import Config, save_config

CHECKPOINTS = "checkpoints"
STATE_FILE = "trainer_state.json"
LOG_FILE = "log.jsonl"


@dataclass
class TrainState:
    """What the loop carries from step to step besides weights, optimizer and RNG."""

    step: int
    """Steps completed."""
    kl_coef: float
    """Current KL coefficient (moves when ppo.adaptive_kl is on)."""
    bad_steps: int = 0
    """Steps in a row whose losses were all non-finite."""


def checkpoint_dir(out_dir: Path, step: int) -> Path:
    return Path(out_dir) / CHECKPOINTS / f"step-{step:06d}"


def latest_checkpoint(out_dir: str | Path) -> Path | None:
    """The complete checkpoint with the highest step, or None (temp folders are never complete)."""
    folder = Path(out_dir) / CHECKPOINTS
    done = [p for p in folder.glob("step-*") if (p / STATE_FILE).is_file()] if folder.is_dir() else []
    return max(done, key=lambda p: int(p.name.removeprefix("step-")), default=None)


def save_checkpoint(accelerator: Any, out_dir: Path, state: TrainState, config: Config) -> Path:
    """Every process writes its part (accelerate: model as safetensors, optimizer and per-process
    RNG states with torch.save) into a temp folder that the main process then renames into place,
    so a kill at any moment leaves the previous checkpoint intact. Older checkpoints are removed."""
    final = checkpoint_dir(out_dir, state.step)
    tmp = final.with_name(f".{final.name}.tmp")
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(tmp))
    if accelerator.is_main_process:
        save_config(config, tmp / "config.yaml")
        (tmp / STATE_FILE).write_text(json.dumps(asdict(state)), encoding="utf-8")  # written last
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        for old in final.parent.glob("step-*"):
            if old != final:
                shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final


def load_checkpoint(accelerator: Any, path: Path) -> TrainState:
    """Restore weights, optimizer and this process's RNG state (weights_only loads); the step."""
    rng = Path(path) / f"random_states_{accelerator.process_index}.pkl"
    if not rng.is_file():
        raise FileNotFoundError(f"{path} has no RNG state for process {accelerator.process_index}"
                                f" (was it written with a different number of processes?)")
    accelerator.load_state(str(path))
    return TrainState(**json.loads((Path(path) / STATE_FILE).read_text(encoding="utf-8")))


class RunLogger:
    """One JSONL row and TensorBoard scalars per step, written by the main process only.
    On resume, rows after the resumed step (from a run killed before its next checkpoint) are
    dropped from both, so the log reads as one uninterrupted run."""

    def __init__(self, out_dir: Path, enabled: bool, start_step: int = 0) -> None:
        self.path = Path(out_dir) / LOG_FILE
        self.enabled = enabled
        self.writer = None
        if not enabled:
            return
        from torch.utils.tensorboard import SummaryWriter

        self.path.parent.mkdir(parents=True, exist_ok=True)
        rows = self.path.read_text(encoding="utf-8").splitlines() if self.path.is_file() else []
        kept = [r for r in rows if r.strip() and json.loads(r)["step"] <= start_step]
        self.path.write_text("".join(r + "\n" for r in kept), encoding="utf-8")
        self.writer = SummaryWriter(str(Path(out_dir) / "tensorboard"),
                                    purge_step=start_step + 1 if start_step else None)

    def log(self, step: int, metrics: dict[str, float]) -> None:
        if not self.enabled:
            return
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"step": step, **metrics}) + "\n")
        for key, value in metrics.items():
            self.writer.add_scalar(key, value, step)
        self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
