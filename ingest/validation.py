"""SHACL on what changed: the focus nodes whose verdict can differ from the previous build's
are validated again, on the few triples their shapes read; every other node keeps its
findings from the previous build's shacl.json. Without a usable previous build the whole
graph is validated.

What a node's verdict reads (ontology/shapes.ttl): its own triples (every shape path is one
predicate from the focus node), the rdf:type of the nodes it points to (sh:class), and for
the report line its pg:sourcePath or that of the page it is schema:subjectOf. So a node is
judged again when its own triples changed or when the rdf:type or pg:sourcePath of a node it
points to changed (or that node appeared or went away), and it is judged on its own triples
plus those lines of the nodes it points to. tests/test_rdf_incremental.py checks this
against a validation of the whole graph.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import mmap
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from rdflib import Graph, URIRef

from ingest import shacl
from ingest.rdf_parts import GraphParts, Part, PreviousParts
from ingest.report import Action, Finding, Report, Severity
from ingest.shacl import SH
from principles.contract import GRAPH_NT_FILE, SHACL_FILE

# Predicates of the lines a focus node reads from the nodes it points to.
_READ_FROM_TARGETS = (b"<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>",
                      b"<https://principles.graph/ontology#sourcePath>")


# SHACL terms whose constraints read only the focus node's own triples along one predicate
# (sh:class also the value's rdf:type, which `_scope` adds). sh:node, sh:qualifiedValueShape,
# property paths other than one IRI, SPARQL constraints and targets by other nodes' triples
# read further: shapes using them are validated on the whole graph.
_LOCAL = frozenset(SH[name] for name in (
    "targetClass", "targetNode", "property", "path", "minCount", "maxCount", "datatype",
    "minLength", "maxLength", "pattern", "flags", "message", "or", "and", "xone", "not",
    "nodeKind", "class", "in", "hasValue", "minInclusive", "maxInclusive", "minExclusive",
    "maxExclusive", "languageIn", "uniqueLang", "equals", "disjoint", "lessThan",
    "lessThanOrEquals", "closed", "ignoredProperties", "severity", "name", "description",
    "order", "group", "deactivated", "NodeShape", "PropertyShape", "IRI", "BlankNode",
    "Literal", "BlankNodeOrIRI", "BlankNodeOrLiteral", "IRIOrLiteral", "Violation", "Warning",
    "Info"))


def shapes_are_local(shapes: Graph) -> bool:
    """Every SHACL term the shapes use is in `_LOCAL` and every sh:path is one predicate."""
    used = {term for triple in shapes for term in triple
            if isinstance(term, URIRef) and str(term).startswith(str(SH))}
    return used <= _LOCAL and all(isinstance(path, URIRef)
                                  for path in shapes.objects(None, SH.path))


def shacl_code() -> str:
    """Changes with the shapes and the code that judges: findings of other code are not kept."""
    h = hashlib.sha256(shacl.shapes_text().encode())
    for source in (shacl.__file__, __file__):
        h.update(Path(source or "").read_bytes())
    for name in ("pyshacl", "rdflib"):
        h.update(metadata.version(name).encode())
    return h.hexdigest()[:32]


@dataclass
class ShaclFindings:
    """Findings by focus node IRI; saved as shacl.json for the next build."""

    code: str
    by_node: dict[str, list[Finding]]

    @property
    def count(self) -> int:
        return sum(len(found) for found in self.by_node.values())

    def save(self, folder: Path) -> None:
        rows = {node: [[f.path, f.where, f.problem, f.action.value, f.severity.value, f.kind]
                       for f in found] for node, found in sorted(self.by_node.items())}
        (folder / SHACL_FILE).write_text(json.dumps({"code": self.code, "findings": rows},
                                                    ensure_ascii=False), "utf-8")

    @classmethod
    def open(cls, folder: Path, code: str) -> ShaclFindings | None:
        """The previous build's findings, if made by these shapes and this code, and if the
        shapes read no more than `_scope` gives a node (else every node is judged again)."""
        if not shapes_are_local(shacl.load_shapes()):
            return None
        try:
            data = json.loads((folder / SHACL_FILE).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("code") != code:
            return None
        return cls(code, {node: [Finding(r[0], r[1], r[2], Action(r[3]), Severity(r[4]), r[5])
                                 for r in rows] for node, rows in data["findings"].items()})


def validate_changed(graph: GraphParts, previous: ShaclFindings | None, report: Report,
                     code: str) -> ShaclFindings:
    """Adds every violation of the build to `report`; returns them by node."""
    shapes = shacl.load_shapes()
    if graph.previous is None or previous is None:
        result = ShaclFindings(code, _by_node(shacl.violations(graph.fresh, shapes)))
    else:
        present = {p.subject[1:-1]: p for p in graph.parts}
        focus = _focus(graph, graph.previous)
        found = shacl.violations(_scope(graph, present, focus), shapes,
                                 [URIRef(node) for node in sorted(focus)])
        kept = {node: old for node, old in previous.by_node.items()
                if node in present and node not in focus}
        result = ShaclFindings(code, {**kept, **_by_node(found)})
    for node in sorted(result.by_node):
        report.findings.extend(result.by_node[node])
    return result


def _by_node(found: list[tuple[str, Finding]]) -> dict[str, list[Finding]]:
    by_node: dict[str, list[Finding]] = {}
    for node, finding in found:
        by_node.setdefault(node, []).append(finding)
    return by_node


def _read_by_others(nt: bytes) -> set[bytes]:
    return {line for line in nt.splitlines() if line.split(b" ", 2)[1] in _READ_FROM_TARGETS}


def _focus(graph: GraphParts, previous: PreviousParts) -> set[str]:
    """IRIs of the nodes to judge again: those built now, and kept ones pointing to a node
    whose type or source path changed, appeared or went away."""
    present = {p.subject for p in graph.parts}
    moved: set[str] = set(previous.subjects) - present
    for part in graph.parts:
        if part.fresh:
            i = previous.index.get(part.source)
            if i is None or _read_by_others(previous.lines_of(previous.part(i))) != \
                    _read_by_others(graph.nt_of(part)):
                moved.add(part.subject)
    focus = {p.subject for p in graph.parts if p.fresh}
    if moved:
        focus |= _pointing_to(previous, moved) & present
    return {s[1:-1] for s in focus}


def _pointing_to(previous: PreviousParts, targets: set[str]) -> set[str]:
    """Subjects of the previous graph.nt with a line whose object is one of `targets`."""
    found: set[str] = set()
    with (previous.folder / GRAPH_NT_FILE).open("rb") as handle:
        if not previous.subjects:
            return found
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            for target in targets:
                needle = b" " + target.encode() + b" .\n"
                at = data.find(needle)
                while at >= 0:
                    found.add(previous.subjects[bisect.bisect_right(previous.nt_offsets, at) - 1])
                    at = data.find(needle, at + 1)
    return found


def _scope(graph: GraphParts, present: dict[str, Part], focus: set[str]) -> Graph:
    """The focus nodes' triples and the type and source path lines of the nodes they point to."""
    chunks = [graph.nt_of(present[node]) for node in sorted(focus)]
    targets: set[str] = set()
    for chunk in chunks:
        for line in chunk.splitlines():
            value = line.split(b" ", 2)[2][:-2]
            if value.startswith(b"<"):
                targets.add(value[1:-1].decode())
    for target in sorted(targets - focus):
        if (part := present.get(target)) is not None:
            chunks.append(b"".join(line + b"\n" for line in sorted(_read_by_others(graph.nt_of(part)))))
    return Graph().parse(data=b"".join(chunks).decode("utf-8"), format="nt")

