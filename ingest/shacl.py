"""SHACL-validate a build and turn every violation into a report line on the source file."""

from __future__ import annotations

from pyshacl import validate
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import RDF, SKOS

from ingest.report import Action, Finding, Report, Severity
from ontology.vocab import PG as PG_IRI
from ontology.vocab import ontology_file, page_iri

SH = Namespace("http://www.w3.org/ns/shacl#")
PG = Namespace(PG_IRI)


def focus_nodes(graph: Graph, changed_pages: set[str]) -> list[str | URIRef]:
    """The nodes to re-judge when only `changed_pages` changed: those pages, every term and
    scheme (terms are rebuilt from all pages each time)."""
    page_prefix = page_iri("")
    nodes: list[str | URIRef] = [URIRef(page_iri(page_id)) for page_id in sorted(changed_pages)]
    for cls in (SKOS.Concept, SKOS.ConceptScheme):
        nodes += [n for n in graph.subjects(RDF.type, cls)
                  if isinstance(n, URIRef) and not str(n).startswith(page_prefix)]
    return nodes


def shapes_text() -> str:
    """The shapes every build is validated against (tests add their own to this text)."""
    return ontology_file("shapes.ttl").read_text("utf-8")


def load_shapes() -> Graph:
    return Graph().parse(data=shapes_text(), format="turtle")


def violations(graph: Graph, shapes: Graph,
               focus: list[str | URIRef] | None = None) -> list[tuple[str, Finding]]:
    """(focus node IRI, report line) of each violation, of only the `focus` nodes when given.
    The graph is not changed (no inference), so pyshacl may work on it in place instead of
    cloning it."""
    if focus is not None and not focus:
        return []
    conforms, results, _ = validate(graph, shacl_graph=shapes, inference="none", advanced=False,
                                    allow_warnings=True, inplace=True, focus_nodes=focus)
    if conforms:
        return []
    assert isinstance(results, Graph)
    found = []
    for result in results.subjects(RDF.type, SH.ValidationResult):
        node = results.value(result, SH.focusNode)
        path = results.value(result, SH.resultPath)
        message = results.value(result, SH.resultMessage)
        source = _source_of(graph, node)
        field = str(path).rsplit("/", 1)[-1].rsplit("#", 1)[-1] if path is not None else "node"
        found.append((str(node), Finding(
            source, f"field {field}", f"SHACL: {message or 'constraint violated'} (node {node})",
            Action.FLAGGED, Severity.ERROR, "shacl-violation")))
    return found


def validate_graph(graph: Graph, shapes: Graph, report: Report,
                   focus: list[str | URIRef] | None = None) -> int:
    """Validate (only the `focus` nodes when given); add one report line per violation;
    return the number of violations."""
    found = violations(graph, shapes, focus)
    report.findings.extend(finding for _, finding in found)
    return len(found)


def _source_of(graph: Graph, focus: object) -> str:
    if isinstance(focus, URIRef):
        path = graph.value(focus, PG.sourcePath)
        if path is None:
            page = graph.value(focus, URIRef("https://schema.org/subjectOf"))
            path = graph.value(page, PG.sourcePath) if page is not None else None
        if path is not None:
            return str(path)
    return "(graph)"
