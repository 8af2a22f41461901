"""The one interface every vector read and write goes through, with its qdrant-client backend.

`QdrantStore` is qdrant-client either in local mode (collections inside the index build
folder) or talking to a Qdrant server or cluster; `vectors_edge.EdgeStore` (qdrant-edge, the
embedded default) is the same kind of object to callers. `Tuning` carries the index settings
(HNSW, on-disk vectors, shards, replicas) every backend applies as far as it has them.
A server that cannot be reached raises `StoreUnavailable`, which serve answers with 503.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from principles.embedder import Vectors
from principles.errors import StoreUnavailable

_NAMESPACE = uuid.UUID("6f0c1d1e-2b7a-4c5e-9a51-6b1a7d0c2e11")


def point_id(key: str) -> str:
    """Stable point id for a page id or `page_id#passage`."""
    return str(uuid.uuid5(_NAMESPACE, key))


def point_number(key: str, _namespace: bytes = _NAMESPACE.bytes) -> int:
    """The same point id as a number (`nearest` answers with these: cheaper than strings).
    uuid5 without its UUID object, 3x faster: a build numbers every page and passage twice."""
    number = int.from_bytes(hashlib.sha1(_namespace + key.encode()).digest()[:16], "big")
    return (number & ~(0xF000 << 64) | (5 << 76)) & ~(0xC000 << 48) | (0x8000 << 48)


@dataclass(frozen=True)
class Hit:
    score: float
    payload: dict[str, Any]
    key: str = ""  # the point id (point_id of the page id or `page_id#passage`)


def with_payload(fields: Sequence[str] | None) -> bool | list[str]:
    """None = the whole payload, () = none (the caller maps `Hit.key` itself)."""
    return True if fields is None else (list(fields) or False)


Where = Sequence[tuple[str, Any]]
"""Conditions that must all hold: (payload field, value); a list value matches any item."""


@dataclass(frozen=True)
class Tuning:
    """How collections are indexed and searched. Defaults measured by bench/hnsw.py."""

    m: int = 8
    ef_construct: int = 100
    ef: int = 128
    on_disk: bool = False
    shards: int = 1
    replicas: int = 1


DEFAULT_TUNING = Tuning()


class ExactSearch(Protocol):
    """A collection small enough to be searched exactly from a matrix: `top` answers row
    numbers into `keys` (no Python object per hit; the search engine maps rows to pages)."""

    keys: list[str]

    def top(self, vector: Vectors, limit: int, where: Where | None,
            ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]: ...


@runtime_checkable
class SearchesExactly(Protocol):
    """A store that can hand out its small collections as `ExactSearch` (None: too big)."""

    def exact(self, collection: str) -> ExactSearch | None: ...


class VectorStore(Protocol):
    def create(self, collection: str, dimension: int) -> None: ...
    def upsert(self, collection: str, keys: Sequence[str], vectors: Vectors,
               payloads: Sequence[dict[str, Any]]) -> None: ...
    def search(self, collection: str, vector: Vectors, limit: int,
               where: Where | None = None, fields: Sequence[str] | None = None) -> list[Hit]:
        """Nearest points; `fields` limits the payload returned (all when None, none when
        empty: payload reads are the slow, page-faulting part of a search at 50k pages)."""
        ...
    def nearest(self, collection: str, vectors: Vectors, limit: int,
                where: Where | None = None) -> list[list[tuple[float, int]]]:
        """For each row of `vectors`, its nearest points as (score, point_number), in batched
        requests: ingest's neighbour lists take millions of hits, where building a `Hit` with
        a string key for each would cost more than the search."""
        ...
    def count(self, collection: str) -> int: ...
    def finish(self, collection: str) -> None:
        """All points are written: build the search index now (ingest calls this once)."""
        ...
    def drop(self, collection: str) -> None: ...
    def delete_pages(self, collection: str, page_ids: Sequence[str]) -> None: ...
    def collections(self) -> list[str]: ...
    def close(self) -> None: ...


class QdrantStore:
    """VectorStore on qdrant-client (local mode or a server/cluster)."""

    def __init__(self, client: QdrantClient, tuning: Tuning = DEFAULT_TUNING, *,
                 where: str = "local") -> None:
        self.client = client
        self.tuning = tuning
        self.where = where

    def create(self, collection: str, dimension: int) -> None:
        t = self.tuning
        if self.client.collection_exists(collection):
            self.client.delete_collection(collection)
        self.client.create_collection(
            collection,
            vectors_config=models.VectorParams(
                size=dimension, distance=models.Distance.COSINE, on_disk=t.on_disk or None),
            hnsw_config=models.HnswConfigDiff(m=t.m, ef_construct=t.ef_construct),
            shard_number=t.shards, replication_factor=t.replicas,
        )

    def upsert(self, collection: str, keys: Sequence[str], vectors: Vectors,
               payloads: Sequence[dict[str, Any]], batch: int = 256) -> None:
        for start in range(0, len(keys), batch):
            end = start + batch
            self.client.upsert(collection, points=[
                models.PointStruct(id=point_id(k), vector=v.tolist(), payload=p)
                for k, v, p in zip(keys[start:end], vectors[start:end], payloads[start:end], strict=True)
            ], wait=True)

    def search(self, collection: str, vector: Vectors, limit: int,
               where: Where | None = None, fields: Sequence[str] | None = None) -> list[Hit]:
        with self._reachable():
            response = self.client.query_points(
                collection, query=np.asarray(vector, dtype=np.float32).tolist(), limit=limit,
                query_filter=_filter(where), with_payload=with_payload(fields),
                search_params=models.SearchParams(hnsw_ef=self.tuning.ef),
            )
        return [Hit(float(p.score), dict(p.payload or {}), str(p.id)) for p in response.points]

    def nearest(self, collection: str, vectors: Vectors, limit: int,
                where: Where | None = None) -> list[list[tuple[float, int]]]:
        requests = [models.QueryRequest(query=np.asarray(v, dtype=np.float32).tolist(), limit=limit,
                                        filter=_filter(where), with_payload=False,
                                        params=models.SearchParams(hnsw_ef=self.tuning.ef))
                    for v in vectors]
        out: list[list[tuple[float, int]]] = []
        for start in range(0, len(requests), 256):  # bounded request bodies
            with self._reachable():
                responses = self.client.query_batch_points(collection, requests[start:start + 256])
            out += [[(float(p.score), uuid.UUID(str(p.id)).int) for p in r.points]
                    for r in responses]
        return out

    @contextmanager
    def _reachable(self) -> Iterator[None]:
        try:
            yield
        except ResponseHandlingException as exc:  # connection refused, reset, timed out
            raise StoreUnavailable(f"the Qdrant server at {self.where} is not reachable: "
                                   f"{exc.source or exc}") from exc
        except UnexpectedResponse as exc:
            if exc.status_code is not None and exc.status_code < 500:
                raise
            raise StoreUnavailable(f"the Qdrant server at {self.where} answered "
                                   f"{exc.status_code}") from exc

    def count(self, collection: str) -> int:
        return int(self.client.count(collection, exact=True).count)

    def finish(self, collection: str) -> None:
        """Nothing to do: local mode scans, a server indexes in the background (and answers
        meanwhile from the unindexed segments)."""

    def drop(self, collection: str) -> None:
        if self.client.collection_exists(collection):
            self.client.delete_collection(collection)

    def delete_pages(self, collection: str, page_ids: Sequence[str]) -> None:
        """Delete every point whose payload `page_id` is one of `page_ids`."""
        if not page_ids:
            return
        condition = models.FieldCondition(key="page_id", match=models.MatchAny(any=list(page_ids)))
        self.client.delete(collection, points_selector=models.FilterSelector(
            filter=models.Filter(must=[condition])), wait=True)

    def collections(self) -> list[str]:
        return [c.name for c in self.client.get_collections().collections]

    def index_payload_fields(self, collections: Iterable[str]) -> None:
        """Server mode: payload indexes on the fields filters use."""
        for name in collections:
            for field_name in ("page_id", "type", "terms"):
                self.client.create_payload_index(name, field_name, models.PayloadSchemaType.KEYWORD)
            self.client.create_payload_index(name, "draft", models.PayloadSchemaType.BOOL)

    def close(self) -> None:
        self.client.close()


def _filter(where: Where | None) -> models.Filter | None:
    if not where:
        return None
    must: list[models.Condition] = []
    for key, value in where:
        match: models.MatchAny | models.MatchValue
        if isinstance(value, (list, tuple, set)):
            match = models.MatchAny(any=list(value))
        else:
            match = models.MatchValue(value=value)
        must.append(models.FieldCondition(key=key, match=match))
    return models.Filter(must=must)


def open_embedded(path: Path, tuning: Tuning = DEFAULT_TUNING) -> QdrantStore:
    path.mkdir(parents=True, exist_ok=True)
    return QdrantStore(QdrantClient(path=str(path)), tuning)


def open_server(url: str, api_key: str | None, tuning: Tuning = DEFAULT_TUNING, *,
                timeout: int = 10) -> QdrantStore:
    return QdrantStore(QdrantClient(url=url, api_key=api_key, timeout=timeout), tuning, where=url)


