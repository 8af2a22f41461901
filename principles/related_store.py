"""Precomputed related rows in a compact columnar file, written by ingest and read by serve.

As JSON objects, 40 rows for each of 10k pages cost ~870 MB of the API's memory (measured);
as numpy columns they cost a few MB, and one page's rows are decoded when it is asked for.
Ingest keeps them columnar too: a re-ingest copies the rows of untouched pages from the
previous build's file slice by slice (`RelatedColumns.assemble`) instead of decoding them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from principles.arrays import ranges
from principles.npz import load_arrays

FILE = "related.npz"
FLOATS = ("score", "graph", "dense", "coverage", "passage")

Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class PageRows:
    """One page's rows, best first: targets as page indices, shared terms as term keys."""

    target: npt.NDArray[np.int32]
    floats: dict[str, npt.NDArray[np.float32]]  # FLOATS, already rounded to 4 places
    pair: npt.NDArray[np.int32]  # (rows, 2)
    shared: list[list[str]]


@dataclass(frozen=True)
class RelatedColumns:
    """Every page's rows: page i's are rows offsets[i]:offsets[i+1]; row r's shared terms are
    term_keys[shared[shared_offsets[r]:shared_offsets[r+1]]]."""

    page_ids: list[str]
    term_keys: list[str]
    offsets: Ints
    target: npt.NDArray[np.int32]
    pair: npt.NDArray[np.int32]
    shared: npt.NDArray[np.int32]
    shared_offsets: Ints
    floats: dict[str, npt.NDArray[np.float32]]

    def save(self, path: Path) -> None:
        np.savez(path, allow_pickle=False, page_ids=np.array(self.page_ids, dtype=str),
                 term_keys=np.array(self.term_keys, dtype=str), offsets=self.offsets,
                 target=self.target, pair=self.pair.reshape(-1, 2), shared=self.shared,
                 shared_offsets=self.shared_offsets, **self.floats)

    @classmethod
    def load(cls, path: Path) -> RelatedColumns:
        """Memory-mapped (principles/npz.py): the worker processes share one copy."""
        data = load_arrays(path)
        return cls(data["page_ids"].tolist(), data["term_keys"].tolist(), data["offsets"],
                   data["target"], data["pair"].reshape(-1, 2), data["shared"],
                   data["shared_offsets"], {name: data[name] for name in FLOATS})

    def rows(self, i: int) -> list[dict[str, Any]]:
        out = []
        for r in range(int(self.offsets[i]), int(self.offsets[i + 1])):
            shared = self.shared[int(self.shared_offsets[r]):int(self.shared_offsets[r + 1])]
            out.append({"id": self.page_ids[int(self.target[r])],
                        **{name: round(float(self.floats[name][r]), 4) for name in FLOATS},
                        "pair": [int(self.pair[r][0]), int(self.pair[r][1])],
                        "shared": [self.term_keys[int(k)] for k in shared]})
        return out

    def targets(self, i: int) -> npt.NDArray[np.int32]:
        return self.target[int(self.offsets[i]):int(self.offsets[i + 1])]

    @classmethod
    def assemble(cls, page_ids: list[str], fresh: dict[int, PageRows],
                 old: RelatedColumns | None = None,
                 old_row: Sequence[int] | None = None) -> RelatedColumns:
        """The rows of `page_ids`: page i's are `fresh[i]` when computed in this build, else
        the previous build's rows of page `old_row[i]` (of `old`), whose targets must all
        still exist."""
        n = len(page_ids)
        position = {page_id: i for i, page_id in enumerate(page_ids)}
        keys = {key for rows in fresh.values() for shared in rows.shared for key in shared}
        copied = np.array([i for i in range(n) if i not in fresh], dtype=np.int64)
        if len(copied) and (old is None or old_row is None):
            raise ValueError("rows of unchanged pages need the previous build's columns")
        if old is not None and len(copied):
            keys.update(old.term_keys)
        term_keys = sorted(keys)
        term_position = {key: i for i, key in enumerate(term_keys)}
        fresh_pages = sorted(fresh)
        sizes = np.zeros(n, dtype=np.int64)
        sizes[fresh_pages] = [len(fresh[i].target) for i in fresh_pages]
        source = np.zeros(0, np.int64)  # the previous build's rows the copied pages keep
        if old is not None and old_row is not None and len(copied):
            was = np.asarray(old_row, dtype=np.int64)[copied]
            sizes[copied] = old.offsets[was + 1] - old.offsets[was]
            source = ranges(old.offsets[was], sizes[copied])
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        total = int(offsets[-1])
        target = np.empty(total, np.int32)
        pair = np.empty((total, 2), np.int32)
        floats = {name: np.empty(total, np.float32) for name in FLOATS}
        counts = np.empty(total, np.int64)  # shared terms per row
        at = ranges(offsets[copied], sizes[copied]) if len(copied) else np.zeros(0, np.int64)
        if old is not None and len(copied):  # the copied pages' rows, gathered at once
            target_map = np.array([position.get(p, -1) for p in old.page_ids], dtype=np.int64)
            moved = target_map[old.target[source]]
            if (moved < 0).any():
                page = int(np.searchsorted(offsets, at[int(np.argmax(moved < 0))], "right")) - 1
                raise ValueError(f"copied rows of {page_ids[page]} name a page that is gone")
            target[at], pair[at] = moved, old.pair[source]
            for name in FLOATS:
                floats[name][at] = old.floats[name][source]
            counts[at] = np.diff(old.shared_offsets)[source]
        for i in fresh_pages:
            rows, rows_at = fresh[i], slice(int(offsets[i]), int(offsets[i + 1]))
            target[rows_at], pair[rows_at] = rows.target, rows.pair.reshape(-1, 2)
            for name in FLOATS:
                floats[name][rows_at] = rows.floats[name]
            counts[rows_at] = [len(shared) for shared in rows.shared]
        shared_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        shared = np.empty(int(shared_offsets[-1]), np.int32)
        if old is not None and len(copied):
            term_map = np.array([term_position[k] for k in old.term_keys], dtype=np.int64)
            shared[ranges(shared_offsets[at], counts[at])] = term_map[
                old.shared[ranges(old.shared_offsets[source], counts[at])]]
        for i in fresh_pages:
            start, stop = int(shared_offsets[offsets[i]]), int(shared_offsets[offsets[i + 1]])
            shared[start:stop] = [term_position[k] for row in fresh[i].shared for k in row]
        return cls(page_ids=list(page_ids), term_keys=term_keys, offsets=offsets, target=target,
                   pair=pair, shared=shared, shared_offsets=shared_offsets, floats=floats)


def columns_from_rows(page_ids: list[str],
                      related: dict[str, list[dict[str, Any]]]) -> RelatedColumns:
    """Rows as dicts (tests, tools) to columns."""
    position = {page_id: i for i, page_id in enumerate(page_ids)}
    fresh = {}
    for i, page_id in enumerate(page_ids):
        rows = related.get(page_id, [])
        fresh[i] = PageRows(
            target=np.array([position[r["id"]] for r in rows], dtype=np.int32),
            floats={name: np.array([r[name] for r in rows], dtype=np.float32) for name in FLOATS},
            pair=np.array([r["pair"] for r in rows], dtype=np.int32).reshape(-1, 2),
            shared=[list(r["shared"]) for r in rows])
    return RelatedColumns.assemble(page_ids, fresh)


def write_related(path: Path, page_ids: list[str], related: dict[str, list[dict[str, Any]]]) -> None:
    columns_from_rows(page_ids, related).save(path)


class RelatedTable:
    """Read side: `rows(page_id)` gives the page's rows, best first, as ingest computed them."""

    def __init__(self, path: Path) -> None:
        self.columns = RelatedColumns.load(path)
        self.page_ids = self.columns.page_ids
        self.position = {page_id: i for i, page_id in enumerate(self.page_ids)}

    def rows(self, page_id: str) -> list[dict[str, Any]]:
        i = self.position.get(page_id)
        return [] if i is None else self.columns.rows(i)
