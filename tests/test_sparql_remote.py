"""Remote mode against a real Oxigraph server (the `oxigraph` PyPI package) on 127.0.0.1:
ingest loads each build's graphs over the Graph Store Protocol, /sparql proxies to it and
answers exactly like the embedded engine, a failed load leaves the previous build served."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from ingest.pipeline import ingest
from ingest.sparql_load import stored_builds
from principles.embedder import Encoder
from principles.errors import IngestError
from principles.index import IndexLayout
from principles.settings import Settings
from service.app import create_app
from tests.conftest import free_port

pytestmark = pytest.mark.slow
QUERIES = [
    "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }",
    "SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g",
    "PREFIX pg: <https://principles.graph/ontology#> SELECT ?id ?type "
    "{ ?p pg:pageId ?id ; pg:pageType ?type } ORDER BY ?id",
    "ASK { ?s <https://principles.graph/ontology#draft> true }",
]
PAGES = {
    "tags/flow/_index.md": "---\ntitle: Flow\naliases:\n- /principles/flow/\n---\nWork moves.\n",
    "resources/articles/queues.md": "---\ntitle: Queues Hide Delay\ntags:\n- Flow\n---\nQueues.\n",
    "resources/articles/secret.md": "---\ntitle: Secret Draft\ndraft: true\ntags:\n- Flow\n---\nNo.\n",
}


def start_oxigraph(location: Path, port: int) -> subprocess.Popen[bytes]:
    """`oxigraph serve` on 127.0.0.1:port over `location`, returned once it answers."""
    binary = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which("oxigraph")
    assert binary, "the oxigraph server (dev dependency `oxigraph`) is not installed"
    proc = subprocess.Popen([binary, "serve", "--location", str(location),
                             "--bind", f"127.0.0.1:{port}", "--timeout-s", "5"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/query?query=ASK%7B%7D", timeout=1).close()
            return proc
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, "oxigraph did not start"
            time.sleep(0.1)


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    proc = start_oxigraph(tmp_path_factory.mktemp("oxigraph"), port)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory, store_url: str,
           encoder: Encoder) -> dict[str, Any]:
    corpus = tmp_path_factory.mktemp("remote-corpus")
    for rel, text in PAGES.items():
        (corpus / rel).parent.mkdir(parents=True, exist_ok=True)
        (corpus / rel).write_text(text, "utf-8")
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path_factory.mktemp("remote-index"),
                        sparql_url=store_url, sparql_timeout=1.0)
    result = ingest(settings, encoder=encoder)
    assert result.build is not None
    return {"settings": settings, "build": result.build, "corpus": corpus}


def answers(client: TestClient[Any], accept: str) -> list[bytes]:
    out = []
    for query in QUERIES:
        response = client.get("/sparql", params={"query": query}, headers={"Accept": accept})
        assert response.status_code == 200, response.text
        out.append(response.content)
    return out


def test_ingest_loads_graphs_and_proxy_answers_like_embedded(remote: dict[str, Any],
                                                             encoder: Encoder) -> None:
    settings: Settings = remote["settings"]
    assert stored_builds(settings) == {remote["build"].name}
    embedded = settings.model_copy(update={"sparql_url": None})
    with TestClient(create_app(settings, encoder=encoder)) as proxied, \
            TestClient(create_app(embedded, encoder=encoder)) as local:
        for accept in ("application/sparql-results+xml", "text/tab-separated-values"):
            assert answers(proxied, accept) == answers(local, accept)
        graph = "CONSTRUCT WHERE { ?s ?p ?o }"
        assert proxied.get("/sparql", params={"query": graph}, headers={
            "Accept": "application/n-triples"}).text.count("\n") == local.get(
            "/sparql", params={"query": graph}, headers={"Accept": "application/n-triples"}
        ).text.count("\n") > 10
        drafts = proxied.get("/sparql", params={"query": QUERIES[3]}).json()
        assert drafts["boolean"] is False
        description = proxied.get("/sparql", headers={"Accept": "application/n-triples"}).text
        assert "remote engine" in description and "void#triples" in description
        bad = proxied.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p }"})
        assert bad.status_code == 400 and bad.json()["detail"]
        assert proxied.get("/sparql", params={"query": f"SELECT * {{ SERVICE <{settings.sparql_url}/query> "
                                                       "{ ?s ?p ?o } }"}).status_code == 403
        slow = proxied.get("/sparql", params={
            "query": "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . "
                     "?m ?n2 ?o . ?q ?r ?t }"})
        assert slow.status_code == 503 and slow.json()["type"].endswith("/query-timeout")


def test_failed_load_keeps_the_previous_build(remote: dict[str, Any], encoder: Encoder) -> None:
    settings: Settings = remote["settings"]
    layout = IndexLayout(settings.index_dir)
    before = layout.current_build()
    (remote["corpus"] / "resources" / "articles" / "queues.md").write_text(
        "---\ntitle: Queues Hide Delay\ntags:\n- Flow\n---\nQueues hide delay.\n", "utf-8")
    dead = settings.model_copy(update={"sparql_url": f"http://127.0.0.1:{free_port()}"})
    with pytest.raises(IngestError, match="stays current"):
        ingest(dead, encoder=encoder)
    assert layout.current_build() == before
    with TestClient(create_app(settings, encoder=encoder)) as client:
        body = client.get("/sparql", params={"query": QUERIES[0]}).json()
        assert int(body["results"]["bindings"][0]["n"]["value"]) > 10
    with TestClient(create_app(dead, encoder=encoder)) as unreachable:
        down = unreachable.get("/sparql", params={"query": QUERIES[0]})
        assert down.status_code == 503 and "not reachable" in down.json()["detail"]


def test_next_ingest_switches_graphs_and_drops_pruned_ones(remote: dict[str, Any],
                                                          encoder: Encoder) -> None:
    settings = remote["settings"].model_copy(update={"keep_builds": 1})
    (remote["corpus"] / "tags" / "flow" / "_index.md").write_text(
        "---\ntitle: Flow\n---\nWork moves without waiting.\n", "utf-8")
    result = ingest(settings, encoder=encoder)
    assert result.build is not None and result.build != remote["build"]
    assert stored_builds(settings) == {result.build.name}


def test_store_going_away_is_503_then_recovers_without_restart(tmp_path: Path,
                                                               encoder: Encoder) -> None:
    """The SPARQL store stops mid-run: /sparql answers 503 problem+json while the rest of the
    API keeps serving; the store comes back on the same port and /sparql answers again from
    the same app, no restart."""
    port, location, corpus = free_port(), tmp_path / "store", tmp_path / "corpus"
    for rel, text in PAGES.items():
        (corpus / rel).parent.mkdir(parents=True, exist_ok=True)
        (corpus / rel).write_text(text, "utf-8")
    proc = start_oxigraph(location, port)
    try:
        settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index",
                            sparql_url=f"http://127.0.0.1:{port}", sparql_timeout=2.0)
        ingest(settings, encoder=encoder)
        with TestClient(create_app(settings, encoder=encoder)) as client:
            before = client.get("/sparql", params={"query": QUERIES[2]})
            assert before.status_code == 200 and "queues" in before.text
            proc.terminate()
            proc.wait(10)
            for _ in range(3):
                down = client.get("/sparql", params={"query": QUERIES[2]})
                assert down.status_code == 503, down.text
                assert down.headers["content-type"].startswith("application/problem+json")
                problem = down.json()
                assert problem["status"] == 503 and "not reachable" in problem["detail"]
                assert "Traceback" not in down.text
            assert client.get("/v1/related", params={"page": "tags/flow"}).status_code == 200
            assert client.get("/health").json()["status"] == "ok"
            proc = start_oxigraph(location, port)
            after = client.get("/sparql", params={"query": QUERIES[2]})
            assert after.status_code == 200 and after.content == before.content
    finally:
        proc.terminate()
        proc.wait(10)
