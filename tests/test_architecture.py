"""The structure rules, read from the source: dependencies point one way and every error a
caller can see belongs to the one error tree (principles/errors.py)."""

from __future__ import annotations

import ast

from tests.import_graph import ROOT, cycles, module_graph, upward_edges

# Exceptions that never leave their feature: raised and caught inside it, translated to a
# PrinciplesError (or a report finding) at its edge.
INTERNAL_SIGNALS = {
    "ingest.safe_read.Refused",  # a refused file read becomes a report finding
    "principles.safe_yaml.YamlTooComplex",  # a YAML bomb becomes a finding or a DraftError
    "service.sparql.pool.WorkerGone",  # a dead worker becomes EngineCrashed / a retry
    "service.sparql.results.FormatUnavailable",  # becomes NotAcceptable
    "service.sparql.results.TooLarge",  # becomes AnswerTooLarge
    "service.sparql.analysis.Refused",  # becomes QueryRefused
}


def test_no_import_goes_upward_or_sideways() -> None:
    """The shared package imports neither ingest nor service; ingest and service never
    import each other; only the CLI (principles_graph) sits above both."""
    assert upward_edges(module_graph()) == []


def test_no_import_cycles() -> None:
    assert cycles(module_graph()) == []


def test_every_exception_class_is_in_the_error_tree() -> None:
    """A new exception either extends the tree (so HTTP, MCP and the CLI already know how to
    answer it) or is declared an internal signal above."""
    known = {"PrinciplesError"}
    classes: list[tuple[str, list[str]]] = []
    for package in ("principles", "ingest", "service", "principles_graph", "ontology"):
        for path in sorted((ROOT / package).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if isinstance(node, ast.ClassDef) and node.bases:
                    bases = [b.id if isinstance(b, ast.Name) else ast.unparse(b) for b in node.bases]
                    classes.append((f"{module}.{node.name}", bases))
    changed = True
    while changed:  # close over subclasses defined anywhere, in any order
        changed = False
        for name, bases in classes:
            short = name.rpartition(".")[2]
            if short not in known and any(b in known for b in bases):
                known.add(short)
                changed = True
    strays = [name for name, bases in classes
              if name.rpartition(".")[2] not in known and name not in INTERNAL_SIGNALS
              and any(b.endswith(("Error", "Exception")) or b in ("OSError", "ValueError")
                      for b in bases)]
    assert strays == []
