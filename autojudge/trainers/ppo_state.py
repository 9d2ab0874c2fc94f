"""PPO run state on disk: atomic checkpoints (weights, optimizer, RNG, step) and the final
policy folder; the metrics log is `autojudge.trainers.tracking.RunLogger`."""

from __future__ import annotations

import copy
import json
import os
import random
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import yaml
from torch import nn

from autojudge.cache import atomic_dir
from autojudge.config import Config, save_config, to_dict
from autojudge.policy import Policy

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
    best_step: int = 0
    """The validated step with the highest validation reward so far: 0 is none yet, or the
    starting policy when `start_validated`."""
    best_reward: float = 0.0
    """Its mean validation reward."""
    start_validated: bool = False
    """Whether the starting policy was validated before the first update (`ppo.validate_start`);
    states saved before it could be read as False, which is what they mean."""

    @property
    def has_best(self) -> bool:
        """Whether a validated step (the start included) has been kept."""
        return self.best_step > 0 or self.start_validated


@dataclass
class Streams:
    """PPO's own random streams, one set per process, checkpointed with the run. They are not
    torch's global generator because other code in the process draws from that one whenever it
    likes: the default judge builds a probe layer on its first call, which in a resumed run falls
    after the restore and shifted every later draw (issue 17)."""

    sample: torch.Generator
    """Token draws of the rollouts, on the accelerator's device."""
    shuffle: torch.Generator
    """Minibatch order of the update epochs (CPU)."""

    @classmethod
    def seeded(cls, seed: int, process_index: int, device: torch.device | str) -> Streams:
        """Independent streams for (seed, process, purpose): each process samples differently."""
        def make(purpose: str, where: torch.device | str) -> torch.Generator:
            stream_seed = random.Random(f"{seed}/{process_index}/{purpose}").getrandbits(63)
            return torch.Generator(device=where).manual_seed(stream_seed)

        return cls(make("sample", device), make("shuffle", "cpu"))

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"sample": self.sample.get_state(), "shuffle": self.shuffle.get_state()}

    def load_state_dict(self, states: dict[str, torch.Tensor]) -> None:
        self.sample.set_state(states["sample"])
        self.shuffle.set_state(states["shuffle"])


def checkpoint_dir(out_dir: Path, step: int) -> Path:
    return Path(out_dir) / CHECKPOINTS / f"step-{step:06d}"


def latest_checkpoint(out_dir: str | Path) -> Path | None:
    """The complete checkpoint with the highest step, or None (temp folders are never complete)."""
    folder = Path(out_dir) / CHECKPOINTS
    done = [p for p in folder.glob("step-*") if (p / STATE_FILE).is_file()] if folder.is_dir() else []
    return max(done, key=lambda p: int(p.name.removeprefix("step-")), default=None)


def save_checkpoint(accelerator: Any, out_dir: Path, state: TrainState, config: Config,
                    streams: Streams) -> Path:
    """Every process writes its part (accelerate: model as safetensors, optimizer and per-process
    global RNG states with torch.save; ours: this process's `Streams`) into a temp folder that the
    main process then renames into place, so a kill at any moment leaves the previous checkpoint
    intact (the files are synced to disk before the rename: a machine crash does too). Older
    checkpoints are removed."""
    final = checkpoint_dir(out_dir, state.step)
    tmp = final.with_name(f".{final.name}.tmp")
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(tmp))
    torch.save(streams.state_dict(), tmp / streams_file(accelerator.process_index))
    if accelerator.is_main_process:
        save_config(config, tmp / "config.yaml")
        (tmp / STATE_FILE).write_text(json.dumps(asdict(state)), encoding="utf-8")  # written last
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        _sync(tmp)
        if final.exists():  # only when a fresh run reuses a folder
            shutil.rmtree(final)
        os.replace(tmp, final)
        _sync(final.parent)
        for old in final.parent.glob("step-*"):
            if old != final:
                shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final


def _sync(folder: Path) -> None:
    """fsync every file in `folder` (recursively) and the folder itself."""
    for path in [*sorted(p for p in folder.rglob("*") if p.is_file()), folder]:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def streams_file(process_index: int) -> str:
    return f"ppo_streams_{process_index}.pt"


def load_checkpoint(accelerator: Any, path: Path, streams: Streams) -> TrainState:
    """Restore weights, optimizer, this process's RNG states and `streams` (weights_only
    loads); the step."""
    index = accelerator.process_index
    for name in (f"random_states_{index}.pkl", streams_file(index)):
        if not (Path(path) / name).is_file():
            raise FileNotFoundError(f"{path} has no {name} for process {index} (was it written "
                                    f"with a different number of processes, or by a version "
                                    f"that did not checkpoint PPO's own random streams?)")
    accelerator.load_state(str(path))
    streams.load_state_dict(torch.load(Path(path) / streams_file(index), weights_only=True))
    return TrainState(**json.loads((Path(path) / STATE_FILE).read_text(encoding="utf-8")))


def config_differences(checkpoint: Path, config: Config) -> dict[str, tuple[Any, Any]]:
    """Dotted key → (the checkpoint's value, `config`'s) wherever the config saved with
    `checkpoint` differs from `config`; a key one side lacks reads ABSENT there."""
    saved = _flatten(yaml.safe_load((Path(checkpoint) / "config.yaml").read_text("utf-8")) or {})
    new = _flatten(yaml.safe_load(yaml.safe_dump(to_dict(config))))  # the saved types
    pairs = {key: (saved.get(key, ABSENT), new.get(key, ABSENT))
             for key in sorted(saved.keys() | new.keys())}
    return {key: (old, now) for key, (old, now) in pairs.items() if old != now}


ABSENT = "<absent>"


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def save_policy(accelerator: Any, model: nn.Module, policy: Policy, path: Path,
                lora: bool) -> Path:
    """The trained LM (LoRA merged into its weights) and tokenizer as a Hugging Face folder
    (`write_policy`); `policy.model` becomes that LM."""
    write_policy(accelerator, model, policy, path, lora)
    actor = accelerator.unwrap_model(model)
    policy.model = actor.lm.merge_and_unload() if lora else actor.lm
    return path


def write_policy(accelerator: Any, model: nn.Module, policy: Policy, path: Path,
                 lora: bool, notes: dict[str, Any] | None = None) -> None:
    """The LM being trained (LoRA merged into a copy) and the tokenizer as a Hugging Face
    folder, written atomically (with `notes`, as one more JSON file of that name, in the same
    folder); training goes on unchanged. The weights come from
    `accelerator.get_state_dict`, which gathers ZeRO-3 / FSDP shards onto the main process
    (every process must call this). With LoRA the main process merges a copy of its own LM,
    which is not gathered: LoRA under ZeRO-3 / FSDP is not supported by this save."""
    actor = accelerator.unwrap_model(model)
    state = None if lora else accelerator.get_state_dict(model)  # a collective: all processes
    if accelerator.is_main_process:
        lm = copy.deepcopy(actor.lm).merge_and_unload() if lora else actor.lm
        with atomic_dir(path) as tmp:
            lm.save_pretrained(tmp, state_dict=None if state is None else lm_weights(state, lm))
            policy.tokenizer.save_pretrained(tmp)
            for name, note in (notes or {}).items():
                (tmp / name).write_text(json.dumps(note) + "\n")
    accelerator.wait_for_everyone()


def lm_weights(state: dict[str, Any], lm: nn.Module) -> dict[str, Any]:
    """The LM's entries of the actor-critic's state dict (`lm.` prefix removed), each tied
    weight once (under the name `named_parameters` keeps), so a tied model saves as it loads."""
    names = {n for n, _ in lm.named_parameters()} | {n for n, _ in lm.named_buffers()}
    return {key[3:]: value for key, value in state.items()
            if key.startswith("lm.") and key[3:] in names}
