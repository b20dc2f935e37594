"""The layout's rules, checked on the source: no import cycles in ``composer``, the library never imports the GUI
toolkit, the music data model never imports PyTorch, one family never imports another, and no function over
60 lines or class over 400 lines in ``composer`` or ``gui``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FAMILIES = ("melody", "harmony", "polyphonic")
MAX_FUNCTION_LINES = 60
MAX_CLASS_LINES = 400


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources(package: str) -> dict[str, ast.Module]:
    return {_module_name(p): ast.parse(p.read_text(), str(p)) for p in sorted((REPO / package).rglob("*.py"))}


def _imports(tree: ast.Module, modules: set[str]) -> set[str]:
    """The project modules a module imports anywhere in it (top level or inside functions)."""
    found = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        found.update(name for name in names if name in modules)
    return found


@pytest.fixture(scope="module")
def composer_imports() -> dict[str, set[str]]:
    trees = _sources("composer")
    modules = set(trees)
    return {name: _imports(tree, modules) - {name} for name, tree in trees.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of the graph (a list of modules, first repeated at the end), or None."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state and (found := visit(target)):
                return found
        state[node] = 2
        path.pop()
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_no_import_cycles_in_composer(composer_imports):
    # a package imports its own __init__ implicitly; those edges are not cycles of the code
    graph = {m: {t for t in targets if not m.startswith(t + ".")} for m, targets in composer_imports.items()}
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_families_do_not_import_each_other_and_music_needs_no_torch(composer_imports):
    for module, targets in composer_imports.items():
        family = module.split(".")[1] if module.count(".") >= 1 else ""
        for target in targets:
            other = target.split(".")[1] if target.count(".") >= 1 else ""
            if family in FAMILIES and other in FAMILIES:
                assert other == family, f"{module} imports {target}: families share code only through core"
            if family in ("music", "core"):
                assert other not in FAMILIES + ("cli",), f"{module} ({family}) imports {target}"
    for path in (REPO / "composer" / "music").rglob("*.py"):
        tree = ast.parse(path.read_text())
        roots = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for alias in node.names}
        roots |= {node.module.split(".")[0] for node in ast.walk(tree)
                  if isinstance(node, ast.ImportFrom) and node.module}
        assert "torch" not in roots, f"{path} imports torch: the music data model must not"


def test_the_library_never_imports_the_gui_toolkit():
    for path in (REPO / "composer").rglob("*.py"):
        assert "PySide6" not in path.read_text(), f"{path} mentions PySide6"


@pytest.mark.parametrize("package", ["composer", "gui"])
def test_no_long_functions_or_classes(package):
    long = []
    for path in sorted((REPO / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            lines = getattr(node, "end_lineno", 0) - getattr(node, "lineno", 0) + 1
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and lines > MAX_FUNCTION_LINES:
                long.append(f"{path.relative_to(REPO)}:{node.lineno} function {node.name} ({lines} lines)")
            elif isinstance(node, ast.ClassDef) and lines > MAX_CLASS_LINES:
                long.append(f"{path.relative_to(REPO)}:{node.lineno} class {node.name} ({lines} lines)")
    assert not long, "\n".join(long)
