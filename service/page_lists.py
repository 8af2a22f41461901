"""Ranked page lists as numpy arrays: the best hit per page and reciprocal rank fusion.

Why arrays: a search builds four ranked lists from ~350 hits. Done with a dict and a Python
object per hit, the roll-up to pages and the fusion were a third of a search's time after the
query vector; over page numbers (a page's position in the sorted page ids, so ordering by
number is ordering by id) they are a handful of numpy calls. The answers are the same: the
same tie rules (the first hit of a page's best score wins; equal scores go by page id) and
the same float sums, added in the same order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Numbers = npt.NDArray[np.intp]
Scores = npt.NDArray[np.floating]

DENSE_PASSAGES = "dense_passages"  # the list whose passage makes the snippet


@dataclass
class PageHit:
    page_id: str
    score: float
    passage: int  # index into the page's passages, -1 for the head (title/description)
    ranks: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PageList:
    """Pages best first: page numbers, each page's best score and the passage that had it."""

    pages: Numbers
    scores: Scores
    passages: Numbers

    def __len__(self) -> int:
        return len(self.pages)


def best_per_page(pages: Numbers, scores: Scores, passages: Numbers) -> PageList:
    """Each page once, with its best hit (the first of equal best scores, in hit order);
    pages ordered by that score, then by page number."""
    if len(pages) == 0:
        return PageList(pages, scores, passages)
    order = np.argsort(-scores, kind="stable")  # best first; equal scores keep hit order
    unique, first = np.unique(pages[order], return_index=True)
    best = order[first]
    ranked = np.lexsort((unique, -scores[best]))
    return PageList(unique[ranked], scores[best][ranked], passages[best][ranked])


def fuse(lists: Mapping[str, PageList], page_count: int, limit: int, k: int,
         page_ids: Sequence[str]) -> list[PageHit]:
    """Reciprocal rank fusion (score = sum over lists of 1 / (k + rank)), the top `limit`
    pages by score then page id, each with its rank in every list it is in and its snippet's
    passage: the best dense passage, else the first list's passage, a page head (-1) giving
    way to any passage found later."""
    fused = np.zeros(page_count, dtype=np.float64)
    present = np.zeros(page_count, dtype=bool)
    for ranking in lists.values():  # each page at most once per list: += adds like a loop
        fused[ranking.pages] += 1.0 / (k + np.arange(1, len(ranking) + 1, dtype=np.float64))
        present[ranking.pages] = True
    candidates = np.flatnonzero(present)
    top = candidates[np.lexsort((candidates, -fused[candidates]))[:limit]]
    hits = [PageHit(page_ids[page], float(fused[page]), -1) for page in top.tolist()]
    seen = [False] * len(hits)
    for name, ranking in lists.items():
        for i, rank in _ranks_of(top, ranking.pages):
            hit, passage = hits[i], int(ranking.passages[rank])
            hit.ranks[name] = rank + 1
            if not seen[i] or name == DENSE_PASSAGES or hit.passage < 0 <= passage:
                hit.passage = passage
            seen[i] = True
    return hits


def _ranks_of(wanted: Numbers, pages: Numbers) -> Iterable[tuple[int, int]]:
    """(index into `wanted`, position in `pages`) for every wanted page that is in `pages`."""
    if len(pages) == 0 or len(wanted) == 0:
        return []
    order = np.argsort(pages, kind="stable")
    at = np.minimum(np.searchsorted(pages[order], wanted), len(pages) - 1)
    found = pages[order][at] == wanted
    return zip(np.flatnonzero(found).tolist(), order[at][found].tolist(), strict=True)


def number_pages(page_ids: Iterable[str]) -> dict[str, int]:
    """Page id -> page number: positions in sorted order, so numbers sort as the ids do."""
    return {page_id: number for number, page_id in enumerate(sorted(page_ids))}
