"""EdgeStore: the VectorStore on qdrant-edge, Qdrant's own in-process engine (Rust).

Why it is the embedded default: qdrant-client's local mode scans in Python (measured here:
~4.7 ms for a filtered search over 209 passages, ~70 ms at 50k vectors, ~700 ms filtered)
and takes an exclusive lock on its folder, so a second reader (another worker, a test
app) cannot open a build. qdrant-edge answers in well under a millisecond here and, with
its write-ahead log off, lets any number of readers load the same immutable build.

Each collection is one shard folder `<root>/<collection>`. Builds are written once,
indexed (`finish`: an HNSW graph for collections above the indexing threshold, ~6,600
vectors; smaller ones are searched exactly, which is faster at that size), flushed, and never
changed again, so the WAL adds nothing. HNSW m / ef_construct / ef come from `Tuning`;
bench/hnsw.py measures their recall@10 against exact search on real embeddings.
qdrant-edge 0.9 does not match boolean payload values in filters, so booleans are stored and
matched as "true"/"false".
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from qdrant_edge import (
    CountRequest,
    Distance,
    EdgeConfig,
    EdgeOptimizersConfig,
    EdgeShard,
    EdgeVectorParams,
    FieldCondition,
    Filter,
    HnswIndexConfig,
    MatchAny,
    MatchValue,
    PayloadSchemaType,
    Point,
    Query,
    QueryBatchRequest,
    QueryRequest,
    SearchParams,
    UpdateOperation,
)

from principles.embedder import Vectors
from principles.vectors import DEFAULT_TUNING, Hit, Tuning, Where, point_id, with_payload

KEYWORD_FIELDS = ("page_id", "type", "terms", "draft")
INDEX_THRESHOLD_KB = 10_000
"""Segments smaller than this (~6,600 vectors of 384 floats) get no HNSW graph and are searched
exactly: Qdrant's own default. Exact search costs ~0.07 ms per 1,000 vectors here (1.69 ms
over 24k, bench/hnsw.py), so below the threshold it is no slower than HNSW's ~0.4 ms."""


_OS_ERROR = re.compile(r"\(os error (\d+)\)")


@contextmanager
def _os_errors() -> Iterator[None]:
    """qdrant-edge reports a failed write (disk full, file too large, read-only folder) as a
    bare Exception whose text ends in "(os error N)": raise it as the OSError it is, so
    callers handle it like any other failed write."""
    try:
        yield
    except OSError:
        raise
    except Exception as exc:
        found = _OS_ERROR.search(str(exc))
        if found is None:
            raise
        code = int(found.group(1))
        raise OSError(code, f"{os.strerror(code)} (qdrant-edge: {exc})") from exc


def _encode(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return [_encode(v) for v in value]
    return value


def _decode(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: (v == "true" if k == "draft" else v) for k, v in payload.items()}


def _number(point: int | uuid.UUID | str) -> int:
    """A point id as `point_number` gives it (ours are always UUIDs)."""
    if isinstance(point, uuid.UUID):
        return point.int
    return uuid.UUID(point).int if isinstance(point, str) else point


def _filter(where: Where | None) -> Filter | None:
    if not where:
        return None
    must: list[Any] = []
    for key, value in where:
        if isinstance(value, (list, tuple, set)):
            match: MatchAny | MatchValue = MatchAny([_encode(v) for v in value])
        else:
            match = MatchValue(_encode(value))
        must.append(FieldCondition(key=key, match=match))
    return Filter(must=must)


class EdgeStore:
    """VectorStore over a folder of qdrant-edge shards, one per collection."""

    def __init__(self, root: Path, tuning: Tuning = DEFAULT_TUNING) -> None:
        self.root = root
        self.tuning = tuning
        self.params = SearchParams(hnsw_ef=tuning.ef)
        self.shards: dict[str, EdgeShard] = {}

    def _shard(self, collection: str) -> EdgeShard:
        if collection not in self.shards:
            path = self.root / collection
            if not path.is_dir():
                raise KeyError(f"no collection {collection!r} in {self.root}")
            self.shards[collection] = EdgeShard.load(str(path))
        return self.shards[collection]

    def create(self, collection: str, dimension: int) -> None:
        self.drop(collection)
        t = self.tuning
        config = EdgeConfig(
            vectors=EdgeVectorParams(size=dimension, distance=Distance.Cosine),
            hnsw_config=HnswIndexConfig(m=t.m, ef_construct=t.ef_construct,
                                        full_scan_threshold=INDEX_THRESHOLD_KB),
            optimizers=EdgeOptimizersConfig(indexing_threshold=INDEX_THRESHOLD_KB),
            wal_enabled=False)
        with _os_errors():
            shard = EdgeShard.create(str(self.root / collection), config)
            self.shards[collection] = shard
            for name in KEYWORD_FIELDS:
                shard.update(UpdateOperation.create_field_index(name, PayloadSchemaType.Keyword))

    def upsert(self, collection: str, keys: Sequence[str], vectors: Vectors,
               payloads: Sequence[dict[str, Any]], batch: int = 512) -> None:
        shard = self._shard(collection)
        for start in range(0, len(keys), batch):
            end = start + batch
            points = [Point(id=point_id(k), vector=v.tolist(),
                            payload={f: _encode(x) for f, x in p.items()})
                      for k, v, p in zip(keys[start:end], vectors[start:end], payloads[start:end],
                                         strict=True)]
            with _os_errors():
                shard.update(UpdateOperation.upsert_points(points))

    def search(self, collection: str, vector: Vectors, limit: int,
               where: Where | None = None, fields: Sequence[str] | None = None) -> list[Hit]:
        points = self._shard(collection).query(QueryRequest(
            limit=limit, query=Query.Nearest(np.asarray(vector, dtype=np.float32).tolist()),
            filter=_filter(where), with_payload=with_payload(fields), params=self.params))
        return [Hit(float(p.score), _decode(dict(p.payload or {})), str(p.id)) for p in points]

    def nearest(self, collection: str, vectors: Vectors, limit: int,
                where: Where | None = None) -> list[list[tuple[float, int]]]:
        shard, found = self._shard(collection), _filter(where)
        out: list[list[tuple[float, int]]] = []
        for start in range(0, len(vectors), 256):
            batch = QueryBatchRequest([
                QueryRequest(limit=limit, query=Query.Nearest(np.asarray(v, dtype=np.float32).tolist()),
                             filter=found, with_payload=False, params=self.params)
                for v in vectors[start:start + 256]])
            out += [[(p.score, _number(p.id)) for p in points] for points in shard.query_batch(batch)]
        return out

    def count(self, collection: str) -> int:
        return int(self._shard(collection).count(CountRequest(exact=True)))

    def finish(self, collection: str) -> None:
        with _os_errors():
            self._shard(collection).optimize()

    def delete_pages(self, collection: str, page_ids: Sequence[str]) -> None:
        if page_ids:
            condition = FieldCondition(key="page_id", match=MatchAny(list(page_ids)))
            self._shard(collection).update(
                UpdateOperation.delete_points_by_filter(Filter(must=[condition])))

    def drop(self, collection: str) -> None:
        shard = self.shards.pop(collection, None)
        if shard is not None:
            shard.close()
        shutil.rmtree(self.root / collection, ignore_errors=True)

    def collections(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.is_dir()) if self.root.is_dir() else []

    def close(self) -> None:
        shards, self.shards = list(self.shards.values()), {}
        with _os_errors():
            for shard in shards:
                shard.flush()
                shard.close()


def open_edge(path: Path, tuning: Tuning = DEFAULT_TUNING) -> EdgeStore:
    path.mkdir(parents=True, exist_ok=True)
    return EdgeStore(path, tuning)
