"""A BM25 index's (term, document, frequency) entries by term, as the score matrix stores
them (CSC): documents per term, then each entry's document and frequency, sorted by term and
then document. A re-ingest drops the entries of changed pages' documents and inserts their
fresh ones; both cost little more than one pass over the arrays, with no per-entry term ids
and no re-sort when the kept documents stay in order.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int32]
Longs = npt.NDArray[np.int64]
Counts = npt.NDArray[np.integer[Any]]


@dataclass(frozen=True)
class Entries:
    """An index before scoring."""

    vocab: list[str]  # sorted
    df: Longs  # documents per term, in vocabulary order
    docs: Ints  # each entry's document: by term, then document
    tf: Counts  # each entry's frequency (any integer type)
    n_docs: int

    def terms(self) -> Longs:
        """Each entry's term."""
        return np.repeat(np.arange(len(self.df), dtype=np.int64), self.df)


def width(top: int) -> np.dtype[Any]:
    """The smallest unsigned type that holds 0 .. top."""
    return np.dtype(np.uint8 if top < 1 << 8 else np.uint16 if top < 1 << 16 else np.uint32)


def kept(old: Entries, renumbered: Ints, n_docs: int) -> Entries:
    """The entries of the documents `renumbered` keeps (old document -> new one, -1: dropped),
    renumbered; terms left without a document leave the vocabulary."""
    docs = renumbered[old.docs]
    keep = docs >= 0
    df, tf = old.df, old.tf
    if not bool(keep.all()):
        dropped = np.flatnonzero(~keep)
        bounds = np.cumsum(df)
        df = df - np.bincount(np.searchsorted(bounds, dropped, side="right"), minlength=len(df))
        docs, tf = docs[keep], tf[keep]
    vocab = old.vocab
    if not bool(df.all()):
        used = df > 0
        vocab = [t for t, u in zip(vocab, used.tolist(), strict=True) if u]
        df = df[used]
    entries = Entries(vocab, df, docs, tf, n_docs)
    carried = renumbered[renumbered >= 0]
    if not bool(np.all(carried[1:] > carried[:-1])):  # the carried pages came in another order
        order = np.argsort((entries.terms() << 32) | docs, kind="stable")
        entries = Entries(vocab, df, docs[order], tf[order], n_docs)
    return entries


def counted(vocab: list[str], docs: Sequence[int], counts: Sequence[Counter[str]],
            n_docs: int) -> Entries:
    """The entries of documents `docs` (ascending) with these term counts; `vocab` holds
    every counted term."""
    words = [t for c in counts for t in c]
    ids = {t: bisect_left(vocab, t) for t in set(words)}
    terms = np.fromiter((ids[t] for t in words), np.int64, len(words))
    doc_of = np.repeat(np.array(docs, dtype=np.int32), [len(c) for c in counts])
    tf = np.fromiter((f for c in counts for f in c.values()), np.int64, len(words))
    order = np.lexsort((doc_of, terms))
    tf = tf[order]
    return Entries(vocab, np.bincount(terms, minlength=len(vocab)), doc_of[order],
                   tf.astype(width(int(tf.max(initial=0)))), n_docs)


def merged(kept: Entries | None, fresh: Entries) -> Entries:
    """Both sets of entries as one (documents distinct between them); `fresh.vocab` holds
    `kept.vocab`."""
    if kept is None:
        return fresh
    df = np.zeros(len(fresh.vocab), dtype=np.int64)
    if len(fresh.vocab) == len(kept.vocab):
        df += kept.df
    else:  # a kept term moves up by the number of added terms sorted before it
        df[np.searchsorted(np.array(fresh.vocab), np.array(kept.vocab))] = kept.df
    terms = fresh.terms()
    starts = np.cumsum(df) - df
    at = first_at_least(kept.docs, starts[terms], starts[terms] + df[terms], fresh.docs)
    dtype = np.promote_types(kept.tf.dtype, fresh.tf.dtype)
    return Entries(fresh.vocab, df + fresh.df, np.insert(kept.docs, at, fresh.docs),
                   np.insert(kept.tf.astype(dtype, copy=False), at, fresh.tf), fresh.n_docs)


def first_at_least(ordered: npt.NDArray[np.integer[Any]], lo: Longs, hi: Longs,
                   values: npt.NDArray[np.integer[Any]]) -> Longs:
    """For each i, the first position in ordered[lo[i]:hi[i]] (ascending) whose value is at
    least values[i] (hi[i] if none): `lo + np.searchsorted(ordered[lo:hi], value)` for many
    ranges at once, by halving them all together (log2 of the longest range rounds)."""
    lo, hi = lo.astype(np.int64), hi.astype(np.int64)
    while True:
        open_ = lo < hi
        if not bool(open_.any()):
            return lo
        mid = (lo + hi) >> 1
        below = open_ & (ordered[np.where(open_, mid, 0)] < values)
        lo = np.where(below, mid + 1, lo)
        hi = np.where(open_ & ~below, mid, hi)
