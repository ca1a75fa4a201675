"""The engine's layout: its modules import each other without a cycle (imports made only for type
checking included), the run state is a leaf, and nothing in it reads the environment (the worker
passes its settings in)."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "worker" / "engine"
PACKAGE = "worker.engine"


def _modules() -> dict[str, ast.Module]:
    return {path.stem: ast.parse(path.read_text(), str(path)) for path in sorted(ENGINE.glob("*.py"))}


def _engine_imports(tree: ast.Module, modules: set[str]) -> set[str]:
    """The engine modules a module imports, anywhere in it (under `if TYPE_CHECKING:` too)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 or node.module == PACKAGE or (node.module or "").startswith(PACKAGE + "."):
                base = (
                    node.module if node.level == 0 else f"{PACKAGE}.{node.module}" if node.module else PACKAGE
                )
                if base == PACKAGE:  # from . import kernels
                    found |= {alias.name for alias in node.names if alias.name in modules}
                else:
                    found.add(base.removeprefix(PACKAGE + ".").split(".")[0])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGE + "."):
                    found.add(alias.name.removeprefix(PACKAGE + ".").split(".")[0])
    return found & modules


def _graph() -> dict[str, set[str]]:
    trees = _modules()
    names = set(trees) - {"__init__"}
    return {name: _engine_imports(trees[name], names) for name in names}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path (first module repeated at the end), or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        for target in sorted(graph[node]):
            found = visit(target, [*path, node])
            if found:
                return found
        done.add(node)
        return None

    for start in sorted(graph):
        found = visit(start, [])
        if found:
            return found
    return None


def test_the_engine_modules_import_each_other_without_a_cycle() -> None:
    graph = _graph()
    assert {"checkpoint", "run_state", "callbacks"} <= graph["loop"]  # the walk sees the imports
    assert _cycle(graph) is None, " → ".join(_cycle(graph) or [])


def test_the_cycle_check_finds_a_cycle() -> None:
    # the check itself: a cycle through a type-checking import, as errors ↔ checkpoint once was
    graph = _graph()
    graph["run_state"] = graph["run_state"] | {"errors"}
    graph["errors"] = graph["errors"] | {"checkpoint"}
    assert _cycle(graph) == ["checkpoint", "run_state", "errors", "checkpoint"]


def test_the_run_state_imports_nothing_from_the_engine() -> None:
    assert _graph()["run_state"] == set()


def test_the_engine_reads_no_environment_variable() -> None:
    for name, tree in _modules().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "putenv"):
                raise AssertionError(f"worker/engine/{name}.py:{node.lineno} reads the environment")
            if isinstance(node, ast.ImportFrom) and node.module == "os":
                assert not {a.name for a in node.names} & {"environ", "getenv"}, (
                    f"{name}.py imports os.environ"
                )
