"""A re-ingest builds RDF triples and judges SHACL only for what changed, and what it writes
equals an ingest from scratch of the same corpus: graph.nt and graph.ttl byte for byte, the
same SHACL findings, the same graph.json. Synthetic vectors (bench/scale.py's encoder); two
test shapes make some pages and one term invalid, so findings are kept, dropped and found."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS

from bench.scale import SyntheticEncoder, generate
from ingest import shacl
from ingest.corpus import discover, load_pages
from ingest.network import build_network, write_network
from ingest.network_json import direct, network_json, rounded
from ingest.network_spans import SPANS_FILE as GRAPH_SPANS
from ingest.pipeline import IngestResult, ingest
from ingest.rdf import PG, SDO
from ingest.rdf_parts import GraphParts, Part, render
from ingest.report import Finding, Report
from ingest.terms import resolve_terms
from ingest.validation import _scope, shapes_are_local
from ontology.vocab import page_iri, term_iri
from principles.contract import (
    GRAPH_NT_FILE,
    GRAPH_PARTS_FILE,
    GRAPH_TTL_FILE,
    NETWORK_FILE,
    REPORT_FILE,
)
from principles.related_store import FILE as RELATED_FILE
from principles.related_store import RelatedColumns
from principles.settings import Settings

TEST_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix pg: <https://principles.graph/ontology#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
pg:TestTitleShape a sh:NodeShape ; sh:targetClass pg:Page ;
    sh:property [ sh:path dcterms:title ; sh:pattern "^[^!]*$" ; sh:message "test: no ! in a title" ] .
pg:TestTermShape a sh:NodeShape ; sh:targetClass skos:Concept ;
    sh:property [ sh:path skos:notation ; sh:pattern "^(?!topic1$)" ; sh:message "test: not topic1" ] .
"""


@pytest.fixture(autouse=True)
def test_shapes(monkeypatch: pytest.MonkeyPatch) -> None:
    original = shacl.shapes_text
    monkeypatch.setattr(shacl, "shapes_text", lambda: original() + TEST_SHAPES)


def _ingest(corpus: Path, index: Path) -> IngestResult:
    settings = Settings(corpus_dir=corpus, index_dir=index, model="synthetic",
                        query_encoder="torch", overlap_candidates=5)
    synthetic: Any = SyntheticEncoder()
    result = ingest(settings, encoder=synthetic)
    assert result.build is not None and result.manifest is not None
    return result


def _shacl_lines(build: Path) -> list[str]:
    rows = json.loads((build / REPORT_FILE).read_text("utf-8"))
    return sorted(row["line"] for row in rows if row["kind"] == "shacl-violation")


def _page(corpus: Path, number: int) -> Path:
    return corpus / "resources" / "articles" / f"{number // 1000:03d}" / f"page-{number}" / "index.md"


def _retitle(path: Path, title: str) -> None:
    head, front, body = path.read_text("utf-8").split("\n", 2)
    meta = json.loads(front)
    meta["title"] = title
    path.write_text("\n".join([head, json.dumps(meta), body]), "utf-8")


def _assert_as_from_scratch(tmp_path: Path, corpus: Path, again: IngestResult) -> None:
    scratch = _ingest(corpus, tmp_path / f"scratch-{again.manifest.build_id}")  # type: ignore[union-attr]
    assert again.build is not None and scratch.build is not None
    for name in (GRAPH_NT_FILE, GRAPH_TTL_FILE):
        assert (again.build / name).read_bytes() == (scratch.build / name).read_bytes(), name
    assert _shacl_lines(again.build) == _shacl_lines(scratch.build)
    for count in ("triples", "shacl_violations"):
        assert again.manifest.counts[count] == scratch.manifest.counts[count]  # type: ignore[union-attr]
    assert (again.build / NETWORK_FILE).read_bytes() == (scratch.build / NETWORK_FILE).read_bytes()
    assert np.array_equal(np.load(again.build / GRAPH_SPANS)["spans"],
                          np.load(scratch.build / GRAPH_SPANS)["spans"])


def test_changes_equal_an_ingest_from_scratch(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    generate(corpus, 40)
    _retitle(_page(corpus, 3), "Page 3 shouts!")  # invalid now, valid after the first edit
    first = _ingest(corpus, tmp_path / "index")
    assert first.build is not None and first.manifest is not None
    lines = _shacl_lines(first.build)
    assert any("page-3/index.md" in line for line in lines)
    assert any("tags/topic1/_index.md" in line and "not topic1" in line for line in lines)
    subjects = first.manifest.counts["rdf_subjects_built"]

    # one body edited, one page fixed, one broken, one added, one deleted
    with _page(corpus, 5).open("a", encoding="utf-8") as handle:
        handle.write("An edit about topic7.\n")
    _retitle(_page(corpus, 3), "Page 3 calm")
    _retitle(_page(corpus, 8), "Page 8 shouts!")
    added = _page(corpus, 40)
    shutil.copytree(_page(corpus, 9).parent, added.parent)
    _retitle(added, "Page 40, new")
    shutil.rmtree(_page(corpus, 11).parent)
    again = _ingest(corpus, tmp_path / "index")
    assert again.build is not None and again.manifest is not None
    assert 4 <= again.manifest.counts["rdf_subjects_built"] < subjects / 4
    pages = first.manifest.counts["pages"]
    assert first.manifest.counts["graph_pages_encoded"] == pages
    assert 4 <= again.manifest.counts["graph_pages_encoded"] < pages  # the others' kept
    lines = _shacl_lines(again.build)
    assert not any("page-3/index.md" in line for line in lines)
    assert any("page-8/index.md" in line for line in lines)
    _assert_as_from_scratch(tmp_path, corpus, again)

    # the page defining topic1 moves: its term is unchanged but its finding names the new file
    (corpus / "tags" / "topic1" / "_index.md").rename(corpus / "tags" / "topic1.md")
    (corpus / "tags" / "topic1").rmdir()
    # a new tag: a new term
    head, front, body = _page(corpus, 6).read_text("utf-8").split("\n", 2)
    meta = json.loads(front)
    meta["tags"] = [*meta["tags"], "Brand New Tag"]
    _page(corpus, 6).write_text("\n".join([head, json.dumps(meta), body]), "utf-8")
    # a term renamed by its page: the pages about it name it again (schema:keywords)
    topic2 = corpus / "tags" / "topic2" / "_index.md"
    topic2.write_text(topic2.read_text("utf-8").replace("title: Topic 2", "title: Topic Two"))
    moved = _ingest(corpus, tmp_path / "index")
    assert moved.build is not None
    assert any("tags/topic1.md" in line and "not topic1" in line
               for line in _shacl_lines(moved.build))
    _assert_as_from_scratch(tmp_path, corpus, moved)


def test_graph_json_is_what_networkx_writes(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    generate(corpus, 30)
    result = _ingest(corpus, tmp_path / "index")
    assert result.build is not None
    pages = load_pages(discover(corpus), Report())
    terms = resolve_terms(pages, Report())
    related = RelatedColumns.load(result.build / RELATED_FILE)

    def networkx(with_related: RelatedColumns | None) -> str:
        write_network(build_network(pages, terms, with_related), tmp_path / "networkx.json")
        return (tmp_path / "networkx.json").read_text("utf-8")

    assert direct(pages, terms, related) is not None  # the fast way is the one tested here
    assert network_json(pages, terms, related) == networkx(related)
    assert network_json(pages, terms, related) == (result.build / NETWORK_FILE).read_text("utf-8")
    # a tag page about itself (two edges to one node); a node made by an edge (the general way)
    pages[0].terms["tags"].append("topic0")
    pages[0].taxonomy = ("tags", "topic0")
    assert network_json(pages, terms, related) == networkx(related)
    terms["tags/topic0"].broader.append(("categories", "nowhere"))
    terms["tags/topic0"].related.append(("tags", "topic2"))
    assert direct(pages, terms, related) is None
    assert network_json(pages, terms, None) == networkx(None)
    assert network_json(pages, terms, related) == networkx(related)


def _by_node(found: list[tuple[str, Finding]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for node, finding in found:
        out.setdefault(node, []).append(finding.line())
    return {node: sorted(lines) for node, lines in out.items()}


def test_validating_a_node_on_its_scope_equals_the_whole_graph(tmp_path: Path) -> None:
    """The proof behind incremental SHACL: each node judged on the triples `_scope` gives it
    has exactly the findings a validation of the whole graph gives it."""
    corpus = tmp_path / "corpus"
    generate(corpus, 30)
    result = _ingest(corpus, tmp_path / "index")
    assert result.build is not None
    graph = Graph().parse(result.build / GRAPH_NT_FILE, format="nt")
    page = URIRef(page_iri("resources/articles/000/page-2"))
    term = URIRef(term_iri("tags", "topic0"))
    graph.remove((page, DCTERMS.title, None))
    graph.add((page, PG.alias, Literal("no-slash")))
    graph.add((page, SDO.about, URIRef(page_iri("resources/articles/000/page-4"))))  # no Concept
    graph.add((page, PG.hasTag, URIRef("https://principles.graph/term/tags/missing")))
    graph.add((term, SKOS.broader, URIRef(page_iri("resources/articles/000/page-4"))))
    graph.add((term, SKOS.prefLabel, Literal("Second label", lang="en")))
    other = URIRef(term_iri("tags", "topic2"))
    graph.remove((other, RDF.type, SKOS.Concept))  # pages about it break, it is no target
    shapes = shacl.load_shapes()
    whole = _by_node(shacl.violations(graph, shapes))
    assert str(page) in whole and str(term) in whole and len(whole) >= 4

    parts = GraphParts([Part(subject, subject, "", triples, nt, ttl)
                        for subject, triples, nt, ttl in render(graph)], Graph(), None)
    present = {p.subject[1:-1]: p for p in parts.parts}
    for focus in ({str(page)}, {str(term)}, set(whole), set(present)):
        scoped = _by_node(shacl.violations(_scope(parts, present, focus), shapes,
                                           [URIRef(n) for n in sorted(focus)]))
        assert scoped == {n: lines for n, lines in whole.items() if n in focus}, focus


def test_scores_round_as_python_rounds() -> None:
    rng = np.random.default_rng(3)
    ties = np.array([k / 10_000 + 0.00005 for k in range(5000, 5100)])  # x.xxxx5: at a tie
    values = np.concatenate([rng.random(5000), ties, np.nextafter(ties, 0), np.nextafter(ties, 1),
                             [0.0, 0.55, 0.54995, 1.0]])
    for scores in (values.astype(np.float32), values):  # related.npz holds float32
        expected = [repr(round(float(x), 4)) for x in scores]
        assert [repr(k / 10_000) for k in rounded(scores).tolist()] == expected


def test_a_build_without_usable_parts_is_built_in_full(tmp_path: Path) -> None:
    """A previous build of older code (no graph_parts.json) or with files its record does not
    describe lends nothing: everything is built and judged afresh, with the same result."""
    corpus = tmp_path / "corpus"
    generate(corpus, 20)
    first = _ingest(corpus, tmp_path / "index")
    assert first.build is not None and first.manifest is not None
    everything = first.manifest.counts["rdf_subjects_built"]
    (first.build / GRAPH_PARTS_FILE).unlink()
    with _page(corpus, 2).open("a", encoding="utf-8") as handle:
        handle.write("An edit.\n")
    second = _ingest(corpus, tmp_path / "index")
    assert second.build is not None and second.manifest is not None
    assert second.manifest.counts["rdf_subjects_built"] == everything
    with (second.build / GRAPH_NT_FILE).open("ab") as handle:  # not what the record says
        handle.write(b"\n")
    with _page(corpus, 3).open("a", encoding="utf-8") as handle:
        handle.write("An edit.\n")
    third = _ingest(corpus, tmp_path / "index")
    assert third.manifest is not None and third.manifest.counts["rdf_subjects_built"] == everything
    _assert_as_from_scratch(tmp_path, corpus, third)


def test_shapes_reading_beyond_a_node_are_judged_on_the_whole_graph() -> None:
    assert shapes_are_local(shacl.load_shapes())  # ours and the test shapes: judged incrementally
    prefixes = "@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <https://e.x/> . "
    for further in ("ex:S sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:node ex:T ] .",
                    "ex:S sh:targetClass ex:C ; sh:property [ sh:path ( ex:p ex:q ) ; sh:minCount 1 ] .",
                    "ex:S sh:targetObjectsOf ex:p ; sh:property [ sh:path ex:q ; sh:minCount 1 ] ."):
        assert not shapes_are_local(Graph().parse(data=prefixes + further, format="turtle"))
