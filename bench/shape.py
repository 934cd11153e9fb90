"""Print the package's shape: module sizes, longest functions, import layers, upward imports, cycles.

    python bench/shape.py [ROOT]

Layers, lowest first: the base modules, sources/, execution/, rendering/, publishing/, then the
build (plan, pipeline, check, drift, watch, report, cli, importing). An import from a lower layer to a higher
one is printed as upward; a cycle of imports between modules is printed as a circle.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

LAYERS = ["base", "sources", "execution", "rendering", "publishing", "build"]
BUILD = {"plan", "pipeline", "check", "drift", "watch", "report", "cli", "importing"}


def _module(path: Path, package: Path) -> str:
    return ".".join(path.relative_to(package.parent).with_suffix("").parts).removesuffix(".__init__")


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in LAYERS:
        return parts[1]
    return "build" if parts[-1] in BUILD else "base"


def _imports(tree: ast.Module, module: str, is_package: bool) -> set[str]:
    found: set[str] = set()
    here = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            target = [*base, *(node.module.split(".") if node.module else [])]
            if target[:1] != ["nbpress"]:
                continue
            for alias in node.names:
                found.add(".".join([*target, alias.name]))
                found.add(".".join(target))
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("nbpress"))
    return found


def main(root: Path) -> None:
    package = root / "nbpress"
    files = sorted(p for p in package.rglob("*.py"))
    modules = {_module(p, package): p for p in files}
    sizes: list[tuple[int, str]] = []
    functions: list[tuple[int, str]] = []
    edges: set[tuple[str, str]] = set()
    for name, path in modules.items():
        text = path.read_text()
        tree = ast.parse(text)
        sizes.append((len(text.splitlines()), name))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                functions.append((node.end_lineno - node.lineno + 1, f"{name}.{node.name}"))  # type: ignore[operator]
        for target in _imports(tree, name, path.name == "__init__.py"):
            if target in modules and target != name and not name.startswith(target + "."):
                edges.add((name, target))  # a package's face counts as a module of its layer
    print(f"{len(modules)} modules, {sum(s for s, _ in sizes)} lines")
    for size, name in sorted(sizes, reverse=True):
        print(f"  {size:5d}  {name}  [{_layer(name)}]")
    print("longest functions:")
    for size, name in sorted(functions, reverse=True)[:10]:
        print(f"  {size:5d}  {name}")
    upward = sorted((a, b) for a, b in edges if LAYERS.index(_layer(a)) < LAYERS.index(_layer(b)))
    print(f"{len(edges)} imports between modules; {len(upward)} run upward:")
    for a, b in upward:
        print(f"  {a} [{_layer(a)}] -> {b} [{_layer(b)}]")
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
    print("circles:", _cycles(graph) or "none")


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
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

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1])
