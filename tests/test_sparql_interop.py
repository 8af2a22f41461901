"""Interop over real HTTP: the app under uvicorn on 127.0.0.1, queried by SPARQLWrapper and by
plain httpx with every Accept type, answers parsed back with rdflib; and a slow query running
beside /v1/related without stalling it."""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from rdflib import Graph, URIRef
from rdflib.query import Result
from SPARQLWrapper import (  # type: ignore[import-untyped]
    CSV,
    GET,
    JSON,
    JSONLD,
    POST,
    POSTDIRECTLY,
    RDFXML,
    TSV,
    TURTLE,
    URLENCODED,
    XML,
    SPARQLWrapper,
)

from principles.embedder import Encoder
from principles.settings import Settings
from service.app import create_app
from tests.test_sparql_conformance import run_cases

pytestmark = pytest.mark.slow
PREFIX = ("PREFIX pg: <https://principles.graph/ontology#> "
          "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> ")
SELECT = PREFIX + ('SELECT ?id ?type WHERE { ?p pg:pageId ?id ; pg:pageType ?type . '
                   'FILTER(STRSTARTS(?id, "tags/f")) } ORDER BY ?id')
EXPECTED_ROWS = [("tags/feedback-loops", "tag"), ("tags/flow", "tag")]
CONSTRUCT = PREFIX + ('CONSTRUCT { ?t skos:prefLabel ?l } '
                      'WHERE { ?t skos:prefLabel ?l ; skos:notation "flow" }')
FLOW = URIRef("https://principles.graph/term/tags/flow")
SLOW = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
RESULT_FORMATS = {"application/sparql-results+json": "json", "application/sparql-results+xml": "xml",
                  "text/csv": "csv", "text/tab-separated-values": "tsv"}
RDF_FORMATS = {"text/turtle": "turtle", "application/n-triples": "nt",
               "application/ld+json": "json-ld", "application/rdf+xml": "xml"}


@pytest.fixture(scope="module")
def server(corpus_settings: Settings, encoder: Encoder) -> Iterator[str]:
    settings = corpus_settings.model_copy(update={"sparql_timeout": 3.0, "sparql_workers": 2})
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    config = uvicorn.Config(create_app(settings, encoder=encoder), host="127.0.0.1", port=port,
                            log_level="warning", lifespan="on")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not instance.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(15)


def rows(result: Result) -> list[tuple[str, str]]:
    return [(str(r[0]), str(r[1])) for r in result]  # type: ignore[index]


@pytest.mark.parametrize("fmt", [JSON, XML, CSV, TSV])
@pytest.mark.parametrize("method", ["GET", "POST-form", "POST-direct"])
def test_sparqlwrapper_select(server: str, fmt: str, method: str) -> None:
    wrapper = SPARQLWrapper(f"{server}/sparql")
    wrapper.setQuery(SELECT)
    wrapper.setReturnFormat(fmt)
    wrapper.setMethod(GET if method == "GET" else POST)
    if method != "GET":
        wrapper.setRequestMethod(URLENCODED if method == "POST-form" else POSTDIRECTLY)
    response = wrapper.query()
    raw = response.response.read()
    parsed = Result.parse(io.BytesIO(raw), format={JSON: "json", XML: "xml", CSV: "csv", TSV: "tsv"}[fmt])
    assert rows(parsed) == EXPECTED_ROWS


def test_sparqlwrapper_ask_and_convert(server: str) -> None:
    wrapper = SPARQLWrapper(f"{server}/sparql")
    wrapper.setQuery(PREFIX + "ASK { ?t skos:notation \"flow\" }")
    wrapper.setReturnFormat(JSON)
    assert wrapper.query().convert() == {"head": {}, "boolean": True}
    wrapper.setQuery(SELECT)
    converted = wrapper.query().convert()
    assert [(b["id"]["value"], b["type"]["value"]) for b in converted["results"]["bindings"]] == EXPECTED_ROWS


@pytest.mark.parametrize("fmt", [TURTLE, RDFXML, JSONLD])
def test_sparqlwrapper_construct(server: str, fmt: str) -> None:
    wrapper = SPARQLWrapper(f"{server}/sparql")
    wrapper.setQuery(CONSTRUCT)
    wrapper.setReturnFormat(fmt)
    converted: Any = wrapper.query().convert()
    graph = converted if isinstance(converted, Graph) else Graph().parse(data=converted, format="turtle")
    assert [str(o) for o in graph.objects(FLOW, None)] == ["Flow"]


@pytest.mark.parametrize("accept", list(RESULT_FORMATS))
def test_plain_http_select_and_ask_every_accept(server: str, accept: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as client:
        response = client.get("/sparql", params={"query": SELECT}, headers={"Accept": accept})
        assert response.headers["content-type"].split(";")[0] == accept
        assert rows(Result.parse(io.BytesIO(response.content), format=RESULT_FORMATS[accept])) \
            == EXPECTED_ROWS
        ask = client.post("/sparql", data={"query": "ASK { ?s ?p ?o }"}, headers={"Accept": accept})
        if accept in ("text/csv", "text/tab-separated-values"):
            assert ask.text.strip() == "true"
        else:
            assert Result.parse(io.BytesIO(ask.content), format=RESULT_FORMATS[accept]).askAnswer is True


@pytest.mark.parametrize("accept", list(RDF_FORMATS))
def test_plain_http_construct_every_accept(server: str, accept: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as client:
        response = client.post("/sparql", content=CONSTRUCT.encode(), headers={
            "Accept": accept, "Content-Type": "application/sparql-query"})
        assert response.headers["content-type"].split(";")[0] == accept
        graph = Graph().parse(data=response.content, format=RDF_FORMATS[accept])
        assert [str(o) for o in graph.objects(FLOW, None)] == ["Flow"]


def test_conformance_cases_over_real_http(server: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as client:
        outcomes = run_cases(client)
    assert [o for o in outcomes if not o.passed] == []


def test_slow_query_never_stalls_related(server: str) -> None:
    """A query that runs into the timeout occupies one worker process; /v1/related (event loop)
    and other SPARQL queries (the other worker) keep answering meanwhile."""
    slow: dict[str, Any] = {}

    def run_slow() -> None:
        with httpx.Client(base_url=server, timeout=30) as client:
            started = time.monotonic()
            slow["response"] = client.get("/sparql", params={"query": SLOW})
            slow["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run_slow)
    with httpx.Client(base_url=server, timeout=10) as client:
        client.get("/v1/related", params={"page": "tags/flow"})  # warm
        thread.start()
        time.sleep(0.3)
        latencies = []
        for _ in range(10):
            started = time.monotonic()
            assert client.get("/v1/related", params={"page": "tags/flow"}).status_code == 200
            latencies.append(time.monotonic() - started)
        quick = client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
        assert quick.json()["boolean"] is True
        assert thread.is_alive(), "the slow query should still be running"
    thread.join()
    assert max(latencies) < 0.5, latencies
    assert slow["response"].status_code == 503 and 2.5 < slow["seconds"] < 6
