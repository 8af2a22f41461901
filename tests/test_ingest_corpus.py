"""Ingest of our own corpus/: exact counts, key triples, SHACL, the planted variants."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pyshacl import validate
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS

from ingest.pipeline import IngestResult
from ingest.report import Report
from ingest.shacl import focus_nodes, validate_graph
from ontology.vocab import ontology_file, page_iri, scheme_iri, term_iri
from tests.figures import CORPUS_PAGES, CORPUS_TERMS

PG = Namespace("https://principles.graph/ontology#")
SDO = Namespace("https://schema.org/")


def _pages(result: IngestResult) -> dict[str, dict[str, Any]]:
    assert result.build is not None
    return {p["id"]: p for p in json.loads((result.build / "pages.json").read_text("utf-8"))}


def _graph(result: IngestResult) -> Graph:
    assert result.build is not None
    return Graph().parse(result.build / "graph.ttl", format="turtle")


def test_exact_counts(corpus_ingest: IngestResult) -> None:
    assert corpus_ingest.manifest is not None
    counts = corpus_ingest.manifest.counts
    assert counts["files"] == CORPUS_PAGES
    assert counts["pages"] == CORPUS_PAGES
    assert counts["drafts"] == 1
    assert counts["terms"] == CORPUS_TERMS
    assert counts["generated_terms"] == 2
    assert counts["alias_conflicts"] == 1
    assert counts["page_vectors"] == CORPUS_PAGES
    # long pages are chunked: more passages than pages
    assert counts["passage_vectors"] == counts["vectors"] - CORPUS_PAGES > CORPUS_PAGES
    assert counts["errors"] == 0 and counts["shacl_violations"] == 0
    assert corpus_ingest.manifest.dimension == 384
    assert corpus_ingest.manifest.model == "all-MiniLM-L6-v2"


def test_key_triples(corpus_ingest: IngestResult) -> None:
    g = _graph(corpus_ingest)
    page = URIRef(page_iri("tags/customer-focus"))
    term = URIRef(term_iri("tags", "customer-focus"))
    assert (page, RDF.type, PG.Page) in g
    assert (page, RDF.type, SDO.CollectionPage) in g
    assert (page, DCTERMS.title, Literal("Customer Focus")) in g
    assert (page, SDO.url, Literal("/tags/customer-focus/")) in g
    assert (page, DCTERMS.identifier, Literal("2cPH9D0m8y7")) in g
    assert (page, PG.alias, Literal("/principles/customer-focus/")) in g
    assert (page, SDO.mainEntity, term) in g
    assert (term, RDF.type, SKOS.Concept) in g
    assert (term, SKOS.inScheme, URIRef(scheme_iri("tags"))) in g
    assert (term, SKOS.prefLabel, Literal("Customer Focus", lang="en")) in g
    assert (term, SKOS.broader, URIRef(term_iri("categories", "product-development"))) in g
    assert (URIRef(scheme_iri("tags")), RDF.type, SKOS.ConceptScheme) in g
    article = URIRef(page_iri("resources/articles/limit-work-in-progress"))
    assert (article, RDF.type, SDO.Article) in g
    assert (article, PG.hasTag, URIRef(term_iri("tags", "work-in-progress-limits"))) in g
    assert (article, SDO.about, URIRef(term_iri("tags", "work-in-progress-limits"))) in g
    assert (article, SDO.keywords, Literal("Work in Progress Limits")) in g


def test_shacl_conforms_on_corpus(corpus_ingest: IngestResult) -> None:
    shapes = Graph().parse(ontology_file("shapes.ttl"), format="turtle")
    conforms, _, text = validate(_graph(corpus_ingest), shacl_graph=shapes)
    assert conforms, text


def test_shacl_reports_a_broken_graph(corpus_ingest: IngestResult) -> None:
    g = _graph(corpus_ingest)
    page = URIRef(page_iri("tags/customer-focus"))
    g.remove((page, DCTERMS.title, None))
    g.add((page, PG.alias, Literal("no-leading-slash")))
    shapes = Graph().parse(ontology_file("shapes.ttl"), format="turtle")
    conforms, _, text = validate(g, shacl_graph=shapes)
    assert not conforms
    assert "non-empty title" in str(text) and "site-relative" in str(text)
    # the incremental check (only changed pages + all terms) reaches the same verdict
    focus = focus_nodes(g, {"tags/customer-focus"})
    assert URIRef(page_iri("tags/customer-focus")) in focus and len(focus) < 40
    report = Report()
    assert validate_graph(g, shapes, report, focus=focus) >= 2
    assert {f.path for f in report.findings} == {"tags/customer-focus/_index.md"}
    assert validate_graph(g, shapes, Report(), focus=focus_nodes(g, {"tags/flow"})) == 0


def test_planted_variants(corpus_ingest: IngestResult, planted: dict[str, Any]) -> None:
    pages = _pages(corpus_ingest)
    kinds = {(f.path, f.kind) for f in corpus_ingest.report.findings}
    for page_id in planted["slug_referenced_terms_pages"]:
        for kind, slugs in pages[page_id]["terms"].items():
            assert all(f"{kind}/{s}" in _terms(corpus_ingest) for s in slugs)
    for page_id in planted["missing_classification_type"]:
        assert (pages[page_id]["rel_path"], "missing-classification-type") in kinds
    for page_id in planted["aliases_without_slash"]:
        assert (pages[page_id]["rel_path"], "alias-no-slash") in kinds
        assert all(a.startswith("/") for a in pages[page_id]["aliases"])
    for page_id in planted["shortcode_pages"]:
        assert "{{" not in pages[page_id]["body"]
    assert [p for p in pages if pages[p]["draft"]] == planted["draft"]
    custom = planted["custom_url"]
    assert pages[custom["page"]]["url"] == custom["url"]
    terms = _terms(corpus_ingest)
    for missing in planted["terms_without_page"]:
        key = f"{missing['kind']}/{missing['label'].lower().replace(' ', '-')}"
        assert terms[key]["generated"] and terms[key]["label"] == missing["label"]
    for page_id in planted["plain_files"]:
        assert pages[page_id]["type"] == "note" and pages[page_id]["title"]
    assert pages["notes/on-call-handoff-checklist"]["title"] == "On Call Handoff Checklist"
    assert pages["notes/glossary"]["title"] == "Glossary of Flow and Delivery Terms"


def test_slug_and_title_references_meet_one_term(corpus_ingest: IngestResult) -> None:
    pages = _pages(corpus_ingest)
    by_slug = pages["resources/articles/trunk-based-development"]
    assert by_slug["term_refs"]["tags"][0] == "continuous-integration"
    assert "continuous-integration" in by_slug["terms"]["tags"]
    titled = [p for p in pages.values() if "Continuous Integration" in p["term_refs"]["tags"]]
    assert titled and all("continuous-integration" in p["terms"]["tags"] for p in titled)


def test_alias_collision_reported(corpus_ingest: IngestResult, planted: dict[str, Any]) -> None:
    assert corpus_ingest.build is not None
    aliases = json.loads((corpus_ingest.build / "aliases.json").read_text("utf-8"))
    collision = planted["alias_collision"]
    [conflict] = aliases["conflicts"]
    assert conflict["alias"] == collision["alias"]
    assert sorted(conflict["claimants"]) == sorted(collision["pages"])
    lines = [f.line() for f in corpus_ingest.report.findings if f.kind == "alias-conflict"]
    assert len(lines) == 1 and collision["alias"] in lines[0] and conflict["winner"] in lines[0]


def _terms(result: IngestResult) -> dict[str, dict[str, Any]]:
    assert result.build is not None
    rows = json.loads((result.build / "terms.json").read_text("utf-8"))
    return {f"{t['kind']}/{t['slug']}": t for t in rows}


def test_related_rows_round_trip(corpus_ingest: IngestResult, tmp_path: Path) -> None:
    from principles.related_store import RelatedTable, write_related

    assert corpus_ingest.build is not None
    table = RelatedTable(corpus_ingest.build / "related.npz")
    rows = table.rows("resources/articles/limit-work-in-progress")
    assert 5 < len(rows) <= 40 and rows == sorted(rows, key=lambda r: -r["score"])
    assert set(rows[0]) == {"id", "score", "graph", "dense", "coverage", "passage", "pair", "shared"}
    assert table.rows("no/such/page") == []
    original = {"a": [{"id": "b", "score": 0.5, "graph": 0.25, "dense": 0.125, "coverage": 0.375,
                       "passage": 0.75,
                       "pair": [1, 2], "shared": ["tags/x", "tags/y"]}], "b": []}
    write_related(tmp_path / "r.npz", ["a", "b"], original)
    assert RelatedTable(tmp_path / "r.npz").rows("a") == original["a"]
