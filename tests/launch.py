"""Running a test script on 2 CPU processes under `accelerate launch`, as the multi-process
tests do. `accelerate launch --cpu` starts one process unless MPI is set up; torchrun's launcher
(`--multi_gpu`) with ACCELERATE_USE_CPU starts two gloo processes on a CPU-only machine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def launch_two(script: str, *args: str | Path, hf_home: Path, timeout: int = 180,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`tests/<script> ARGS…` on 2 processes; its output captured as text."""
    env = {**os.environ, "ACCELERATE_USE_CPU": "true", "HF_HOME": str(hf_home),
           "OMP_NUM_THREADS": "1", **(env or {})}
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
           "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
           "--dynamo_backend", "no", "--main_process_port", "0",
           str(ROOT / "tests" / script), *map(str, args)]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT)
