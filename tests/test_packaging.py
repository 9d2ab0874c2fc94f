"""Packaging: every third-party import is declared, optional ones are imported lazily, and a
missing extra is one clear error that names it."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import textwrap
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from autojudge._extras import DISTRIBUTION, MissingExtra, require

ROOT = Path(__file__).parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
OPTIONAL = ("fastapi", "fastapi_offline", "gguf", "matplotlib", "openai", "peft", "pydantic",
            "sentence_transformers", "tensorboard", "uvicorn")
"""Import names that only the extras install (core installs none of them)."""


def _name(requirement: str) -> str:
    """The canonical distribution name of a requirement string."""
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9_.-]+", requirement)[0]).lower()


def _imports(top_level_only: bool) -> dict[str, list[str]]:
    """Third-party import name -> where autojudge imports it (module level only, or anywhere);
    imports under `if TYPE_CHECKING:` are left out (they never run)."""
    stdlib = set(sys.stdlib_module_names)
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "autojudge").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nodes = tree.body if top_level_only else list(ast.walk(tree))
        skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                   and "TYPE_CHECKING" in ast.unparse(node.test) for n in ast.walk(node)}
        for node in nodes:
            if id(node) in skipped:
                continue
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                if top not in stdlib and top not in ("autojudge", "__future__"):
                    found.setdefault(top, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def _distribution(import_name: str) -> str:
    return _name(packages_distributions()[import_name][0])


def test_every_import_is_declared():
    core = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    extras = {_name(r) for group in ("serve", "llm", "train")
              for r in PYPROJECT["project"]["optional-dependencies"][group]}
    undeclared = {name: where for name, where in _imports(top_level_only=False).items()
                  if _distribution(name) not in core | extras}
    assert undeclared == {}


def test_module_level_imports_are_core():
    core = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    optional = {name: where for name, where in _imports(top_level_only=True).items()
                if _distribution(name) not in core}
    assert optional == {}, "import these inside the function that needs them, after require()"


def test_the_optional_list_is_what_the_extras_install():
    core = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    assert {_distribution(name) for name in OPTIONAL}.isdisjoint(core)


def test_require_names_the_extra():
    assert require("json", "serve", "x").__name__ == "json"
    with pytest.raises(MissingExtra) as err:
        require("autojudge_no_such_module", "serve", "autojudge serve")
    assert str(err.value) == ("autojudge serve needs the [serve] extra (autojudge_no_such_module "
                              f"is not installed): pip install '{DISTRIBUTION}[serve]'")
    assert isinstance(err.value, ImportError)


def test_the_distribution_name_is_the_one_in_pyproject():
    assert PYPROJECT["project"]["name"] == DISTRIBUTION


PROBE = textwrap.dedent("""
    import importlib.abc, sys
    BLOCKED = set(sys.argv[1].split(","))

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    sys.meta_path.insert(0, Block())
    import autojudge
    from autojudge._extras import MissingExtra, pyplot
    from autojudge.cli import build_parser, main
    from autojudge.serve.app import create_app
    build_parser()
    assert main(["serve", "--port", "8123"]) == 1
    try:
        autojudge.load_judge("llm:some-model", base_url="http://127.0.0.1:9")
    except MissingExtra as err:
        print(err, file=sys.stderr)
    try:
        pyplot("the plot")
    except MissingExtra as err:
        print(err, file=sys.stderr)
""")


def test_core_install_imports_without_the_extras():
    """With every optional package hidden: `autojudge` and its CLI import; `serve`, the LLM
    judge and a plot each fail with one sentence naming their extra (no stack trace)."""
    out = subprocess.run([sys.executable, "-c", PROBE, ",".join(OPTIONAL)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stderr.splitlines() == [
        "autojudge: error: autojudge serve needs the [serve] extra (fastapi is not installed): "
        f"pip install '{DISTRIBUTION}[serve]'",
        f"the LLM judge needs the [llm] extra (openai is not installed): pip install "
        f"'{DISTRIBUTION}[llm]'",
        f"the plot needs the [train] extra (matplotlib is not installed): pip install "
        f"'{DISTRIBUTION}[train]'"]


def test_lowest_constraints_pin_every_lower_bound():
    """constraints/lowest.txt (what `make test-lowest` installs) holds exactly the lower bound of
    every requirement, core and extras."""
    from packaging.requirements import Requirement
    from packaging.version import Version

    project = PYPROJECT["project"]
    declared = {}
    for text in [*project["dependencies"], *(r for group, rs in
                                              project["optional-dependencies"].items()
                                              if group != "all" for r in rs)]:
        req = Requirement(text)
        (low,) = [s.version for s in req.specifier if s.operator == ">="]
        declared[_name(req.name)] = Version(low)
    lines = (ROOT / "constraints" / "lowest.txt").read_text(encoding="utf-8").splitlines()
    pinned = dict(line.split("==") for line in lines if line and not line.startswith("#"))
    assert {_name(name): Version(version) for name, version in pinned.items()} == declared
