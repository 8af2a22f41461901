"""/sparql on corpus/: protocol, content negotiation, safety (read-only, no fetches, limits),
service description, query page - through the real app and its real worker processes."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import RDF

from principles.settings import Settings
from service.sparql.analysis import analyse
from service.sparql.formats import GRAPH_TYPES, RESULT_TYPES

Client = TestClient[Litestar]
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
KNOWLEDGE = "https://principles.graph/graph/knowledge"
PROBLEM = "application/problem+json"
COUNT = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
SLOW = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def media(response: Any) -> str:
    return str(response.headers["content-type"]).split(";")[0]


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert media(response) == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body


# --- protocol and content negotiation -----------------------------------------------------

@pytest.mark.parametrize("accept", [*RESULT_TYPES.values(), None])
@pytest.mark.parametrize("query", ["SELECT ?id WHERE { ?p <https://principles.graph/ontology#pageId> ?id } "
                                   "ORDER BY ?id LIMIT 3", "ASK { ?s ?p ?o }"])
def test_select_and_ask_in_every_results_format(api: Client, query: str, accept: str | None) -> None:
    headers = {"Accept": accept} if accept else {}
    response = api.get("/sparql", params={"query": query}, headers=headers)
    assert response.status_code == 200, response.text
    assert media(response) == (accept or "application/sparql-results+json")
    assert response.content.strip()


@pytest.mark.parametrize("accept", [*GRAPH_TYPES.values(), None])
@pytest.mark.parametrize("query", ["CONSTRUCT WHERE { ?t a <http://www.w3.org/2004/02/skos/core#Concept> }",
                                   "DESCRIBE <https://principles.graph/term/tags/flow>"])
def test_construct_and_describe_in_every_rdf_format(api: Client, query: str, accept: str | None) -> None:
    headers = {"Accept": accept} if accept else {}
    response = api.post("/sparql", content=query.encode(),
                        headers={"Content-Type": "application/sparql-query", **headers})
    assert response.status_code == 200, response.text
    mime = accept or "text/turtle"
    assert media(response) == mime
    rdflib_format = {"text/turtle": "turtle", "application/n-triples": "nt",
                     "application/ld+json": "json-ld", "application/rdf+xml": "xml"}[mime]
    graph = Graph().parse(data=response.content, format=rdflib_format)
    assert (URIRef("https://principles.graph/term/tags/flow"), None, None) in graph


def test_406_when_nothing_matches_accept(api: Client) -> None:
    problem(api.get("/sparql", params={"query": "ASK {}"}, headers={"Accept": "text/turtle"}), 406)
    problem(api.get("/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"},
                    headers={"Accept": "application/sparql-results+json"}), 406)
    problem(api.get("/sparql", headers={"Accept": "image/png"}), 406)


def test_malformed_query_is_400_with_the_parsers_message(api: Client) -> None:
    body = problem(api.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p }"}), 400)
    assert body["type"].endswith("/invalid-query") and "1:" in body["detail"]


def test_dataset_parameters_and_from(api: Client) -> None:
    owl = "ASK { <https://principles.graph/ontology> a <http://www.w3.org/2002/07/owl#Ontology> }"
    assert api.get("/sparql", params={"query": owl}).json()["boolean"] is False
    with_param = api.get("/sparql", params={"query": owl, "default-graph-uri":
                                            "https://principles.graph/graph/ontology"})
    assert with_param.json()["boolean"] is True
    with_from = owl.replace("ASK", "ASK FROM <https://principles.graph/graph/ontology>")
    assert api.get("/sparql", params={"query": with_from}).json()["boolean"] is True
    prefixed = "PREFIX g: <https://principles.graph/graph/> " + owl.replace("ASK", "ASK FROM g:ontology")
    assert api.get("/sparql", params={"query": prefixed}).json()["boolean"] is True


def test_drafts_are_not_served(api: Client, planted: dict[str, Any]) -> None:
    draft = "https://principles.graph/page/" + planted["draft"][0]
    query = f"ASK {{ {{ <{draft}> ?p ?o }} UNION {{ ?s ?p <{draft}> }} }}"
    assert api.get("/sparql", params={"query": query}).json()["boolean"] is False


# --- safety ---------------------------------------------------------------------------------

@pytest.mark.parametrize("request_kwargs", [
    {"method": "GET", "params": {"update": "CLEAR ALL"}},
    {"method": "POST", "data": {"update": "DROP ALL"}},
    {"method": "POST", "content": b"INSERT DATA { <a:b> <a:c> 1 }",
     "headers": {"Content-Type": "application/sparql-update"}},
    {"method": "GET", "params": {"query": "INSERT DATA { <http://x/a> <http://x/b> 1 }"}},
    {"method": "GET", "params": {"query": "LOAD <http://127.0.0.1:9/data.ttl>"}},
    {"method": "POST", "data": {"query": "DELETE WHERE { ?s ?p ?o }"}},
], ids=["get-update", "form-update", "direct-update", "insert-as-query", "load", "delete"])
def test_updates_are_refused(api: Client, request_kwargs: dict[str, Any]) -> None:
    kwargs = dict(request_kwargs)
    body = problem(api.request(kwargs.pop("method"), "/sparql", **kwargs), 403)
    assert "read-only" in body["detail"]
    assert api.get("/sparql", params={"query": COUNT}).json()["results"]["bindings"][0]["n"]["value"] \
        == str(_knowledge_size(api))


def _knowledge_size(api: Client) -> int:
    graph = Graph().parse(data=api.get("/sparql", headers={"Accept": "text/turtle"}).text,
                          format="turtle")
    service = next(graph.subjects(RDF.type, SD.Service))
    dataset = graph.value(service, SD.defaultDataset)
    default = graph.value(dataset, SD.defaultGraph)
    return int(graph.value(default, URIRef("http://rdfs.org/ns/void#triples")))  # type: ignore[arg-type]


@pytest.fixture
def listener() -> Iterator[tuple[str, list[bytes]]]:
    """A loopback socket that records every connection: SSRF attempts must never reach it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    hits: list[bytes] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            hits.append(conn.recv(100))
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}", hits
    stop.set()
    thread.join()
    server.close()


@pytest.mark.parametrize("template", [
    "SELECT * {{ SERVICE <{url}/a> {{ ?s ?p ?o }} }}",
    "SELECT * {{ service silent <{url}/b> {{ ?s ?p ?o }} }}",
    "SELECT * {{ SERVICESILENT<{url}/c>{{ ?s ?p ?o }} }}",
    "PREFIX : <{url}/> SELECT * {{ SERVICE:d {{ ?s ?p ?o }} }}",
    "SELECT * {{ {{ SELECT * {{ SERVICE <{url}/e> {{ ?s ?p ?o }} }} }} }}",
    "PREFIX ex: <http://e/> SELECT * {{ ?s ?p ex:a\\# . SERVICE <{url}/f> {{ ?s ?p ?o }} }}",
    "SELECT * {{ ?s ?p 1.SERVICE <{url}/g> {{ ?x ?y ?z }} }}",
    "SELECT * FROM <{url}/h> {{ ?s ?p ?o }}",
    "SELECT * FROM NAMED <{url}/i> {{ GRAPH ?g {{ ?s ?p ?o }} }}",
])
def test_no_server_side_fetches(api: Client, listener: tuple[str, list[bytes]], template: str) -> None:
    url, hits = listener
    body = problem(api.get("/sparql", params={"query": template.format(url=url)}), 403)
    assert "fetch" in body["detail"] or "SERVICE" in body["detail"]
    for name in ("default-graph-uri", "named-graph-uri"):
        problem(api.get("/sparql", params={"query": "ASK {}", name: f"{url}/x"}), 403)
    time.sleep(0.3)
    assert hits == []


@pytest.mark.parametrize("query", [
    "SELECT ?service WHERE { ?service ?p ?o } LIMIT 1",
    "PREFIX schema: <https://schema.org/> SELECT * WHERE { ?s schema:serviceType ?o } LIMIT 1",
    'SELECT * WHERE { ?s ?p "SERVICE <http://x/>" } LIMIT 1',
    "# SERVICE mentioned in a comment\nASK { ?s ?p ?o }",
])
def test_service_checks_spare_lookalikes(api: Client, query: str) -> None:
    assert api.get("/sparql", params={"query": query}).status_code == 200
    assert analyse(query).form in ("SELECT", "ASK")


def test_query_length_limit(api: Client, corpus_settings: Settings) -> None:
    limit = corpus_settings.sparql_max_query_length
    long_query = "ASK {}" + " " * limit
    problem(api.post("/sparql", data={"query": long_query}), 413)


# --- service description, query page, OpenAPI -----------------------------------------------

@pytest.mark.parametrize("accept", [None, "*/*", *GRAPH_TYPES.values()])
def test_service_description(api: Client, accept: str | None) -> None:
    response = api.get("/sparql", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200, response.text
    fmt = {"text/turtle": "turtle", "application/n-triples": "nt", "application/ld+json": "json-ld",
           "application/rdf+xml": "xml"}[media(response)]
    graph = Graph().parse(data=response.content, format=fmt)
    service = next(graph.subjects(RDF.type, SD.Service))
    assert str(service) == "http://testserver.local/sparql"
    assert graph.value(service, SD.endpoint) == service
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in graph
    assert len(list(graph.objects(service, SD.resultFormat))) == 8
    names = {str(graph.value(n, SD.name)) for n in graph.objects(
        graph.value(service, SD.defaultDataset), SD.namedGraph)}
    assert names == {KNOWLEDGE, "https://principles.graph/graph/ontology"}


def test_browser_gets_the_query_page_with_examples(api: Client) -> None:
    page = api.get("/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 200 and media(page) == "text/html"
    assert "sparql/assets/yasgui.min.js" in page.text and "new Yasgui(" in page.text
    assert "Pages sharing at least two tags with a page" in page.text
    for asset in ("yasgui.min.js", "yasgui.min.css", "LICENSE"):
        assert api.get(f"/sparql/assets/{asset}").status_code == 200


def test_openapi_documents_the_endpoint(api: Client) -> None:
    paths = api.get("/schema/openapi.json").json()["paths"]
    assert paths["/sparql"]["get"]["operationId"] == "sparqlQuery"
    assert paths["/sparql"]["post"]["operationId"] == "sparqlQueryPost"
    assert {p["name"] for p in paths["/sparql"]["get"]["parameters"]} >= {
        "query", "default-graph-uri", "named-graph-uri"}

