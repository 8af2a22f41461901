"""The networkx graph of pages and terms, written as node-link JSON for the service."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx

from ingest.pages import Page
from ingest.terms import Term
from principles.contract import page_node, term_key, term_node
from principles.related_store import RelatedColumns

EDGE_KIND = {"concepts": "has_concept", "categories": "has_category", "tags": "has_tag"}


RELATED_EDGES = 5
RELATED_MIN_SCORE = 0.55  # the same share of top-5 rows as 0.45 under the former scoring (site corpus)


def build_network(pages: list[Page], terms: dict[str, Term],
                  related: RelatedColumns | None = None) -> nx.MultiDiGraph:
    """Pages and terms as nodes; has_tag/has_category/has_concept, defines, broader,
    related (term-term) and similar (page-page, the strongest precomputed related pairs)."""
    graph = nx.MultiDiGraph()
    for term in terms.values():
        graph.add_node(term_node(term.key), kind="term", taxonomy=term.kind, slug=term.slug,
                       label=term.label, generated=term.generated, page=term.page_id)
    for page in pages:
        graph.add_node(page_node(page.id), kind="page", title=page.title, type=page.type,
                       url=page.url, draft=page.draft)
        for kind, slugs in page.terms.items():
            for slug in slugs:
                graph.add_edge(page_node(page.id), term_node(term_key(kind, slug)), key=EDGE_KIND[kind],
                               kind=EDGE_KIND[kind])
        if page.taxonomy is not None:
            graph.add_edge(page_node(page.id), term_node("/".join(page.taxonomy)), key="defines",
                           kind="defines")
    for term in terms.values():
        for kind, slug in term.broader:
            graph.add_edge(term_node(term.key), term_node(term_key(kind, slug)), key="broader",
                           kind="broader")
        for kind, slug in term.related:
            graph.add_edge(term_node(term.key), term_node(term_key(kind, slug)), key="related",
                           kind="related")
    if related is not None:
        for i, source in enumerate(related.page_ids):
            start = int(related.offsets[i])
            stop = min(int(related.offsets[i + 1]), start + RELATED_EDGES)
            for r in range(start, stop):
                score = round(float(related.floats["score"][r]), 4)
                if score >= RELATED_MIN_SCORE:
                    graph.add_edge(page_node(source), page_node(related.page_ids[int(related.target[r])]),
                                   key="similar", kind="similar", score=score)
    return graph


def write_network(graph: nx.MultiDiGraph, target: Path) -> None:
    data = nx.node_link_data(graph, edges="edges")
    target.write_text(json.dumps(data, separators=(",", ":")), "utf-8")

