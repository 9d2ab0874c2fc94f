"""Start `autojudge serve` as a child process on a free loopback port and wait until it answers
(used by bench/serve_load.py and the tests)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def spawn_server(args: Sequence[str], log: Path, *, env: Mapping[str, str] | None = None,
                 module: str = "autojudge", cwd: Path | None = None,
                 timeout: float = 120.0) -> tuple[subprocess.Popen, str]:
    """`python -m MODULE serve --port P ARGS...` with its output in `log`; returns the process
    and its URL once GET /healthz answers 200. Raises RuntimeError (with the log) if the server
    exits or does not answer within `timeout` seconds."""
    import httpx

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", module, "serve", "--port", str(port), *args],
                            cwd=cwd, env=None if env is None else dict(env),
                            stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"server did not answer within {timeout:.0f} s:\n{log.read_text()}")
