"""Navigation over corpus/: terms with counts, one term in its taxonomy, a page's neighbourhood
and the explained shortest path between two pages."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from litestar import Litestar
from litestar.di import Provide
from litestar.testing import TestClient

from principles.errors import InvalidParameter, NotFound
from principles.settings import Settings
from service.controllers import navigation as nav_module
from service.controllers.navigation import (
    NAVIGATION_HANDLERS,
    GraphNode,
    NeighboursView,
    build_navigation,
    explain,
    neighbours,
)
from service.errors import EXCEPTION_HANDLERS
from service.index import IndexView, open_index
from tests.figures import CORPUS_TERMS

WIP_ARTICLE = "resources/articles/limit-work-in-progress"
DEBT_ARTICLE = "resources/articles/technical-debt-is-a-loan"
DRAFT = "resources/blog/2025/2025-02-10-feature-toggles-decouple-deploy-from-release"
TRUNK = "resources/articles/trunk-based-development"
nav_of = cache(build_navigation)  # the tables a running app derives once per build


@pytest.fixture(scope="module")
def view(corpus_settings: Settings) -> IndexView:
    return open_index(corpus_settings)


@pytest.fixture(scope="module")
def client(view: IndexView) -> Iterator[TestClient[Litestar]]:
    app = Litestar(route_handlers=NAVIGATION_HANDLERS,
                   dependencies={"navigation": Provide(lambda: nav_of(view), sync_to_thread=False)},
                   exception_handlers=EXCEPTION_HANDLERS)
    with TestClient(app) as c:
        yield c


def assert_problem(response: Any, status: int, *needles: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    for needle in needles:
        assert needle in body["detail"], body
    return body


# --- /v1/terms -------------------------------------------------------------------------------

def test_terms_list_counts_served_pages(client: TestClient[Litestar], view: IndexView) -> None:
    results = client.get("/v1/terms").json()["results"]
    by_id = {t["id"]: t for t in results}
    assert len(results) == len(view.terms) == CORPUS_TERMS
    flow = by_id["tags/flow"]
    assert flow == {"id": "tags/flow", "kind": "tags", "slug": "flow", "label": "Flow",
                    "count": flow["count"], "page": "tags/flow", "generated": False}
    assert flow["count"] > 1
    for term in results:  # every count is the served pages naming the term
        kind, slug = term["kind"], term["slug"]
        assert term["count"] == sum(1 for p in view.pages.values()
                                    if not p["draft"] and slug in p["terms"].get(kind, []))
    # the draft uses tags/continuous-integration but is not counted
    assert "continuous-integration" in view.pages[DRAFT]["terms"]["tags"]
    cycle = by_id["tags/cycle-time"]
    assert cycle["generated"] is True and cycle["page"] is None and cycle["label"] == "Cycle Time"
    order = [(t["kind"], -t["count"], t["label"].casefold()) for t in results]
    assert order == sorted(order)
    assert [t["kind"] for t in results][0] == "categories" and results[-1]["kind"] == "tags"


def test_terms_kind_filter(client: TestClient[Litestar]) -> None:
    for kind in ("concepts", "categories", "tags"):
        results = client.get("/v1/terms", params={"kind": kind}).json()["results"]
        assert results and {t["kind"] for t in results} == {kind}
    concepts = client.get("/v1/terms", params={"kind": "concepts"}).json()["results"]
    assert {t["id"] for t in concepts} == {"concepts/anti-pattern", "concepts/pattern",
                                           "concepts/practice", "concepts/principle",
                                           "concepts/tenet"}
    body = assert_problem(client.get("/v1/terms", params={"kind": "tag"}), 422, "'tag'")
    assert body["type"].endswith("/invalid-parameter")


def test_term_detail(client: TestClient[Litestar]) -> None:
    # corpus/tags/work-in-progress-limits/_index.md: categories Kanban, Lean; tags Flow;
    # concepts Practice. A tag page's categories are its broader terms.
    response = client.get("/v1/terms/tags/work-in-progress-limits")
    assert response.status_code == 200, response.text
    term = response.json()
    assert term["id"] == "tags/work-in-progress-limits" and term["label"] == "Work in Progress Limits"
    assert term["page"] == "tags/work-in-progress-limits" and term["generated"] is False
    assert {b["id"] for b in term["broader"]} == {"categories/kanban", "categories/lean"}
    assert {"tags/flow", "concepts/practice"} <= {r["id"] for r in term["related"]}
    assert term["narrower"] == []
    pages = {p["id"]: p for p in term["pages"]}
    assert WIP_ARTICLE in pages and "resources/guides/wip-limits-in-practice" in pages
    assert len(pages) == term["count"]
    article = pages[WIP_ARTICLE]
    # the article has three tags, so this one is a third of its tagging
    assert article == {"id": WIP_ARTICLE, "title": "Limit Work in Progress to Finish Sooner",
                       "url": "/resources/articles/limit-work-in-progress/", "type": "article",
                       "score": pytest.approx(1 / 3, abs=1e-3)}
    scores = [p["score"] for p in term["pages"]]
    assert scores == sorted(scores, reverse=True) and all(0 < s <= 1 for s in scores)


def test_term_narrower_related_symmetric_and_labels(client: TestClient[Litestar]) -> None:
    kanban = client.get("/v1/terms/categories/kanban").json()
    assert {"tags/flow", "tags/work-in-progress-limits"} <= {n["id"] for n in kanban["narrower"]}
    # narrower terms are not repeated under related
    assert not {n["id"] for n in kanban["narrower"]} & {r["id"] for r in kanban["related"]}
    # skos:related is symmetric: Flow lists WIP limits, so WIP limits lists Flow and back
    flow = client.get("/v1/terms/tags/flow").json()
    assert "tags/work-in-progress-limits" in {r["id"] for r in flow["related"]}
    # a term can be named by its label too
    assert client.get("/v1/terms/tags/Work in Progress Limits").json()["id"] == \
        "tags/work-in-progress-limits"
    generated = client.get("/v1/terms/tags/cycle-time").json()
    assert generated["generated"] is True and generated["page"] is None and generated["pages"]


def test_term_draft_not_listed(client: TestClient[Litestar]) -> None:
    pages = client.get("/v1/terms/tags/continuous-integration").json()["pages"]
    assert pages and DRAFT not in {p["id"] for p in pages}


def test_unknown_term_is_problem_json(client: TestClient[Litestar]) -> None:
    body = assert_problem(client.get("/v1/terms/tags/flw"), 404, "tags/flw")
    assert body["type"].endswith("/not-found") and "tags/flow" in body["suggestions"]
    assert_problem(client.get("/v1/terms/tags/no-such-thing"), 404, "tags/no-such-thing")
    assert_problem(client.get("/v1/terms/labels/flow"), 422, "'labels'")


# --- neighbours ------------------------------------------------------------------------------

def node_ids(result: NeighboursView, kind: str) -> set[str]:
    return {n.id for n in result.nodes if n.kind == kind}


def test_neighbours_depth_one(view: IndexView) -> None:
    result = neighbours(nav_of(view), WIP_ARTICLE, 1)
    assert result.center == WIP_ARTICLE and result.depth == 1 and not result.truncated
    assert result.nodes[0].id == WIP_ARTICLE and result.nodes[0].distance == 0
    assert result.nodes[0].url == "/resources/articles/limit-work-in-progress/"
    assert {"tags/work-in-progress-limits", "tags/flow", "tags/value-delivery", "categories/kanban",
            "categories/lean", "concepts/principle"} == node_ids(result, "term")
    flow = next(n for n in result.nodes if n.key == "term:tags/flow")
    assert flow.label == "Flow" and flow.type == "tags" and flow.url is None and flow.distance == 1
    assert all(n.distance <= 1 for n in result.nodes)
    assert "resources/guides/wip-limits-in-practice" in node_ids(result, "page")  # similar
    keys = {n.key for n in result.nodes}
    assert len(keys) == len(result.nodes) == result.total_nodes
    assert all(e.source in keys and e.target in keys for e in result.edges)
    kinds = {(e.source, e.target): e for e in result.edges}
    assert kinds[f"page:{WIP_ARTICLE}", "term:tags/flow"].kind == "has_tag"
    similar = [e for e in result.edges if e.kind == "similar"]
    assert similar and all(e.score is not None and 0 < e.score <= 1 for e in similar)
    assert all(e.score is None for e in result.edges if e.kind != "similar")


def test_neighbours_exclude_drafts(view: IndexView, corpus_settings: Settings) -> None:
    with_drafts = open_index(corpus_settings.model_copy(update={"include_drafts": True}))
    # the draft is similar to the trunk-based development article, one hop away in the graph
    assert with_drafts.network.has_edge(f"page:{DRAFT}", f"page:{TRUNK}")
    assert not view.network.has_node(f"page:{DRAFT}")
    for ref, depth in [(TRUNK, 1), (WIP_ARTICLE, 3)]:
        result = neighbours(nav_of(view), ref, depth)
        assert DRAFT not in node_ids(result, "page")
        assert all(DRAFT not in (e.source, e.target) for e in result.edges)
    with pytest.raises(NotFound):
        neighbours(nav_of(view), DRAFT, 1)
    assert DRAFT in node_ids(neighbours(nav_of(with_drafts), TRUNK, 1), "page")


def test_neighbours_by_alias_and_depth(view: IndexView) -> None:
    one = neighbours(nav_of(view), "/principles/limit-wip/", 1)
    assert one.center == WIP_ARTICLE
    two = neighbours(nav_of(view), WIP_ARTICLE, 2)
    assert {n.key for n in one.nodes} < {n.key for n in two.nodes}
    assert max(n.distance for n in two.nodes) == 2
    for depth in (0, 4, -1):
        with pytest.raises(InvalidParameter, match="depth"):
            neighbours(nav_of(view), WIP_ARTICLE, depth)
    with pytest.raises(NotFound, match="no/such/page"):
        neighbours(nav_of(view), "no/such/page", 1)


def test_neighbours_cap_keeps_closest(view: IndexView, monkeypatch: pytest.MonkeyPatch) -> None:
    full = neighbours(nav_of(view), WIP_ARTICLE, 3)
    assert not full.truncated and full.total_nodes == len(full.nodes) <= nav_module.MAX_NODES
    monkeypatch.setattr(nav_module, "MAX_NODES", 10)
    capped = neighbours(nav_of(view), WIP_ARTICLE, 3)
    assert capped.truncated and len(capped.nodes) == 10 and capped.total_nodes == full.total_nodes
    assert all(n.distance <= 1 for n in capped.nodes)  # depth 1 alone has more than 10
    keys = {n.key for n in capped.nodes}
    assert all(e.source in keys and e.target in keys for e in capped.edges)


# --- /v1/path --------------------------------------------------------------------------------

def check_path(body: dict[str, Any]) -> None:
    hops, nodes = body["hops"], body["nodes"]
    assert body["length"] == len(hops) == len(nodes) - 1
    assert nodes[0]["id"] == body["from"] and nodes[-1]["id"] == body["to"]
    for i, hop in enumerate(hops):
        assert hop["from"] == nodes[i] and hop["to"] == nodes[i + 1]
        text = hop["explanation"]
        assert text and "“" in text
        labels = {hop["from"]["label"], hop["to"]["label"]}
        assert all(f"“{label}”" in text for label in labels), text
        assert (hop["score"] is not None) == (hop["kind"] == "similar")
    assert all(n["kind"] != "page" or n["id"] != DRAFT for n in nodes)


def test_path_between_articles(client: TestClient[Litestar]) -> None:
    response = client.get("/v1/path", params={"from": WIP_ARTICLE, "to": DEBT_ARTICLE})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["from"] == WIP_ARTICLE and body["to"] == DEBT_ARTICLE and body["length"] >= 1
    check_path(body)
    # both articles are tagged Value Delivery: two taxonomy hops is the cheapest route
    assert body["length"] == 2 and body["cost"] == pytest.approx(2.0)
    assert body["nodes"][1]["id"] == "tags/value-delivery" and body["nodes"][1]["kind"] == "term"
    assert body["hops"][0]["explanation"] == \
        "“Limit Work in Progress to Finish Sooner” is tagged “Value Delivery”"


def test_path_prefers_strong_similarity(client: TestClient[Litestar], view: IndexView) -> None:
    # a similar edge with score s costs 1.5 - s, cheaper than two taxonomy hops
    body = client.get("/v1/path", params={
        "from": WIP_ARTICLE, "to": "resources/guides/wip-limits-in-practice"}).json()
    check_path(body)
    assert body["length"] == 1 and body["hops"][0]["kind"] == "similar"
    score = body["hops"][0]["score"]
    assert body["cost"] == pytest.approx(1.5 - score, abs=1e-3)
    assert body["hops"][0]["explanation"].endswith(f"(score {score:.2f})")
    assert " is similar to " in body["hops"][0]["explanation"]


def test_path_by_alias_and_url(client: TestClient[Litestar]) -> None:
    body = client.get("/v1/path", params={"from": "/principles/limit-wip/",
                                          "to": "/resources/articles/technical-debt-is-a-loan/"}).json()
    assert body["from"] == WIP_ARTICLE and body["to"] == DEBT_ARTICLE
    check_path(body)


def test_path_explains_term_pages_and_broader(client: TestClient[Litestar]) -> None:
    # from the Flow tag page to the Kanban category page
    body = client.get("/v1/path", params={"from": "tags/flow", "to": "categories/kanban"}).json()
    check_path(body)
    texts = [h["explanation"] for h in body["hops"]]
    assert body["length"] >= 1 and all(texts)
    page = GraphNode(key="page:tags/flow", id="tags/flow", kind="page", label="Flow", type="tag",
                     url="/tags/flow/", distance=0)
    flow = GraphNode(key="term:tags/flow", id="tags/flow", kind="term", label="Flow", type="tags",
                     url=None, distance=1)
    kanban = GraphNode(key="term:categories/kanban", id="categories/kanban", kind="term",
                       label="Kanban", type="categories", url=None, distance=2)
    assert explain("defines", page, flow, None) == "“Flow” is the tag page of “Flow”"
    assert explain("broader", flow, kanban, None) == "“Flow” sits under the category “Kanban”"


def test_path_same_page(client: TestClient[Litestar]) -> None:
    body = client.get("/v1/path", params={"from": WIP_ARTICLE, "to": "/principles/limit-wip/"}).json()
    assert body["length"] == 0 and body["hops"] == [] and body["cost"] == 0
    assert [n["id"] for n in body["nodes"]] == [WIP_ARTICLE]


def test_path_errors(client: TestClient[Litestar]) -> None:
    assert_problem(client.get("/v1/path", params={"from": "no/such", "to": DEBT_ARTICLE}),
                   404, "`from`", "no/such")
    assert_problem(client.get("/v1/path", params={"from": WIP_ARTICLE, "to": "nope"}),
                   404, "`to`", "nope")
    assert_problem(client.get("/v1/path", params={"from": DRAFT, "to": WIP_ARTICLE}), 404, "`from`")
    # notes/meeting-rules has no terms and no similar pages: nothing reaches it
    assert_problem(client.get("/v1/path", params={"from": WIP_ARTICLE, "to": "notes/meeting-rules"}),
                   404, "no path", "notes/meeting-rules")
    assert_problem(client.get("/v1/path", params={"to": DEBT_ARTICLE}), 422, "from")


def test_openapi_documents_navigation(client: TestClient[Litestar]) -> None:
    schema = client.get("/schema/openapi.json").json()
    operations = {op["operationId"]: op for path in schema["paths"].values() for op in path.values()}
    assert {"listTerms", "getTerm", "findPath"} <= set(operations)
    for name in ("listTerms", "getTerm", "findPath"):
        op = operations[name]
        assert op["tags"] == ["navigation"] and op["summary"] and op["description"]
    hop = schema["components"]["schemas"]["PathView"]
    assert {"from", "to", "length", "hops", "nodes"} <= set(hop["properties"])
