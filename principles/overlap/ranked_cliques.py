"""The maximal cliques of the strong-overlap graph in rank order, stored flat, and the clusters
picked from them.

Rank: largest first, then the highest mean pair score, then by the pages' places in page-id
order (a strict order: two cliques never have the same pages). Clusters: in that order, a
clique whose pages are in no cluster yet, at least three of them, makes a cluster of those.

A 10k-page build has ~30k cliques. After a change only the cliques with a page whose strong
pairs moved are looked at one by one (`principles/overlap/cliques.py update`); every other
clique keeps its members (rows renumbered), its mean and its place, all in numpy.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from principles.arrays import any_per_row, ranges
from principles.npz import Ragged
from principles.overlap import cliques as cliques_of
from principles.overlap.cliques import SMALLEST, Clique
from principles.overlap.pair_table import Scores

Idx = npt.NDArray[np.int64]
Means = npt.NDArray[np.float64]
BLOCK = 1024  # cliques tested at once against the pages taken so far


def mean_score(scores: Scores[int], members: Sequence[int], page: int | None = None) -> float:
    """The mean score of the pairs among `members` (of those with `page`, if given), summed
    in the members' order."""
    found = [scores[a][b] for n, a in enumerate(members)
             for b in members[n + 1:] if page is None or page in (a, b)]
    return sum(found) / len(found) if found else 0.0


def _key(members: Sequence[int], mean: float, place: list[int]) -> tuple[int, float, list[int]]:
    """Members in page-id order give their places in order."""
    return -len(members), -mean, [place[p] for p in members]


class _Keys(Sequence[tuple[int, float, list[int]]]):
    """The rank keys of cliques stored flat, each made when read: inserting a few cliques
    among ~30k by bisection reads ~15 keys each."""

    def __init__(self, values: Idx, starts: Idx, sizes: Idx, means: Means, place: Idx) -> None:
        self.values, self.starts, self.sizes, self.means, self.place = (
            values, starts, sizes, means, place)

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, k: Any) -> Any:
        start, size = int(self.starts[k]), int(self.sizes[k])
        return -size, -float(self.means[k]), self.place[self.values[start:start + size]].tolist()


@dataclass(frozen=True)
class RankedCliques:
    """Cliques in rank order: each one's pages as rows, in page-id order, and its mean."""

    members: Ragged
    means: Means

    @classmethod
    def of(cls, cliques: Iterable[Clique[int]], scores: Scores[int], place: Idx) -> RankedCliques:
        """Every clique ranked from scratch."""
        at = place.tolist()  # a list: read per page, in Python
        rows = [sorted(c, key=at.__getitem__) for c in cliques]
        means = [mean_score(scores, r) for r in rows]
        order = sorted(range(len(rows)), key=lambda k: _key(rows[k], means[k], at))
        return cls._from_rows([rows[k] for k in order], np.array(means, np.float64)[order]
                              if order else np.zeros(0, np.float64))

    @classmethod
    def _from_rows(cls, rows: Sequence[Sequence[int]], means: Means) -> RankedCliques:
        sizes = np.array([len(r) for r in rows], dtype=np.int64)
        values = (np.fromiter((p for r in rows for p in r), np.int64, int(sizes.sum()))
                  if len(rows) else np.zeros(0, np.int64))
        return cls(Ragged(values, np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)),
                   np.asarray(means, dtype=np.float64))

    def __len__(self) -> int:
        return len(self.members)

    def updated(self, node: Idx, scores: Scores[int], moved: set[int],
                rescored: set[int], place: Idx) -> RankedCliques:
        """The ranked cliques of the graph `scores`, from these (a previous build's, whose row
        r is `node[r]` now: a row, or a negative number for a page that is gone). `moved`:
        nodes whose strong pairs may differ (a superset of those that do: both pages of every
        pair added, dropped or scored again); `rescored`: rows whose pairs were scored again
        (their cliques' means are computed again)."""
        n = len(place)
        graph = {page: others.keys() for page, others in scores.items()}
        values = node[self.members.values]
        offsets = self.members.offsets
        # a clique with no moved page is still a maximal clique: no page's pairs with its
        # pages moved, so none joins it now (that would add a pair with each of them)
        moved_mask = np.zeros(n, dtype=bool)
        moved_mask[[m for m in moved if 0 <= m < n]] = True
        gone = values < 0
        look = any_per_row(moved_mask[np.where(gone, 0, values)] | gone, offsets)
        looked = np.flatnonzero(look)
        before = {frozenset(values[offsets[r]:offsets[r + 1]].tolist()): float(self.means[r])
                  for r in looked.tolist()}
        found = cliques_of.update(None, graph, before, moved)
        kept = np.flatnonzero(~look)
        # the cliques found (few) keep a mean where none of their pairs was scored again
        at_place = place.tolist()
        rows = [sorted(c, key=at_place.__getitem__) for c in found]
        means = [before[c] if c in before and not c & rescored else mean_score(scores, r)
                 for c, r in zip(found, rows, strict=True)]
        order = sorted(range(len(rows)), key=lambda k: _key(rows[k], means[k], at_place))
        rows, means = [rows[k] for k in order], [means[k] for k in order]
        kept_sizes = offsets[kept + 1] - offsets[kept]
        kept_means = self.means[kept]
        keys = _Keys(values, offsets[kept], kept_sizes, kept_means, place)
        at = [bisect.bisect_left(keys, _key(r, m, at_place))
              for r, m in zip(rows, means, strict=True)]
        # both runs are in rank order: the found ones go in before the kept one they precede
        sizes = np.concatenate([kept_sizes, [len(r) for r in rows]]).astype(np.int64)
        extra = np.fromiter((p for r in rows for p in r), np.int64, int(sum(map(len, rows))))
        starts = np.concatenate([offsets[kept], len(values) + np.concatenate(
            [[0], np.cumsum(sizes[len(kept):])[:-1]]).astype(np.int64)]).astype(np.int64)
        sequence = np.insert(np.arange(len(kept)), at, np.arange(len(kept), len(sizes)))
        flat = np.concatenate([values, extra])[ranges(starts[sequence], sizes[sequence])]
        all_means = np.concatenate([kept_means, np.array(means, dtype=np.float64)])[sequence]
        return RankedCliques(Ragged(flat, np.concatenate([[0], np.cumsum(sizes[sequence])])
                                    .astype(np.int64)), all_means)

    def clusters(self, scores: Scores[int], ids: Sequence[str]) -> list[dict[str, Any]]:
        """The clusters, named by page id: in rank order, each clique with 3+ pages not in a
        cluster yet makes one of them. A block of cliques is tested at once against the pages
        taken so far (a clique short of free pages now stays short), so only the cliques that
        may make a cluster are read one by one."""
        values, offsets = self.members.values, self.members.offsets
        taken = np.zeros(len(ids), dtype=bool)
        clusters: list[dict[str, Any]] = []
        for first in range(0, len(self), BLOCK):
            last = min(first + BLOCK, len(self))
            start, stop = int(offsets[first]), int(offsets[last])
            free = np.add.reduceat(~taken[values[start:stop]], offsets[first:last] - start) \
                if stop > start else np.zeros(0, np.int64)
            for row in (first + np.flatnonzero(free >= SMALLEST)).tolist():
                pages = values[offsets[row]:offsets[row + 1]]
                members = pages[~taken[pages]].tolist()
                if len(members) < SMALLEST:
                    continue
                taken[members] = True
                clusters.append({"id": len(clusters) + 1, "pages": [ids[p] for p in members],
                                 "score": round(mean_score(scores, members), 4),
                                 "page_scores": {ids[p]: round(mean_score(scores, members, p), 4)
                                                 for p in members}})
        return clusters
