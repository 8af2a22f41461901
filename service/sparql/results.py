"""Serialise pyoxigraph results into the negotiated format, at most `max_rows` rows/triples.

pyoxigraph serialises only whole result iterators, so the capped rows are written as SPARQL
JSON here and handed back to pyoxigraph for XML/CSV/TSV: one code path for every format and
both engines (the embedded worker and the remote proxy). `rename` maps IRIs on the way out
(the remote store names graphs per build; clients see the stable names).
Imported by the worker process: depends on pyoxigraph and the standard library only.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RESULT_FORMATS = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
                  "csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV}
GRAPH_FORMATS = {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES,
                 "jsonld": ox.RdfFormat.JSON_LD, "rdfxml": ox.RdfFormat.RDF_XML}
PREFIXES = {
    "pg": "https://principles.graph/ontology#", "schema": "https://schema.org/",
    "dcterms": "http://purl.org/dc/terms/", "skos": "http://www.w3.org/2004/02/skos/core#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#", "xsd": "http://www.w3.org/2001/XMLSchema#",
    "owl": "http://www.w3.org/2002/07/owl#",
}
Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple


def _bytes(data: bytes | None) -> bytes:
    """pyoxigraph's serialisers return bytes when given no output file."""
    assert data is not None
    return data


class FormatUnavailable(ValueError):
    """The result kind (bindings or graph) has no acceptable format for this request."""


class TooLarge(ValueError):
    """The answer would be larger than the byte limit (one GROUP_CONCAT row can be 100 MB:
    the row cap alone does not bound bytes)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the answer is larger than {limit} bytes (PRINCIPLES_SPARQL_MAX_ANSWER_"
                         "BYTES); add a LIMIT, select fewer variables or shorter values")
        self.limit = limit


UNBOUNDED = 1 << 62


def _size(term: Any) -> int:
    """Bytes a term adds to an answer, near enough (the value plus a little markup)."""
    if isinstance(term, ox.Triple):
        return _size(term.subject) + _size(term.predicate) + _size(term.object)
    return len(getattr(term, "value", "")) + 16


@dataclass(frozen=True)
class Rendered:
    body: bytes
    kind: str  # "bindings", "boolean" or "graph"
    rows: int
    truncated: bool


def term_json(term: Term, rename: dict[str, str]) -> dict[str, Any]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": rename.get(term.value, term.value)}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    return {"type": "triple", "value": {
        "subject": term_json(term.subject, rename), "predicate": term_json(term.predicate, rename),
        "object": term_json(term.object, rename)}}


def _renamed(term: Any, rename: dict[str, str]) -> Any:
    if isinstance(term, ox.NamedNode) and term.value in rename:
        return ox.NamedNode(rename[term.value])
    return term


def render_bindings(solutions: ox.QuerySolutions, fmt: str, max_rows: int,
                    rename: dict[str, str], max_bytes: int = UNBOUNDED) -> Rendered:
    names = [v.value for v in solutions.variables]
    rows = []
    size = 0
    for solution in itertools.islice(solutions, max_rows + 1):
        row = {}
        for name in names:
            value = solution[name]
            if value is not None:
                size += _size(value)
                row[name] = term_json(value, rename)
        if size > max_bytes:
            raise TooLarge(max_bytes)
        rows.append(row)
    truncated = len(rows) > max_rows
    body = json.dumps({"head": {"vars": names}, "results": {"bindings": rows[:max_rows]}},
                      ensure_ascii=False, separators=(",", ":")).encode()
    if fmt != "json":
        parsed = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        body = _bytes(parsed.serialize(format=RESULT_FORMATS[fmt]))
    if len(body) > max_bytes:
        raise TooLarge(max_bytes)
    return Rendered(body, "bindings", min(len(rows), max_rows), truncated)


def render_graph(triples: Iterable[ox.Triple], fmt: str, max_rows: int,
                 rename: dict[str, str], max_bytes: int = UNBOUNDED) -> Rendered:
    kept = []
    size = 0
    for triple in itertools.islice(triples, max_rows + 1):
        size += _size(triple)
        if size > max_bytes:
            raise TooLarge(max_bytes)
        kept.append(triple)
    truncated = len(kept) > max_rows
    kept = kept[:max_rows]
    if rename:
        kept = [ox.Triple(_renamed(t.subject, rename), _renamed(t.predicate, rename),
                          _renamed(t.object, rename)) for t in kept]
    prefixes = None if fmt == "ntriples" else PREFIXES
    body = _bytes(ox.serialize(kept, format=GRAPH_FORMATS[fmt], prefixes=prefixes))
    if len(body) > max_bytes:
        raise TooLarge(max_bytes)
    return Rendered(body, "graph", len(kept), truncated)


def render(result: Any, results_format: str | None, graph_format: str | None, max_rows: int,
           rename: dict[str, str] | None = None, max_bytes: int = UNBOUNDED) -> Rendered:
    """Any pyoxigraph result (or parsed remote result) as bytes in the requested format."""
    rename = rename or {}
    if isinstance(result, ox.QueryBoolean | bool):
        if results_format is None:
            raise FormatUnavailable("bindings")
        value = bool(result)
        if results_format == "json":
            body = json.dumps({"head": {}, "boolean": value}).encode()
        else:
            text = f'{{"head":{{}},"boolean":{str(value).lower()}}}'
            body = _bytes(ox.parse_query_results(text, format=ox.QueryResultsFormat.JSON).serialize(
                format=RESULT_FORMATS[results_format]))
        return Rendered(body, "boolean", 1, False)
    if isinstance(result, ox.QuerySolutions):
        if results_format is None:
            raise FormatUnavailable("bindings")
        return render_bindings(result, results_format, max_rows, rename, max_bytes)
    if graph_format is None:
        raise FormatUnavailable("graph")
    return render_graph(result, graph_format, max_rows, rename, max_bytes)
