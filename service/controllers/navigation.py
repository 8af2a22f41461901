"""Navigating the graph: the taxonomy (GET /v1/terms, /v1/terms/{kind}/{slug}), a page's
neighbourhood (`neighbours`, routed from the pages controller) and the explained shortest
path between two pages (GET /v1/path).

Everything a request needs is derived once per IndexView (term counts, narrower/related maps,
the graph without hidden pages, the weighted path graph) and cached beside it, so handlers
only look things up. "Hidden" follows IndexView.visible: drafts, unless the service was
started with drafts included.

Graph nodes are named like the ingest graph, `page:<page id>` and `term:<kind>/<slug>`; that
name is each node's `key` and what edges point at, because a taxonomy page and its term share
the id `tags/flow`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

import networkx as nx
from litestar import get
from litestar.di import NamedDependency
from litestar.dto import DataclassDTO, DTOConfig
from litestar.params import PathParameter, QueryParameter

from ontology.vocab import TAXONOMY_KINDS
from principles.contract import PAGE_PREFIX, TERM_PREFIX, PageRecord, term_key
from principles.errors import InvalidParameter, NotFound
from principles.paths import slugify
from service.feature import Feature
from service.index import IndexView
from service.models import PageResult, TermRef

if TYPE_CHECKING:
    from service.services import Services


MIN_DEPTH = 1
MAX_DEPTH = 3
MAX_NODES = 200
SIMILAR_BASE_COST = 0.5  # a similar edge costs (1 - score) + this; any taxonomy edge costs 1
TAXONOMY_COST = 1.0
NAVIGATION_TAGS = ["navigation"]


# --- response models -------------------------------------------------------------------------

@dataclass
class TermSummary:
    id: str
    kind: str
    slug: str
    label: str
    count: int
    page: str | None
    generated: bool


@dataclass
class TermList:
    results: list[TermSummary]


@dataclass
class TermDetail(TermSummary):
    alt_labels: list[str] = field(default_factory=list)
    broader: list[TermRef] = field(default_factory=list)
    narrower: list[TermRef] = field(default_factory=list)
    related: list[TermRef] = field(default_factory=list)
    pages: list[PageResult] = field(default_factory=list)


@dataclass
class GraphNode:
    key: str
    id: str
    kind: str
    label: str
    type: str
    url: str | None
    distance: int


@dataclass
class GraphEdge:
    source: str
    target: str
    kind: str
    score: float | None


@dataclass
class NeighboursView:
    center: str
    depth: int
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    truncated: bool
    total_nodes: int


@dataclass
class PathHop:
    from_: GraphNode
    to: GraphNode
    kind: str
    score: float | None
    explanation: str


@dataclass
class PathView:
    from_: str
    to: str
    length: int
    cost: float
    hops: list[PathHop]
    nodes: list[GraphNode]


class PathDTO(DataclassDTO[PathView]):
    """`from` is a Python keyword: the models say `from_`, the JSON says `from`."""

    __schema_name__ = "PathView"

    config = DTOConfig(rename_fields={"from_": "from", "hops.0.from_": "from"}, max_nested_depth=2)


# --- derived once per build -----------------------------------------------------------------

@dataclass
class Navigation:
    """The taxonomy and graph tables navigation answers from, derived from one build when the
    app opens it and given to handlers as the `navigation` dependency."""

    index: IndexView
    terms: dict[str, TermSummary]
    term_pages: dict[str, list[PageResult]]
    narrower: dict[str, list[str]]
    related: dict[str, list[str]]
    graph: nx.MultiDiGraph       # the ingest graph without hidden pages
    undirected: nx.MultiGraph    # a view of `graph`, for the ego graph
    weighted: nx.Graph           # one cheapest edge per node pair, for shortest paths


def build_navigation(index: IndexView) -> Navigation:
    visible = [p for p in index.pages.values() if index.visible(p)]
    users: dict[str, list[PageRecord]] = {key: [] for key in index.terms}
    for page in visible:
        for kind, slugs in page["terms"].items():
            for slug in slugs:
                users.setdefault(term_key(kind, slug), []).append(page)

    terms: dict[str, TermSummary] = {}
    narrower: dict[str, list[str]] = {key: [] for key in index.terms}
    related: dict[str, list[str]] = {key: list(t["related"]) for key, t in index.terms.items()}
    incoming: dict[str, list[str]] = {key: [] for key in index.terms}
    for key, term in index.terms.items():
        own = index.pages.get(term["page_id"] or "")
        terms[key] = TermSummary(
            id=key, kind=term["kind"], slug=term["slug"], label=term["label"],
            count=len(users.get(key, [])),
            page=own["id"] if own is not None and index.visible(own) else None,
            generated=bool(term["generated"]))
    for key, term in index.terms.items():
        for broader in term["broader"]:
            if broader in narrower and key not in narrower[broader]:
                narrower[broader].append(key)
        for other in term["related"]:  # skos:related is symmetric; ingest records one side
            if other in incoming:
                incoming[other].append(key)
    for key, term in index.terms.items():
        close = {key, *term["broader"], *narrower[key]}
        both = related[key] + sorted(incoming[key], key=lambda k: _label_order(terms, k))
        related[key] = [r for i, r in enumerate(both) if r not in close and r not in both[:i]]
        narrower[key].sort(key=lambda k: _label_order(terms, k))

    term_pages: dict[str, list[PageResult]] = {}
    for key, pages in users.items():
        kind = key.split("/", 1)[0]
        rows = [PageResult(id=p["id"], title=p["title"], url=p["url"], type=p["type"],
                         score=round(1.0 / max(1, len(p["terms"].get(kind, []))), 4))
                for p in pages]
        rows.sort(key=lambda r: (-r.score, r.title.casefold(), r.id))
        term_pages[key] = rows

    graph = index.network  # already without hidden pages (IndexView drops them on load)
    weighted = nx.Graph()
    weighted.add_nodes_from(graph.nodes)
    for source, target, data in graph.edges(data=True):
        kind = str(data.get("kind", ""))
        score = data.get("score")
        cost = ((1.0 - float(score)) + SIMILAR_BASE_COST if kind == "similar" and score is not None
                else TAXONOMY_COST)
        best = weighted.get_edge_data(source, target)
        if best is None or cost < best["weight"]:
            weighted.add_edge(source, target, weight=cost, source=source, target=target, kind=kind,
                              score=float(score) if score is not None else None)
    return Navigation(index=index, terms=terms, term_pages=term_pages, narrower=narrower, related=related,
                       graph=graph, undirected=graph.to_undirected(as_view=True), weighted=weighted)


def _label_order(terms: dict[str, TermSummary], key: str) -> tuple[str, str]:
    term = terms.get(key)
    return (term.label.casefold() if term else key, key)


# --- shared helpers --------------------------------------------------------------------------

def _check_kind(kind: str) -> str:
    if kind not in TAXONOMY_KINDS:
        raise InvalidParameter(f"kind must be one of {', '.join(TAXONOMY_KINDS)}, not {kind!r}",
                               parameter="kind", allowed=list(TAXONOMY_KINDS))
    return kind


def _ref(nav: Navigation, key: str) -> TermRef:
    term = nav.terms.get(key)
    return TermRef.of(key, term.label if term else None)


def _node(graph: nx.MultiDiGraph, key: str, distance: int) -> GraphNode:
    data = graph.nodes[key]
    if key.startswith(PAGE_PREFIX):
        page_id = key.removeprefix(PAGE_PREFIX)
        return GraphNode(key=key, id=page_id, kind="page", label=str(data.get("title", page_id)),
                         type=str(data.get("type", "page")), url=data.get("url"), distance=distance)
    term_id = key.removeprefix(TERM_PREFIX)
    return GraphNode(key=key, id=term_id, kind="term", label=str(data.get("label") or term_id),
                     type=str(data.get("taxonomy") or term_id.partition("/")[0]), url=None,
                     distance=distance)


def _singular(kind: str) -> str:
    return TAXONOMY_KINDS.get(kind, (kind, kind))[0]


def explain(kind: str, source: GraphNode, target: GraphNode, score: float | None) -> str:
    """One edge as a sentence, read in the edge's own direction (true whichever way a path
    walks it)."""
    a, b = f"“{source.label}”", f"“{target.label}”"
    if kind == "has_tag":
        return f"{a} is tagged {b}"
    if kind == "has_category":
        return f"{a} is in the category {b}"
    if kind == "has_concept":
        return f"{a} is classed under the concept {b}"
    if kind == "defines":
        return f"{a} is the {_singular(target.type)} page of {b}"
    if kind == "broader":
        return f"{a} sits under the {_singular(target.type)} {b}"
    if kind == "related":
        return f"{a} is related to the {_singular(target.type)} {b}"
    if kind == "similar":
        return f"{a} is similar to {b}" + (f" (score {score:.2f})" if score is not None else "")
    return f"{a} is linked to {b} ({kind})"


# --- terms -----------------------------------------------------------------------------------

@get("/v1/terms", operation_id="listTerms", summary="All taxonomy terms with usage counts",
     description="Every concept, category and tag, including terms pages use but no taxonomy "
                 "page defines (`generated`). `count` is the number of served (non-draft) pages "
                 "that use the term; `page` is the id of the term's own page, or null. Sorted by "
                 "kind, then count (highest first), then label.",
     tags=NAVIGATION_TAGS)
async def list_terms(
    navigation: NamedDependency[Navigation],
    kind: Annotated[str | None, QueryParameter(
        description="Only this taxonomy: concepts, categories or tags")] = None,
) -> TermList:
    return term_list(navigation, kind)


def term_list(nav: Navigation, kind: str | None) -> TermList:
    """The terms answer; also the MCP `list_terms` tool's."""
    if kind is not None:
        _check_kind(kind)
    rows = [t for t in nav.terms.values() if kind is None or t.kind == kind]
    rows.sort(key=lambda t: (t.kind, -t.count, t.label.casefold(), t.id))
    return TermList(results=rows)


def find_term(index: IndexView, kind: str, slug: str) -> str:
    """The `kind/slug` key of a term named by slug, label or alternative label."""
    _check_kind(kind)
    key = term_key(kind, slug)
    if key in index.terms:
        return key
    loose = f"{kind}/{slugify(slug)}"
    if loose in index.terms:
        return loose
    wanted = slug.strip().casefold()
    for other, term in index.terms.items():
        if term["kind"] == kind and wanted in {term["label"].casefold(),
                                               *(a.casefold() for a in term["alt_labels"])}:
            return other
    slugs = [t["slug"] for t in index.terms.values() if t["kind"] == kind]
    suggestions = [f"{kind}/{s}" for s in difflib.get_close_matches(slugify(slug) or slug, slugs, 3)]
    raise NotFound(f"no term {key!r}: {kind} has no slug or label {slug!r}",
                   suggestions=suggestions)


@get("/v1/terms/{kind:str}/{slug:str}", operation_id="getTerm",
     summary="One term, its place in the taxonomy and its pages",
     description="The term (named by slug, label or alternative label) with `broader` terms (a "
                 "tag's categories), `narrower` terms (those whose broader term this is), "
                 "`related` terms (symmetric) and the served pages that use it. Each page's "
                 "`score` is how much of the page's terms of this kind the term makes up: 1.0 "
                 "when it is the page's only one, 0.5 when one of two; pages are sorted by score, "
                 "then title.",
     tags=NAVIGATION_TAGS)
async def get_term(
    navigation: NamedDependency[Navigation],
    kind: Annotated[str, PathParameter(description="Taxonomy: concepts, categories or tags")],
    slug: Annotated[str, PathParameter(description="Term slug (flow) or label (Flow)")],
) -> TermDetail:
    return term_detail(navigation, kind, slug)


def term_detail(nav: Navigation, kind: str, slug: str) -> TermDetail:
    """The term answer; also the MCP `get_term` tool's."""
    key = find_term(nav.index, kind, slug)
    term, record = nav.terms[key], nav.index.terms[key]
    return TermDetail(
        id=term.id, kind=term.kind, slug=term.slug, label=term.label, count=term.count,
        page=term.page, generated=term.generated, alt_labels=list(record["alt_labels"]),
        broader=[_ref(nav, k) for k in record["broader"]],
        narrower=[_ref(nav, k) for k in nav.narrower.get(key, [])],
        related=[_ref(nav, k) for k in nav.related.get(key, [])],
        pages=list(nav.term_pages.get(key, [])),
    )


# --- neighbours ------------------------------------------------------------------------------

def neighbours(nav: Navigation, ref: str, depth: int = 1) -> NeighboursView:
    """The ego graph of radius `depth` (1..3) around a page (id, url or alias), walking edges in
    both directions, hidden pages left out. The closest MAX_NODES nodes are kept (ties by kind,
    pages first, then label) and `truncated` says whether any were dropped; edges are all edges
    of the ingest graph among the kept nodes, in their own direction."""
    if isinstance(depth, bool) or not MIN_DEPTH <= depth <= MAX_DEPTH:
        raise InvalidParameter(f"depth must be between {MIN_DEPTH} and {MAX_DEPTH}, not {depth}",
                               parameter="depth")
    page = nav.index.find(ref)
    if page is None:
        raise NotFound(f"no page has the id, url or alias {ref.lstrip('/')!r}")
    center = PAGE_PREFIX + page["id"]
    distances: dict[str, int] = nx.single_source_shortest_path_length(
        nav.undirected, center, cutoff=depth)
    nodes = [_node(nav.graph, key, dist) for key, dist in distances.items()]
    nodes.sort(key=lambda n: (n.distance, n.kind != "page", n.label.casefold(), n.key))
    kept = nodes[:MAX_NODES]
    keys = {n.key for n in kept}
    edges = [GraphEdge(source=s, target=t, kind=str(d.get("kind", "")), score=d.get("score"))
             for s, t, d in nav.graph.subgraph(keys).edges(data=True)]
    edges.sort(key=lambda e: (e.source, e.target, e.kind))
    return NeighboursView(center=page["id"], depth=depth, nodes=kept, edges=edges,
                          truncated=len(nodes) > len(kept), total_nodes=len(nodes))


# --- path ------------------------------------------------------------------------------------

def find_path(nav: Navigation, source: str, target: str) -> PathView:
    """The cheapest path between two served pages through taxonomy and similar edges, walked in
    either direction: a similar edge costs (1 - score) + 0.5, any other edge 1."""
    ends: list[PageRecord] = []
    for name, ref in (("from", source), ("to", target)):
        page = nav.index.find(ref)
        if page is None:
            raise NotFound(f"`{name}`: no page has the id, url or alias {ref.lstrip('/')!r}",
                           parameter=name)
        ends.append(page)
    start, end = (PAGE_PREFIX + p["id"] for p in ends)
    try:
        keys: list[str] = nx.shortest_path(nav.weighted, start, end, weight="weight")
    except (nx.NetworkXNoPath, nx.NodeNotFound) as exc:
        raise NotFound(f"no path links {ends[0]['id']!r} and {ends[1]['id']!r}: they share no "
                       "term and no chain of terms or similar pages connects them") from exc
    nodes = [_node(nav.graph, key, i) for i, key in enumerate(keys)]
    by_key = {n.key: n for n in nodes}
    hops: list[PathHop] = []
    cost = 0.0
    for a, b in zip(nodes, nodes[1:], strict=False):
        edge = nav.weighted.edges[a.key, b.key]
        cost += edge["weight"]
        explanation = explain(edge["kind"], by_key[edge["source"]], by_key[edge["target"]],
                              edge["score"])
        hops.append(PathHop(from_=a, to=b, kind=edge["kind"], score=edge["score"],
                            explanation=explanation))
    return PathView(from_=ends[0]["id"], to=ends[1]["id"], length=len(hops), cost=round(cost, 4),
                    hops=hops, nodes=nodes)


@get("/v1/path", operation_id="findPath", summary="Explained shortest path between two pages",
     description="The cheapest route from one page to another through the graph, each hop with a "
                 "sentence saying why the two nodes are linked. Edges are walked in either "
                 "direction; a similar-pages edge costs (1 - score) + 0.5 and any taxonomy edge "
                 "(tag, category, concept, term page, broader, related) costs 1. `length` counts "
                 "hops (0 when both ends are the same page); `cost` is the total weight. Draft "
                 "pages are never on the path.",
     tags=NAVIGATION_TAGS, return_dto=PathDTO)
async def get_path(
    navigation: NamedDependency[Navigation],
    source: Annotated[str, QueryParameter(name="from", description="Start page: id, url or alias")],
    target: Annotated[str, QueryParameter(name="to", description="End page: id, url or alias")],
) -> PathView:
    return find_path(navigation, source, target)


NAVIGATION_HANDLERS = [list_terms, get_term, get_path]

__all__ = ["NAVIGATION_HANDLERS", "GraphEdge", "GraphNode", "Navigation", "NeighboursView", "PathHop",
           "PathView", "TermDetail", "TermList", "TermSummary", "build_navigation", "find_path",
           "find_term", "neighbours", "term_detail", "term_list"]


def feature(services: Services) -> Feature:
    return Feature(NAVIGATION_HANDLERS)
