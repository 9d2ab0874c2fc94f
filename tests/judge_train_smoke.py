"""A tiny judge trained by itself under `accelerate launch` (`python tests/judge_train_smoke.py
ENCODER_DIR HOME`, HOME an $AUTOJUDGE_HOME whose downloads/ holds the fixture sources): every
folder written in one piece (the built data, the judge) is noted, with the writing process, in
HOME/writes-<process>.txt."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main(encoder_dir: str, home_dir: str) -> None:
    import autojudge.data.build as build
    import autojudge.trainers.judges as judges
    from autojudge.config import load_config

    home = Path(home_dir)
    notes = home / f"writes-{os.environ.get('RANK', '0')}.txt"  # torchrun's process rank

    def noted(function):
        def wrapper(target, *args, **kwargs):
            with notes.open("a") as f:
                f.write(f"{Path(target).relative_to(home).parts[0]}\n")
            return function(target, *args, **kwargs)
        return wrapper

    build.atomic_dir = noted(build.atomic_dir)
    judges.atomic_dir = noted(judges.atomic_dir)
    config = load_config("configs/tiny.yaml", [f"models.encoder={encoder_dir}"])
    folder = judges.ensure_judge(config)
    assert (folder / "judge.json").is_file(), folder  # every process sees the finished judge


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent.parent))
    main(*sys.argv[1:3])
