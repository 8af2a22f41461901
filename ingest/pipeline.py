"""The ingest job: corpus folder in, a new immutable index build out, switched in atomically.

Nothing here touches the current build until the final rename, so an ingest killed at any
moment leaves the previous index usable and unchanged.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph
from rich.console import Console

from ingest.aliases import WINNER_RULE, resolve_aliases
from ingest.corpus import corpus_hash, discover, load_pages
from ingest.embedding import page_passages
from ingest.network import build_network, write_network
from ingest.onnx_export import export_onnx, onnx_path
from ingest.pages import Page
from ingest.rdf import build_graph, write_rdf
from ingest.related import compute_related
from ingest.report import Action, Finding, Report, Severity
from ingest.shacl import focus_nodes, load_shapes, validate_graph
from ingest.terms import Term, resolve_terms
from ingest.vectorize import Previous, build_sparse, write_vectors
from ontology.vocab import ONTOLOGY_VERSION
from principles.contract import (
    NETWORK_FILE,
    REPORT_FILE,
    AliasesRecord,
    Chunking,
    PageRecord,
    TermRecord,
    collection_names,
    write_records,
)
from principles.embedder import Encoder
from principles.errors import IndexProblem, IngestError
from principles.index import INDEX_FORMAT, STAGING_PREFIX, IndexLayout, Manifest
from principles.related_store import FILE as RELATED_FILE
from principles.related_store import write_related
from principles.settings import Settings
from principles.stores import engine_for
from principles.vectors import open_server


@dataclass
class IngestResult:
    build: Path | None
    manifest: Manifest | None
    report: Report
    up_to_date: bool = False
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return self.report.count(Severity.ERROR)


def ingest(settings: Settings, *, encoder: Encoder | None = None, force: bool = False,
           console: Console | None = None) -> IngestResult:
    """Build a new index from `settings.corpus_dir` into `settings.index_dir`."""
    console = console or Console(stderr=True, quiet=True)
    corpus = settings.corpus_dir
    if not corpus.is_dir():
        raise IngestError(f"corpus folder {corpus} does not exist; pass --corpus DIR")
    layout = IndexLayout(settings.index_dir)
    try:
        layout.root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IngestError(f"cannot create index folder {layout.root}: {exc.strerror}") from exc
    with _exclusive(layout.root):
        return _run(settings, layout, encoder, force, console)


@contextmanager
def _exclusive(root: Path) -> Iterator[None]:
    try:
        handle = open(root / ".ingest.lock", "a+")  # noqa: SIM115 - held for the whole run
    except OSError as exc:
        raise IngestError(f"index folder {root} is not writable: {exc.strerror}") from exc
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        handle.close()
        raise IngestError(f"another ingest is writing {root}; wait for it to finish") from exc
    try:
        yield
    finally:
        handle.close()


def _previous(layout: IndexLayout, settings: Settings) -> tuple[Path | None, Manifest | None]:
    build = layout.current_build()
    if build is None:
        return None, None
    try:
        return build, Manifest.load(build)
    except IndexProblem:
        return None, None


def _run(settings: Settings, layout: IndexLayout, encoder: Encoder | None, force: bool,
         console: Console) -> IngestResult:
    started = time.perf_counter()
    timings: dict[str, float] = {}
    report = Report()
    files = discover(settings.corpus_dir, report)
    digest = corpus_hash(files, [*(f.line() for f in report.findings),
                                 f"max_aliases={settings.max_aliases}"], settings.max_file_bytes)
    from ingest.editorial import resolve_editorial, rules_digest
    if settings.related_rules is not None:  # the rules file is part of what a build is made of
        digest = hashlib.sha256(digest.encode() + rules_digest(settings)).hexdigest()
    previous_build, previous = _previous(layout, settings)
    if (not force and previous is not None and previous.corpus_hash == digest
            and previous.model == settings.model and previous.index_format == INDEX_FORMAT
            and previous.qdrant_url == settings.qdrant_url
            and previous.engine == engine_for(settings.qdrant_url, settings.embedded_engine)
            and (settings.query_encoder != "onnx" or _exists(layout.root, previous.query_encoder))
            and previous.ontology_version == ONTOLOGY_VERSION):
        old_report = previous_build / REPORT_FILE if previous_build else None
        if old_report and old_report.is_file():
            report = _load_report(old_report)
        return IngestResult(previous_build, previous, report, up_to_date=True)

    mark = time.perf_counter()
    pages = load_pages(files, report, max_file_bytes=settings.max_file_bytes,
                       max_aliases=settings.max_aliases)
    terms = resolve_terms(pages, report)
    alias_table, conflicts = resolve_aliases(pages, report)
    editorial = resolve_editorial(pages, alias_table, settings, report)
    timings["parse"] = time.perf_counter() - mark

    mark = time.perf_counter()
    graph = build_graph(pages, terms)
    hashes = {p.id: p.content_hash() for p in pages}
    violations = _validate(graph, pages, hashes, previous_build, previous, report)
    timings["rdf+shacl"] = time.perf_counter() - mark

    build_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(2)
    layout.prune(settings.keep_builds, settings.lease_ttl)
    try:
        staging = layout.staging(build_id)
        (staging / ".pid").write_text(str(os.getpid()))
    except OSError as exc:
        raise IngestError(f"cannot write to index folder {layout.builds}: {exc.strerror}") from exc

    encoder = encoder or Encoder(settings.model, settings.batch_size)
    try:
        mark = time.perf_counter()
        written = write_vectors(
            settings, staging, build_id, pages, hashes,
            Previous(previous_build, previous) if previous_build and previous else None,
            encoder, console)
        timings["embed+store"] = time.perf_counter() - mark
        mark = time.perf_counter()
        counts, collections = written.counts, written.collections
        related = compute_related(pages, written.vectors)
        timings["related"] = time.perf_counter() - mark
        mark = time.perf_counter()
        for name, sparse_index in build_sparse(pages, settings).items():
            sparse_index.save(staging, name)
        write_rdf(graph, staging)
        write_network(build_network(pages, terms, related), staging / NETWORK_FILE)
        write_related(staging / RELATED_FILE, [p.id for p in pages], related)
        editorial.save(staging)
        # [overlap] ingest-time overlap artefacts are written here
        from ingest.overlap_build import write_overlap
        counts.update(write_overlap(settings, staging, pages, written, previous_build, timings))
        aliases: AliasesRecord = {"rule": WINNER_RULE, "paths": alias_table, "conflicts": [
            {"alias": c.alias, "winner": c.winner, "claimants": c.claimants} for c in conflicts]}
        write_records(staging, [_page_record(p, settings, hashes[p.id]) for p in pages],
                      [_term_record(t) for t in terms.values()], aliases)
        report.write(staging / REPORT_FILE)
        timings["write"] = time.perf_counter() - mark - timings.get("overlap", 0.0)
        counts.update(pages=len(pages), drafts=sum(p.draft for p in pages), terms=len(terms),
                      generated_terms=sum(t.generated for t in terms.values()),
                      aliases=sum(len(p.aliases) for p in pages), alias_conflicts=len(conflicts),
                      triples=len(graph), shacl_violations=violations,
                      errors=report.count(Severity.ERROR), warnings=report.count(Severity.WARNING),
                      files=len(files))
        query_encoder = None
        if settings.query_encoder == "onnx":
            model_file = export_onnx(encoder, onnx_path(layout.root, settings.model))
            query_encoder = str(model_file.relative_to(layout.root))
        manifest = Manifest(
            build_id=build_id, created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            corpus=str(settings.corpus_dir.resolve()), corpus_hash=digest, model=settings.model,
            dimension=counts.pop("dimension"), index_format=INDEX_FORMAT,
            ontology_version=ONTOLOGY_VERSION, counts=counts, collections=collections,
            qdrant_url=settings.qdrant_url, engine=written.engine, query_encoder=query_encoder,
            chunking=Chunking.from_settings(settings).record(), page_hashes=hashes,
            seconds=round(time.perf_counter() - started, 3),
        )
        manifest.save(staging)
        (staging / ".pid").unlink()
        final = layout.publish(staging, build_id)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)  # a full disk gets its space back now
        raise IngestError(f"writing the index build {staging} failed: {exc.strerror or exc}; "
                          "the previous index is unchanged. Free disk space (or make the "
                          "folder writable) and run ingest again") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    # [sparql] remote mode: load the published graph into the external store here
    if settings.sparql_url:
        from ingest.sparql_load import publish_remote
        publish_remote(settings, layout, final, previous_build)
    removed = layout.prune(settings.keep_builds, settings.lease_ttl)
    _drop_orphan_collections(settings, layout, removed)
    timings["total"] = time.perf_counter() - started
    return IngestResult(final, manifest, report, timings=timings)


def _page_record(page: Page, settings: Settings, content_hash: str) -> PageRecord:
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


def _term_record(term: Term) -> TermRecord:
    return {"kind": term.kind, "slug": term.slug, "label": term.label,
            "alt_labels": sorted(term.alt_labels), "page_id": term.page_id,
            "broader": ["/".join(b) for b in term.broader],
            "related": ["/".join(r) for r in term.related], "generated": term.generated}


def _validate(graph: Graph, pages: list[Page], hashes: dict[str, str], previous_build: Path | None,
              previous: Manifest | None, report: Report) -> int:
    """SHACL on what changed: pages whose content hash differs from the previous build (and
    all terms) are validated; unchanged pages keep the verdicts of the previous report.
    Without a usable previous build everything is validated."""
    shapes = load_shapes()
    old_report = previous_build / REPORT_FILE if previous_build else None
    if (previous is None or old_report is None or not old_report.is_file()
            or previous.ontology_version != ONTOLOGY_VERSION):
        return validate_graph(graph, shapes, report)
    changed = {page_id for page_id, digest in hashes.items()
               if previous.page_hashes.get(page_id) != digest}
    count = validate_graph(graph, shapes, report, focus=focus_nodes(graph, changed))
    unchanged_paths = {p.rel_path for p in pages if p.id not in changed}
    for finding in _load_report(old_report).findings:
        if finding.kind == "shacl-violation" and finding.path in unchanged_paths:
            report.findings.append(finding)
            count += 1
    return count


def _exists(root: Path, relative: str | None) -> bool:
    return relative is not None and (root / relative).is_file()


def _load_report(path: Path) -> Report:
    report = Report()
    for row in json.loads(path.read_text("utf-8")):
        report.findings.append(Finding(row["path"], row["where"], row["problem"],
                                       Action(row["action"]), Severity(row["severity"]),
                                       row["kind"]))
    return report


def _drop_orphan_collections(settings: Settings, layout: IndexLayout, removed: list[Path]) -> None:
    """Server mode: collections of builds that were pruned are deleted from the server."""
    if settings.qdrant_url is None or not removed:
        return
    names = [name for path in removed
             for name in collection_names(path.name.removeprefix(STAGING_PREFIX), server=True).values()]
    store = open_server(settings.qdrant_url, settings.qdrant_api_key)
    try:
        for name in names:
            store.drop(name)
    finally:
        store.close()
