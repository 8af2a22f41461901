"""Precompute related pages at ingest: the widget's answer becomes a lookup at serve time.

Score = 0.7 coverage + 0.2 dense + 0.1 graph, where
- coverage is how well each page's passages are matched in the other, both ways: the mean,
  over one page's passages, of the best cosine with any passage of the other, averaged over
  the two directions. Two pages whose paragraphs keep meeting are about the same things;
- dense is the cosine of the two pages' vectors, each the sum of the page vector (head fields
  and the first 256 word pieces) and the mean of its passage vectors (the whole body);
- graph is the cosine of the two pages' term vectors weighted by rarity (idf).
The weights were chosen on the site corpus by leave-one-out cross-validation over the site's
own related lists (no weight picked on the list it is scored on): bench/related_cv.py prints
the held-out agreement, bench/quality.py the agreement of what ingest stores. The best passage
pair is kept as the evidence shown to readers.

Never all pairs: a page is scored against its candidates, taken from the build's vector index
(HNSW above ~6,600 vectors) and the term postings:
- its PAGE_NEIGHBOURS nearest page vectors,
- the pages of the PASSAGE_NEIGHBOURS nearest other-page passages of each of its passages,
- the pages sharing a rare term with it (a term on at most RARE_TERM_PAGES pages),
- every page that has it in one of its own two neighbour lists (candidates are symmetric).
Work is O(n k). bench/related_candidates.py measures on the site corpus how many of the rows
of scoring all pairs these recover (the k were chosen there) and the agreement either way.

Incremental: the build keeps each page's neighbour lists with their scores, their radii (the
score of the k-th neighbour) and the term document counts (STATE_FILE). A list that names a
changed page is searched again only when that page may drop out (its score before or now within
MARGIN of the radius) or a removed page left a hole (`_Moved`). A re-ingest recomputes the
rows of
- pages whose content changed or that are new,
- pages that had a changed or removed page among their candidates,
- pages a changed page now enters: its vector scores at least their list's radius (one
  product of the changed vectors with every page and passage vector), or it shares a rare
  term with them, or they are in its own lists,
- pages whose term weights moved (a term's document count changed, or the page count did:
  then every page is rescored, from the stored candidates, without new searches),
and copies every other page's rows from the previous build. With exact search (collections
under the HNSW threshold) the result equals a full recompute (tests/test_related_incremental.py);
with HNSW it equals it up to the index's recall on the pages not recomputed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy import sparse

from ingest.pages import Page
from ingest.related_state import (
    NO_RADIUS,
    STATE_VERSION,
    Hits,
    Lists,
    RelatedState,
    StoredState,
)
from principles.arrays import any_per_row, distinct, places, places_in, ranges, unit_rows
from principles.contract import term_key
from principles.embedder import Vectors
from principles.npz import PatchedRows, Ragged, taken
from principles.related_store import FLOATS, PageRows, RelatedColumns
from principles.vectors import VectorStore, point_number

WEIGHTS = {"coverage": 0.7, "dense": 0.2, "graph": 0.1}
KEEP = 40  # enough for the Hugo export's five per resource type
PAGE_NEIGHBOURS = 80
PASSAGE_NEIGHBOURS = 80
RARE_TERM_PAGES = 25
MARGIN = 1e-4  # the store's cosines and numpy's differ in the last bits: test generously
TIE_SLACK = 4  # hits fetched beyond k, so equal scores at the cut are cut by page order

Idx = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float32]


@dataclass(frozen=True)
class PageVectors:
    page: Vectors  # (n, d) one per page, in page order
    passages: list[Vectors]  # per page, (m_i, d)

    @cached_property
    def flat(self) -> Vectors:
        """Every passage vector, page after page (related scoring and the entering test both
        read them all)."""
        if not self.passages:
            return np.zeros((0, self.page.shape[1] if self.page.ndim == 2 else 0), np.float32)
        flat: Vectors = np.concatenate(self.passages).astype(np.float32, copy=False)
        return flat

    @cached_property
    def sizes(self) -> Idx:
        return np.array([len(p) for p in self.passages], dtype=np.int64)

    @cached_property
    def starts(self) -> Idx:
        """Where each page's passages begin in `flat`."""
        return np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(np.int64)


@dataclass(frozen=True)
class Params:
    """What the candidate lists of a build depend on besides the vectors and terms."""

    page_neighbours: int = PAGE_NEIGHBOURS
    passage_neighbours: int = PASSAGE_NEIGHBOURS
    rare_term_pages: int = RARE_TERM_PAGES
    keep: int = KEEP

    def record(self) -> list[int]:
        return [STATE_VERSION, self.page_neighbours, self.passage_neighbours,
                self.rare_term_pages, self.keep]


def term_keys(page: Page) -> list[str]:
    keys = [term_key(kind, slug) for kind, slugs in page.terms.items() for slug in slugs]
    if page.taxonomy is not None:
        keys.append("/".join(page.taxonomy))
    return list(dict.fromkeys(keys))


def term_df(pages: Iterable[Page]) -> dict[str, int]:
    return df_of(term_keys(page) for page in pages)


def df_of(keys: Iterable[list[str]]) -> dict[str, int]:
    """Pages per term key, from each page's `term_keys`."""
    df: dict[str, int] = {}
    for page_keys in keys:
        for key in page_keys:
            df[key] = df.get(key, 0) + 1
    return df


def idf_of(df: dict[str, int], n: int) -> dict[str, float]:
    return {key: math.log((n + 1) / (count + 0.5)) for key, count in df.items()}


def term_idf(pages: list[Page]) -> dict[str, float]:
    return idf_of(term_df(pages), len(pages))


def _term_matrix(keys: Sequence[list[str]], idf: dict[str, float]) -> sparse.csr_matrix:
    """Rows of unit length: each page's term keys weighted by idf."""
    column = {key: i for i, key in enumerate(sorted(idf))}
    rows, cols, vals = [], [], []
    for row, page_keys in enumerate(keys):
        for key in page_keys:
            rows.append(row)
            cols.append(column[key])
            vals.append(max(idf[key], 0.0))
    matrix = sparse.csr_matrix((vals, (rows, cols)), shape=(len(keys), max(len(column), 1)))
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix)


def page_profiles(vectors: PageVectors) -> Vectors:
    """Unit vectors of page vector + mean passage vector: the page's head and its whole body."""
    return profiles_of(vectors, np.arange(len(vectors.passages)))


def profiles_of(vectors: PageVectors, rows: Idx) -> Vectors:
    """`page_profiles` of some pages (every page has a passage)."""
    if not len(rows):
        return np.zeros((0, vectors.page.shape[1]), np.float32)
    means = np.stack([vectors.passages[i].mean(axis=0) for i in rows.tolist()])
    return unit_rows(vectors.page[rows] + unit_rows(means))


def coverage(a: Vectors, b: Vectors) -> tuple[float, tuple[int, int], float]:
    """(symmetric passage coverage, best passage pair, its cosine) of two pages."""
    pair = a @ b.T
    x, y = np.unravel_index(int(np.argmax(pair)), pair.shape)
    both = 0.5 * (float(pair.max(axis=1).mean()) + float(pair.max(axis=0).mean()))
    return both, (int(x), int(y)), float(pair[x, y])


# --- neighbour lists from the vector index ------------------------------------------------


class VectorIndex:
    """The build's vector store, searched for neighbour lists by page index. Hits are ordered
    by score, then by page order: ties (duplicate pages have equal vectors) are cut the same
    way whatever order the store returns them in."""

    def __init__(self, store: VectorStore, collections: dict[str, str], page_ids: list[str],
                 vectors: PageVectors) -> None:
        self.store, self.collections, self.vectors = store, collections, vectors
        self.page_of = {point_number(p): i for i, p in enumerate(page_ids)}
        self.passage_of = {point_number(f"{p}#{k}"): (i, k) for i, p in enumerate(page_ids)
                           for k in range(len(vectors.passages[i]))}

    def page_lists(self, rows: Sequence[int], k: int) -> dict[int, tuple[Idx, Floats, float]]:
        """Each row's k nearest pages (by row), their scores and the list's radius."""
        if not rows:
            return {}
        pages = (self.store.nearest(self.collections["pages"], self.vectors.page[list(rows)],
                                    k + 1 + TIE_SLACK) if k else [[] for _ in rows])
        out: dict[int, tuple[Idx, Floats, float]] = {}
        for i, hits in zip(rows, pages, strict=True):
            near = sorted((-score, self.page_of[key]) for score, key in hits
                          if self.page_of.get(key, i) != i)[:k]
            by_row = sorted((j, -score) for score, j in near)
            out[i] = (np.array([j for j, _ in by_row], dtype=np.int64),
                      np.array([s for _, s in by_row], dtype=np.float32), _radius(near, k))
        return out

    def passage_lists(self, rows: Sequence[int], kp: int) -> dict[int, tuple[Idx, Floats, Hits]]:
        """Each row's `via` pages, its passages' radii and their lists' entries."""
        by_size: dict[int, list[int]] = {}
        for i in rows:
            by_size.setdefault(len(self.vectors.passages[i]), []).append(i)
        out: dict[int, tuple[Idx, Floats, Hits]] = {
            i: (np.zeros(0, np.int64), np.full(len(self.vectors.passages[i]), _radius([], kp),
                                                np.float32), Hits.none()) for i in rows}
        for size, group in by_size.items() if kp else ():
            found = self.store.nearest(
                self.collections["passages"], np.concatenate([self.vectors.passages[i] for i in group]),
                kp + size + TIE_SLACK)
            for n, i in enumerate(group):
                per_passage = [sorted((-score, *self.passage_of[key]) for score, key in hits
                                      if self.passage_of.get(key, (i, 0))[0] != i)[:kp]
                               for hits in found[n * size:(n + 1) * size]]
                entries = [(at, page, no, -score) for at, top in enumerate(per_passage)
                           for score, page, no in top]
                table = np.array(entries, dtype=np.float64).reshape(-1, 4)
                hits_of = Hits(table[:, 0].astype(np.int64), table[:, 1].astype(np.int64),
                               table[:, 2].astype(np.int64), table[:, 3].astype(np.float32))
                out[i] = (distinct(hits_of.to),
                          np.array([_radius(top, kp) for top in per_passage], dtype=np.float32),
                          hits_of)
        return out


def _radius(hits: Sequence[tuple[float, ...]], k: int) -> float:
    """The score a page must reach to enter a list of k: its last hit's, any score while the
    list is short, none when k is 0."""
    if k == 0:
        return float("inf")
    return -float(hits[-1][0]) if len(hits) == k else float(NO_RADIUS)  # hits hold -score


@dataclass(frozen=True)
class Previous:
    """The previous build's related rows, state and page hashes (same model and chunking)."""

    columns: RelatedColumns
    state: StoredState
    hashes: dict[str, str]

    @classmethod
    def load(cls, build: Path, related_file: str, hashes: dict[str, str]) -> Previous | None:
        state = StoredState.load(build)
        if state is None or not (build / related_file).is_file():
            return None
        columns = RelatedColumns.load(build / related_file)
        if columns.page_ids != state.page_ids:
            return None
        return cls(columns, state, hashes)


@dataclass(frozen=True)
class Related:
    columns: RelatedColumns
    state: RelatedState
    counts: dict[str, int]


# --- scoring ----------------------------------------------------------------------------


class _Scorer:
    """Scores one page against its candidates, all in one matrix product over passages."""

    def __init__(self, pages: list[Page], vectors: PageVectors, df: dict[str, int],
                 keys: Sequence[list[str]]) -> None:
        self.ids = [p.id for p in pages]
        self.idf = idf_of(df, len(pages))
        self.column = {key: i for i, key in enumerate(sorted(self.idf))}
        self.term_keys = keys
        self._keys: dict[int, frozenset[str]] = {}  # made as rows need them
        self._terms: dict[int, tuple[Idx, npt.NDArray[np.float64]]] = {}
        self._flat: tuple[Idx, Idx, npt.NDArray[np.float64]] | None = None  # see prepare_all
        self.vectors = vectors
        self._profiles = np.zeros(vectors.page.shape, np.float32)  # filled as rows need them
        self._profiled = np.zeros(len(pages), dtype=bool)
        self.passages = vectors.flat
        self.sizes = vectors.sizes
        self.starts = vectors.starts
        self.rank = places(self.ids)  # page id order breaks score ties

    def profiles(self, rows: Idx) -> Vectors:
        """Page profiles, computed on first use: after a small change only the pages in the
        rows scored again need theirs."""
        todo = ~self._profiled[rows]
        if todo.any():
            missing = distinct(rows[todo])
            self._profiles[missing] = profiles_of(self.vectors, missing)
            self._profiled[missing] = True
        found: Vectors = self._profiles[rows]
        return found

    def keys(self, i: int) -> frozenset[str]:
        found = self._keys.get(i)
        if found is None:
            found = self._keys[i] = frozenset(self.term_keys[i])
        return found

    def terms(self, i: int) -> tuple[Idx, npt.NDArray[np.float64]]:
        """Page i's row of the unit-length idf-weighted term matrix (columns: the keys sorted),
        made on first use: a re-ingest scores a few rows, a matrix over every page cost more."""
        found = self._terms.get(i)
        if found is None:
            keys = sorted(self.term_keys[i], key=self.column.__getitem__)
            weights = np.array([max(self.idf[k], 0.0) for k in keys], dtype=np.float64)
            norm = float(np.sqrt((weights * weights).sum()))
            found = self._terms[i] = (np.array([self.column[k] for k in keys], dtype=np.int64),
                                      weights / (norm or 1.0))
        return found

    def prepare_all(self) -> None:
        """Every page's profile and term row at once, when most rows are scored (a full
        ingest): the same values `profiles` and `terms` give, without a call per candidate."""
        n = len(self.ids)
        missing = np.flatnonzero(~self._profiled)
        if len(missing):
            self._profiles[missing] = profiles_of(self.vectors, missing)
            self._profiled[:] = True
        rows = [self.terms(i) for i in range(n)]
        counts = np.array([len(c) for c, _ in rows], dtype=np.int64)
        self._flat = (np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
                      np.concatenate([c for c, _ in rows]) if n else np.zeros(0, np.int64),
                      np.concatenate([w for _, w in rows]) if n else np.zeros(0, np.float64))

    def graph(self, i: int, j: Idx) -> npt.NDArray[np.float64]:
        """Cosine of page i's term row with each of j's, in one product over their entries."""
        columns, weights = self.terms(i)
        if not len(j):
            return np.zeros(0, dtype=np.float64)
        if self._flat is not None:
            starts, flat_columns, flat_weights = self._flat
            counts = starts[j + 1] - starts[j]
            at = ranges(starts[j], counts)
            their_columns, their_weights = flat_columns[at], flat_weights[at]
        else:
            rows = [self.terms(other) for other in j.tolist()]
            counts = np.array([len(c) for c, _ in rows], dtype=np.int64)
            their_columns = np.concatenate([c for c, _ in rows])
            their_weights = np.concatenate([w for _, w in rows])
        dense = np.zeros(len(self.column) + 1, dtype=np.float64)
        dense[columns] = weights
        owner = np.repeat(np.arange(len(j)), counts)
        return np.bincount(owner, weights=their_weights * dense[their_columns],
                           minlength=len(j)).astype(np.float64)

    def rows(self, i: int, candidates: Idx, keep: int) -> PageRows:
        j = candidates
        if len(j) == 0:
            return PageRows(np.zeros(0, np.int32), {f: np.zeros(0, np.float32) for f in FLOATS},
                            np.zeros((0, 2), np.int32), [])
        lens = self.sizes[j]
        block = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64)
        columns = np.repeat(self.starts[j] - block, lens) + np.arange(int(lens.sum()))
        mine = self.passages[self.starts[i]:self.starts[i] + self.sizes[i]]
        sims = mine @ self.passages[columns].T  # (m_i, sum of candidates' passages)
        forward = np.maximum.reduceat(sims, block, axis=1).mean(axis=0)
        col_best, col_arg = sims.max(axis=0), sims.argmax(axis=0)
        backward = np.add.reduceat(col_best, block) / lens
        covered = 0.5 * (forward.astype(np.float64) + backward)
        dense = (self.profiles(j) @ self.profiles(np.array([i]))[0]).astype(np.float64)
        graph = self.graph(i, j)
        score = (WEIGHTS["coverage"] * covered + WEIGHTS["dense"] * dense
                 + WEIGHTS["graph"] * graph)
        rounded = np.round(score, 4)
        top = np.lexsort((self.rank[j], -rounded))[:keep]
        # best passage pair per candidate: its best column, then that column's best row
        owner = np.repeat(np.arange(len(j)), lens)
        order = np.lexsort((-col_best, owner))
        best_col = order[block[top]]
        pair = np.stack([col_arg[best_col], best_col - block[top]], axis=1).astype(np.int32)
        targets = j[top]
        shared = [sorted(self.keys(i) & self.keys(int(t)), key=lambda k: (-self.idf[k], k))
                  for t in targets]
        floats = {"score": rounded[top], "graph": np.round(graph[top], 4),
                  "dense": np.round(dense[top], 4), "coverage": np.round(covered[top], 4),
                  "passage": np.round(col_best[best_col].astype(np.float64), 4)}
        return PageRows(targets.astype(np.int32),
                        {k: v.astype(np.float32) for k, v in floats.items()}, pair, shared)


# --- candidates -------------------------------------------------------------------------


def _postings(keys: list[list[str]]) -> dict[str, list[int]]:
    postings: dict[str, list[int]] = {}
    for i, page_keys in enumerate(keys):
        for key in page_keys:
            postings.setdefault(key, []).append(i)
    return postings


def _candidates(lists: Lists, keys: list[list[str]], postings: dict[str, list[int]], rare: int,
                rows: Iterable[int]) -> dict[int, Idx]:
    """The symmetric candidate set of each page in `rows` (reads every page's lists)."""
    n = len(lists.near)
    wanted = np.zeros(n, dtype=bool)
    wanted[list(rows)] = True
    near, via = lists.near.flat(), lists.via.flat()
    sizes = np.concatenate([np.diff(near.offsets), np.diff(via.offsets)])
    source = np.repeat(np.concatenate([np.arange(n), np.arange(n)]), sizes)
    target = np.concatenate([near.values, via.values]).astype(np.int64)
    found: dict[int, set[int]] = {int(i): set() for i in np.flatnonzero(wanted)}
    back = wanted[target]
    for j, i in zip(target[back].tolist(), source[back].tolist(), strict=True):
        found[j].add(i)
    for i, mine in found.items():
        mine.update(lists.near[i].tolist())
        mine.update(lists.via[i].tolist())
        for key in keys[i]:
            if len(postings[key]) <= rare:
                mine.update(postings[key])
        mine.discard(i)
    return {i: np.array(sorted(s), dtype=np.int64) for i, s in found.items()}


def _remap(rows: Ragged, new_of_old: Idx, stale: npt.NDArray[np.bool_],
           same_order: bool) -> tuple[Ragged, npt.NDArray[np.bool_]]:
    """Rows of page indices of the previous build mapped to this build's (-1: removed), and
    which rows name a stale page; in one pass over all rows, not one per row."""
    mapped = rows if same_order else Ragged(new_of_old[rows.values], rows.offsets)
    return mapped, any_per_row(stale[rows.values], rows.offsets)


class _Moved:
    """The changed pages' new vectors against the lists carried over. A list that names a
    changed page keeps it, unsearched, when both its score before and its score now clear the
    list's radius by MARGIN: it was not the k-th entry, is still in, and nothing else moved.
    Otherwise (it may drop out, or a removed page left a hole) the list is searched again, as
    is every list a changed page (or a passage of it) now enters."""

    def __init__(self, vectors: PageVectors, changed: Sequence[int]) -> None:
        self.vectors, self.changed = vectors, list(changed)
        self.is_changed = np.zeros(len(vectors.passages), dtype=bool)
        self.is_changed[self.changed] = True
        self.page = unit_rows(vectors.page)
        self.passages = unit_rows(vectors.flat)
        self.starts = vectors.starts

    def keeps_page_list(self, lists: Lists, i: int) -> bool:
        near, radius = lists.near[i], float(lists.near_radius[i])
        if (near < 0).any():
            return False  # a removed page's place is taken by one not known yet
        at = np.flatnonzero(self.is_changed[near])
        now = self.page[near[at]] @ self.page[i]
        if not _clear(lists.near_scores[i][at], now, radius):
            return False
        lists.near_scores[i][at] = now
        return True

    def keeps_passage_lists(self, lists: Lists, i: int) -> bool:
        hits = lists.hits(i)
        if (hits.to < 0).any():
            return False
        at = np.flatnonzero(self.is_changed[hits.to])
        to, no = hits.to[at], hits.no[at]
        if (no >= self.vectors.sizes[to]).any():
            return False  # that passage of the changed page is gone
        mine = self.passages[self.starts[i] + hits.at[at]]
        now = np.einsum("ij,ij->i", mine, self.passages[self.starts[to] + no])
        if not _clear(hits.score[at], now, lists.passage_radius[i][hits.at[at]]):
            return False
        hits.score[at] = now
        return True

    def entering_page_lists(self, lists: Lists) -> set[int]:
        """Pages whose page list a changed page is not in but now reaches."""
        if not self.changed:
            return set()
        reach = self.page @ self.page[self.changed].T >= lists.near_radius[:, None] - MARGIN
        out = set()
        for i, c in zip(*np.nonzero(reach), strict=True):
            page, changed = int(i), self.changed[int(c)]
            if page != changed and not self.is_changed[page] and changed not in lists.near[page]:
                out.add(page)
        return out

    def entering_passage_lists(self, lists: Lists) -> set[int]:
        """Pages one of whose passage lists a passage of a changed page is not in but now
        reaches."""
        if not self.changed:
            return set()
        owner = np.repeat(np.arange(len(self.vectors.passages)), self.vectors.sizes)
        mine = ranges(self.starts[self.changed], self.vectors.sizes[self.changed])
        radius = lists.passage_radius.flat().values
        reach = self.passages @ self.passages[mine].T >= radius[:, None] - MARGIN
        out = set()
        for p, q in zip(*np.nonzero(reach), strict=True):
            page, to = int(owner[p]), int(owner[mine[q]])
            if page == to or self.is_changed[page] or page in out:
                continue
            hits, at, no = lists.hits(page), p - self.starts[page], mine[q] - self.starts[to]
            if not ((hits.at == at) & (hits.to == to) & (hits.no == no)).any():
                out.add(page)
        return out


def _clear(before: Floats, now: npt.NDArray[np.floating], radius: float | Floats) -> bool:
    """Every entry's score before and now is above the radius by MARGIN."""
    return bool((before > radius + MARGIN).all() and (now > radius + MARGIN).all())


# --- the step ---------------------------------------------------------------------------


def compute_related(pages: list[Page], vectors: PageVectors, index: VectorIndex,
                    hashes: dict[str, str], previous: Previous | None = None,
                    params: Params = Params()) -> Related:
    """Every page's KEEP best related pages with the evidence of each score; with `previous`,
    only the rows the change touches are computed (see the module docstring)."""
    n = len(pages)
    keys = [term_keys(p) for p in pages]
    df = df_of(keys)
    postings = _postings(keys)
    scorer = _Scorer(pages, vectors, df, keys)
    plan = _plan(pages, vectors, keys, df, postings, hashes, previous, params)
    lists = plan.lists
    by_page = index.page_lists(sorted(plan.page_query), params.page_neighbours)
    by_passage = index.passage_lists(sorted(plan.passage_query), params.passage_neighbours)
    for i, (near, scores, radius) in by_page.items():
        lists.near[i], lists.near_scores[i], lists.near_radius[i] = near, scores, radius
    for i, (via, radii, hits) in by_passage.items():
        lists.via[i], lists.passage_radius[i] = via, radii
        lists.set_hits(i, hits)
    found = set(by_page) | set(by_passage)
    # candidates are rebuilt for pages whose own lists moved, for the pages that entered or
    # left a list (the relation is symmetric) and for pages that had a stale candidate
    rebuild = set(plan.changed) | plan.extra | plan.recheck
    for i in found:
        now = {*lists.near[i].tolist(), *lists.via[i].tolist()}
        before = plan.before.get(i, set())
        if i in plan.changed or before != now:
            rebuild.add(i)
            rebuild.update(x for x in now.symmetric_difference(before) if x >= 0)
    fresh_candidates = _candidates(lists, keys, postings, params.rare_term_pages, rebuild)
    # rows are recomputed where the candidates moved or the term weights did; where a changed
    # page is among unchanged candidates, only if it was in the rows or now enters them
    rescore = set(plan.changed) | plan.rescore | {
        i for i, mine in fresh_candidates.items()
        if not np.array_equal(mine, plan.old_candidates[i])}
    candidates = plan.old_candidates  # from here on, this build's
    for i, mine in fresh_candidates.items():
        candidates[i] = mine
    if previous is not None and len(rescore) < n:
        rescore |= _entering_rows(scorer, candidates, plan, previous.columns, rescore, params.keep)
    if len(rescore) > n // 10:
        scorer.prepare_all()
    fresh = {i: scorer.rows(i, candidates[i], params.keep) for i in sorted(rescore)}
    if previous is not None and len(rescore) < n:
        columns = RelatedColumns.assemble([p.id for p in pages], fresh, previous.columns,
                                          plan.old_row)
    else:
        columns = RelatedColumns.assemble([p.id for p in pages], fresh)
    state = RelatedState([p.id for p in pages], lists, candidates, df, params.record())
    return Related(columns, state, {"related_pages_scored": len(rescore),
                                    "related_pages_searched": len(found)})


def _entering_rows(scorer: _Scorer, candidates: PatchedRows, plan: _Plan, old: RelatedColumns,
                   rescore: set[int], keep: int) -> set[int]:
    """Pages whose candidates are unchanged but include a changed page: rescored only if that
    page was in their rows or now scores near enough to their last row to enter them."""
    changed = np.zeros(len(candidates), dtype=bool)
    changed[plan.changed] = True
    flat = candidates.flat()
    out = set()
    for i in np.flatnonzero(any_per_row(changed[flat.values], flat.offsets)).tolist():
        if i in rescore:
            continue
        mine = candidates[i]
        o = plan.old_row[i]
        start, stop = int(old.offsets[o]), int(old.offsets[o + 1])
        rows = old.target[start:stop]
        moved = mine[changed[mine]]
        if stop - start < keep or np.isin(moved, plan.new_of_old[rows]).any():
            out.add(i)
            continue
        last = float(old.floats["score"][stop - 1])
        if float(scorer.rows(i, moved, len(moved)).floats["score"].max()) >= last - MARGIN:
            out.add(i)
    return out


@dataclass
class _Plan:
    lists: Lists  # the previous build's lists mapped to this build (empty where unknown)
    old_candidates: PatchedRows  # of Idx
    old_row: list[int]  # this build's page -> its row in the previous build (-1: new)
    new_of_old: Idx  # the previous build's page -> its index now (-1: removed)
    changed: list[int]  # pages new or changed
    page_query: set[int]  # pages whose page list is searched again
    passage_query: set[int]  # pages whose passage lists are searched again
    before: dict[int, set[int]]  # their previous lists (-1 for a removed page)
    recheck: set[int]  # pages that had a changed or removed page among their candidates
    extra: set[int]  # pages whose candidates are rebuilt without a search (rare terms)
    rescore: set[int]  # pages rescored from their candidates (term weights moved)


def _plan(pages: list[Page], vectors: PageVectors, keys: list[list[str]], df: dict[str, int],
          postings: dict[str, list[int]], hashes: dict[str, str], previous: Previous | None,
          params: Params) -> _Plan:
    n = len(pages)
    everything = set(range(n))
    if previous is None or previous.state.params != params.record():
        return _Plan(Lists.empty(n), PatchedRows.empty(n, np.int64), [-1] * n,
                     np.zeros(0, np.int64), list(range(n)), everything, set(everything), {},
                     set(), set(), everything)
    state = previous.state
    ids = [p.id for p in pages]
    old_row: list[int] = places_in(ids, state.page_ids).tolist()
    changed = [i for i, p in enumerate(pages)
               if old_row[i] < 0 or previous.hashes.get(p.id) != hashes[p.id]]
    new_of_old = places_in(state.page_ids, ids)
    stale = np.zeros(len(state.page_ids), dtype=bool)  # removed or changed, by old row
    stale[new_of_old < 0] = True
    stale[[old_row[i] for i in changed if old_row[i] >= 0]] = True
    # unchanged pages keep their lists and candidates (row `carried[i]` of the previous
    # build; changed pages start empty and are searched); those whose lists name a stale page
    # are searched again, those whose candidates do get them rebuilt
    carried = np.array(old_row, dtype=np.int64).reshape(-1)
    carried[changed] = -1
    kept = np.flatnonzero(carried >= 0)  # unchanged pages, in both builds
    olds = carried[kept]
    page_query, passage_query = set(changed), set(changed)
    before: dict[int, set[int]] = {}
    stored = state.lists
    # the same pages in the same order (an edit): rows are carried over as they were read
    same = len(state.page_ids) == n and bool((new_of_old == np.arange(n)).all())
    near, near_named = _remap(stored.near, new_of_old, stale, same)
    via, via_named = _remap(stored.via, new_of_old, stale, same)
    hits_to, _ = _remap(stored.hits_to, new_of_old, stale, same)
    candidates, candidates_named = _remap(state.candidates, new_of_old, stale, same)
    near_radius = np.full(n, NO_RADIUS, np.float32)
    near_radius[kept] = stored.near_radius[olds]

    def carry(rows: Ragged) -> PatchedRows:
        if not same:
            return PatchedRows(taken(rows, carried))
        patched = PatchedRows(rows)
        for i in changed:
            patched[i] = rows.values[:0]
        return patched

    lists = Lists(carry(near), carry(stored.near_scores), near_radius, carry(via),
                  carry(stored.passage_radius), carry(stored.hits_at), carry(hits_to),
                  carry(stored.hits_no), carry(stored.hits_score))
    old_candidates = carry(candidates)
    for i in changed:  # searched below; until then no radius (the entering tests skip them)
        lists.passage_radius[i] = np.full(len(vectors.passages[i]), NO_RADIUS, np.float32)
    page_suspects = kept[near_named[olds]].tolist()
    passage_suspects = kept[via_named[olds]].tolist()
    recheck = set(kept[candidates_named[olds]].tolist())
    news = _Moved(vectors, changed)
    page_query.update(i for i in page_suspects if not news.keeps_page_list(lists, i))
    passage_query.update(i for i in passage_suspects if not news.keeps_passage_lists(lists, i))
    page_query.update(news.entering_page_lists(lists))
    passage_query.update(news.entering_passage_lists(lists))
    for i in page_query | passage_query:
        if i not in changed:
            before[i] = {*lists.near[i].tolist(), *lists.via[i].tolist()}
    # rare terms: where a term's count moved and it is rare before or after, the pages
    # carrying it get their candidates rebuilt
    rare = params.rare_term_pages
    old_df = state.df
    moved = {k for k in set(df) | set(old_df) if df.get(k, 0) != old_df.get(k, 0)}
    extra = {i for key in moved if min(df.get(key, 0), old_df.get(key, 0)) <= rare
             for i in postings.get(key, [])}
    # term weights: a moved count changes the weight of the term on every page carrying it,
    # and so every score those pages take part in; a moved page count changes every weight
    if n != len(state.page_ids):
        rescore = everything
    elif not moved:
        rescore = set()
    else:
        carriers = np.zeros(n, dtype=bool)
        for key in moved:
            carriers[postings.get(key, [])] = True
        carried_over = old_candidates.flat()
        flat = carried_over.values
        owner = np.repeat(np.arange(n), np.diff(carried_over.offsets))[flat >= 0]
        hit = carriers.copy()
        hit[owner[carriers[flat[flat >= 0]]]] = True
        rescore = set(np.flatnonzero(hit).tolist())
    return _Plan(lists, old_candidates, old_row, new_of_old, changed, page_query, passage_query,
                 before, recheck, extra, rescore)
