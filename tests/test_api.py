"""The API on corpus/: concrete answers for the widget, authors and API consumers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from principles.embedder import Encoder
from principles.settings import Settings
from service.app import create_app
from tests.conftest import DATA

Client = TestClient[Litestar]
RESULT_FIELDS = {"id", "title", "url", "type", "score"}
WIP = "resources/articles/limit-work-in-progress"


def _judged() -> list[dict[str, Any]]:
    queries: list[dict[str, Any]] = json.loads((DATA / "judged_queries.json").read_text())["queries"]
    return queries


@pytest.mark.parametrize("query", [q for q in _judged() if q.get("canonical_top3")],
                         ids=lambda q: q["id"])
def test_paraphrased_question_finds_canonical_page_in_top3(api: Client, query: dict[str, Any]) -> None:
    canonical = next(pid for pid, grade in query["relevant"].items() if grade == 3)
    results = api.get("/v1/search", params={"q": query["query"]}).json()["results"]
    assert canonical in [r["id"] for r in results[:3]], (query["query"], [r["id"] for r in results])


def test_search_results_shape_and_snippet(api: Client) -> None:
    body = api.get("/v1/search", params={"q": "limit work in progress", "limit": 5}).json()
    assert body["mode"] == "hybrid" and len(body["results"]) == 5
    for result in body["results"]:
        assert set(result) >= RESULT_FIELDS and result["snippet"]
    assert "<mark>" in body["results"][0]["snippet"]
    assert set(body["results"][0]["ranks"]) <= {"dense_pages", "dense_passages", "sparse_pages",
                                                "sparse_passages"}


@pytest.mark.parametrize("mode", ["dense", "sparse", "hybrid"])
def test_search_modes_and_filters(api: Client, mode: str) -> None:
    tagged = api.get("/v1/search", params={"q": "finishing work", "mode": mode,
                                           "tag": "work-in-progress-limits", "type": "article"}).json()
    assert tagged["results"], mode
    for result in tagged["results"]:
        page = api.get(f"/v1/pages/{result['id']}").json()
        assert page["type"] == "article"
        assert "work-in-progress-limits" in {t["slug"] for t in page["tags"]}


def test_search_never_returns_drafts(api: Client, planted: dict[str, Any]) -> None:
    for mode in ("dense", "sparse", "hybrid"):
        results = api.get("/v1/search", params={"q": "feature toggles decouple deploy from release",
                                                "mode": mode, "limit": 50}).json()["results"]
        assert planted["draft"][0] not in [r["id"] for r in results]


@pytest.mark.parametrize("q", ["", "   ", "x" * 501])
def test_search_rejects_empty_or_oversized_query(api: Client, q: str) -> None:
    response = api.get("/v1/search", params={"q": q})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 422 and "q is" in response.json()["detail"]


def test_bad_mode_is_a_422_problem(api: Client) -> None:
    response = api.get("/v1/search", params={"q": "flow", "mode": "magic"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


def test_related_contains_same_ground_not_lookalikes(api: Client) -> None:
    body = api.get("/v1/related", params={"page": WIP, "limit": 5}).json()
    ids = [r["id"] for r in body["results"]]
    assert body["page"] == WIP and WIP not in ids
    assert "resources/guides/wip-limits-in-practice" in ids
    assert "resources/blog/2024/2024-03-11-stop-starting-start-finishing" in ids
    assert "resources/guides/pull-requests-reviewers-love" not in ids
    first = body["results"][0]
    assert set(first) >= RESULT_FIELDS
    reasons = first["reasons"]
    assert reasons["shared_terms"] and reasons["passages"]["source"]["text"]
    assert reasons["passages"]["target"]["text"] and 0 < reasons["passages"]["similarity"] <= 1


def test_related_lookalike_pairs_stay_apart(api: Client, planted: dict[str, Any]) -> None:
    # Top 3: "velocity is not a goal" has three pages on its subject; below them the rows are
    # weak matches within 0.01 of each other (the look-alike among them, at 0.44).
    for a, b in planted["lookalike_pairs"]:
        ids = [r["id"] for r in api.get("/v1/related", params={"page": a, "limit": 3}).json()["results"]]
        assert b not in ids, (a, b, ids)


def test_related_by_alias_with_type_filter_and_no_drafts(api: Client, planted: dict[str, Any]) -> None:
    body = api.get("/v1/related", params={"page": "/principles/continuous-integration/",
                                          "type": "article", "limit": 10}).json()
    assert body["results"] and all(r["type"] == "article" for r in body["results"])
    assert planted["draft"][0] not in [r["id"] for r in body["results"]]


def test_related_caching_headers_and_304(api: Client) -> None:
    first = api.get("/v1/related", params={"page": WIP})
    assert first.status_code == 200 and first.headers["etag"]
    assert "max-age" in first.headers["cache-control"]
    again = api.get("/v1/related", params={"page": WIP}, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    stale = api.get("/v1/related", params={"page": WIP}, headers={"If-None-Match": '"old-build"'})
    assert stale.status_code == 200


def test_unknown_page_everywhere_is_404_problem(api: Client) -> None:
    for url, params in [("/v1/related", {"page": "nope"}), ("/v1/pages/nope", {}),
                        ("/v1/resolve", {"path": "/nope/"})]:
        response = api.get(url, params=params)
        assert response.status_code == 404, url
        assert response.headers["content-type"].startswith("application/problem+json")


def test_old_url_resolves(api: Client) -> None:
    body = api.get("/v1/resolve", params={
        "path": "https://example.org/Principles/Customer-Focus/index.html?utm=x#top"}).json()
    assert body["normalised"] == "/principles/customer-focus/" and body["matched"] == "alias"
    assert body["page"]["id"] == "tags/customer-focus" and set(body["page"]) >= RESULT_FIELDS
    assert api.get("/v1/resolve", params={"path": "/tags/customer-focus"}).json()["matched"] == "url"
    assert api.get("/v1/resolve", params={"path": "/principles/%63ustomer-focus"}).status_code == 200


def test_near_miss_suggestions(api: Client) -> None:
    response = api.get("/v1/resolve", params={"path": "/principles/customer-focu"})
    assert response.status_code == 404
    assert "/principles/customer-focus/" in [s["path"] for s in response.json()["suggestions"]]


def test_alias_collision_reported(api: Client, planted: dict[str, Any]) -> None:
    body = api.get("/v1/aliases/conflicts").json()
    [conflict] = body["results"]
    assert conflict["alias"] == planted["alias_collision"]["alias"]
    assert sorted(c["id"] for c in conflict["claimants"]) == sorted(planted["alias_collision"]["pages"])
    assert "earliest date" in body["rule"]


def test_redirect_to_canonical(api: Client) -> None:
    response = api.get("/r/principles/customer-focus", follow_redirects=False)
    assert response.status_code == 301 and response.headers["location"] == "/tags/customer-focus/"


@pytest.mark.parametrize("evil", ["//evil.example", "https://evil.example/principles/customer-focus/",
                                  "/\\evil.example", "%2F%2Fevil.example", "/%5Cevil.example",
                                  "//principles/customer-focus/", "https:/evil.example",
                                  "\\\\evil.example/principles/customer-focus"])
def test_redirect_never_leaves_the_site(api: Client, evil: str) -> None:
    response = api.get(f"/r/{evil}", follow_redirects=False)
    assert response.status_code in (301, 404)
    if response.status_code == 301:
        location = response.headers["location"]
        assert location.startswith("/") and not location.startswith(("//", "/\\"))
        assert "evil" not in location


def test_jsonld_has_about_and_keywords(api: Client) -> None:
    response = api.get(f"/v1/pages/{WIP}", headers={"Accept": "application/ld+json"})
    assert response.headers["content-type"].startswith("application/ld+json")
    doc = response.json()
    assert doc["@context"] == "https://schema.org" and doc["@type"] == "Article"
    assert {a["termCode"] for a in doc["about"]} >= {"work-in-progress-limits"}
    assert "Work in Progress Limits" in doc["keywords"]


def test_neighbours_route_on_pages(api: Client) -> None:
    body = api.get(f"/v1/pages/{WIP}/neighbours", params={"depth": 1}).json()
    assert body["center"] == WIP and body["nodes"] and body["edges"]


def test_openapi_every_operation_has_an_id(api: Client) -> None:
    schema = api.get("/schema/openapi.json").json()
    operations = [op for methods in schema["paths"].values() for op in methods.values()]
    assert len(operations) >= 11 and all(op.get("operationId") for op in operations)


@pytest.fixture(scope="module")
def cors_client(corpus_settings: Settings, encoder: Encoder) -> Iterator[Client]:
    settings = corpus_settings.model_copy(update={"cors_origins": ["http://127.0.0.1:9000"]})
    with TestClient(create_app(settings, encoder=encoder)) as client:
        yield client


def test_cors_allows_only_configured_origins(cors_client: Client, api: Client) -> None:
    allowed = cors_client.get("/v1/related", params={"page": WIP},
                              headers={"Origin": "http://127.0.0.1:9000"})
    assert allowed.headers["access-control-allow-origin"] == "http://127.0.0.1:9000"
    other = cors_client.get("/v1/related", params={"page": WIP}, headers={"Origin": "http://evil.example"})
    assert other.headers.get("access-control-allow-origin") != "http://evil.example"
    default = api.get("/v1/related", params={"page": WIP}, headers={"Origin": "http://127.0.0.1:9000"})
    assert "access-control-allow-origin" not in default.headers  # CORS is off by default


def test_internal_error_is_problem_without_trace(corpus_settings: Settings, encoder: Encoder,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from service.search import SearchEngine

    def boom(*_: Any, **__: Any) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(SearchEngine, "find", boom)  # what the server calls
    with TestClient(create_app(corpus_settings, encoder=encoder)) as client:
        response = client.get("/v1/search", params={"q": "flow"})
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "secret" not in response.text and "Traceback" not in response.text


@pytest.mark.parametrize("ref", ["../../etc/passwd", "tags/../../x", "..\\windows", "tags/flow%00"])
def test_path_tricks_refused(api: Client, ref: str) -> None:
    for url, params in [("/v1/related", {"page": ref.replace("%00", "\x00")}),
                        ("/v1/resolve", {"path": ref.replace("%00", "\x00")})]:
        response = api.get(url, params=params)
        assert response.status_code == 400, (url, ref, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")


def test_oversized_request_target_is_414(api: Client) -> None:
    response = api.get("/v1/search", params={"q": "x" * 9000})
    assert response.status_code == 414
    assert response.json()["status"] == 414
