"""The built index as the check reads it: pages, terms, paths, the vector store and the model.

Only the files the check needs are read (pages.json, terms.json, aliases.json, the vector
store and the MinHash signatures), not the graph or related tables: opening stays well under
a second on the site corpus. The model is the ONNX file ingest exported when there is one
(loads in about a second, no torch), else sentence-transformers. Encoders are cached per
process so that tests (and a long-running caller) pay for loading once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from principles.contract import PageRecord, TermRecord, read_records
from principles.embedder import Encoder, QueryEncoder
from principles.errors import IndexProblem
from principles.index import INDEX_FORMAT, IndexLayout, Manifest
from principles.overlap import artefacts
from principles.overlap.finder import OverlapFinder
from principles.settings import Settings
from principles.stores import open_store, tuning_of
from principles.vectors import VectorStore

HINT = "run `principles ingest --corpus DIR --index {index}` first"


@dataclass
class IndexData:
    build: Path
    manifest: Manifest
    pages: dict[str, PageRecord]
    terms: dict[str, TermRecord]
    paths: dict[str, str]  # every url and alias -> page id


def load_index(settings: Settings) -> IndexData:
    build = IndexLayout(settings.index_dir).current_build()
    if build is None:
        raise IndexProblem(f"no index at {settings.index_dir}; "
                           + HINT.format(index=settings.index_dir))
    manifest = Manifest.load(build)
    if manifest.index_format != INDEX_FORMAT or manifest.model != settings.model:
        raise IndexProblem(f"index {build} was built with another format or model; "
                           + HINT.format(index=settings.index_dir) + " --force")
    try:
        records = read_records(build)
    except (OSError, ValueError, KeyError) as exc:
        raise IndexProblem(f"index {build} is damaged ({exc}); "
                           + HINT.format(index=settings.index_dir) + " --force") from exc
    return IndexData(build, manifest, records.pages, records.terms, records.aliases["paths"])


@cache
def _onnx(model_file: Path, model: str, batch_size: int) -> QueryEncoder:
    from principles.onnx_encoder import OnnxEncoder

    return OnnxEncoder(model_file, model, batch_size=batch_size)


@cache
def _torch(model: str, batch_size: int) -> QueryEncoder:
    return Encoder(model, batch_size)


def load_encoder(settings: Settings, manifest: Manifest) -> QueryEncoder:
    """The exported ONNX model when the index has one (what serve runs), else torch."""
    if manifest.query_encoder:
        model_file = settings.index_dir / manifest.query_encoder
        if model_file.is_file():
            encoder = _onnx(model_file.resolve(), settings.model, settings.batch_size)
            encoder.encode(["warm up"])
            return encoder
    encoder = _torch(settings.model, settings.batch_size)
    encoder.encode(["warm up"])
    return encoder


def open_finder(settings: Settings, data: IndexData) -> tuple[OverlapFinder, VectorStore]:
    store = open_store(data.manifest.engine, data.build,
                       settings.qdrant_url or data.manifest.qdrant_url, settings.qdrant_api_key,
                       tuning_of(settings))
    finder = OverlapFinder(data.pages, data.terms, store, data.manifest.collections,
                           artefacts.load_signatures(data.build),
                           include_drafts=settings.include_drafts,
                           candidates=settings.overlap_candidates)
    return finder, store
