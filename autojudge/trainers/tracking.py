"""Experiment trackers (accelerate's `log_with`: TensorBoard, W&B, Trackio, MLflow, ...) for PPO,
the warm-start and judge training, offline unless asked otherwise; and PPO's JSONL log.

`tracking.log_with` (`--log-with`) names the trackers; each run writes their local files into
its `trackers/` folder. Trackers that can sync to a server run offline (WANDB_MODE=offline,
SWANLAB_MODE=offline, CLEARML_OFFLINE_MODE=1, comet_ml's online=False; MLflow's store is a
folder of the run) unless `tracking.online` is set or the variable is already in the
environment: what the user set wins.
"""

from __future__ import annotations

import importlib.util
import json
import os
import typing
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autojudge.config import Config, TrackerName, to_dict

TRACKERS: tuple[str, ...] = typing.get_args(TrackerName)
"""The trackers `tracking.log_with` may name; each is also the module it needs."""
OFFLINE_ENV = {"wandb": ("WANDB_MODE", "offline"), "swanlab": ("SWANLAB_MODE", "offline"),
               "clearml": ("CLEARML_OFFLINE_MODE", "1")}
"""Tracker → the environment variable (and value) that keeps it offline."""
FOLDER = "trackers"
"""The trackers' local files, inside a run's folder."""


class TrackerError(ValueError):
    """A tracker that is not installed."""


def chosen_trackers(log_with: list[str] | None) -> list[str]:
    """The trackers to start: those named (each must be installed), or with None the default,
    TensorBoard where it is installed (the [train] extra), else none."""
    if log_with is None:
        return ["tensorboard"] if _installed("tensorboard") else []
    missing = [name for name in log_with if not _installed(name)]
    if missing:
        hint = {"tensorboard": "pip install 'autojudge-rl[train]'"}
        raise TrackerError("; ".join(f"tracking.log_with names {name}, which is not installed "
                                     f"({hint.get(name, f'pip install {name}')})"
                                     for name in missing)
                           + "; or leave it out (--log-with none for no tracker)")
    return list(dict.fromkeys(log_with))


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@dataclass(frozen=True)
class Tracking:
    """Which trackers one training run logs to, where, and under which names."""

    trackers: tuple[str, ...]
    folder: Path
    """Where the trackers write locally (TensorBoard events in `folder/project`)."""
    project: str
    run: str
    """This run's name (`ppo`, `warm-start`, `comparison-judge`, ...); its metrics are
    prefixed with it, except PPO's, which have their own sections."""
    online: bool
    config: dict[str, Any]
    """The resolved config, stored by each tracker as the run's hyper-parameters."""

    @classmethod
    def of(cls, config: Config, run_dir: str | Path, run: str) -> Tracking:
        """Tracking for a run that writes into `run_dir`, as `config.tracking` says."""
        cfg = config.tracking
        return cls(tuple(chosen_trackers(cfg.log_with)), Path(run_dir) / FOLDER, cfg.project,
                   run, cfg.online, hparams(to_dict(config)))

    def accelerator_kwargs(self) -> dict[str, Any]:
        """What `Accelerator(...)` needs to know of the trackers."""
        return {"log_with": list(self.trackers) or None, "project_dir": str(self.folder)}

    def init_kwargs(self, start_step: int) -> dict[str, dict[str, Any]]:
        """Per-tracker arguments: this run's name and local folders, offline switches, and
        TensorBoard's purge of steps after `start_step` (a resumed run)."""
        return {"tensorboard": {"purge_step": start_step + 1} if start_step else {},
                "wandb": {"name": self.run, "dir": str(self.folder)},
                "trackio": {"name": self.run},
                "mlflow": {"run_name": self.run},
                "comet_ml": {} if self.online else {"online": False},
                "dvclive": {"dir": str(self.folder / "dvclive")},
                "swanlab": {"experiment_name": self.run, "logdir": str(self.folder / "swanlog")}}


def start_tracking(accelerator: Any, tracking: Tracking | None, start_step: int = 0) -> None:
    """Start `accelerator`'s trackers (made with `tracking.accelerator_kwargs()`), offline
    unless `tracking.online` or the environment says otherwise."""
    if tracking is None or not tracking.trackers:
        return
    if accelerator.is_main_process:
        tracking.folder.mkdir(parents=True, exist_ok=True)
    if not tracking.online:
        for name in tracking.trackers:
            if name in OFFLINE_ENV:
                os.environ.setdefault(*OFFLINE_ENV[name])
        if "mlflow" in tracking.trackers:
            os.environ.setdefault("MLFLOW_TRACKING_URI", (tracking.folder / "mlruns").as_uri())
    accelerator.init_trackers(tracking.project, config=tracking.config,
                              init_kwargs=tracking.init_kwargs(start_step))


def hparams(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A config as flat `section.key` hyper-parameters of the types trackers store (numbers,
    text, booleans); lists and None as text."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(hparams(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value if isinstance(value, (bool, int, float, str)) \
                else json.dumps(value)
    return out


class RunLogger:
    """A training run's metrics, written by the main process only: each step's to the
    accelerator's trackers, and with `path` one JSONL row per step. On resume (`start_step`),
    rows after the resumed step (from a run killed before its next checkpoint) are dropped
    from the JSONL log and from TensorBoard, so the log reads as one uninterrupted run."""

    def __init__(self, path: str | Path | None, accelerator: Any = None,
                 start_step: int = 0) -> None:
        self.path = Path(path) if path is not None else None
        self.accelerator = accelerator
        self.enabled = accelerator is None or accelerator.is_main_process
        if self.path is None or not self.enabled:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        kept = _rows_up_to(self.path, start_step) if start_step else []
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
        os.replace(tmp, self.path)  # a kill now leaves the old log or the new one

    def log(self, step: int, metrics: dict[str, float]) -> None:
        if self.accelerator is not None:
            self.accelerator.log(metrics, step=step)  # the trackers (main process only)
        if self.path is not None and self.enabled:
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps({"step": step, **metrics}) + "\n")

    def close(self) -> None:
        """Finish the trackers (flush and close their files). Not `end_training`, which also
        ends the process group that the run still needs to save its policy."""
        if self.accelerator is not None:
            for tracker in self.accelerator.trackers:
                tracker.finish()
            self.accelerator.trackers = []


def _rows_up_to(path: Path, step: int) -> list[str]:
    """The log's lines of steps up to `step`. A last line that is not JSON was cut short by a
    kill mid-write and is dropped; a bad line before it is an error."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    kept = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):
                warnings.warn(f"{path}: dropped a half-written last line", RuntimeWarning)
                break
            raise ValueError(f"{path}:{number} is not a JSON row; fix or remove the line") from None
        if row["step"] <= step:
            kept.append(line)
    return kept
