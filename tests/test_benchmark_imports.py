"""The benchmarks' import rule, checked on the source (an AST walk, so lazy imports inside
functions count too): what two benchmarks share lives in ``benchmarks/common.py``, and a
benchmark takes nothing else from a sibling but its public ``measure`` (how ``run.py``
gathers the suite and ``memory.py`` the autosave figures). No circles, and ``common`` imports
no benchmark.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
SHARED = "common"
ENTRY = "measure"  # the one name a benchmark may take from another


def problems(folder: Path) -> list[str]:
    """Every break of the rule in the benchmark modules of ``folder`` (a package named
    ``benchmarks``), as readable lines."""
    modules = {p.stem: p for p in folder.glob("*.py") if p.stem != "__init__"}
    found: list[str] = []
    uses: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in sorted(modules.items()):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("benchmarks."):
                        found.append(f"{name}: 'import {alias.name}' (import names from "
                                     f"benchmarks.{SHARED}, or another benchmark's {ENTRY})")
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module == "benchmarks":
                    found.append(f"{name}: 'from benchmarks import ...' takes whole modules")
                    continue
                if not node.module.startswith("benchmarks."):
                    continue
                other = node.module.removeprefix("benchmarks.")
                if other == SHARED:
                    if name == SHARED:
                        found.append(f"{name}: imports itself")
                    continue
                if name == SHARED:
                    found.append(f"{SHARED}: imports the benchmark {other}")
                    continue
                taken = [alias.name for alias in node.names]
                if taken != [ENTRY]:
                    found.append(f"{name}: takes {', '.join(taken)} from the benchmark "
                                 f"{other} (shared helpers belong in {SHARED}.py; from a "
                                 f"benchmark only its {ENTRY})")
                    continue
                uses[name].add(other)
    for name, others in sorted(uses.items()):
        for other in sorted(others):
            if other not in modules:
                found.append(f"{name}: imports {other}, which is not a benchmark here")
                continue
            tree = ast.parse(modules[other].read_text(encoding="utf-8"))
            if not any(isinstance(node, ast.FunctionDef) and node.name == ENTRY
                       for node in tree.body):
                found.append(f"{name}: {other} has no {ENTRY}() to take")
    found += [f"a circle: {' -> '.join(circle)}" for circle in circles(uses)]
    return found


def circles(uses: dict[str, set[str]]) -> list[list[str]]:
    """The import circles among benchmarks (each found once, from its smallest name)."""
    out = []
    for start in sorted(uses):
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in sorted(uses.get(node, ())):
                if nxt == start:
                    out.append([*path, start])
                elif nxt > start and nxt not in path:
                    stack.append((nxt, [*path, nxt]))
    return out


def test_benchmarks_share_only_common_and_measure() -> None:
    assert (BENCHMARKS / f"{SHARED}.py").exists()
    assert problems(BENCHMARKS) == []


def test_every_aggregated_benchmark_is_used_through_measure() -> None:
    # The suite gathers the benchmarks it reports through their measure (not private names).
    run = (BENCHMARKS / "run.py").read_text(encoding="utf-8")
    for other in ("candidates", "upstream", "memory"):
        assert f"from benchmarks.{other} import {ENTRY} as" in run, other


def write(folder: Path, files: dict[str, str]) -> Path:
    package = folder / "benchmarks"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name, text in files.items():
        (package / f"{name}.py").write_text(text)
    return package


@pytest.mark.parametrize(("files", "expected"), [
    ({"common": "", "a": "def measure(): pass\n", "b": "from benchmarks.a import THREADS\n"},
     "b: takes THREADS from the benchmark a"),
    ({"common": "", "a": "def measure(): pass\n",
      "b": "def f():\n    from benchmarks.a import _helper\n"},
     "b: takes _helper from the benchmark a"),
    ({"common": "", "a": "", "b": "from benchmarks.a import measure\n"},
     "b: a has no measure() to take"),
    ({"common": "", "a": "", "b": "from benchmarks import a\n"},
     "b: 'from benchmarks import ...' takes whole modules"),
    ({"common": "", "a": "", "b": "import benchmarks.a\n"}, "b: 'import benchmarks.a'"),
    ({"common": "from benchmarks.a import measure\n", "a": "def measure(): pass\n"},
     "common: imports the benchmark a"),
    ({"common": "", "a": "from benchmarks.b import measure\ndef measure(): pass\n",
      "b": "from benchmarks.a import measure\ndef measure(): pass\n"},
     "a circle: a -> b -> a"),
])
def test_the_rule_catches(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    found = problems(write(tmp_path, files))
    assert any(line.startswith(expected) for line in found), found


def test_the_rule_allows_common_and_measure(tmp_path: Path) -> None:
    package = write(tmp_path, {
        "common": "THREADS = 2\n",
        "a": "from benchmarks.common import THREADS\ndef measure(): return THREADS\n",
        "b": "from benchmarks.a import measure as measure_a\n"
             "def f():\n    from benchmarks.common import THREADS\n"})
    assert problems(package) == []
