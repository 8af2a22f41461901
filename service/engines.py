"""Opening one build's engines: its vector store, its search engine and the query encoder.
Shared by the app, the MCP server, the CLI and the benches, so each opens a build alike."""

from __future__ import annotations

from principles.embedder import Encoder, QueryEncoder
from principles.onnx_encoder import OnnxEncoder
from principles.settings import Settings, cores
from principles.stores import open_store, tuning_of
from principles.vectors import VectorStore
from service.admission import InFlight, ModelLanes
from service.index import IndexView
from service.query_vectors import QueryVectors
from service.search import SearchEngine, SparseIndexes


def open_vectors(settings: Settings, view: IndexView) -> VectorStore:
    """The build's vector store; in server mode the URL from Settings wins over the manifest's."""
    return open_store(view.manifest.engine, view.build,
                      settings.qdrant_url or view.manifest.qdrant_url, settings.qdrant_api_key,
                      tuning_of(settings))


def open_search(settings: Settings, view: IndexView, model: QueryEncoder,
                lanes: ModelLanes | None = None, vectors: QueryVectors | None = None) -> SearchEngine:
    """The search engine over one build: its vector store and both BM25 indexes; model work
    on `lanes` and query vectors from `vectors` (both shared by every build of a live server),
    else its own."""
    own = lanes or ModelLanes(settings)
    try:
        if vectors is None:  # not `or`: an empty cache is falsy (len 0)
            vectors = query_vectors(settings, model, own)
        return SearchEngine(view, open_vectors(settings, view), SparseIndexes.load(view.build),
                            vectors, settings.include_drafts, own, owns_lanes=lanes is None)
    except BaseException:
        if lanes is None:
            own.close()
        raise


def query_vectors(settings: Settings, model: QueryEncoder, lanes: ModelLanes,
                  in_flight: InFlight | None = None) -> QueryVectors:
    """A process's query vectors: cached and batched on the search lane (service/query_vectors.py);
    with the process's request count, a lone search's ONNX encode runs on the event loop."""
    inline = in_flight if isinstance(model, OnnxEncoder) else None
    return QueryVectors(model, lanes.search, settings.query_cache, settings.batch_size, inline)


def encoder_threads(settings: Settings) -> int:
    """Model threads per worker process: the cores shared out among the workers (one each by
    default). More threads than cores spin against each other: a single query took 16.6 ms
    on 2 threads against 6.2 ms on one with both cores busy (bench/api.py measures it)."""
    return max(1, cores() // settings.workers)


def query_encoder(settings: Settings, view: IndexView) -> QueryEncoder:
    """ONNX when ingest exported the model (no torch in this process), else torch."""
    relative = view.manifest.query_encoder
    if settings.query_encoder == "onnx" and relative:
        model_file = settings.index_dir / relative
        if model_file.is_file():
            return OnnxEncoder(model_file, settings.model, threads=encoder_threads(settings),
                               batch_size=settings.batch_size)
    return Encoder(settings.model, settings.batch_size)
