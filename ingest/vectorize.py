"""Write the page and passage vectors of a build, encoding only text not seen before.

qdrant-client local mode copies the previous build's store and applies the difference
(points of changed pages replaced, of deleted pages removed); qdrant-edge stores are written
afresh from the embedding cache (cheaper than copying their preallocated files); server mode
writes fresh collections named after the build, so the switch stays atomic on the manifest.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ingest.embedding import EmbeddingCache, page_passages, page_text, passage_text, text_key
from ingest.pages import Page
from ingest.related import PageVectors
from principles.contract import Chunking, collection_names
from principles.embedder import Encoder
from principles.index import Manifest
from principles.settings import Settings
from principles.sparse import PAGES_DIR, SPARSE_DIR, SparseIndex
from principles.stores import FOLDERS, Engine, engine_for, open_store, tuning_of
from principles.vectors import QdrantStore


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


def _reusable(settings: Settings, engine: Engine, previous: Previous | None) -> bool:
    """qdrant-client local mode: copy the previous build's store and patch it in place.
    qdrant-edge's chunk files are sparse, preallocated 32 MB each; a copy writes them out in
    full (~95 MB per collection), which costs more than writing every point afresh from the
    embedding cache (~1 s vs ~0.1 s for the site corpus): edge stores are always rebuilt,
    without re-encoding anything."""
    if previous is None or engine in ("server", "edge"):
        return False
    m = previous.manifest
    return (m.model == settings.model and m.engine == engine
            and m.chunking == Chunking.from_settings(settings).record()
            and (previous.build / FOLDERS[engine]).is_dir())


def write_vectors(settings: Settings, staging: Path, build_id: str, pages: list[Page],
                  hashes: dict[str, str], previous: Previous | None, encoder: Encoder,
                  console: Console) -> VectorBuild:
    cache = EmbeddingCache(settings.model)
    cache.load(previous.build if previous else None)
    engine = engine_for(settings.qdrant_url, settings.embedded_engine)
    reuse = _reusable(settings, engine, previous)
    compatible = previous is not None and previous.manifest.model == settings.model
    old_hashes = previous.manifest.page_hashes if (compatible and previous) else {}
    changed = [p for p in pages if old_hashes.get(p.id) != hashes[p.id]]
    removed = sorted(set(old_hashes) - set(hashes))
    # Points to write: the changed pages when patching a copied store, else every page (the
    # unchanged ones' vectors come from the cache, so only changed text is ever encoded).
    written = changed if reuse else pages

    rows = {p.id: passage_rows(p, settings) for p in pages}
    texts = [page_text(p) for p in written] + [r[2] for p in written for r in rows[p.id]]
    with Progress(TextColumn("embedding"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("embed", total=len(texts))
        vectors = cache.embed(encoder, texts, lambda n: progress.advance(task, n))
    dimension = int(vectors.shape[1]) if len(vectors) else (
        previous.manifest.dimension if (compatible and previous) else encoder.dimension)

    collections = collection_names(build_id, server=settings.qdrant_url is not None)
    if reuse and previous:
        shutil.copytree(previous.build / FOLDERS[engine], staging / FOLDERS[engine])
    store = open_store(engine, staging, settings.qdrant_url, settings.qdrant_api_key,
                       tuning_of(settings))
    try:
        if not reuse:
            store.create(collections["pages"], dimension)
            store.create(collections["passages"], dimension)
        if reuse:
            stale = removed + [p.id for p in changed if p.id in old_hashes]
            store.delete_pages(collections["pages"], stale)
            store.delete_pages(collections["passages"], stale)
        n = len(written)
        store.upsert(collections["pages"], [p.id for p in written], vectors[:n],
                     [_payload(p) for p in written])
        changed_rows = [r for p in written for r in rows[p.id]]
        store.upsert(collections["passages"], [r[0] for r in changed_rows], vectors[n:],
                     [r[1] for r in changed_rows])
        if isinstance(store, QdrantStore) and engine == "server":
            store.index_payload_fields(collections.values())
        for name in collections.values():
            store.finish(name)
    finally:
        store.close()

    page_keys = [text_key(settings.model, page_text(p)) for p in pages]
    passage_keys = [[text_key(settings.model, r[2]) for r in rows[p.id]] for p in pages]
    all_vectors = PageVectors(
        page=np.stack([cache.vectors[k] for k in page_keys]).astype(np.float32),
        passages=[np.stack([cache.vectors[k] for k in keys]).astype(np.float32)
                  for keys in passage_keys])
    cache.save(staging, set(page_keys).union(*passage_keys))
    passages = sum(len(r) for r in rows.values())
    counts = {"page_vectors": len(pages), "passage_vectors": passages,
              "vectors": len(pages) + passages, "changed_pages": len(changed),
              "removed_pages": len(removed), "encoded": cache.encoded,
              "reused_vectors": len(pages) + passages - cache.encoded, "dimension": dimension}
    return VectorBuild(counts, collections, all_vectors, engine)


def build_sparse(pages: list[Page], settings: Settings) -> dict[str, SparseIndex]:
    """BM25 twice: over the passages (a match inside a long page) and over whole pages (head
    fields and body as one document, so words spread over a page still add up). Fused with the
    two dense lists, both beat either one alone on the site corpus (bench/quality.py)."""
    texts: list[str] = []
    payloads: list[dict[str, Any]] = []
    for page in pages:
        for _, payload, text in passage_rows(page, settings):
            texts.append(text)
            payloads.append(payload)
    whole = [page_text(p) for p in pages]
    return {SPARSE_DIR: SparseIndex.build(texts, payloads),
            PAGES_DIR: SparseIndex.build(whole, [{**_payload(p), "passage": -1} for p in pages])}
