"""The gateway keeps its shape: short functions, no import cycles, a domain that knows nothing of HTTP."""

import ast
from pathlib import Path

import voxledger.gateway

ROOT = Path(voxledger.gateway.__file__).parent
MAX_FUNCTION_LINES = 60


def _modules() -> dict[str, ast.Module]:
    modules = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(["voxledger.gateway", *(parts[:-1] if parts[-1] == "__init__" else parts)])
        modules[name] = ast.parse(path.read_text(), str(path))
    return modules


def _imports(modules: dict[str, ast.Module]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, tree in modules.items():
        found = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
            elif isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def test_no_function_is_longer_than_about_sixty_lines():
    long = [
        f"{name}.{node.name}: {node.end_lineno - node.lineno + 1} lines"
        for name, tree in _modules().items()
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and (node.end_lineno or node.lineno) - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long


def test_no_module_imports_another_in_a_circle():
    graph = _imports(_modules())
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        for imported in graph[module]:
            if imported in path:
                cycles.append([*path[path.index(imported) :], imported])
            elif imported not in done:
                visit(imported, [*path, imported])
        done.add(module)

    done: set[str] = set()
    for module in graph:
        if module not in done:
            visit(module, [module])
    assert not cycles


def test_the_domain_imports_no_http_handlers_adapters_or_schemas():
    outer = ("http", "handlers", "adapters", "schemas", "app")
    leaks = {
        name: sorted(m for m in imported if m.split(".")[2] in outer)
        for name, imported in _imports(_modules()).items()
        if name.startswith("voxledger.gateway.domain")
    }
    assert not {name: found for name, found in leaks.items() if found}
