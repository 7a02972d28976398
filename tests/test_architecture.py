"""The shape of the code, checked from its syntax trees: small functions and classes, no import cycle,
domains free of IO, and no package reaching into another package's adapters.

Pure and fast: it parses every source file of every package (tests excluded) and imports nothing."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE_ROOTS = [ROOT / "contracts" / "src", ROOT / "runtime" / "src", ROOT / "stack" / "src"] + sorted(
    ROOT.glob("services/*/src")
)
MAX_FUNCTION_LINES = 60
MAX_CLASS_LINES = 200
# Classes allowed past MAX_CLASS_LINES, each with why; an entry is removed once its class is split.
LARGE_CLASSES: dict[str, int] = {}
# Libraries that talk to the outside world (network, processes, models); a domain module imports none.
IO_MODULES = frozenset(
    {
        "nats",
        "asyncpg",
        "faststream",
        "litestar",
        "uvicorn",
        "httpx",
        "aiohttp",
        "socket",
        "subprocess",
        "faster_whisper",
        "ctranslate2",
        "onnxruntime",
        "av",
    }
)


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    tree: ast.Module

    @property
    def is_package(self) -> bool:
        return self.path.name == "__init__.py"

    @property
    def package(self) -> str:
        return _package(self.name)


def _package(name: str) -> str:
    """The workspace package a module belongs to, e.g. `voxledger.gateway`."""
    return ".".join(name.split(".")[:2])


@cache
def modules() -> dict[str, Module]:
    found: dict[str, Module] = {}
    for root in SOURCE_ROOTS:
        for path in sorted(root.rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            name = ".".join(parts)
            found[name] = Module(name, path, ast.parse(path.read_text(), filename=str(path)))
    return found


def _where(module: Module, node: ast.AST) -> str:
    return f"{module.path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"


def imported_names(module: Module) -> list[tuple[str, ast.AST]]:
    """Every module name it imports, anywhere: top level, under `if TYPE_CHECKING:`, inside functions.

    `from a.b import c` counts as `a.b.c` when that is a module and as `a.b` otherwise."""
    names: list[tuple[str, ast.AST]] = []
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            names.extend((alias.name, node) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, node)
            names.append((base, node))
            names.extend((f"{base}.{alias.name}", node) for alias in node.names if alias.name != "*")
    return names


def _absolute(module: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    parts = module.name.split(".")
    anchor = parts if module.is_package else parts[:-1]
    anchor = anchor[: len(anchor) - (node.level - 1)]
    return ".".join([*anchor, *([node.module] if node.module else [])])


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {
        name: {target for target, _ in imported_names(module) if target in known and target != name}
        for name, module in known.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _length(node: ast.AST) -> int:
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])  # type: ignore[attr-defined]
    return node.end_lineno - first + 1  # type: ignore[attr-defined]


def test_every_function_is_at_most_60_lines() -> None:
    too_long = [
        f"{_where(module, node)} {node.name}: {_length(node)} lines"
        for module in modules().values()
        for node in ast.walk(module.tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _length(node) > MAX_FUNCTION_LINES
    ]
    assert not too_long, "functions over 60 lines:\n" + "\n".join(too_long)


def test_every_class_is_at_most_200_lines() -> None:
    too_long = [
        f"{_where(module, node)} {node.name}: {_length(node)} lines"
        for module in modules().values()
        for node in ast.walk(module.tree)
        if isinstance(node, ast.ClassDef) and _length(node) > _class_limit(module, node)
    ]
    assert not too_long, "classes over 200 lines:\n" + "\n".join(too_long)


def _class_limit(module: Module, node: ast.ClassDef) -> int:
    """An allowed class may not grow past its entry either."""
    return LARGE_CLASSES.get(f"{module.path.relative_to(ROOT)}::{node.name}", MAX_CLASS_LINES)


def test_no_import_cycle() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles (imports under TYPE_CHECKING and in functions count):\n" + "\n".join(
        " <-> ".join(cycle) for cycle in found
    )


def test_the_cycle_finder_sees_a_cycle_through_a_function_level_import() -> None:
    """The check above would pass vacuously if imports inside functions were missed."""
    tree = ast.parse("def f():\n    from voxledger.x import b\n")
    module = Module("voxledger.x.a", Path("a.py"), tree)
    assert ("voxledger.x.b", tree.body[0].body[0]) in imported_names(module)  # type: ignore[attr-defined]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _is_adapters(name: str) -> bool:
    return "adapters" in name.split(".")


def test_domain_modules_import_no_io() -> None:
    offending = [
        f"{_where(module, node)} {module.name} imports {target}"
        for module in modules().values()
        if "domain" in module.name.split(".")
        for target, node in imported_names(module)
        if target.split(".")[0] in IO_MODULES or _is_adapters(target)
    ]
    assert not offending, "domain modules importing IO:\n" + "\n".join(sorted(set(offending)))


def test_no_package_imports_another_packages_adapters() -> None:
    offending = [
        f"{_where(module, node)} {module.name} imports {target}"
        for module in modules().values()
        for target, node in imported_names(module)
        if target.startswith("voxledger.") and _is_adapters(target) and _package(target) != module.package
    ]
    assert not offending, "imports of another package's adapters:\n" + "\n".join(sorted(set(offending)))
