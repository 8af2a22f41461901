"""The ingest job: corpus folder in, a new immutable index build out, switched in atomically.

Nothing here touches the current build until the final rename, so an ingest killed at any
moment leaves the previous index usable and unchanged.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import gc
import hashlib
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from ingest.corpus import corpus_hash, discover, file_digests
from ingest.editorial import rules_digest
from ingest.report import Report, Severity
from ingest.steps import STEPS, Build
from ontology.vocab import ONTOLOGY_VERSION
from principles.contract import REPORT_FILE, Chunking, collection_names
from principles.embedder import Encoder
from principles.errors import IndexProblem, IngestError
from principles.index import INDEX_FORMAT, STAGING_PREFIX, IndexLayout, Manifest
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
    with _exclusive(layout.root), _without_cyclic_gc():
        return _run(settings, layout, encoder, force, console)


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """An ingest allocates millions of objects that live until it ends (pages, triples, pair
    records); with the cyclic collector on, each full collection walks them all again, up to
    half of a re-ingest at 10k pages (bench/scale.py). They form almost no cycles, so the
    collector waits until the run is over."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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


def _previous(layout: IndexLayout) -> tuple[Path | None, Manifest | None]:
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
    report = Report()
    files = discover(settings.corpus_dir, report)
    digests = file_digests(files, settings.max_file_bytes)
    digest = corpus_hash(files, [*(f.line() for f in report.findings),
                                 f"max_aliases={settings.max_aliases}"], settings.max_file_bytes,
                         digests)
    if settings.related_rules is not None:  # the rules file is part of what a build is made of
        digest = hashlib.sha256(digest.encode() + rules_digest(settings)).hexdigest()
    previous_build, previous = _previous(layout)
    if not force and previous is not None and _up_to_date(settings, layout, previous, digest):
        old_report = previous_build / REPORT_FILE if previous_build else None
        if old_report and old_report.is_file():
            report = Report.load(old_report)
        return IngestResult(previous_build, previous, report, up_to_date=True)

    build_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(2)
    build = Build(settings, layout, files, report, build_id,
                  encoder or Encoder(settings.model, settings.batch_size), console,
                  previous_build, previous, digests)
    counts: dict[str, int] = {}
    try:
        try:
            for step in STEPS:
                mark = time.perf_counter()
                counts.update(step.run(build))
                build.timings[step.name] = time.perf_counter() - mark
        finally:
            build.close()
        if build.vectors is not None:  # the store's write may have changed its counts
            counts.update(build.vectors.counts)
        build.report.write(build.folder / REPORT_FILE)
        if build.parsed is not None:
            build.parsed.save(build.folder)
        counts.update(errors=report.count(Severity.ERROR), warnings=report.count(Severity.WARNING))
        manifest = Manifest(
            build_id=build_id, created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            corpus=str(settings.corpus_dir.resolve()), corpus_hash=digest, model=settings.model,
            dimension=counts.pop("dimension"), index_format=INDEX_FORMAT,
            ontology_version=ONTOLOGY_VERSION, counts=counts,
            collections=build.written.collections, qdrant_url=settings.qdrant_url,
            engine=build.written.engine, query_encoder=build.query_encoder,
            chunking=Chunking.from_settings(settings).record(), page_hashes=build.hashes,
            seconds=round(time.perf_counter() - started, 3),
        )
        manifest.save(build.folder)
        (build.folder / ".pid").unlink()
        final = layout.publish(build.folder, build_id)
    except OSError as exc:
        _discard(build.staging)  # a full disk gets its space back now
        raise IngestError(f"writing the index build {build.staging} failed: "
                          f"{exc.strerror or exc}; the previous index is unchanged. Free disk "
                          "space (or make the folder writable) and run ingest again") from exc
    except BaseException:
        _discard(build.staging)
        raise
    if settings.sparql_url:  # remote mode: the external store gets the published graph
        from ingest.sparql_load import publish_remote
        publish_remote(settings, layout, final, previous_build)
    removed = layout.prune(settings.keep_builds, settings.lease_ttl)
    _drop_orphan_collections(settings, layout, removed)
    build.timings["total"] = time.perf_counter() - started
    return IngestResult(final, manifest, report, timings=build.timings)


def _up_to_date(settings: Settings, layout: IndexLayout, previous: Manifest, digest: str) -> bool:
    """The current build was made from this corpus with these settings: nothing to do."""
    return (previous.corpus_hash == digest and previous.model == settings.model
            and previous.index_format == INDEX_FORMAT and previous.qdrant_url == settings.qdrant_url
            and previous.engine == engine_for(settings.qdrant_url, settings.embedded_engine)
            and (settings.query_encoder != "onnx" or _exists(layout.root, previous.query_encoder))
            and previous.ontology_version == ONTOLOGY_VERSION)


def _discard(staging: Path | None) -> None:
    if staging is not None:
        shutil.rmtree(staging, ignore_errors=True)


def _exists(root: Path, relative: str | None) -> bool:
    return relative is not None and (root / relative).is_file()


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
