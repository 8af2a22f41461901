"""Opening one build's engines: its vector store, its search engine and the query encoder.
Shared by the app, the MCP server, the CLI and the benches, so each opens a build alike."""

from __future__ import annotations

from principles.embedder import Encoder, QueryEncoder
from principles.onnx_encoder import OnnxEncoder
from principles.settings import Settings
from principles.stores import open_store, tuning_of
from principles.vectors import VectorStore
from service.admission import ModelLanes
from service.index import IndexView
from service.search import SearchEngine, SparseIndexes


def open_vectors(settings: Settings, view: IndexView) -> VectorStore:
    """The build's vector store; in server mode the URL from Settings wins over the manifest's."""
    return open_store(view.manifest.engine, view.build,
                      settings.qdrant_url or view.manifest.qdrant_url, settings.qdrant_api_key,
                      tuning_of(settings))


def open_search(settings: Settings, view: IndexView, model: QueryEncoder,
                lanes: ModelLanes | None = None) -> SearchEngine:
    """The search engine over one build: its vector store and both BM25 indexes; model work
    on `lanes` (shared by every build of a live server), else on lanes of its own."""
    return SearchEngine(view, open_vectors(settings, view), SparseIndexes.load(view.build), model,
                        settings.include_drafts, lanes or ModelLanes(settings),
                        owns_lanes=lanes is None)


def query_encoder(settings: Settings, view: IndexView) -> QueryEncoder:
    """ONNX when ingest exported the model (no torch in this process), else torch."""
    relative = view.manifest.query_encoder
    if settings.query_encoder == "onnx" and relative:
        model_file = settings.index_dir / relative
        if model_file.is_file():
            return OnnxEncoder(model_file, settings.model, batch_size=settings.batch_size)
    return Encoder(settings.model, settings.batch_size)
