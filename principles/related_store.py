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
        position = {page_id: i for i, page_id in enumerate(page_ids)}
        keys = {key for rows in fresh.values() for shared in rows.shared for key in shared}
        copied = [i for i in range(len(page_ids)) if i not in fresh]
        if copied and (old is None or old_row is None):
            raise ValueError("rows of unchanged pages need the previous build's columns")
        if old is not None and copied:
            keys.update(old.term_keys)
        term_keys = sorted(keys)
        term_position = {key: i for i, key in enumerate(term_keys)}
        # previous build's page and term indices -> this build's
        target_map = (np.array([position.get(p, -1) for p in old.page_ids], dtype=np.int64)
                      if old is not None else np.zeros(0, np.int64))
        term_map = (np.array([term_position[k] for k in old.term_keys], dtype=np.int64)
                    if old is not None and copied else np.zeros(0, np.int64))
        parts: dict[str, list[Any]] = {"target": [], "pair": [], "shared": [], "counts": [],
                                       **{name: [] for name in FLOATS}}
        sizes = np.zeros(len(page_ids), dtype=np.int64)
        for i in range(len(page_ids)):
            rows = fresh.get(i)
            if rows is not None:
                sizes[i] = len(rows.target)
                parts["target"].append(rows.target.astype(np.int64))
                parts["pair"].append(rows.pair.reshape(-1, 2))
                parts["shared"].append(np.array([term_position[k] for s in rows.shared for k in s],
                                                dtype=np.int64))
                parts["counts"].append(np.array([len(s) for s in rows.shared], dtype=np.int64))
                for name in FLOATS:
                    parts[name].append(rows.floats[name])
                continue
            assert old is not None and old_row is not None
            o = old_row[i]
            start, stop = int(old.offsets[o]), int(old.offsets[o + 1])
            sizes[i] = stop - start
            target = target_map[old.target[start:stop]]
            if (target < 0).any():
                raise ValueError(f"copied rows of {page_ids[i]} name a page that is gone")
            parts["target"].append(target)
            parts["pair"].append(old.pair[start:stop])
            s0, s1 = int(old.shared_offsets[start]), int(old.shared_offsets[stop])
            parts["shared"].append(term_map[old.shared[s0:s1]])
            parts["counts"].append(np.diff(old.shared_offsets[start:stop + 1]))
            for name in FLOATS:
                parts[name].append(old.floats[name][start:stop])

        def joined(name: str, dtype: Any) -> Any:
            return np.concatenate(parts[name]).astype(dtype) if parts[name] else np.zeros(0, dtype)

        counts = joined("counts", np.int64)
        return cls(
            page_ids=list(page_ids), term_keys=term_keys,
            offsets=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
            target=joined("target", np.int32),
            pair=(np.concatenate(parts["pair"]).astype(np.int32).reshape(-1, 2) if parts["pair"]
                  else np.zeros((0, 2), np.int32)),
            shared=joined("shared", np.int32),
            shared_offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
            floats={name: joined(name, np.float32) for name in FLOATS})


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
