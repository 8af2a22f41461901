"""graph.json without building the networkx graph: the same node-link JSON that
`write_network(build_network(...))` writes (ingest/network.py defines the graph), from plain
dicts kept in networkx's order. Building the MultiDiGraph and converting it took most of a
second at 10k pages; this takes a fraction. tests/test_rdf_incremental.py checks that the
bytes are the same."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from ingest.network import EDGE_KIND, RELATED_EDGES, RELATED_MIN_SCORE
from ingest.pages import Page
from ingest.terms import Term
from principles.arrays import distinct
from principles.contract import page_node, term_key, term_node
from principles.related_store import RelatedColumns

Attrs = dict[str, Any]
quote: Callable[[str], str] = json.encoder.encode_basestring_ascii  # what json.dumps uses


def _value(value: object) -> str:
    """As json.dumps writes it."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, separators=(",", ":"))


def _members(attrs: Attrs) -> str:
    return "".join(f"{quote(k)}:{_value(v)}," for k, v in attrs.items())


class _Multigraph:
    """What node_link_data reads of a MultiDiGraph: nodes in insertion order, each source's
    targets in first-edge order, each target's edge keys in insertion order. An edge's data
    is kept as JSON members: a repeated edge replaces them (edges of one key carry the same
    attribute names, so that is networkx's update)."""

    def __init__(self) -> None:
        self.nodes: dict[str, Attrs] = {}
        self.out: dict[str, dict[str, dict[str, str]]] = {}

    def node(self, name: str, attrs: Attrs) -> None:
        self.nodes.setdefault(name, {}).update(attrs)

    def edge(self, source: str, target: str, key: str, members: str) -> None:
        if source not in self.nodes:
            self.nodes[source] = {}
        if target not in self.nodes:
            self.nodes[target] = {}
        self.out.setdefault(source, {}).setdefault(target, {})[key] = members

    def parts(self) -> tuple[list[str], list[str]]:
        """The JSON of each node and of each edge, in node_link_data's order."""
        names = {name: quote(name) for name in self.nodes}
        nodes = [f"{{{_members(attrs)}\"id\":{names[name]}}}" for name, attrs in self.nodes.items()]
        edges = [f"{{{members}\"source\":{names[source]},\"target\":{names[target]},"
                 f"\"key\":{quote(key)}}}"
                 for source in self.nodes for target, keyed in self.out.get(source, {}).items()
                 for key, members in keyed.items()]
        return nodes, edges

    def node_link(self) -> str:
        return _document(*self.parts())


def _term_edges(graph: _Multigraph, terms: dict[str, Term]) -> None:
    """The broader and related edges between terms."""
    for term in terms.values():
        for edge_kind, others in (("broader", term.broader), ("related", term.related)):
            for kind, slug in others:
                graph.edge(term_node(term.key), term_node(term_key(kind, slug)), edge_kind,
                           f'"kind":"{edge_kind}",')


HEAD, MIDDLE, TAIL = '{"directed":true,"multigraph":true,"graph":{},"nodes":[', '],"edges":[', "]}"


def _document(nodes: list[str], edges: list[str]) -> str:
    return HEAD + ",".join(nodes) + MIDDLE + ",".join(edges) + TAIL


@dataclass(frozen=True)
class Pieces:
    """graph.json in pieces: the term nodes and the term edges, then each page's node and its
    edges joined ("" when it has none), in page order. None marks a page's piece the caller
    keeps from the previous build (ingest/network_spans.py)."""

    term_nodes: list[str]
    term_edges: list[str]
    nodes: list[str | None]
    edges: list[str | None]

    def text(self) -> str:
        assert None not in self.nodes and None not in self.edges, "pieces kept from elsewhere"
        return _document([*self.term_nodes, *cast(list[str], self.nodes)],
                         [*self.term_edges, *(e for e in cast(list[str], self.edges) if e)])


def network_json(pages: list[Page], terms: dict[str, Term],
                 related: RelatedColumns | None = None) -> str:
    """The node-link JSON of `build_network(pages, terms, related)`, added in its order."""
    pieces = direct(pages, terms, related)
    return pieces.text() if pieces is not None else general(pages, terms, related).node_link()


def _similar(related: RelatedColumns, index: dict[str, int],
             wanted: npt.NDArray[np.bool_] | None = None) -> list[list[str]] | None:
    """Each page's `similar` edges as JSON, by page index (only for pages `wanted`, if given);
    None if an edge would make a node or repeat one (the general path then keeps networkx's
    order)."""
    slots = [index.get(page_id, -1) for page_id in related.page_ids]
    if -1 in slots:
        return None
    offsets = related.offsets.astype(np.int64)
    take = np.minimum(np.diff(offsets), RELATED_EDGES)
    firsts = np.repeat(offsets[:-1] - np.concatenate(([0], np.cumsum(take)[:-1])), take)
    rows = firsts + np.arange(int(take.sum()))
    sources = np.repeat(np.arange(len(related.page_ids)), take)
    targets = related.target[rows].astype(np.int64)
    if len(distinct(sources * len(related.page_ids) + targets)) != len(rows):
        return None
    if wanted is not None:
        chosen = wanted[np.array(slots, dtype=np.int64)[sources]]
        rows, sources, targets = rows[chosen], sources[chosen], targets[chosen]
    names = {i: quote(page_node(related.page_ids[i]))
             for i in distinct(np.concatenate([sources, targets])).tolist()}
    out: list[list[str]] = [[] for _ in index]
    tenths = rounded(related.floats["score"][rows])  # the score is round(x, 4): tenths / 10^4
    text: dict[int, str] = {}
    for source, target, k in zip(sources.tolist(), targets.tolist(), tenths.tolist(), strict=True):
        if (score := text.get(k)) is None:
            score = text[k] = repr(k / 10_000)
        if k / 10_000 >= RELATED_MIN_SCORE:
            out[slots[source]].append(f'{{"kind":"similar","score":{score},"source":'
                                      f'{names[source]},"target":{names[target]},"key":"similar"}}')
    return out


def rounded(scores: np.ndarray) -> np.ndarray:
    """k for each score x, where round(x, 4) == k / 10^4 (both divisions are correctly rounded,
    so they give the same float). numpy's rint(x * 10^4) can only differ from Python's
    correctly rounded decimal rounding next to a tie; there Python's round decides. Few
    distinct k then share one repr each, instead of two float-to-text conversions per edge."""
    x = scores.astype(np.float64)
    scaled = x * 10_000
    k = np.rint(scaled)
    for i in np.flatnonzero(np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6):
        k[i] = round(round(float(x[i]), 4) * 10_000)
    return k.astype(np.int64)


def direct(pages: list[Page], terms: dict[str, Term], related: RelatedColumns | None,
            kept_nodes: npt.NDArray[np.bool_] | None = None,
            kept_edges: npt.NDArray[np.bool_] | None = None) -> Pieces | None:
    """The JSON written page by page, without the edge dicts, for the usual graph: pages'
    edges go to terms and pages that exist, at most one edge from a page to each node, so a
    page's edges are in the order they were added. None when that does not hold (then
    `general`, which keeps networkx's grouping). Pages whose node or edges are `kept_*` are
    not encoded: their pieces are None (the caller vouches they pass these checks)."""
    index = {page.id: i for i, page in enumerate(pages)}
    if len(index) != len(pages):
        return None
    fresh_edges = ~kept_edges if kept_edges is not None else None
    similar = (_similar(related, index, fresh_edges) if related is not None
               else [[] for _ in pages])
    term_graph = _Multigraph()  # terms and their edges: few, the general way
    for term in terms.values():
        term_graph.node(term_node(term.key), {"kind": "term", "taxonomy": term.kind,
                                              "slug": term.slug, "label": term.label,
                                              "generated": term.generated, "page": term.page_id})
    _term_edges(term_graph, terms)
    if similar is None or len(term_graph.nodes) != len(terms):
        return None
    # an edge from a page to a term is `head[kind] + page + tail[kind][slug]`
    heads = {kind: f'{{"kind":"{edge_kind}","source":' for kind, edge_kind in EDGE_KIND.items()}
    tails: dict[str, dict[str, str]] = {kind: {} for kind in EDGE_KIND}
    for term in terms.values():
        if term.kind in tails:
            tails[term.kind][term.slug] = (f',"target":{quote(term_node(term.key))},'
                                           f'"key":"{EDGE_KIND[term.kind]}"}}')
    term_nodes, term_edges = term_graph.parts()
    skip_node = kept_nodes.tolist() if kept_nodes is not None else [False] * len(pages)
    skip_edges = kept_edges.tolist() if kept_edges is not None else [False] * len(pages)
    nodes: list[str | None] = []
    all_edges: list[str | None] = []
    for i, page in enumerate(pages):
        if skip_node[i] and skip_edges[i]:
            nodes.append(None)
            all_edges.append(None)
            continue
        name = quote(page_node(page.id))
        nodes.append(None if skip_node[i] else
                     f'{{"kind":"page","title":{quote(page.title)},"type":{quote(page.type)},'
                     f'"url":{quote(page.url)},"draft":{"true" if page.draft else "false"},'
                     f'"id":{name}}}')
        if skip_edges[i]:
            all_edges.append(None)
            continue
        edges: list[str] = []
        taxonomy = page.taxonomy
        for kind, slugs in page.terms.items():
            tail, head = tails[kind], heads[kind] + name
            if len(set(slugs)) != len(slugs) or (taxonomy is not None and taxonomy[0] == kind
                                                 and taxonomy[1] in slugs):
                return None  # two edges to one term: networkx groups them (the general way)
            try:
                edges.extend([head + tail[slug] for slug in slugs])
            except KeyError:
                return None  # an edge to a term that does not exist makes a node
        if taxonomy is not None:
            if "/".join(taxonomy) not in terms:
                return None
            edges.append(f'{{"kind":"defines","source":{name},"target":'
                         f'{quote(term_node("/".join(taxonomy)))},"key":"defines"}}')
        edges.extend(similar[i])
        all_edges.append(",".join(edges))
    return Pieces(term_nodes, term_edges, nodes, all_edges)


def general(pages: list[Page], terms: dict[str, Term],
             related: RelatedColumns | None) -> _Multigraph:
    graph = _Multigraph()
    for term in terms.values():
        graph.node(term_node(term.key), {"kind": "term", "taxonomy": term.kind, "slug": term.slug,
                                         "label": term.label, "generated": term.generated,
                                         "page": term.page_id})
    kinds = {kind: (edge_kind, f'"kind":{quote(edge_kind)},') for kind, edge_kind in EDGE_KIND.items()}
    nodes = graph.nodes
    for page in pages:  # the hot loop (10k pages, 60k edges): graph.edge inlined
        source = page_node(page.id)
        graph.node(source, {"kind": "page", "title": page.title, "type": page.type,
                            "url": page.url, "draft": page.draft})
        targets = graph.out.setdefault(source, {})
        for kind, slugs in page.terms.items():
            edge_kind, members = kinds[kind]
            for slug in slugs:
                target = term_node(term_key(kind, slug))
                if target not in nodes:
                    nodes[target] = {}
                if (keyed := targets.get(target)) is None:
                    targets[target] = {edge_kind: members}
                else:
                    keyed[edge_kind] = members
        if page.taxonomy is not None:
            graph.edge(source, term_node("/".join(page.taxonomy)), "defines", '"kind":"defines",')
    _term_edges(graph, terms)
    if related is not None:
        names = [page_node(page_id) for page_id in related.page_ids]
        offsets = related.offsets.tolist()
        target_of, scores = related.target.tolist(), related.floats["score"].tolist()
        for i, source in enumerate(names):
            start = offsets[i]
            for r in range(start, min(offsets[i + 1], start + RELATED_EDGES)):
                score = round(scores[r], 4)
                if score >= RELATED_MIN_SCORE:
                    graph.edge(source, names[target_of[r]], "similar",
                               f'"kind":"similar","score":{score!r},')
    return graph
