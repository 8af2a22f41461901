"""W3C SPARQL 1.1 Protocol cases (tests/data/sparql-protocol/cases.json) against /sparql.

`run_cases` is the small runner, also used by bench/sparql.py; it takes any httpx-style
client (the TestClient here, a real server's httpx.Client in the bench).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pyoxigraph as ox
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from tests.conftest import DATA

CASES_FILE = DATA / "sparql-protocol" / "cases.json"
RESULT_PARSERS = {"application/sparql-results+json": ox.QueryResultsFormat.JSON,
                  "application/sparql-results+xml": ox.QueryResultsFormat.XML,
                  "text/tab-separated-values": ox.QueryResultsFormat.TSV}
RDF_PARSERS = {"text/turtle": ox.RdfFormat.TURTLE, "application/n-triples": ox.RdfFormat.N_TRIPLES,
               "application/rdf+xml": ox.RdfFormat.RDF_XML, "application/ld+json": ox.RdfFormat.JSON_LD}


@dataclass
class Outcome:
    name: str
    passed: bool
    why: str


def load_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads(CASES_FILE.read_text("utf-8"))["cases"]
    return cases


def _send(client: Any, request: dict[str, Any], path: str) -> Any:
    headers = dict(request.get("headers", {}))
    body: bytes | None = None
    if "form" in request:
        body = urlencode([(k, v) for k, v in request["form"]]).encode()
    elif "body" in request:
        body = request["body"].encode(request.get("body_encoding", "utf-8"))
    if "content_type" in request:
        headers["Content-Type"] = request["content_type"]
    params = [(k, v) for k, v in request.get("params", [])]
    return client.request(request["method"], path, params=params, headers=headers, content=body)


def check(expect: dict[str, Any], status: int, media: str, body: bytes) -> str:
    """'' when the response meets the expectation, else what is wrong."""
    want = expect["status"]
    if want == "4xx":
        return "" if 400 <= status < 500 else f"status {status}, want 4xx"
    if status != want:
        return f"status {status}, want {want}: {body[:200]!r}"
    if "content_type_in" in expect and media not in expect["content_type_in"]:
        return f"content type {media} not in {expect['content_type_in']}"
    if expect.get("rdf"):
        if media not in RDF_PARSERS:
            return f"{media} is not an RDF type"
        list(ox.parse(body, format=RDF_PARSERS[media]))
        return ""
    if media == "text/csv":
        return "" if body.strip() else "empty CSV"
    results = ox.parse_query_results(body, format=RESULT_PARSERS[media])
    if "boolean" in expect:
        ok = isinstance(results, ox.QueryBoolean) and bool(results) == expect["boolean"]
        return "" if ok else f"boolean {results}, want {expect['boolean']}"
    assert isinstance(results, ox.QuerySolutions)
    rows = [{v.value: s[v] for v in results.variables if s[v] is not None} for s in results]
    if "count" in expect:
        got = int(rows[0]["count"].value) if rows else None
        return "" if got == expect["count"] else f"count {got}, want {expect['count']}"
    if "bindings" in expect:
        plain = [{k: v.value for k, v in row.items()} for row in rows]
        return "" if plain == expect["bindings"] else f"rows {plain}, want {expect['bindings']}"
    return ""


def run_case(client: Any, case: dict[str, Any], path: str = "/sparql") -> Outcome:
    response = _send(client, case["request"], path)
    media = response.headers.get("content-type", "").split(";")[0].strip()
    try:
        why = check(case["expect"], response.status_code, media, response.content)
    except (SyntaxError, ValueError, OSError) as exc:
        why = f"unparseable answer: {exc}"
    return Outcome(case["name"], not why, why)


def run_cases(client: Any, path: str = "/sparql") -> list[Outcome]:
    return [run_case(client, case, path) for case in load_cases()]


@pytest.mark.parametrize("case", load_cases(), ids=lambda c: c["name"])
def test_w3c_protocol_case(api: TestClient[Litestar], case: dict[str, Any]) -> None:
    outcome = run_case(api, case)
    assert outcome.passed, outcome.why


def test_w3c_protocol_summary(api: TestClient[Litestar], capsys: pytest.CaptureFixture[str]) -> None:
    """Prints the pass/total line in the test output (even under -q)."""
    outcomes = run_cases(api)
    passed = sum(o.passed for o in outcomes)
    skipped = len(json.loads(CASES_FILE.read_text("utf-8"))["not_applicable"])
    with capsys.disabled():
        print(f"\nSPARQL 1.1 Protocol conformance (W3C cases for a read-only endpoint): "
              f"{passed}/{len(outcomes)} passed; {skipped} update-only cases not applicable")
    assert passed == len(outcomes), [o for o in outcomes if not o.passed]
