"""Pick the VectorStore backend of a build: a Qdrant server, qdrant-edge, or qdrant-client local."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from principles.settings import Settings
from principles.vectors import DEFAULT_TUNING, Tuning, VectorStore, open_embedded, open_server

Engine = Literal["edge", "local", "server"]
FOLDERS: dict[str, str] = {"edge": "edge", "local": "qdrant"}


def engine_for(qdrant_url: str | None, embedded: str) -> Engine:
    if qdrant_url:
        return "server"
    return "local" if embedded == "local" else "edge"


def tuning_of(settings: Settings) -> Tuning:
    return Tuning(m=settings.hnsw_m, ef_construct=settings.hnsw_ef_construct, ef=settings.hnsw_ef,
                  on_disk=settings.qdrant_on_disk, shards=settings.qdrant_shards,
                  replicas=settings.qdrant_replicas)


def open_store(engine: str, build: Path, qdrant_url: str | None,
               api_key: str | None, tuning: Tuning = DEFAULT_TUNING) -> VectorStore:
    if engine == "server":
        if not qdrant_url:
            raise ValueError("this index lives on a Qdrant server: set PRINCIPLES_QDRANT_URL")
        return open_server(qdrant_url, api_key, tuning)
    if engine == "edge":
        from principles.vectors_edge import open_edge

        return open_edge(build / FOLDERS["edge"], tuning)
    return open_embedded(build / FOLDERS["local"], tuning)
