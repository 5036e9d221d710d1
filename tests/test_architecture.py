"""The house's import arrows (issue #11, docs/architecture.md): no circles, and only downward.

A *room* is a top-level entry of ``jupyter_llm/`` (``model``, ``store``, ``display``, ...).
Every import counts, lazy ones inside functions included; imports under
``if TYPE_CHECKING:`` do not (they never run). Relative imports are resolved.
The package root (``jupyter_llm/__init__.py``) is the facade above every room
and may import any of them, so it is not a room here.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "jupyter_llm"

#: Room -> room arrows that still close a circle, each owned by another change of #11.
#: Everything not listed here must be acyclic.
KNOWN_CIRCLE_EDGES: set[tuple[str, str]] = set()

#: The core: tokenizers, models, training, decoding, persistence, config.
CORE = {"text", "model", "training", "generation", "store", "config", "options", "resolver"}
#: What the core must never import: the surfaces, the renderings and the assistant.
ABOVE_CORE = {"magics", "widgets", "kernel", "cli", "display", "assistant", "nlu", "shell", "settings", "extension"}

#: Rooms whose modules must not import each other in a circle either (#11).
ACYCLIC_INSIDE = {"nlu", "assistant"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def room(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_nodes(tree: ast.AST):
    """Every node except the bodies of ``if TYPE_CHECKING:`` (their ``else:`` runs, so it counts)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def imported_modules(path: Path) -> set[str]:
    """The ``jupyter_llm`` modules a file imports at run time (``from pkg import mod`` names ``pkg.mod``)."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)  # maybe a submodule
    known = all_modules()
    # keep real modules only: `from ..errors import invalid` names jupyter_llm.errors, not ...errors.invalid
    return {m for m in found if m in known and m != module}


_MODULES: dict[str, Path] = {}


def all_modules() -> dict[str, Path]:
    if not _MODULES:
        _MODULES.update((module_name(p), p) for p in sorted(PACKAGE.rglob("*.py")))
    return _MODULES


def module_graph() -> dict[str, set[str]]:
    return {name: imported_modules(path) for name, path in all_modules().items()}


def room_graph() -> dict[str, set[str]]:
    rooms: dict[str, set[str]] = defaultdict(set)
    for source, targets in module_graph().items():
        a = room(source)
        if a is None:
            continue
        for target in targets:
            b = room(target)
            if b is not None and b != a and (a, b) not in KNOWN_CIRCLE_EDGES:
                rooms[a].add(b)
    return dict(rooms)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path ``[a, b, ..., a]``, or None if it is acyclic."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


def _edges_into(graph: dict[str, set[str]], cycle: list[str]) -> str:
    modules = module_graph()
    lines = []
    for a, b in zip(cycle, cycle[1:]):
        where = sorted(f"{m} -> {t}" for m, ts in modules.items() for t in ts if (room(m), room(t)) == (a, b))
        lines.append(f"  {a} -> {b}: " + "; ".join(where[:5]))
    return "\n".join(lines)


def test_the_walk_sees_lazy_imports_and_skips_type_checking():
    imports = imported_modules(PACKAGE / "nlu" / "model.py")
    assert "jupyter_llm.nlu.training" in imports  # lazy, inside IntentSlotModel.fit
    assert "jupyter_llm.nlu.model" not in imported_modules(PACKAGE / "nlu" / "training.py")  # TYPE_CHECKING only
    assert "jupyter_llm.store" in imports  # `from .. import store`


def test_find_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_circles_between_rooms():
    graph = room_graph()
    cycle = find_cycle(graph)
    assert cycle is None, (
        "The rooms of jupyter_llm import each other in a circle: " + " -> ".join(cycle)
        + "\n" + _edges_into(graph, cycle)
        + "\nArrows point down only (docs/architecture.md); move the shared piece down, or invert the call.")


def test_core_imports_no_surface():
    graph = room_graph()
    wrong = sorted(f"{a} -> {b}" for a in CORE for b in graph.get(a, ()) if b in ABOVE_CORE)
    assert not wrong, "The core imports a room above it: " + ", ".join(wrong)


def test_no_circles_between_modules_inside_nlu_and_assistant():
    modules = module_graph()
    for name in sorted(ACYCLIC_INSIDE):
        prefix = f"jupyter_llm.{name}"
        # a package's __init__ re-exports its modules; the circles that matter are between the modules
        inside = {m: {t for t in ts if t.startswith(prefix + ".") and not _is_package(t)}
                  for m, ts in modules.items() if m.startswith(prefix + ".") and not _is_package(m)}
        cycle = find_cycle(inside)
        assert cycle is None, f"Modules of {prefix} import each other in a circle: " + " -> ".join(cycle)


def _is_package(module: str) -> bool:
    return all_modules()[module].name == "__init__.py"


# === Sizes: a function fits on a screen or two, a module is one subject ===

#: The longest function (``def`` line to its last line, docstring included) and module, in lines.
MAX_FUNCTION_LINES = 100
MAX_MODULE_LINES = 600


def sizes() -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """``(functions, modules)`` longer than the limits, as ``(lines, "path:line name")``."""
    functions, modules = [], []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        where = path.relative_to(PACKAGE.parent)
        lines = len(source.splitlines())
        if lines > MAX_MODULE_LINES:
            modules.append((lines, str(where)))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    functions.append((length, f"{where}:{node.lineno} {node.name}"))
    return functions, modules


def test_no_function_longer_than_100_lines():
    functions, _ = sizes()
    assert not functions, "Functions longer than 100 lines (split them): " + "; ".join(
        f"{where} ({n} lines)" for n, where in sorted(functions, reverse=True))


def test_no_module_longer_than_600_lines():
    _, modules = sizes()
    assert not modules, "Modules longer than 600 lines (split them by subject): " + "; ".join(
        f"{where} ({n} lines)" for n, where in sorted(modules, reverse=True))


def test_the_size_check_sees_a_long_function(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    (tmp_path / "jupyter_llm").mkdir()
    (tmp_path / "jupyter_llm" / "long.py").write_text(f"def long():\n{body}\n" + "\n" * MAX_MODULE_LINES)
    globals()["PACKAGE"], old = tmp_path / "jupyter_llm", PACKAGE
    try:
        functions, modules = sizes()
    finally:
        globals()["PACKAGE"] = old
    assert [w for _, w in functions] == ["jupyter_llm/long.py:1 long"] and len(modules) == 1
