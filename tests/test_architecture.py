"""The package's structure: no import cycle, no upward import, no function-local import of our
own modules (that is how cycles hide), no function over 60 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "autojudge"

LAYERS = [
    # foundation: plain data, config, files, the cache
    {"autojudge._version", "autojudge._extras", "autojudge.types", "autojudge.text",
     "autojudge.quantities",
     "autojudge.registry", "autojudge.cache", "autojudge.config", "autojudge.io"},
    {"autojudge.models", "autojudge.policy"},          # models and generation
    {"autojudge.data"},                                # data sources and splits
    {"autojudge.judges", "autojudge.client"},          # judges (the client is a remote judge)
    {"autojudge.policy_eval", "autojudge.scoring"},    # judging a policy / a file
    {"autojudge.rewards"},                             # rewards and their calibration
    {"autojudge.trainers"},                            # judge training, warm-start, PPO
    {"autojudge.serve"},                               # the HTTP service
    {"autojudge.jobs"},                                # the application layer
    {"autojudge.cli", "autojudge.__main__", "autojudge"},     # entry points, the public API
]
"""Lowest first; a module may import its own layer (without cycles) and the layers below."""


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def layer_of(name: str) -> int:
    for i, layer in enumerate(LAYERS):
        if any(name == m or (m != "autojudge" and name.startswith(m + ".")) for m in layer):
            return i
    raise AssertionError(f"{name} is in no layer of tests/test_architecture.py: add it")


def imports(name: str, path: Path, known: dict[str, Path]) -> list[tuple[str, int, bool]]:
    """(imported module of ours, line, at module level) for every import in a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([node.module] if node.module else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                       for a in node.names]
        else:
            continue
        for target in targets:
            if target == "autojudge" or target.startswith("autojudge."):
                while target not in known and "." in target:
                    target = target.rpartition(".")[0]
                found.append((target, node.lineno, id(node) in top))
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, list[tuple[str, int, bool]]]:
    known = modules()
    return {name: [t for t in imports(name, path, known) if t[0] != name]
            for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle(graph):
    edges = {name: {t for t, _, _ in found} for name, found in graph.items()}
    assert cycles(edges) == []


def test_no_upward_import(graph):
    upward = [f"{name}:{line} imports {target}" for name, found in graph.items()
              for target, line, _ in found if layer_of(target) > layer_of(name)]
    assert upward == []


def test_judges_import_no_trainer_job_or_cli(graph):
    bad = [f"{name}:{line} imports {target}" for name, found in graph.items()
           if name.startswith("autojudge.judges") for target, line, _ in found
           if any(target == top or target.startswith(top + ".") for top in
                  ("autojudge.trainers", "autojudge.jobs", "autojudge.cli"))]
    assert bad == []


def test_no_function_local_import_of_our_modules(graph):
    local = [f"{name}:{line} imports {target}" for name, found in graph.items()
             for target, line, top in found if not top]
    assert local == []


def test_no_function_over_60_lines():
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > 60:
                    long.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} "
                                f"{node.name} ({length} lines)")
    assert long == []


def test_the_checks_can_fail():
    # A cycle, an upward import and a local import, as the checks above would see them.
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert layer_of("autojudge.judges.ensemble") < layer_of("autojudge.trainers.judges")
    tree_source = "def f():\n    from autojudge.types import Record\n"
    path = PACKAGE.parent / "tests" / "_arch_probe.py"
    path.write_text(tree_source)
    try:
        found = imports("autojudge.probe", path, modules())
    finally:
        path.unlink()
    assert found == [("autojudge.types", 2, False)]
