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

import json
import os
import re
import shutil
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path, PurePath
from typing import Any

import numpy as np
import numpy.typing as npt
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
    ScrollRequest,
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


EXACT_MAX = 6_600
"""Collections up to this many points (those below the indexing threshold, which qdrant-edge
scans exactly anyway) are searched from a matrix held in memory (`ExactCollection`): the same
exact answer, ~5x faster here, mostly because each hit of a shard query builds a Python UUID
for its id (~2 us each, 150 per search) while the matrix keeps the ids as strings; the search
engine takes row numbers (`ExactCollection.top`), not even a `Hit` per row. At most ~10 MB per
collection per process."""


def _edge_version() -> str:
    try:
        return version("qdrant-edge-py")
    except PackageNotFoundError:  # installed some other way: nothing is shared then
        return ""


_EDGE_VERSION = _edge_version()
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
    return int(point.replace("-", ""), 16) if isinstance(point, str) else point


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


class ExactCollection:
    """A small collection as a matrix: exact cosine search by one matrix product, filters as
    boolean masks over the payload values (qdrant's semantics: a list field matches when any
    item does; a list condition when any value does), stored values compared as stored."""

    def __init__(self, shard: EdgeShard) -> None:
        records, _ = shard.scroll(ScrollRequest(limit=EXACT_MAX + 1, with_payload=True,
                                                with_vector=True))
        self.keys = [str(r.id) for r in records]
        self.payloads = [dict(r.payload or {}) for r in records]
        matrix = np.array([r.vector for r in records], dtype=np.float32).reshape(len(records), -1)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        self.matrix = matrix / np.clip(norms, 1e-12, None)
        self._values: dict[str, dict[Any, np.ndarray[Any, Any]]] = {}
        self._masks: OrderedDict[tuple[Any, ...], np.ndarray[Any, Any]] = OrderedDict()

    def _where_values(self, field: str) -> dict[Any, np.ndarray[Any, Any]]:
        index = self._values.get(field)
        if index is None:
            index = {}
            for i, payload in enumerate(self.payloads):
                value = payload.get(field)
                for item in value if isinstance(value, list) else [value]:
                    if item is not None:
                        index.setdefault(item, np.zeros(len(self.keys), dtype=bool))[i] = True
            self._values[field] = index
        return index

    def mask(self, where: Where) -> np.ndarray[Any, Any] | None:
        if not where:
            return None
        key = tuple((f, tuple(v) if isinstance(v, (list, tuple, set)) else v) for f, v in where)
        found = self._masks.get(key)
        if found is None:
            found = np.ones(len(self.keys), dtype=bool)
            nothing = np.zeros(len(self.keys), dtype=bool)
            for field, value in where:
                index = self._where_values(field)
                wanted = value if isinstance(value, (list, tuple, set)) else [value]
                found &= np.logical_or.reduce([index.get(_encode(v), nothing) for v in wanted]
                                              or [nothing])
            self._masks[key] = found
            if len(self._masks) > 256:
                self._masks.popitem(last=False)
        return found

    def top(self, vector: Vectors, limit: int, where: Where | None,
            ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]:
        """The nearest `limit` rows (indexes into `keys`), best first, and their cosines."""
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        scores = self.matrix @ (query / max(float(np.linalg.norm(query)), 1e-12))
        mask = self.mask(where or ())
        candidates = np.flatnonzero(mask) if mask is not None else np.arange(len(scores))
        k = min(limit, len(candidates))
        if k <= 0:
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.float32)
        chosen = scores[candidates]
        top = np.argpartition(-chosen, k - 1)[:k]
        rows = candidates[top[np.argsort(-chosen[top], kind="stable")]]
        return rows, scores[rows]

    def search(self, vector: Vectors, limit: int, where: Where | None,
               fields: Sequence[str] | None) -> list[Hit]:
        rows, scores = self.top(vector, limit, where)
        hits = []
        for i, score in zip(rows.tolist(), scores.tolist(), strict=True):
            payload = self.payloads[i]
            shown = {} if fields is not None and not fields else (
                payload if fields is None else {f: payload[f] for f in fields if f in payload})
            hits.append(Hit(score, _decode(shown) if shown else {}, self.keys[i]))
        return hits


class EdgeStore:
    """VectorStore over a folder of qdrant-edge shards, one per collection."""

    def __init__(self, root: Path, tuning: Tuning = DEFAULT_TUNING) -> None:
        self.root = root
        self.tuning = tuning
        self.params = SearchParams(hnsw_ef=tuning.ef)
        self.shards: dict[str, EdgeShard] = {}
        self._exact: dict[str, ExactCollection | None] = {}  # None: too big, the shard searches
        self._exact_lock = threading.Lock()

    def exact(self, collection: str) -> ExactCollection | None:
        """The collection as a matrix when it is small enough (built on first use), else None
        (the shard's HNSW graph searches it)."""
        if collection not in self._exact:
            with self._exact_lock:
                if collection not in self._exact:
                    shard = self._shard(collection)
                    small = int(shard.count(CountRequest(exact=True))) <= EXACT_MAX
                    self._exact[collection] = ExactCollection(shard) if small else None
        return self._exact[collection]

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
        self._exact.pop(collection, None)
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
        small = self.exact(collection)
        if small is not None:
            return small.search(vector, limit, where, fields)
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
        self._exact.pop(collection, None)
        if page_ids:
            condition = FieldCondition(key="page_id", match=MatchAny(list(page_ids)))
            self._shard(collection).update(
                UpdateOperation.delete_points_by_filter(Filter(must=[condition])))

    def drop(self, collection: str) -> None:
        self._exact.pop(collection, None)
        shard = self.shards.pop(collection, None)
        if shard is not None:
            shard.close()
        shutil.rmtree(self.root / collection, ignore_errors=True)

    def collections(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.is_dir()) if self.root.is_dir() else []

    def close(self) -> None:
        """Closing a shard flushes it (qdrant-edge's contract); a `flush` first would sync
        every file of every changed segment twice, ~5 ms a sync call on this disk. Shards
        are closed at once, one thread each: the syncs wait on the disk."""
        self._exact.clear()
        shards, self.shards = list(self.shards.values()), {}
        with _os_errors():
            if len(shards) > 1:
                with ThreadPoolExecutor(max_workers=len(shards)) as pool:
                    list(pool.map(EdgeShard.close, shards))  # re-raises the first failure
            elif shards:
                shards[0].close()


WRITTEN_ONCE = ("vector_storage/matrix.dat", "vector_index/graph.bin",
                "vector_index/links_compressed.bin", "payload_index/*-map/point_to_values.bin",
                "payload_index/*-map/values_to_points.bin")
"""Files of an indexed (HNSW) segment that qdrant-edge 0.9 writes once, when it builds the
segment, and afterwards only ever opens read-only: strace of load, delete, upsert, optimize and
close of a copied store shows O_RDONLY opens of them only (deletions go to the segment's
id tracker and deleted flags; an optimizer that rebuilds a segment writes a new folder). They
are ~90% of an indexed collection's bytes (the vectors), so a new build links them instead of
copying. Checked for this qdrant-edge series only: another version copies everything."""


def written_once(relative: PurePath) -> bool:
    """Whether a file (relative to the store folder: <collection>/segments/<id>/...) is one of
    `WRITTEN_ONCE`, for the installed qdrant-edge."""
    parts = relative.parts
    return (len(parts) > 3 and parts[1] == "segments" and _EDGE_VERSION.startswith("0.9.")
            and any(PurePath(*parts[3:]).match(pattern) for pattern in WRITTEN_ONCE))


def built_alike(root: Path, collections: Iterable[str], tuning: Tuning) -> bool:
    """Whether the shards under `root` were created as `create` would create them now (HNSW
    links, build-time candidates, thresholds; `ef` is search-time only): only then may a new
    build start from a copy of them."""
    expected = (tuning.m, tuning.ef_construct, INDEX_THRESHOLD_KB, INDEX_THRESHOLD_KB, False)
    for name in collections:
        try:
            config: dict[str, Any] = json.loads((root / name / "edge_config.json").read_text("utf-8"))
            hnsw = config["hnsw_config"]
            found = (hnsw["m"], hnsw["ef_construct"], hnsw["full_scan_threshold"],
                     config["optimizers"]["indexing_threshold"], config["wal_enabled"])
        except (OSError, ValueError, KeyError, TypeError):
            return False
        if found != expected:
            return False
    return True


def open_edge(path: Path, tuning: Tuning = DEFAULT_TUNING) -> EdgeStore:
    path.mkdir(parents=True, exist_ok=True)
    return EdgeStore(path, tuning)
