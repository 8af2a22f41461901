"""The SPARQL 1.1 Service Description (sd:Service) answered by a GET /sparql without a query.

Written as Turtle from the endpoint's real settings (formats, graphs and their sizes, limits)
and re-serialised by pyoxigraph into whichever RDF format Accept picked.
"""

from __future__ import annotations

import pyoxigraph as ox

from service.sparql.dataset import GRAPHS, KNOWLEDGE
from service.sparql.formats import FORMAT_IRIS
from service.sparql.results import GRAPH_FORMATS, PREFIXES, _bytes

SD = "http://www.w3.org/ns/sparql-service-description#"
PREFIX_BLOCK = """@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix formats: <http://www.w3.org/ns/formats/> .
@prefix void: <http://rdfs.org/ns/void#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
"""


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _graph(sizes: dict[str, int] | None, name: str) -> str:
    triples = f" ; void:triples {sizes[name]}" if sizes and name in sizes else ""
    return f"[ a sd:Graph{triples} ]"


def describe(endpoint: str, fmt: str, sizes: dict[str, int] | None, limits: str,
             engine: str) -> bytes:
    """The description of the endpoint at `endpoint`, as bytes in RDF format `fmt`."""
    formats = ", ".join(f"formats:{FORMAT_IRIS[key]}" for key in FORMAT_IRIS)
    named = ",\n        ".join(
        f"[ a sd:NamedGraph ; sd:name <{g}> ; sd:graph {_graph(sizes, g)} ]" for g in GRAPHS)
    turtle = f"""{PREFIX_BLOCK}
<{endpoint}> a sd:Service ;
    dcterms:title "Principles Graph SPARQL endpoint"@en ;
    rdfs:comment {_literal("Read-only SPARQL 1.1 query endpoint (" + engine + " engine). "
                           "Updates, SERVICE and graphs other than the named ones are refused. "
                           + limits)}@en ;
    sd:endpoint <{endpoint}> ;
    sd:supportedLanguage sd:SPARQL11Query ;
    sd:resultFormat {formats} ;
    sd:defaultDataset [
        a sd:Dataset ;
        sd:defaultGraph {_graph(sizes, KNOWLEDGE)} ;
        sd:namedGraph {named}
    ] .
"""
    triples = [q.triple for q in ox.parse(turtle, format=ox.RdfFormat.TURTLE)]
    prefixes = None if fmt == "ntriples" else {
        **PREFIXES, "sd": SD, "formats": "http://www.w3.org/ns/formats/",
        "void": "http://rdfs.org/ns/void#"}
    return _bytes(ox.serialize(triples, format=GRAPH_FORMATS[fmt], prefixes=prefixes))
