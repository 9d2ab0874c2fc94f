"""Optional dependencies: import one where it is needed, or say which extra installs it."""

from __future__ import annotations

import importlib
from types import ModuleType

DISTRIBUTION = "autojudge-rl"
"""The name on PyPI (`autojudge` there is another project); the import name is `autojudge`."""


class MissingExtra(ImportError):
    """An optional dependency is not installed; the message names the extra that installs it."""


def require(module: str, extra: str, what: str) -> ModuleType:
    """`module`, imported; if it (or a package it needs) is missing, MissingExtra saying that
    `what` needs `extra`: "autojudge serve needs the [serve] extra (fastapi is not installed):
    pip install 'autojudge-rl[serve]'"."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        missing = err.name or module
        raise MissingExtra(f"{what} needs the [{extra}] extra ({missing} is not installed): "
                           f"pip install '{DISTRIBUTION}[{extra}]'") from err


def pyplot(what: str) -> ModuleType:
    """matplotlib.pyplot on the Agg backend (files only, no display), from the [train] extra."""
    matplotlib = require("matplotlib", "train", what)
    matplotlib.use("Agg")
    return importlib.import_module("matplotlib.pyplot")
