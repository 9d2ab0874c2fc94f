"""The local cache of models and data ($AUTOJUDGE_HOME) and fetching packages from PyPI into it."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
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


def pip_download(package: str, version: str, *, sdist: bool = False) -> Path:
    """Download one distribution (no dependencies) into the cache once; return its file.

    Wheels go through `pip download --no-deps`, so the user's pip settings (mirror, proxy, certs)
    apply. Sdists are fetched from the index's JSON API instead: pip 26 prepares an sdist's
    metadata even with --no-deps, and refuses bigbench's for its direct-URL dependencies.
    """
    dest = home() / "downloads"
    dest.mkdir(parents=True, exist_ok=True)
    # Wheel and sdist names normalise "-" to "_"; compare both sides that way.
    stem = f"{package}_{version}".replace("-", "_").lower()
    want = (lambda n: n == f"{stem}.tar.gz") if sdist else (
        lambda n: n.startswith(f"{stem}_") and n.endswith(".whl"))
    found = sorted(p for p in dest.iterdir() if want(p.name.replace("-", "_").lower()))
    if found:
        return found[0]
    wheelhouse = os.environ.get("AUTOJUDGE_WHEELHOUSE")
    say(f"downloading {package}=={version} from {wheelhouse or 'PyPI'} (once) ...")
    if sdist:
        _download_sdist(package, version, dest, wheelhouse)
    else:
        _pip_download_wheel(package, version, dest, wheelhouse)
    return pip_download(package, version, sdist=sdist)


def _pip_download_wheel(package: str, version: str, dest: Path, wheelhouse: str | None) -> None:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
           "--only-binary", ":all:", "--dest", str(dest), f"{package}=={version}"]
    if wheelhouse:  # an air-gapped machine: a folder of the files, no index at all
        cmd += ["--no-index", "--find-links", wheelhouse]
    result = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        tail = result.stderr.strip().splitlines()[-1:] or ["no output"]
        raise FetchError(f"could not download {package}=={version} from PyPI: {tail[0]}")


def _download_sdist(package: str, version: str, dest: Path, wheelhouse: str | None) -> None:
    filename = f"{package}-{version}.tar.gz"
    if wheelhouse:
        source = Path(wheelhouse) / filename
        if not source.is_file():
            raise FetchError(f"could not find {filename} in {wheelhouse}")
        shutil.copy(source, dest / filename)
        return
    index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/")
    try:
        request = urllib.request.Request(f"{index}/{package}/",
                                         headers={"Accept": "application/vnd.pypi.simple.v1+json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            files = json.load(response)["files"]
        (entry,) = [f for f in files if f["filename"] == filename]
        _stream(entry["url"], dest / filename, entry["hashes"].get("sha256"))
    except (OSError, ValueError, KeyError) as err:
        raise FetchError(f"could not download {package}=={version} from {index}: {err}") from None


def _stream(url: str, target: Path, sha256: str | None) -> None:
    """Download to a temp file with a progress bar, check the hash, then rename into place."""
    from tqdm.auto import tqdm

    tmp = target.with_name(f".{target.name}.part")
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=60) as response, tmp.open("wb") as out, tqdm(
            total=int(response.headers.get("Content-Length") or 0) or None, unit="B",
            unit_scale=True, desc=target.name, leave=False) as bar:
        for block in iter(lambda: response.read(1 << 20), b""):
            out.write(block)
            digest.update(block)
            bar.update(len(block))
    if sha256 and digest.hexdigest() != sha256:
        tmp.unlink()
        raise ValueError(f"sha256 mismatch for {target.name}")
    tmp.rename(target)


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
