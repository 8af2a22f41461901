"""Array helpers the ingest steps share: set algebra on 1-d integer arrays (sort-based), rows
stored flat, unit rows, places in sorted order.

numpy 2.4's `np.unique` (and `union1d`, which calls it) finds distinct integers by hashing:
~0.1 s for 200k int64 keys on this machine class, where a sort and a neighbour comparison take
~1.5 ms. The overlap and related steps run several of these per build.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]


def distinct(values: npt.ArrayLike) -> Ints:
    """The distinct values, sorted (as `np.unique` gives them)."""
    ordered = np.sort(np.asarray(values, dtype=np.int64).ravel())
    if len(ordered) < 2:
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    found: Ints = ordered[keep]
    return found


def union(a: npt.ArrayLike, b: npt.ArrayLike) -> Ints:
    """The distinct values of both, sorted (as `np.union1d`)."""
    return distinct(np.concatenate([np.asarray(a, dtype=np.int64).ravel(),
                                    np.asarray(b, dtype=np.int64).ravel()]))


def within(values: npt.ArrayLike, ordered: Ints) -> npt.NDArray[np.bool_]:
    """Which of `values` are in `ordered` (sorted, distinct): `np.isin` by binary search."""
    found = np.asarray(values, dtype=np.int64)
    if not len(ordered):
        return np.zeros(found.shape, dtype=bool)
    at = np.minimum(np.searchsorted(ordered, found), len(ordered) - 1)
    hit: npt.NDArray[np.bool_] = ordered[at] == found
    return hit


def ranges(starts: npt.ArrayLike, lengths: npt.ArrayLike) -> Ints:
    """The positions start, start+1, ... start+length-1 of every range, one after another."""
    counts = np.asarray(lengths, dtype=np.int64)
    if not len(counts):
        return np.zeros(0, np.int64)
    before = np.concatenate([[0], np.cumsum(counts)[:-1]])
    found: Ints = (np.repeat(np.asarray(starts, dtype=np.int64) - before, counts)
                   + np.arange(int(counts.sum()), dtype=np.int64))
    return found


def unit_rows(matrix: npt.NDArray[np.floating]) -> npt.NDArray[np.float32]:
    """Rows scaled to unit length, as float32 (zero rows stay zero). A row within 1e-6 of
    unit length already (the encoders normalise) is kept as it is, so each row's result does
    not depend on the others; when all are, the matrix comes back without a copy (a 10k-page
    build's two 15 MB matrices cost more to allocate than to check)."""
    rows = np.asarray(matrix)
    norms = np.sqrt(np.einsum("ij,ij->i", rows, rows, dtype=np.float64))
    norms[(norms == 0) | (np.abs(norms - 1.0) < 1e-6)] = 1.0
    if rows.dtype == np.float32 and (norms == 1.0).all():
        same: npt.NDArray[np.float32] = rows
        return same
    unit: npt.NDArray[np.float32] = (rows / norms[:, None]).astype(np.float32)
    return unit


def any_per_row(flags: npt.NDArray[np.bool_], offsets: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """For rows stored flat (row i is flags[offsets[i]:offsets[i+1]]): is any flag set?"""
    bounds = np.asarray(offsets, dtype=np.int64)
    rows = len(bounds) - 1
    if not len(flags):
        return np.zeros(rows, dtype=bool)
    starts = np.minimum(bounds[:-1], len(flags) - 1)
    found: npt.NDArray[np.bool_] = np.logical_or.reduceat(flags, starts) & (bounds[1:] > bounds[:-1])
    return found


def places(values: Sequence[str]) -> Ints:
    """Each value's place among the values sorted (ties by position): page ids' order, used
    to break score ties and to rank clusters."""
    found: Ints = np.empty(len(values), dtype=np.int64)
    found[np.argsort(np.array(values, dtype=str), kind="stable")] = np.arange(len(values))
    return found


def places_in(values: Sequence[str], among: Sequence[str]) -> Ints:
    """Each value's index in `among` (-1 where it is not there): a page's row in another
    build. The same list in the same order, the common case of a re-ingest, is checked first."""
    if list(values) == list(among):
        return np.arange(len(values), dtype=np.int64)
    index = {value: i for i, value in enumerate(among)}
    return np.fromiter((index.get(value, -1) for value in values), np.int64, len(values))
