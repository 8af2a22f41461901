"""The ingest steps, in order. Each reads what earlier steps left on the `Build` and returns
the counts it adds to the manifest; the runner (ingest/pipeline.py) times every step and
reports it by name. A new step is one function here and one line in `STEPS`.

Steps before `stage` only read the corpus; from `stage` on they write into the staging
folder, which the runner deletes if any step fails.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from ingest.aliases import WINNER_RULE, AliasConflict, resolve_aliases
from ingest.corpus import CorpusFile, unique_pages
from ingest.editorial import resolve_editorial
from ingest.embedding import page_passages
from ingest.network_spans import PreviousGraph, write_network_json
from ingest.onnx_export import export_onnx, onnx_path
from ingest.overlap_build import write_overlap
from ingest.pages import Page
from ingest.pages_file import PreviousRecords, write_pages
from ingest.parse_cache import (
    ParseCache,
    ParsedCorpus,
    carry_over,
    content_hashes,
    fingerprint,
    kept_records,
    parse_changed,
)
from ingest.rdf import build_graph, subjects_of
from ingest.rdf_files import write_graph_files
from ingest.rdf_keys import keyed_sources
from ingest.rdf_parts import GraphParts, PreviousParts, assemble
from ingest.related import Params, VectorIndex, compute_related
from ingest.related import Previous as PreviousRelated
from ingest.report import Report
from ingest.terms import Term, resolve_terms
from ingest.validation import ShaclFindings, shacl_code, validate_changed
from ingest.vectorize import Previous, VectorBuild, write_vectors
from ingest.vectorize import write_sparse as write_sparse_indexes
from ontology.vocab import ONTOLOGY_VERSION
from principles.contract import (
    NETWORK_FILE,
    AliasesRecord,
    Chunking,
    PageRecord,
    TermRecord,
    write_records,
)
from principles.editorial import Editorial
from principles.embedder import Encoder
from principles.errors import IngestError
from principles.index import IndexLayout, Manifest
from principles.related_store import FILE as RELATED_FILE
from principles.related_store import RelatedColumns
from principles.settings import Settings
from principles.stores import open_store, tuning_of
from principles.vectors import VectorStore

Counts = dict[str, int]
RELATED_PARAMS = Params()  # candidate list sizes (ingest/related.py; tests use smaller ones)


@dataclass
class Build:
    """What one ingest run knows so far; each step fills in its part."""

    settings: Settings
    layout: IndexLayout
    files: list[CorpusFile]
    report: Report
    build_id: str
    encoder: Encoder
    console: Console
    previous_build: Path | None = None
    previous: Manifest | None = None
    digests: dict[str, str] = field(default_factory=dict)  # file digests by corpus path
    parsed: ParsedCorpus | None = None
    pages: list[Page] = field(default_factory=list)
    terms: dict[str, Term] = field(default_factory=dict)
    alias_table: dict[str, str] = field(default_factory=dict)
    conflicts: list[AliasConflict] = field(default_factory=list)
    editorial: Editorial | None = None
    graph: GraphParts | None = None
    shacl: ShaclFindings | None = None
    hashes: dict[str, str] = field(default_factory=dict)
    kept_records: set[str] = field(default_factory=set)  # pages.json records as before
    staging: Path | None = None
    vectors: VectorBuild | None = None
    related: RelatedColumns | None = None
    query_encoder: str | None = None  # the ONNX file, relative to the index root
    timings: dict[str, float] = field(default_factory=dict)
    _store: VectorStore | None = None

    @property
    def folder(self) -> Path:
        assert self.staging is not None, "a writing step ran before `stage`"
        return self.staging

    @property
    def written(self) -> VectorBuild:
        assert self.vectors is not None, "a step needing vectors ran before `embed+store`"
        return self.vectors

    def store(self) -> VectorStore:
        """The build's vector store, opened once for the steps that read it (loading a
        collection's segments costs ~0.1 s at 10k pages); `close` closes it."""
        if self._store is None:
            self._store = self.written.stored()  # the store `embed+store` left open, if any
        if self._store is None:
            settings = self.settings
            self._store = open_store(self.written.engine, self.folder, settings.qdrant_url,
                                     settings.qdrant_api_key, tuning_of(settings))
        return self._store

    def close(self) -> None:
        """Waits for the vector store's write (re-raising its failure); closes the store."""
        try:
            if self._store is None and self.vectors is not None:
                self._store = self.vectors.stored()
        finally:
            if self._store is not None:
                self._store.close()
                self._store = None


def parse(build: Build) -> Counts:
    """Front matter and bodies to pages, parsing only files whose bytes changed since the
    previous build (ingest/parse_cache.py); terms, aliases and the editor's rules resolved
    over the whole corpus."""
    settings = build.settings
    current = fingerprint(settings)
    cache = ParseCache.load(build.previous_build, build.previous, current)
    changed = parse_changed(build.files, build.digests, cache, settings)
    files = carry_over(build.files, build.digests, cache, changed, settings)
    build.parsed = ParsedCorpus(current, files)
    build.pages = unique_pages(files, build.report)
    if not build.pages:  # an empty index would serve nothing: keep the current build instead
        problems = [f.line() for f in build.report.sorted()][:3]
        raise IngestError(
            f"corpus folder {settings.corpus_dir} has no page to index ({len(build.files)} page "
            f"file(s) found, none readable); the current index is unchanged. Add Markdown pages "
            "(.md, .markdown, .txt) or fix the files: " + ("; ".join(problems) or "no page files"))
    build.terms = resolve_terms(build.pages, build.report)
    build.alias_table, build.conflicts = resolve_aliases(build.pages, build.report)
    build.editorial = resolve_editorial(build.pages, build.alias_table, settings, build.report)
    build.hashes = content_hashes(files, build.pages)
    build.kept_records = kept_records(files, build.pages)
    return {"pages": len(build.pages), "drafts": sum(p.draft for p in build.pages),
            "terms": len(build.terms),
            "generated_terms": sum(t.generated for t in build.terms.values()),
            "aliases": sum(len(p.aliases) for p in build.pages),
            "alias_conflicts": len(build.conflicts), "files": len(build.files),
            "parsed_files": build.parsed.parsed_again}


def rdf_and_shacl(build: Build) -> Counts:
    """The RDF graph, SHACL-validated; after a change only the subjects whose triples changed
    are built and judged again, the others are kept from the previous build."""
    old, old_findings, code = None, None, shacl_code()
    if (build.previous_build is not None and build.previous is not None
            and build.previous.ontology_version == ONTOLOGY_VERSION):
        old = PreviousParts.open(build.previous_build)
        old_findings = ShaclFindings.open(build.previous_build, code)
    pages, terms = build.pages, build.terms
    build.graph = assemble(keyed_sources(pages, build.hashes, terms),
                           old if old_findings is not None else None,
                           lambda only: build_graph(pages, terms, only),
                           lambda only: subjects_of(pages, terms, only))
    build.shacl = validate_changed(build.graph, old_findings, build.report, code)
    build.graph.release()
    return {"triples": build.graph.triples, "shacl_violations": build.shacl.count,
            "rdf_subjects_built": sum(p.fresh for p in build.graph.parts)}


def stage(build: Build) -> Counts:
    """The staging folder the writing steps fill; pruned first so the disk has room."""
    build.layout.prune(build.settings.keep_builds, build.settings.lease_ttl)
    try:
        build.staging = build.layout.staging(build.build_id)
        (build.staging / ".pid").write_text(str(os.getpid()))
    except OSError as exc:
        raise IngestError(f"cannot write to index folder {build.layout.builds}: "
                          f"{exc.strerror}") from exc
    return {}


def embed_and_store(build: Build) -> Counts:
    """Page and passage vectors, encoding only text the previous build did not have. The
    vector store is written in the background, while the steps up to `related` run."""
    previous = (Previous(build.previous_build, build.previous)
                if build.previous_build and build.previous else None)
    build.vectors = write_vectors(build.settings, build.folder, build.build_id, build.pages,
                                  build.hashes, previous, build.encoder, build.console,
                                  build.report)
    return build.vectors.counts


def _same_vectors(build: Build) -> bool:
    """The previous build's vectors of an unchanged page are this build's: same model, same
    passages. Then related rows and overlap verdicts can be carried over."""
    return (build.previous_build is not None and build.previous is not None
            and build.previous.model == build.settings.model
            and build.previous.chunking == Chunking.from_settings(build.settings).record())


def related(build: Build) -> Counts:
    """Related rows from each page's candidates in the vector index; after a small change only
    the rows it touches are computed, the others come from the previous build."""
    previous = None
    if _same_vectors(build) and build.previous_build is not None and build.previous is not None:
        previous = PreviousRelated.load(build.previous_build, RELATED_FILE,
                                        build.previous.page_hashes)
    written = build.written
    index = VectorIndex(build.store(), written.collections, [p.id for p in build.pages],
                        written.vectors)
    result = compute_related(build.pages, written.vectors, index, build.hashes, previous,
                             RELATED_PARAMS)
    build.related = result.columns
    result.state.save(build.folder)
    return result.counts


def write_sparse(build: Build) -> Counts:
    """BM25 over passages and over whole pages; only changed pages' documents are tokenized."""
    previous = (Previous(build.previous_build, build.previous)
                if build.previous_build and build.previous else None)
    return write_sparse_indexes(build.settings, build.folder, build.pages, build.hashes, previous)


def write_graphs(build: Build) -> Counts:
    """graph.nt/.ttl, the networkx graph (graph.json: only changed pages' parts encoded), the
    related table and the editor's rules."""
    assert build.graph is not None and build.shacl is not None and build.editorial is not None
    write_graph_files(build.graph, build.folder)
    build.shacl.save(build.folder)
    previous = None
    if build.previous_build is not None and build.previous is not None:
        previous = PreviousGraph.load(build.previous_build, list(build.previous.page_hashes))
    encoded = write_network_json(build.pages, build.terms, build.related,
                                 build.folder / NETWORK_FILE, previous, build.kept_records)
    assert build.related is not None
    build.related.save(build.folder / RELATED_FILE)
    build.editorial.save(build.folder)
    return {"graph_pages_encoded": encoded}


def overlap(build: Build) -> Counts:
    return write_overlap(build.settings, build.folder, build.pages, build.written, build.store(),
                         build.previous_build, build.hashes, same_vectors=_same_vectors(build))


def records(build: Build) -> Counts:
    """pages.json, terms.json, aliases.json (principles/contract.py) and report.json."""
    aliases: AliasesRecord = {"rule": WINNER_RULE, "paths": build.alias_table, "conflicts": [
        {"alias": c.alias, "winner": c.winner, "claimants": c.claimants} for c in build.conflicts]}
    settings, previous = build.settings, None
    if (build.previous_build is not None and build.previous is not None
            and build.previous.chunking == Chunking.from_settings(settings).record()):
        previous = PreviousRecords.load(build.previous_build, list(build.previous.page_hashes))
    write_pages(build.folder, build.pages, lambda p: page_record(p, settings, build.hashes[p.id]),
                build.kept_records, previous)
    write_records(build.folder, [term_record(t) for t in build.terms.values()], aliases)
    return {}


def query_encoder(build: Build) -> Counts:
    """The ONNX query encoder serve runs (exported once per model, shared by builds)."""
    if build.settings.query_encoder == "onnx":
        model_file = export_onnx(build.encoder, onnx_path(build.layout.root, build.settings.model))
        build.query_encoder = str(model_file.relative_to(build.layout.root))
    return {}


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[Build], Counts]


STEPS: tuple[Step, ...] = (
    Step("parse", parse),
    Step("rdf+shacl", rdf_and_shacl),
    Step("stage", stage),
    Step("embed+store", embed_and_store),
    Step("sparse", write_sparse),  # these two run while the vector store is being written
    Step("records", records),
    Step("related", related),
    Step("graphs", write_graphs),
    Step("overlap", overlap),
    Step("query-encoder", query_encoder),
)


def page_record(page: Page, settings: Settings, content_hash: str) -> PageRecord:
    return PageRecord(
        id=page.id, rel_path=page.rel_path, title=page.title, url=page.url, type=page.type,
        body=page.body, description=page.description, abstract=page.abstract,
        headline=page.headline, resource_id=page.resource_id, date=page.date,
        modified=page.modified, aliases=page.aliases, term_refs=page.term_refs, terms=page.terms,
        draft=page.draft, weight=page.weight, slug=page.slug, authors=page.authors,
        has_front_matter=page.has_front_matter,
        taxonomy=list(page.taxonomy) if page.taxonomy else None,
        related_rules=page.related_rules,
        passages=[[p.start, p.end] for p in
                  page_passages(page, settings.passage_words, settings.passage_overlap)],
        hash=content_hash)


def term_record(term: Term) -> TermRecord:
    return {"kind": term.kind, "slug": term.slug, "label": term.label,
            "alt_labels": sorted(term.alt_labels), "page_id": term.page_id,
            "broader": ["/".join(b) for b in term.broader],
            "related": ["/".join(r) for r in term.related], "generated": term.generated}
