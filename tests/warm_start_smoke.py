"""A tiny warm-start run by itself under `accelerate launch` (`python tests/warm_start_smoke.py
MODEL_DIR OUT_DIR`): every file the run writes is noted, with the writing process, in
OUT_DIR/writes-<process>.txt."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main(model_dir: str, out_dir: str) -> None:
    import autojudge.trainers.warm_start as ws
    from autojudge.config import load_config
    from autojudge.policy import load_policy
    from autojudge.types import Record
    from tests.test_adapters import SubstringJudge

    out = Path(out_dir)
    notes = out / f"writes-{os.environ.get('RANK', '0')}.txt"  # torchrun's process rank
    out.mkdir(parents=True, exist_ok=True)

    def noted(function, path_at):
        def wrapper(*args, **kwargs):
            with notes.open("a") as f:
                f.write(f"{Path(args[path_at]).relative_to(out)}\n")
            return function(*args, **kwargs)
        return wrapper

    ws.write_jsonl = noted(ws.write_jsonl, 0)
    ws.atomic_dir = noted(ws.atomic_dir, 0)
    ws.save_config = noted(ws.save_config, 1)  # (config, path)
    config = load_config("configs/tiny.yaml", ["warm_start.questions=6", "warm_start.samples=2",
                                               "warm_start.epochs=1", "warm_start.lr=1e-2"])
    questions = [Record(f"who wrote book {i} ?", ("zzz-never",), id=f"q{i}") for i in range(8)]
    ws.warm_start(config, load_policy(model_dir), SubstringJudge(), questions, out / "run")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent.parent))
    main(*sys.argv[1:3])
