"""Write a build's vector collections: patch a copy of the previous build's embedded store, or
create them afresh.

A patch copies the previous build's store (sparse files with their holes; files qdrant-edge
never writes again hard-linked, principles/vectors_edge.py `written_once`), deletes the points
of changed and removed pages and upserts the changed pages'. The previous build's files are
only read. qdrant-edge collections are separate shards, so both are written at once, one
thread each: copying and loading wait on the disk most of the time and release the GIL. The
store stays open for the steps that search it; closing it syncs every changed segment.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from ingest.tree_copy import copy_tree
from principles.embedder import Vectors
from principles.settings import Settings
from principles.stores import FOLDERS, Engine, open_store, tuning_of
from principles.vectors import QdrantStore, VectorStore


@dataclass(frozen=True)
class Points:
    """What one collection receives."""

    keys: list[str]
    vectors: Vectors
    payloads: list[dict[str, Any]]


@dataclass(frozen=True)
class Patch:
    """Start from the previous build's store and delete the points of `stale` pages first."""

    previous_build: Path
    stale: Sequence[str]


def write_store(settings: Settings, engine: Engine, staging: Path, collections: dict[str, str],
                points: dict[str, Points], dimension: int, patch: Patch | None,
                ) -> VectorStore | None:
    """Write every collection (kind -> name) with its points, patching when `patch` is given.
    qdrant-edge: the store comes back open (the caller closes it, which flushes it), so the
    steps that search it do not load every shard again (~0.1 s each at 10k pages)."""
    folder = FOLDERS.get(engine)
    if patch is not None and folder is not None and engine != "edge":
        copy_tree(patch.previous_build / folder, staging / folder)  # one store, one lock
    shared = None
    if engine == "edge":
        (staging / FOLDERS["edge"]).mkdir(exist_ok=True)
        shared = open_store(engine, staging, None, None, tuning_of(settings))

    def write(kind: str) -> None:
        name = collections[kind]
        if patch is not None and engine == "edge":
            from principles.vectors_edge import written_once

            copy_tree(patch.previous_build / FOLDERS["edge"] / name,
                      staging / FOLDERS["edge"] / name,
                      lambda inside: written_once(PurePath(name) / inside))
        store = shared or open_store(engine, staging, settings.qdrant_url,
                                     settings.qdrant_api_key, tuning_of(settings))
        try:
            if patch is not None:
                store.delete_pages(name, patch.stale)
            else:
                store.create(name, dimension)
            found = points[kind]
            store.upsert(name, found.keys, found.vectors, found.payloads)
            if isinstance(store, QdrantStore) and engine == "server":
                store.index_payload_fields([name])
            store.finish(name)
        finally:
            if shared is None:
                store.close()

    if shared is None:
        for kind in collections:
            write(kind)
        return None
    try:  # one thread per shard: each touches its own shard only
        with ThreadPoolExecutor(max_workers=len(collections)) as pool:
            list(pool.map(write, collections))  # re-raises the first failure
    except BaseException:
        shared.close()
        raise
    return shared
