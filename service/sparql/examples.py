"""Example queries: preloaded in the query UI, listed in ontology/README.md ("Example
queries", kept identical by tests/test_sparql_examples.py) and each run there against
corpus/ with its expected answer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Example:
    name: str
    title: str
    query: str


EXAMPLES: list[Example] = [
    Example("shared-tags", "Pages sharing at least two tags with a page", """\
PREFIX pg: <https://principles.graph/ontology#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?other ?title (COUNT(?tag) AS ?shared) WHERE {
  ?page pg:pageId "resources/articles/limit-work-in-progress" ; pg:hasTag ?tag .
  ?other pg:hasTag ?tag ; dcterms:title ?title .
  FILTER (?other != ?page)
}
GROUP BY ?other ?title
HAVING (COUNT(?tag) >= 2)
ORDER BY DESC(?shared) ?title"""),
    Example("alias", "Which page answers an old path (alias lookup)", """\
PREFIX pg: <https://principles.graph/ontology#>
PREFIX schema: <https://schema.org/>
SELECT ?page ?id ?url WHERE {
  ?page pg:alias "/principles/customer-focus/" ; pg:pageId ?id ; schema:url ?url .
}"""),
    Example("pages-per-category", "Pages per category", """\
PREFIX pg: <https://principles.graph/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?category ?label (COUNT(DISTINCT ?page) AS ?pages) WHERE {
  ?category skos:inScheme <https://principles.graph/scheme/categories> ;
            skos:prefLabel ?label .
  OPTIONAL { ?page pg:hasCategory ?category }
}
GROUP BY ?category ?label
ORDER BY DESC(?pages) ?label"""),
    Example("broader-walk", "Everything under Lean: a skos:broader* walk", """\
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX schema: <https://schema.org/>
SELECT ?term ?label (COUNT(DISTINCT ?page) AS ?pages) WHERE {
  ?term skos:broader* <https://principles.graph/term/categories/lean> ;
        skos:prefLabel ?label .
  OPTIONAL { ?page schema:about ?term }
}
GROUP BY ?term ?label
ORDER BY DESC(?pages) ?label"""),
    Example("generated-terms", "Terms pages use but no taxonomy page defines", """\
PREFIX pg: <https://principles.graph/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX schema: <https://schema.org/>
SELECT ?term ?label (COUNT(?page) AS ?uses) WHERE {
  ?term pg:generated true ; skos:prefLabel ?label .
  OPTIONAL { ?page schema:about ?term }
}
GROUP BY ?term ?label
ORDER BY ?label"""),
    Example("page-types", "Pages per page type", """\
PREFIX pg: <https://principles.graph/ontology#>
SELECT ?type (COUNT(?page) AS ?pages) WHERE {
  ?page pg:pageType ?type .
}
GROUP BY ?type
ORDER BY DESC(?pages) ?type"""),
    Example("drafts-hidden", "Is any draft page served? (drafts are hidden by default)", """\
PREFIX pg: <https://principles.graph/ontology#>
ASK { ?page pg:draft true }"""),
    Example("page-card", "A page's card as RDF (CONSTRUCT)", """\
PREFIX pg: <https://principles.graph/ontology#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX schema: <https://schema.org/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
CONSTRUCT {
  ?page schema:name ?title ; schema:url ?url ; schema:about ?tag .
  ?tag skos:prefLabel ?label .
} WHERE {
  ?page pg:pageId "resources/articles/limit-work-in-progress" ;
        dcterms:title ?title ; schema:url ?url ; pg:hasTag ?tag .
  ?tag skos:prefLabel ?label .
}"""),
    Example("ontology-properties", "Page properties declared by the ontology (its own graph)", """\
PREFIX pg: <https://principles.graph/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?property ?label WHERE {
  GRAPH <https://principles.graph/graph/ontology> {
    ?property rdfs:domain pg:Page ; rdfs:label ?label .
  }
}
ORDER BY ?property"""),
]
