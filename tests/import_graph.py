"""The import graph of our packages, read from the source (nothing is imported).

Run `make imports` (or `.venv/bin/python -m tests.import_graph`) to print the edges between
layers and any import cycle; tests/test_architecture.py holds the rules.

Layers, bottom up: `ontology` and `principles` (the shared package), then `ingest` (writes a
build) and `service` (reads one), then `principles_graph` (the CLI, composing both).
Every import that runs counts, also one inside a function (a lazy import is still a
dependency); imports under `if TYPE_CHECKING:` are for annotations and are left out.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ontology", "principles", "ingest", "service", "principles_graph")
LAYER = {"ontology": 0, "principles": 0, "ingest": 1, "service": 1, "principles_graph": 2}


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node except those under `if TYPE_CHECKING:` (annotations only, never run)."""
    found: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        found.append(node)
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))
    return found


def _imported(module: str, path: Path) -> set[str]:
    names: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's package, up level - 1 more
                package = module.split(".")
                if path.name != "__init__.py":
                    package = package[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, base] if base else package)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def module_graph() -> nx.DiGraph:
    """Module -> module it imports, for our own modules only."""
    modules = _modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for module, path in modules.items():
        for name in _imported(module, path):
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                graph.add_edge(module, name)
    return graph


def package_of(module: str) -> str:
    return module.split(".")[0]


def upward_edges(graph: nx.DiGraph) -> list[tuple[str, str]]:
    """Imports from a lower layer to a higher one, or between ingest and service."""
    return sorted((a, b) for a, b in graph.edges
                  if LAYER[package_of(a)] < LAYER[package_of(b)]
                  or {package_of(a), package_of(b)} == {"ingest", "service"})


def cycles(graph: nx.DiGraph) -> list[list[str]]:
    """Every group of modules that import each other (strongly connected, size > 1)."""
    return sorted(sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1)


def main() -> None:
    graph = module_graph()
    counts = Counter((package_of(a), package_of(b)) for a, b in graph.edges)
    print("package -> package: module imports")
    for (a, b), n in sorted(counts.items()):
        print(f"  {a:17} -> {b:17} {n}")
    print("upward or sideways edges:", upward_edges(graph) or "none")
    print("cycles:", cycles(graph) or "none")


if __name__ == "__main__":
    main()
