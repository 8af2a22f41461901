"""The example queries of ontology/README.md: the same as the query UI's, each with its answer
on corpus/ through the real /sparql endpoint."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from rdflib import Graph, URIRef

from service.sparql.examples import EXAMPLES
from tests.conftest import ROOT

Client = TestClient[Litestar]
PAGE = "https://principles.graph/page/"
TERM = "https://principles.graph/term/"
PG = "https://principles.graph/ontology#"


def readme_queries() -> list[str]:
    text = (ROOT / "ontology" / "README.md").read_text("utf-8")
    section = text.split("## Example queries", 1)[1]
    return re.findall(r"```sparql\n(.*?)\n```", section, re.DOTALL)


def select(api: Client, query: str) -> list[dict[str, str]]:
    response = api.post("/sparql", data={"query": query},
                        headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    return [{k: v["value"] for k, v in row.items()}
            for row in response.json()["results"]["bindings"]]


def test_readme_lists_the_ui_examples_in_order() -> None:
    assert readme_queries() == [e.query for e in EXAMPLES]
    assert len(EXAMPLES) >= 6


def _shared_tags(rows: list[dict[str, str]]) -> None:
    assert {r["other"].removeprefix(PAGE) for r in rows} == {
        "resources/guides/designing-a-kanban-board", "categories/kanban",
        "resources/articles/organising-teams-around-value-streams",
        "resources/articles/pull-systems-in-lean-manufacturing",
        "resources/guides/wip-limits-in-practice",
        "resources/blog/2024/2024-03-11-stop-starting-start-finishing"}
    assert {r["shared"] for r in rows} == {"2"}


def _alias(rows: list[dict[str, str]]) -> None:
    assert rows == [{"page": PAGE + "tags/customer-focus", "id": "tags/customer-focus",
                     "url": "/tags/customer-focus/"}]


def _counts(label: str, count: str) -> Callable[[list[dict[str, str]]], list[tuple[str, int]]]:
    return lambda rows: [(r[label], int(r[count])) for r in rows]


EXPECTED_SELECT: dict[str, Callable[[list[dict[str, str]]], Any]] = {
    "shared-tags": _shared_tags,
    "alias": _alias,
}
EXPECTED_COUNTS = {
    "pages-per-category": (("label", "pages"), [
        ("Engineering Excellence", 19), ("Product Management", 19), ("Leadership", 18),
        ("Product Development", 16), ("Lean", 14), ("Scrum", 13), ("Kanban", 10),
        ("Organisational Design", 3)]),
    "broader-walk": (("label", "pages"), [
        ("Value Delivery", 16), ("Flow", 14), ("Lean", 14), ("Small Batches", 8),
        ("Work in Progress Limits", 7)]),
    "generated-terms": (("label", "uses"), [("Cycle Time", 2), ("Organisational Design", 3)]),
    "page-types": (("type", "pages"), [
        ("article", 23), ("tag", 16), ("blog", 10), ("guide", 8), ("category", 7),
        ("concept", 5), ("note", 5)]),
}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_example_query_answer_on_corpus(api: Client, example: Any) -> None:
    name = example.name
    if name in EXPECTED_SELECT:
        EXPECTED_SELECT[name](select(api, example.query))
    elif name in EXPECTED_COUNTS:
        (label, count), expected = EXPECTED_COUNTS[name]
        assert _counts(label, count)(select(api, example.query)) == expected
    elif name == "drafts-hidden":
        body = api.get("/sparql", params={"query": example.query}).json()
        assert body == {"head": {}, "boolean": False}
    elif name == "page-card":
        response = api.get("/sparql", params={"query": example.query},
                           headers={"Accept": "text/turtle"})
        graph = Graph().parse(data=response.text, format="turtle")
        page = URIRef(PAGE + "resources/articles/limit-work-in-progress")
        assert len(graph) == 8
        assert {str(o).removeprefix(TERM) for o in graph.objects(page, URIRef(
            "https://schema.org/about"))} == {"tags/flow", "tags/value-delivery",
                                               "tags/work-in-progress-limits"}
    elif name == "ontology-properties":
        rows = select(api, example.query)
        assert len(rows) == 10
        assert (rows[0]["property"], rows[-1]["property"]) == (PG + "alias", PG + "weight")
    else:
        pytest.fail(f"example {name} has no expected answer")
