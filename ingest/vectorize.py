"""Write the page and passage vectors and the BM25 indexes of a build, redoing only what changed.

Vectors of unchanged pages come from the previous build's table by position and only text not
seen before is encoded (ingest/vector_table.py). Embedded stores (qdrant-edge, qdrant-client
local) start from a copy of the previous build's store and get the points of changed pages
replaced and of deleted pages removed (ingest/store_write.py); server mode writes fresh
collections named after the build, so the switch stays atomic on the manifest. BM25
tokenizes only the documents of changed pages (ingest/bm25_build.py).
"""

from __future__ import annotations

import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ingest import bm25_build
from ingest.embedding import page_passages, page_text, passage_text
from ingest.pages import Page
from ingest.related import PageVectors
from ingest.report import Action, Report, Severity
from ingest.store_write import Patch, Points, write_store
from ingest.vector_table import VectorTable, embed_table
from principles.contract import Chunking, collection_names
from principles.embedder import Encoder
from principles.index import Manifest
from principles.settings import Settings
from principles.sparse import PAGES_DIR, SPARSE_DIR
from principles.stores import FOLDERS, Engine, engine_for, tuning_of
from principles.vectors import VectorStore


@dataclass(frozen=True)
class Previous:
    build: Path
    manifest: Manifest


@dataclass(frozen=True)
class VectorBuild:
    counts: dict[str, int]
    collections: dict[str, str]
    vectors: PageVectors
    engine: Engine
    pending: Future[VectorStore | None] | None = None  # the store's write, in the background

    def stored(self) -> VectorStore | None:
        """Waits for the store's write (re-raising its failure): the embedded store as
        written, still open (the caller closes it), or None (closed: open it to read)."""
        return self.pending.result() if self.pending is not None else None


def _payload(page: Page) -> dict[str, Any]:
    return {"page_id": page.id, "type": page.type, "draft": page.draft,
            "terms": [f"{k}/{s}" for k, slugs in page.terms.items() for s in slugs]}


def passage_rows(page: Page, settings: Settings) -> list[tuple[str, dict[str, Any], str]]:
    rows = []
    for passage in page_passages(page, settings.passage_words, settings.passage_overlap):
        payload = {**_payload(page), "passage": passage.index, "start": passage.start,
                   "end": passage.end}
        rows.append((f"{page.id}#{passage.index}", payload, passage_text(page, passage)))
    return rows


def _same_passages(settings: Settings, previous: Previous | None) -> bool:
    return (previous is not None
            and previous.manifest.chunking == Chunking.from_settings(settings).record())


def _patchable(settings: Settings, engine: Engine, previous: Previous | None) -> bool:
    """A copy of the previous build's embedded store can be patched into this build's: same
    model, engine, passages and (qdrant-edge) index settings. Server mode writes every build
    afresh (its collections are named after the build)."""
    if previous is None or engine == "server" or not _same_passages(settings, previous):
        return False
    m, folder = previous.manifest, previous.build / FOLDERS[engine]
    if m.model != settings.model or m.engine != engine or not folder.is_dir():
        return False
    if engine == "edge":
        from principles.vectors_edge import built_alike

        return built_alike(folder, collection_names("", server=False).values(),
                           tuning_of(settings))
    return True


def write_vectors(settings: Settings, staging: Path, build_id: str, pages: list[Page],
                  hashes: dict[str, str], previous: Previous | None, encoder: Encoder,
                  console: Console, report: Report) -> VectorBuild:
    compatible = previous is not None and previous.manifest.model == settings.model
    old_hashes = previous.manifest.page_hashes if (compatible and previous) else {}
    changed = [p for p in pages if old_hashes.get(p.id) != hashes[p.id]]
    removed = sorted(set(old_hashes) - set(hashes))
    earlier = VectorTable.load(previous.build) if previous else None
    position = ({page_id: j for j, page_id in enumerate(earlier.page_ids)}
                if earlier is not None and compatible and _same_passages(settings, previous)
                else {})
    carried = {p.id: position[p.id] for p in pages
               if p.id in position and old_hashes.get(p.id) == hashes[p.id]}
    fresh = [p for p in pages if p.id not in carried]
    rows = {p.id: passage_rows(p, settings) for p in fresh}
    texts = {p.id: [page_text(p), *(r[2] for r in rows[p.id])] for p in fresh}
    with Progress(TextColumn("embedding"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("embed", total=sum(len(t) for t in texts.values()))
        embedded = embed_table(settings.model, [p.id for p in pages], carried, texts, earlier,
                               encoder, lambda n: progress.advance(task, n))
    table = embedded.table

    engine = engine_for(settings.qdrant_url, settings.embedded_engine)
    patchable = _patchable(settings, engine, previous)
    # Points to write: the fresh pages' when patching a copy of the previous store, else all.
    written = fresh if patchable else pages
    rows.update({p.id: passage_rows(p, settings) for p in written if p.id not in rows})
    collections = collection_names(build_id, server=settings.qdrant_url is not None)
    patch = (Patch(previous.build, removed + [p.id for p in fresh if p.id in old_hashes])
             if patchable and previous else None)
    dimension = int(table.vectors.shape[1])
    n = len(pages)
    passages = len(table.keys) - n
    counts = {"page_vectors": n, "passage_vectors": passages, "vectors": n + passages,
              "changed_pages": len(changed), "removed_pages": len(removed),
              "encoded": embedded.encoded, "reused_vectors": n + passages - embedded.encoded,
              "stored_pages": len(written), "dimension": dimension}
    points = _points(written, rows, table)

    def write() -> VectorStore | None:
        try:
            return write_store(settings, engine, staging, collections, points, dimension, patch)
        except Exception as exc:  # noqa: BLE001 - any failure of the copy: write afresh below
            if patch is None:
                raise
            # A damaged previous store must not stop the ingest (it is only a head start): its
            # copy is dropped and every page written afresh from the vector table.
            shutil.rmtree(staging / FOLDERS[engine], ignore_errors=True)
            report.add(str(patch.previous_build / FOLDERS[engine]), "vector store",
                       f"the previous build's vector store could not be patched ({exc}); every "
                       "page's vectors were written afresh", Action.REPAIRED, Severity.WARNING,
                       "previous-store-unusable")
            rows.update({p.id: passage_rows(p, settings) for p in pages if p.id not in rows})
            counts["stored_pages"] = len(pages)
            return write_store(settings, engine, staging, collections,
                               _points(pages, rows, table), dimension, None)

    # The store is written while the next steps run: copying and loading it mostly wait on
    # the disk. Whoever reads it waits for it (`VectorBuild.stored`).
    pool = ThreadPoolExecutor(max_workers=1)
    pending = pool.submit(write)
    pool.shutdown(wait=False)
    try:
        table.save(staging)
    except BaseException:
        _abandon(pending)
        raise
    starts = table.passage_starts.tolist()
    vectors = PageVectors(page=table.vectors[:n], passages=[
        table.vectors[s:s + c] for s, c in zip(starts, table.passage_counts.tolist(), strict=True)])
    return VectorBuild(counts, collections, vectors, engine, pending)


def _abandon(pending: Future[VectorStore | None]) -> None:
    """Wait for a write whose build failed, and close what it opened."""
    try:
        store = pending.result()
    except Exception:  # noqa: BLE001 - the build failed already; that error is the one to tell
        return
    if store is not None:
        store.close()


def _points(pages: list[Page], rows: dict[str, list[tuple[str, dict[str, Any], str]]],
            table: VectorTable) -> dict[str, Points]:
    """The page and passage points of `pages`, their vectors from the table."""
    position = {page_id: i for i, page_id in enumerate(table.page_ids)}
    at = [position[p.id] for p in pages]
    starts = table.passage_starts
    passage_at = [int(starts[i]) + k for i, p in zip(at, pages, strict=True)
                  for k in range(len(rows[p.id]))]
    passages = [r for p in pages for r in rows[p.id]]
    return {"pages": Points([p.id for p in pages], table.vectors[at], [_payload(p) for p in pages]),
            "passages": Points([r[0] for r in passages], table.vectors[passage_at],
                               [r[1] for r in passages])}


def write_sparse(settings: Settings, staging: Path, pages: list[Page], hashes: dict[str, str],
                 previous: Previous | None) -> dict[str, int]:
    """BM25 twice: over the passages (a match inside a long page) and over whole pages (head
    fields and body as one document, so words spread over a page still add up). Fused with the
    two dense lists, both beat either one alone on the site corpus (bench/quality.py).
    Documents of pages unchanged since the previous build (same passages) are not tokenized
    again: their term counts come from it."""
    old_hashes = previous.manifest.page_hashes if previous and _same_passages(settings, previous) else {}
    page_ids = [p.id for p in pages]
    changed = {p.id for p in pages if old_hashes.get(p.id) != hashes[p.id]}
    tokenized = 0
    for name, documents in ((SPARSE_DIR, _passage_documents), (PAGES_DIR, _page_documents)):
        earlier = bm25_build.Previous.load(previous.build / name) if previous and old_hashes else None
        if earlier is not None and earlier.page_ids == page_ids:  # the usual case: no page
            wanted = [p for p in pages if p.id in changed]  # added, removed or moved
        else:
            known = set(earlier.page_ids) if earlier is not None else set()
            wanted = [p for p in pages if p.id in changed or p.id not in known]
        fresh = {p.id: documents(p, settings) for p in wanted}
        built = bm25_build.build(page_ids, fresh, earlier)
        built.save(staging / name)
        tokenized += built.tokenized_docs
    return {"bm25_documents_tokenized": tokenized}


def _passage_documents(page: Page, settings: Settings) -> list[bm25_build.Doc]:
    return [(payload, text) for _, payload, text in passage_rows(page, settings)]


def _page_documents(page: Page, settings: Settings) -> list[bm25_build.Doc]:
    return [({**_payload(page), "passage": -1}, page_text(page))]
