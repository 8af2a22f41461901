"""graph.json without building the networkx graph: the same node-link JSON that
`write_network(build_network(...))` writes (ingest/network.py defines the graph), from plain
dicts kept in networkx's order. Building the MultiDiGraph and converting it took most of a
second at 10k pages; this takes a fraction. tests/test_rdf_incremental.py checks that the
bytes are the same."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ingest.network import EDGE_KIND, RELATED_EDGES, RELATED_MIN_SCORE
from ingest.pages import Page
from ingest.terms import Term
from principles.contract import page_node, term_key, term_node
from principles.related_store import RelatedColumns

Attrs = dict[str, Any]


class _Multigraph:
    """What node_link_data reads of a MultiDiGraph: nodes in insertion order, each source's
    targets in first-edge order, each target's edge keys in insertion order."""

    def __init__(self) -> None:
        self.nodes: dict[str, Attrs] = {}
        self.out: dict[str, dict[str, dict[str, Attrs]]] = {}

    def node(self, name: str, attrs: Attrs) -> None:
        self.nodes.setdefault(name, {}).update(attrs)

    def edge(self, source: str, target: str, key: str, attrs: Attrs) -> None:
        if source not in self.nodes:
            self.nodes[source] = {}
        if target not in self.nodes:
            self.nodes[target] = {}
        self.out.setdefault(source, {}).setdefault(target, {}).setdefault(key, {}).update(attrs)

    def node_link(self) -> dict[str, Any]:
        edges = [{**attrs, "source": source, "target": target, "key": key}
                 for source in self.nodes for target, keyed in self.out.get(source, {}).items()
                 for key, attrs in keyed.items()]
        return {"directed": True, "multigraph": True, "graph": {},
                "nodes": [{**attrs, "id": name} for name, attrs in self.nodes.items()],
                "edges": edges}


def network_json(pages: list[Page], terms: dict[str, Term],
                 related: RelatedColumns | None = None) -> str:
    """The node-link JSON of `build_network(pages, terms, related)`, added in its order."""
    graph = _Multigraph()
    for term in terms.values():
        graph.node(term_node(term.key), {"kind": "term", "taxonomy": term.kind, "slug": term.slug,
                                         "label": term.label, "generated": term.generated,
                                         "page": term.page_id})
    for page in pages:
        source = page_node(page.id)
        graph.node(source, {"kind": "page", "title": page.title, "type": page.type,
                            "url": page.url, "draft": page.draft})
        for kind, slugs in page.terms.items():
            edge_kind = EDGE_KIND[kind]
            for slug in slugs:
                graph.edge(source, term_node(term_key(kind, slug)), edge_kind, {"kind": edge_kind})
        if page.taxonomy is not None:
            graph.edge(source, term_node("/".join(page.taxonomy)), "defines", {"kind": "defines"})
    for term in terms.values():
        for kind, slug in term.broader:
            graph.edge(term_node(term.key), term_node(term_key(kind, slug)), "broader",
                       {"kind": "broader"})
        for kind, slug in term.related:
            graph.edge(term_node(term.key), term_node(term_key(kind, slug)), "related",
                       {"kind": "related"})
    if related is not None:
        ids, offsets = related.page_ids, related.offsets.tolist()
        targets, scores = related.target.tolist(), related.floats["score"].tolist()
        for i, source in enumerate(ids):
            start = offsets[i]
            for r in range(start, min(offsets[i + 1], start + RELATED_EDGES)):
                score = round(float(scores[r]), 4)
                if score >= RELATED_MIN_SCORE:
                    graph.edge(page_node(source), page_node(ids[targets[r]]), "similar",
                               {"kind": "similar", "score": score})
    return json.dumps(graph.node_link(), separators=(",", ":"))


def write_network_json(pages: list[Page], terms: dict[str, Term], related: RelatedColumns | None,
                       target: Path) -> None:
    target.write_text(network_json(pages, terms, related), "utf-8")
