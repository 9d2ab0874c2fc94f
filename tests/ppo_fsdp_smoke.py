"""ppo_smoke.py with the policy sharded by FSDP2 across CPU processes, run by itself under
`accelerate launch --multi_gpu --num_processes 2` with ACCELERATE_USE_CPU
(`python tests/ppo_fsdp_smoke.py MODEL_DIR OUT_DIR`).

accelerate offers FSDP only on accelerators; on CPU its launcher gives gloo processes of type
MULTI_CPU. Here, once the process group is up, its state is switched to FSDP2 by hand, so that
`prepare` really shards every weight across the processes (each holds part of each tensor as a
DTensor) and `get_state_dict` really gathers them: the same code paths as on GPUs, run on CPU.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))
sys.path.insert(0, str(Path(__file__).parent))


def fsdp2(make):
    """`make_accelerator`, then the accelerator's state switched to FSDP2."""

    def made(*args, **kwargs):
        from accelerate import FullyShardedDataParallelPlugin
        from accelerate.state import AcceleratorState, PartialState
        from accelerate.utils import DistributedType

        accelerator = make(*args, **kwargs)
        plugin = FullyShardedDataParallelPlugin(
            fsdp_version=2, reshard_after_forward=True, auto_wrap_policy="transformer_based_wrap",
            transformer_cls_names_to_wrap=["LlamaDecoderLayer"],
            state_dict_type="SHARDED_STATE_DICT")
        for state in (PartialState._shared_state, AcceleratorState._shared_state):
            state["distributed_type"] = DistributedType.FSDP
        AcceleratorState._shared_state["fsdp_plugin"] = plugin
        return accelerator

    return made


def main(model_dir: str, out_dir: str) -> None:
    import json

    import torch

    import autojudge.trainers.ppo as ppo
    from ppo_smoke import main as smoke

    from accelerate import Accelerator

    ppo.make_accelerator = fsdp2(ppo.make_accelerator)
    original, sharded = Accelerator.prepare, []

    def prepare_and_record(self, *objects, **kwargs):
        """`prepare`, recording how much of the model this process holds."""
        out = original(self, *objects, **kwargs)
        for obj in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(obj, torch.nn.Module):
                local = [p.to_local().numel() for p in obj.parameters() if hasattr(p, "to_local")]
                sharded.append({"distributed_type": str(self.distributed_type),
                                "dtensors": len(local),
                                "local": sum(local),
                                "full": sum(p.numel() for p in obj.parameters())})
        return out

    Accelerator.prepare = prepare_and_record
    smoke(model_dir, out_dir)
    # a file per process: two processes printing at once may share a line of the launcher's pipe
    rank = os.environ.get("RANK", "0")
    (Path(out_dir).parent / f"sharded-{rank}.json").write_text(json.dumps(sharded))


if __name__ == "__main__":
    main(*sys.argv[1:3])
