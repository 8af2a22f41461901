"""Hostile requests against the real app over the hostile-corpus build (tests/hostile.py):
every case of issue 13 and its neighbours gets a clear 4xx (problem+json) or a bounded 503,
never a 5xx crash, a leak or a stalled event loop."""

from __future__ import annotations

import gc
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from ingest.pipeline import IngestResult
from principles.embedder import Encoder
from principles.settings import Settings
from service.app import create_app
from tests.conftest import running_server
from tests.hostile import SECRET, yaml_bomb

Client = TestClient[Litestar]
BASE = "https://principles.example"


@pytest.fixture(scope="module")
def settings(hostile_ingest: IngestResult) -> Settings:
    assert hostile_ingest.build is not None
    return Settings(corpus_dir=hostile_ingest.build, index_dir=hostile_ingest.build.parent.parent,
                    site_base_url=BASE, sparql_workers=1, sparql_max_answer_bytes=200_000)


@pytest.fixture(scope="module")
def client(settings: Settings, encoder: Encoder) -> Iterator[Client]:
    with TestClient(create_app(settings, encoder=encoder)) as c:
        yield c


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body


# Host ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("host", ["a:b", "evil.example", "localhost:99999x", "", "a b",
                                  "x" * 300, "[::1", "127.0.0.1:80:80"])
@pytest.mark.parametrize("path", ["/health", "/v1/pages/tags/flow", "/sparql", "/", "/nope"])
def test_bad_host_is_400(client: Client, host: str, path: str) -> None:
    body = problem(client.get(path, headers={"Host": host}), 400)
    assert body["type"].endswith("/invalid-host")


@pytest.mark.parametrize("host", ["localhost", "localhost:8000", "127.0.0.1:1", "[::1]:8000"])
def test_allowed_hosts_are_served(client: Client, host: str) -> None:
    assert client.get("/health", headers={"Host": host}).status_code == 200


def test_jsonld_urls_come_from_the_site_base_url(client: Client) -> None:
    page = client.get("/v1/pages/resources/articles/good", headers={
        "Host": "localhost:8000", "Accept": "application/ld+json"}).json()
    assert page["url"] == BASE + "/resources/articles/good/"


# Location ----------------------------------------------------------------------------------

def test_redirect_to_a_non_ascii_url_is_percent_encoded(client: Client) -> None:
    moved = client.get("/r/old/cafe/", follow_redirects=False)
    assert moved.status_code == 301
    assert moved.headers["location"] == "/caf%C3%A9-%C3%BC/"
    assert client.get("/v1/resolve", params={"path": "/café-ü/"}).json()["page"]["id"] == "non-ascii"


# JSON bodies and drafts ----------------------------------------------------------------------

@pytest.mark.parametrize("depth", [33, 1000, 100_000])
def test_deep_json_is_400(client: Client, depth: int) -> None:
    body = b'{"text": ' + b"[" * depth + b"]" * depth + b"}"
    detail = problem(client.post("/v1/overlap", content=body,
                                 headers={"Content-Type": "application/json"}), 400)["detail"]
    assert f"{depth + 1} levels" in detail and "limit is 32" in detail


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", None])
def test_non_json_body_is_415(client: Client, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    body = problem(client.post("/v1/overlap", content=json.dumps({"text": "flow"}),
                               headers=headers), 415)
    assert "application/json" in body["detail"]


def test_overlong_draft_is_413_before_any_work(client: Client) -> None:
    started = time.perf_counter()
    body = problem(client.post("/v1/overlap", json={"text": "x" * 900_000}), 413)
    assert time.perf_counter() - started < 1 and "the limit is 120000" in body["detail"]


def test_oversized_body_is_413(client: Client, settings: Settings) -> None:
    big = json.dumps({"text": "word " * (settings.max_body_bytes // 4)})
    problem(client.post("/v1/overlap", content=big, headers={"Content-Type": "application/json"}),
            413)


@pytest.mark.parametrize(("payload", "field"), [
    ({"text": yaml_bomb()}, "text"),
    ({"text": "---\ntags: &a [*a]\n---\nbody"}, "text"),
    ({"text": "---\ntags: " + "[" * 5000 + "]" * 5000 + "\n---\nbody"}, "text"),
    ({"text": "flow and queues", "title": "T" * 400_000}, "title"),
    ({"text": "flow and queues", "tags": ["t"] * 5000}, "tags"),
    ({"text": "flow and queues", "tags": ["t" * 5000]}, "tags"),
    ({"text": f"---\ntitle: {'T' * 50_000}\n---\nbody"}, "text"),
])
def test_hostile_drafts_are_422_and_quick(client: Client, payload: dict[str, Any], field: str) -> None:
    started = time.perf_counter()
    body = problem(client.post("/v1/overlap", json=payload), 422)
    assert time.perf_counter() - started < 2
    assert body["detail"].startswith(f"{field}:") and len(body["detail"]) < 400


# Methods, HEAD, conditional requests ---------------------------------------------------------

@pytest.mark.parametrize("path", ["/health", "/v1/pages/tags/flow", "/v1/related?page=tags/flow",
                                  "/v1/terms", "/", "/static/ui/app.js", "/schema/openapi.json",
                                  "/v1/overlap/pairs"])
def test_head_wherever_get(client: Client, path: str) -> None:
    get = client.get(path)
    head = client.head(path)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers.get("content-type") == get.headers.get("content-type")


def test_head_of_a_missing_page_is_404(client: Client) -> None:
    assert client.head("/v1/pages/nope").status_code == 404


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("DELETE", "/health", {"GET", "HEAD"}), ("PUT", "/v1/pages/tags/flow", {"GET", "HEAD"}),
    ("PATCH", "/v1/overlap", {"POST"}), ("DELETE", "/sparql", {"GET", "HEAD", "POST"}),
])
def test_405_names_the_allowed_methods(client: Client, method: str, path: str,
                                       allowed: set[str]) -> None:
    response = client.request(method, path)
    problem(response, 405)
    assert allowed <= {m.strip() for m in response.headers["allow"].split(",")}


def test_conditional_requests(client: Client) -> None:
    ok = client.get("/v1/pages/tags/flow")
    etag = ok.headers["etag"]
    assert client.get("/v1/pages/tags/flow", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/v1/pages/tags/flow", headers={"If-None-Match": "*"}).status_code == 304
    assert client.get("/v1/pages/tags/flow", headers={"If-None-Match": '"x", ' + etag}).status_code == 304
    assert client.get("/v1/pages/tags/flow", headers={"If-None-Match": '"x"'}).status_code == 200
    # No current representation: the condition never turns a 404 into a 304.
    assert client.get("/v1/pages/nope", headers={"If-None-Match": "*"}).status_code == 404
    assert client.get("/v1/pages/nope", headers={"If-None-Match": etag}).status_code == 404
    assert client.get("/v1/pages/tags/flow", headers={"If-Match": etag}).status_code == 200
    assert client.get("/v1/pages/tags/flow", headers={"If-Match": '"other"'}).status_code == 412
    assert client.get("/v1/pages/tags/flow", headers={"If-Match": "W/" + etag}).status_code == 412
    assert client.get("/v1/pages/nope", headers={"If-Match": "*"}).status_code == 404


# Parameters ------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/v1/related?page=tags/flow&type=<script>",
                                  "/v1/search?q=flow&type=<script>",
                                  "/v1/search?q=flow&mode=<script>",
                                  "/v1/related?page=tags/flow&type=" + "x" * 2000])
def test_enum_parameters_are_422(client: Client, path: str) -> None:
    body = problem(client.get(path), 422)
    assert "<script>" not in body["detail"] or "one of" in body["detail"]


# Security headers ----------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "accept"), [("/", "text/html"), ("/sparql", "text/html"),
                                              ("/schema/swagger", "text/html")])
def test_html_carries_security_headers(client: Client, path: str, accept: str) -> None:
    page = client.get(path, headers={"Accept": accept})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "object-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"


def test_sparql_page_allows_only_its_own_inline_script(client: Client) -> None:
    csp = client.get("/sparql", headers={"Accept": "text/html"}).headers["content-security-policy"]
    assert "'sha256-" in csp and "unsafe-inline' https" not in csp.split("script-src")[1][:40]


def test_json_answers_carry_nosniff(client: Client) -> None:
    assert client.get("/health").headers["x-content-type-options"] == "nosniff"


# Leaks ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/v1/search?q=secret+runner+file+root+passwd",
                                  "/v1/related?page=resources/articles/good&limit=30",
                                  "/v1/pages/resources/articles/passwd",
                                  "/v1/resolve?path=/resources/articles/passwd/",
                                  "/sparql?query=SELECT+*+{+?s+?p+?o+}"])
def test_nothing_outside_the_corpus_is_served(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code < 500
    assert "TOP-SECRET" not in response.text and SECRET not in response.text


# SPARQL -------------------------------------------------------------------------------------

def test_deeply_nested_sparql_is_400_naming_the_limit(client: Client) -> None:
    query = "SELECT * WHERE " + "{" * 4900 + " ?s ?p ?o " + "}" * 4900
    body = problem(client.post("/sparql", content=query,
                               headers={"Content-Type": "application/sparql-query"}), 400)
    assert "4900 levels" in body["detail"] and "PRINCIPLES_SPARQL_MAX_NESTING" in body["detail"]
    nested_parens = "SELECT * { ?s ?p ?o FILTER(" + "(" * 3000 + "1" + ")" * 3000 + ") }"
    problem(client.post("/sparql", data={"query": nested_parens}), 400)


def test_huge_answer_is_413_naming_the_limit(client: Client) -> None:
    concat = ("SELECT (GROUP_CONCAT(?x) AS ?g) { ?s ?p ?o . ?a ?b ?c BIND(CONCAT(STR(?s), "
              "STR(?p), STR(?o), STR(?a), STR(?b), STR(?c)) AS ?x) }")
    body = problem(client.get("/sparql", params={"query": concat}), 413)
    assert "200000 bytes" in body["detail"] and "PRINCIPLES_SPARQL_MAX_ANSWER_BYTES" in body["detail"]
    assert client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"] is True


def test_worker_crash_is_503_and_the_pool_recovers(client: Client, settings: Settings) -> None:
    """A worker that dies mid-query (a segfault in the engine) answers 503 "query engine
    crashed"; the next query is served by its replacement."""
    import os
    import signal

    slow = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    client.get("/sparql", params={"query": "ASK {}"})
    before = _workers()
    assert before
    result: dict[str, httpx.Response] = {}
    thread = threading.Thread(target=lambda: result.setdefault(
        "r", client.get("/sparql", params={"query": slow})))
    thread.start()
    time.sleep(1.0)
    for pid in before:
        os.kill(pid, signal.SIGSEGV)
    thread.join(30)
    body = problem(result["r"], 503)
    assert body["title"] == "query engine crashed" and "SIGSEGV" in body["detail"]
    assert client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"] is True
    assert _workers().isdisjoint(before), "the crashed worker is replaced"


def _workers() -> set[int]:
    import os
    from pathlib import Path

    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == os.getpid() and b"service.sparql.worker" in cmdline \
                    and b"hostile" in cmdline:
                pids.add(int(entry.name))
    return pids


# Event loop: no single hostile request stalls other requests ------------------------------------

HOSTILE: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/v1/overlap", {"json": {"text": yaml_bomb()}}),
    ("POST", "/v1/overlap", {"json": {"text": "flow", "title": "T" * 400_000}}),
    ("POST", "/v1/overlap", {"content": b'{"text":' + b"[" * 200_000 + b"]" * 200_000 + b"}",
                             "headers": {"Content-Type": "application/json"}}),
    ("POST", "/v1/overlap", {"json": {"text": "x" * 900_000}}),
    ("GET", "/r/no/such/page/anywhere", {}),
    ("GET", "/v1/search?q=" + "flow%20" * 70, {}),
    ("GET", "/health", {"headers": {"Host": "a:b"}}),
]


@contextmanager
def _collector_paused() -> Iterator[None]:
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_no_hostile_request_stalls_the_event_loop(hostile_ingest: IngestResult) -> None:
    """A real server on loopback: while each hostile request runs, /health keeps answering;
    the slowest /health answer bounds the event-loop stall (was 7 s for the YAML bomb)."""
    assert hostile_ingest.build is not None
    # The pings time this process too: a full collection of the session's fixtures (ingests
    # run in this process) would read as a server stall of up to ~0.7 s. None during the pings.
    gc.collect()
    with running_server(hostile_ingest.build.parent.parent) as base, _collector_paused():
        for method, path, kwargs in HOSTILE:
            if "json" in kwargs:  # encoded now: encoding holds this process's GIL, not the server's
                kwargs = {"content": json.dumps(kwargs["json"]).encode(),
                          "headers": {"Content-Type": "application/json"}}
            stop = threading.Event()
            worst = [0.0]

            def ping(stop: threading.Event = stop, worst: list[float] = worst) -> None:
                with httpx.Client(base_url=base, timeout=10) as pinger:
                    while not stop.is_set():
                        started = time.perf_counter()
                        pinger.get("/health")
                        worst[0] = max(worst[0], time.perf_counter() - started)
                        time.sleep(0.01)

            pinger = threading.Thread(target=ping)
            pinger.start()
            time.sleep(0.1)
            response = httpx.request(method, base + path, timeout=30, **kwargs)
            time.sleep(0.05)
            stop.set()
            pinger.join()
            assert 400 <= response.status_code < 500 or response.status_code in (200, 301), \
                (path, response.status_code)
            print(f"stall {method} {path[:30]!r}: worst /health {worst[0] * 1000:.0f} ms")
            # 100 ms is the goal; the bound leaves room for 3 other test runs on 2 cores.
            assert worst[0] < 0.4, (method, path[:40], worst[0])


# Export ---------------------------------------------------------------------------------------

def test_export_writes_only_validated_redirects(settings: Settings, tmp_path: Any) -> None:
    """The hostile aliases (newline, space, encoded control characters, `/`) never reach
    `_redirects`; a build that holds one anyway (an older ingest) is filtered on export."""
    from service.export_hugo import export_hugo, redirects
    from service.index import open_index

    view = open_index(settings)
    view.paths["/old\n/* /hijacked 302"] = "resources/articles/good"  # as an old build could hold
    view.paths["/with space/"] = "resources/articles/good"
    export_hugo(view, tmp_path)
    lines = (tmp_path / "_redirects").read_text("utf-8").splitlines()
    assert all(len(line.split()) == 3 and line.endswith(" 301") for line in lines)
    assert not any("hijacked" in line or line.startswith("/ ") for line in lines)
    assert any(line.startswith("/old/good/ ") for line in lines)
    routes = json.loads((tmp_path / "staticwebapp.config.json").read_text("utf-8"))["routes"]
    assert len(routes) == len(lines) == len(redirects(view))
