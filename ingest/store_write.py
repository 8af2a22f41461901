"""Write a build's vector collections: patch a copy of the previous build's embedded store, or
create them afresh.

A patch copies the previous build's store (sparse files with their holes; files qdrant-edge
never writes again hard-linked, principles/vectors_edge.py `written_once`), deletes the points
of changed and removed pages and upserts the changed pages'. The previous build's files are
only read. qdrant-edge collections are separate shards, so both are written at once, one
thread each: copying, loading and closing (which syncs every file of a changed segment) wait
on the disk most of the time and release the GIL.
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
from principles.vectors import QdrantStore


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
                points: dict[str, Points], dimension: int, patch: Patch | None) -> None:
    """Write every collection (kind -> name) with its points, patching when `patch` is given."""
    folder = FOLDERS.get(engine)
    if patch is not None and folder is not None and engine != "edge":
        copy_tree(patch.previous_build / folder, staging / folder)  # one store, one lock

    def write(kind: str) -> None:
        name = collections[kind]
        if patch is not None and engine == "edge":
            from principles.vectors_edge import written_once

            copy_tree(patch.previous_build / FOLDERS["edge"] / name,
                      staging / FOLDERS["edge"] / name,
                      lambda inside: written_once(PurePath(name) / inside))
        store = open_store(engine, staging, settings.qdrant_url, settings.qdrant_api_key,
                           tuning_of(settings))
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
            store.close()

    if engine == "edge":
        (staging / FOLDERS["edge"]).mkdir(exist_ok=True)
        with ThreadPoolExecutor(max_workers=len(collections)) as pool:
            list(pool.map(write, collections))  # re-raises the first failure
    else:
        for kind in collections:
            write(kind)

