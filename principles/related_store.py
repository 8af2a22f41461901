"""Precomputed related rows in a compact columnar file, written by ingest and read by serve.

As JSON objects, 40 rows for each of 10k pages cost ~870 MB of the API's memory (measured);
as numpy columns they cost a few MB, and one page's rows are decoded when it is asked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from principles.npz import load_arrays

FILE = "related.npz"
_FLOATS = ("score", "graph", "dense", "coverage", "passage")


def write_related(path: Path, page_ids: list[str], related: dict[str, list[dict[str, Any]]]) -> None:
    position = {page_id: i for i, page_id in enumerate(page_ids)}
    term_keys = sorted({key for rows in related.values() for row in rows for key in row["shared"]})
    term_position = {key: i for i, key in enumerate(term_keys)}
    offsets, shared_offsets = [0], [0]
    columns: dict[str, list[float]] = {name: [] for name in _FLOATS}
    target: list[int] = []
    pair: list[tuple[int, int]] = []
    shared: list[int] = []
    for page_id in page_ids:
        for row in related.get(page_id, []):
            target.append(position[row["id"]])
            for name in _FLOATS:
                columns[name].append(row[name])
            pair.append((row["pair"][0], row["pair"][1]))
            shared.extend(term_position[key] for key in row["shared"])
            shared_offsets.append(len(shared))
        offsets.append(len(target))
    arrays: dict[str, Any] = {
        "page_ids": np.array(page_ids, dtype=str), "term_keys": np.array(term_keys, dtype=str),
        "offsets": np.array(offsets, dtype=np.int64), "target": np.array(target, dtype=np.int32),
        "pair": np.array(pair, dtype=np.int32).reshape(-1, 2),
        "shared": np.array(shared, dtype=np.int32),
        "shared_offsets": np.array(shared_offsets, dtype=np.int64),
        **{name: np.array(values, dtype=np.float32) for name, values in columns.items()}}
    np.savez(path, allow_pickle=False, **arrays)


class RelatedTable:
    """Read side: `rows(page_id)` gives the page's rows, best first, as ingest computed them."""

    def __init__(self, path: Path) -> None:
        data = load_arrays(path)  # memory-mapped: the worker processes share one copy
        self.page_ids: list[str] = data["page_ids"].tolist()
        self.term_keys: list[str] = data["term_keys"].tolist()
        self.arrays = {name: data[name] for name in
                       ("offsets", "target", "pair", "shared", "shared_offsets", *_FLOATS)}
        self.position = {page_id: i for i, page_id in enumerate(self.page_ids)}

    def rows(self, page_id: str) -> list[dict[str, Any]]:
        i = self.position.get(page_id)
        if i is None:
            return []
        a = self.arrays
        out = []
        for r in range(int(a["offsets"][i]), int(a["offsets"][i + 1])):
            shared = a["shared"][int(a["shared_offsets"][r]):int(a["shared_offsets"][r + 1])]
            out.append({"id": self.page_ids[int(a["target"][r])],
                        **{name: round(float(a[name][r]), 4) for name in _FLOATS},
                        "pair": [int(a["pair"][r][0]), int(a["pair"][r][1])],
                        "shared": [self.term_keys[int(k)] for k in shared]})
        return out
