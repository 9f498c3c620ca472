"""The house rules for imports, checked on the source (an AST walk, so lazy imports inside
functions count too): every import goes down the layers, siblings stay apart, and no two
modules import each other, directly or around a circle.

    cli -> tui | plain -> game/launch -> story | config -> engine -> base modules
"""

from __future__ import annotations

import ast
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "gpt2_adventure"

# Highest first. A module may import its own group and anything in a lower layer; two groups
# in one layer (tui and plain, story and config) never import each other.
LAYERS: list[dict[str, tuple[str, ...]]] = [
    {"cli": ("cli", "__main__")},
    {"tui": ("tui",), "plain": ("plain",)},
    {"game": ("game", "game_commands", "launch")},
    {"story": ("story",), "config": ("config",)},
    {"engine": ("engine",)},
    {"base": ("errors", "fileio", "paths", "resources", "safe_text", "schema", "units",
              "")},
]


def module_names(root: Path) -> dict[str, Path]:
    """Dotted names (without the package's own) of every module under ``root``."""
    names = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def imports_of(path: Path, name: str, known: dict[str, Path], package: str) -> Iterator[str]:
    """The package's modules that ``path`` imports, anywhere in the file."""
    is_package = path.name == "__init__.py"
    here = name.split(".") if is_package else name.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level + 1]
                module = ".".join([package, *base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            targets = [f"{module}.{alias.name}" for alias in node.names] + [module]
        else:
            continue
        for target in targets:
            if target != package and not target.startswith(package + "."):
                continue
            inner = target[len(package) + 1:] if target != package else ""
            if inner in known and inner != name:
                yield inner
                if isinstance(node, ast.ImportFrom):
                    break  # "from pkg import module" names the module, not the package


def graph(root: Path) -> dict[str, set[str]]:
    known = module_names(root)
    return {name: set(imports_of(path, name, known, root.name)) for name, path in known.items()}


def layer_of(module: str) -> tuple[int, str]:
    top = module.split(".")[0]
    for index, groups in enumerate(LAYERS):
        for group, prefixes in groups.items():
            if top in prefixes:
                return index, group
    raise AssertionError(f"module {module!r} belongs to no layer: add it to LAYERS")


def upward_imports(edges: dict[str, set[str]]) -> list[str]:
    problems = []
    for module, targets in sorted(edges.items()):
        (layer, group) = layer_of(module)
        for target in sorted(targets):
            (target_layer, target_group) = layer_of(target)
            if target_layer < layer or (target_layer == layer and target_group != group):
                problems.append(f"{module} ({group}) imports {target} ({target_group})")
    return problems


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_every_import_goes_down_the_layers() -> None:
    assert upward_imports(graph(PACKAGE)) == []


def test_no_import_cycles() -> None:
    assert cycles(graph(PACKAGE)) == []


def test_the_engine_is_the_floor() -> None:
    """The engine imports only itself and the base modules (config, story, tui, game and
    cli above it are named here too, so a change to LAYERS cannot quietly allow them)."""
    edges = graph(PACKAGE)
    above = ("config", "story", "tui", "game", "launch", "plain", "cli")
    leaks = [f"{module} -> {target}" for module, targets in edges.items()
             if module.startswith("engine") for target in targets
             if target.split(".")[0] in above]
    assert leaks == []


@pytest.fixture()
def package_copy(tmp_path: Path) -> Path:
    copy = tmp_path / PACKAGE.name
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


@pytest.mark.parametrize(("where", "line", "expected"), [
    ("engine/llama/upward.py", "from gpt2_adventure.config import Settings\n",
     "engine.llama.upward (engine) imports config (config)"),
    ("story/upward.py", "def later():\n    from gpt2_adventure.tui.app import run_tui\n",
     "story.upward (story) imports tui.app (tui)"),
    ("plain_upward.py", "from gpt2_adventure.tui import app\n", None),
    ("engine/upward.py", "from ..game import Game\n", "engine.upward (engine) imports game (game)"),
])
def test_an_upward_import_is_caught(package_copy: Path, where: str, line: str,
                                    expected: str | None) -> None:
    (package_copy / where).write_text(line)
    if expected is None:  # a module outside every layer is refused outright
        with pytest.raises(AssertionError, match="belongs to no layer"):
            upward_imports(graph(package_copy))
        return
    assert upward_imports(graph(package_copy)) == [expected]


def test_a_cycle_is_caught(package_copy: Path) -> None:
    (package_copy / "engine" / "ping.py").write_text("from gpt2_adventure.engine import pong\n")
    (package_copy / "engine" / "pong.py").write_text(
        "def back():\n    from gpt2_adventure.engine.ping import x\n")
    assert cycles(graph(package_copy)) == [["engine.ping", "engine.pong"]]
