"""Build the RDF knowledge graph of pages and terms on our ontology (SKOS, DC terms, schema.org)."""

from __future__ import annotations

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS, XSD

from ingest.pages import Page
from ingest.terms import Term
from ontology.vocab import PG as PG_IRI
from ontology.vocab import SCHEMA as SCHEMA_IRI
from ontology.vocab import TAXONOMY_KINDS, page_iri, schema_class, scheme_iri, term_iri
from principles.contract import page_node, term_key, term_node

PG = Namespace(PG_IRI)
SDO = Namespace(SCHEMA_IRI)
_TERM_PROPERTY = {"concepts": PG.hasConcept, "categories": PG.hasCategory, "tags": PG.hasTag}


def new_graph() -> Graph:
    graph = Graph()
    for prefix, ns in (("pg", PG), ("schema", SDO), ("dcterms", DCTERMS), ("skos", SKOS)):
        graph.bind(prefix, ns, replace=True)
    return graph


def _date(value: str) -> Literal:
    return Literal(value, datatype=XSD.dateTime if "T" in value else XSD.date)


def add_schemes(graph: Graph) -> None:
    for kind, (_, label) in TAXONOMY_KINDS.items():
        scheme = URIRef(scheme_iri(kind))
        graph.add((scheme, RDF.type, SKOS.ConceptScheme))
        graph.add((scheme, SKOS.prefLabel, Literal(label, lang="en")))
        graph.add((scheme, DCTERMS.identifier, Literal(kind)))


def add_term(graph: Graph, term: Term) -> None:
    node = URIRef(term_iri(term.kind, term.slug))
    graph.add((node, RDF.type, SKOS.Concept))
    graph.add((node, SKOS.inScheme, URIRef(scheme_iri(term.kind))))
    graph.add((node, SKOS.prefLabel, Literal(term.label, lang="en")))
    graph.add((node, SKOS.notation, Literal(term.slug)))
    for alt in sorted(term.alt_labels):
        graph.add((node, SKOS.altLabel, Literal(alt, lang="en")))
    for kind, slug in term.broader:
        graph.add((node, SKOS.broader, URIRef(term_iri(kind, slug))))
    for kind, slug in term.related:
        graph.add((node, SKOS.related, URIRef(term_iri(kind, slug))))
    if not term.broader:
        graph.add((node, SKOS.topConceptOf, URIRef(scheme_iri(term.kind))))
    if term.page_id is not None:
        graph.add((node, SDO.subjectOf, URIRef(page_iri(term.page_id))))
    if term.generated:
        graph.add((node, PG.generated, Literal(True)))


def add_page(graph: Graph, page: Page, terms: dict[str, Term]) -> None:
    node = URIRef(page_iri(page.id))
    graph.add((node, RDF.type, PG.Page))
    graph.add((node, RDF.type, URIRef(schema_class(page.type))))
    graph.add((node, PG.pageId, Literal(page.id)))
    graph.add((node, PG.pageType, Literal(page.type)))
    graph.add((node, PG.sourcePath, Literal(page.rel_path)))
    graph.add((node, DCTERMS.title, Literal(page.title)))
    graph.add((node, SDO.name, Literal(page.title)))
    graph.add((node, SDO.url, Literal(page.url)))
    graph.add((node, PG.draft, Literal(page.draft)))
    graph.add((node, SDO.wordCount, Literal(len(page.body.split()))))
    optional = ((DCTERMS.description, page.description), (DCTERMS.abstract, page.abstract),
                (DCTERMS.identifier, page.resource_id),
                (PG.slug, page.slug))
    for prop, value in optional:
        if value:
            graph.add((node, prop, Literal(value)))
    for author in page.authors:
        graph.add((node, DCTERMS.creator, Literal(author)))
    if page.date:
        graph.add((node, DCTERMS.date, _date(page.date)))
    if page.modified:
        graph.add((node, DCTERMS.modified, _date(page.modified)))
    if page.weight is not None:
        graph.add((node, PG.weight, Literal(page.weight)))
    for alias in page.aliases:
        graph.add((node, PG.alias, Literal(alias)))
    for kind, slugs in page.terms.items():
        for slug in slugs:
            term = terms[term_key(kind, slug)]
            target = URIRef(term_iri(kind, slug))
            graph.add((node, _TERM_PROPERTY[kind], target))
            graph.add((node, SDO.about, target))
            graph.add((node, SDO.keywords, Literal(term.label)))
    if page.taxonomy is not None:
        graph.add((node, SDO.mainEntity, URIRef(term_iri(*page.taxonomy))))


def nt_subject(iri: str) -> str:
    """How an IRI subject starts its N-Triples lines (the IRIs of ontology/vocab.py are
    percent-encoded, so nothing in them needs escaping)."""
    return f"<{iri}>"


def scheme_source(kind: str) -> str:
    """Each subject of the graph comes from one source: a page (`page:<id>`), a term
    (`term:<kind>/<slug>`) or a taxonomy kind (`scheme:<kind>`)."""
    return f"scheme:{kind}"


def subjects_of(pages: list[Page], terms: dict[str, Term],
                only: set[str] | None = None) -> dict[str, str]:
    """N-Triples subject -> its source, for the sources in `only` (None: all)."""
    out = {nt_subject(scheme_iri(kind)): scheme_source(kind) for kind in TAXONOMY_KINDS
           if only is None or scheme_source(kind) in only}
    for term in terms.values():
        if only is None or term_node(term.key) in only:
            out[nt_subject(term_iri(term.kind, term.slug))] = term_node(term.key)
    for page in pages:
        if only is None or page_node(page.id) in only:
            out[nt_subject(page_iri(page.id))] = page_node(page.id)
    return out


def build_graph(pages: list[Page], terms: dict[str, Term], only: set[str] | None = None) -> Graph:
    """The triples of every scheme, term and page; with `only`, of those sources alone."""
    graph = new_graph()
    if only is None or any(scheme_source(kind) in only for kind in TAXONOMY_KINDS):
        add_schemes(graph)  # three subjects of fixed triples, built together
    for term in terms.values():
        if only is None or term_node(term.key) in only:
            add_term(graph, term)
    for page in pages:
        if only is None or page_node(page.id) in only:
            add_page(graph, page, terms)
    return graph
