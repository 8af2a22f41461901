"""Hybrid search: four ranked lists of pages fused by reciprocal rank fusion.

- dense pages: the query vector against one vector per page (head fields and body);
- dense passages: against every passage, each page ranked by its best passage;
- sparse pages: BM25 over whole pages (head fields and body as one document);
- sparse passages: BM25 over the same passages, each page ranked by its best passage.
Page lists see a page's subject as a whole; passage lists find the one paragraph that answers
a question inside a long page. RRF (score = sum of 1 / (k + rank), k = 10) needs no score
calibration between a cosine and a BM25 score. On the site corpus's judged queries
(tests/data/site_queries.json) this fusion beats the former two-list fusion and each mode
alone; `bench/quality.py` prints the figures. `dense` and `sparse` modes fuse their two lists.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from litestar.types import Receive

from principles.contract import PageRecord
from principles.sparse import PAGES_DIR, SPARSE_DIR, SparseIndex, query_tokens, stems
from principles.vectors import ExactSearch, SearchesExactly, VectorStore, Where, point_id
from service.admission import ModelLanes
from service.index import IndexView
from service.page_lists import PageHit, PageList, best_per_page, fuse, number_pages
from service.query_vectors import QueryVectors
from service.snippets import SNIPPET_CHARS, mark, snippet_pattern

Mode = Literal["hybrid", "dense", "sparse"]
RRF_K = 10
DEPTH = 100  # passages fetched per retriever before the roll-up to pages


@dataclass(frozen=True)
class Filters:
    type: str | None = None
    tags: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    def where(self, include_drafts: bool) -> list[tuple[str, Any]]:
        conditions: list[tuple[str, Any]] = [] if include_drafts else [("draft", False)]
        if self.type:
            conditions.append(("type", self.type))
        conditions += [("terms", f"tags/{t}") for t in self.tags]
        conditions += [("terms", f"categories/{c}") for c in self.categories]
        return conditions


def roll_up(hits: list[tuple[float, dict[str, Any]]]) -> list[PageHit]:
    """Best passage per page, pages ordered by that passage's score (then page id)."""
    ids = sorted({payload["page_id"] for _, payload in hits})
    numbers = {page_id: number for number, page_id in enumerate(ids)}
    best = best_per_page(
        np.array([numbers[payload["page_id"]] for _, payload in hits], dtype=np.intp),
        np.array([score for score, _ in hits], dtype=np.float64),
        np.array([int(payload.get("passage", -1)) for _, payload in hits], dtype=np.intp))
    return [PageHit(ids[page], score, passage) for page, score, passage in
            zip(best.pages.tolist(), best.scores.tolist(), best.passages.tolist(), strict=True)]


def rrf(rankings: dict[str, list[PageHit]], k: int = RRF_K) -> list[PageHit]:
    """`fuse` over lists of PageHit (tests and tools; the engine fuses arrays)."""
    ids = sorted({hit.page_id for ranking in rankings.values() for hit in ranking})
    numbers = {page_id: number for number, page_id in enumerate(ids)}
    lists = {name: PageList(np.array([numbers[h.page_id] for h in ranking], dtype=np.intp),
                            np.array([h.score for h in ranking], dtype=np.float64),
                            np.array([h.passage for h in ranking], dtype=np.intp))
             for name, ranking in rankings.items()}
    return fuse(lists, len(ids), len(ids), k, ids)


@dataclass(frozen=True)
class Located:
    """Where each row of a ranked source lies: its page number and passage (-1: the page)."""

    pages: npt.NDArray[np.intp]
    passages: npt.NDArray[np.intp]

    @classmethod
    def of(cls, places: list[tuple[int, int]]) -> Located:
        table = np.array(places, dtype=np.intp).reshape(-1, 2)
        return cls(np.ascontiguousarray(table[:, 0]), np.ascontiguousarray(table[:, 1]))

    def best_per_page(self, rows: npt.NDArray[np.intp], scores: npt.NDArray[np.float32]) -> PageList:
        return best_per_page(self.pages[rows], scores, self.passages[rows])


class SparseMasks:
    """Per-document filter masks for BM25, built once from the payloads."""

    def __init__(self, sparse: SparseIndex) -> None:
        payloads = sparse.payloads
        self.draft = np.array([p["draft"] for p in payloads], dtype=bool)
        self.types = np.array([p["type"] for p in payloads], dtype=object)
        self.by_term: dict[str, npt.NDArray[np.bool_]] = {}
        for i, payload in enumerate(payloads):
            for term in payload["terms"]:
                self.by_term.setdefault(term, np.zeros(len(payloads), dtype=bool))[i] = True

    @lru_cache(maxsize=256)  # noqa: B019 - one instance per app; filters repeat a lot
    def mask(self, filters: Filters, include_drafts: bool) -> npt.NDArray[np.float32]:
        mask = np.ones(len(self.draft), dtype=bool) if include_drafts else ~self.draft
        if filters.type:
            mask &= self.types == filters.type
        for term in filters.where(True):
            if term[0] == "terms":
                mask &= self.by_term.get(term[1], np.zeros(len(self.draft), dtype=bool))
        return mask.astype(np.float32)


@dataclass(frozen=True)
class SparseIndexes:
    """The build's two BM25 indexes: one document per passage, one per page."""

    passages: SparseIndex
    pages: SparseIndex

    @classmethod
    def load(cls, build: Path) -> SparseIndexes:
        """Both indexes, their score matrices memory-mapped: every worker process of a server
        reads the same pages of the page cache instead of a copy each."""
        return cls(SparseIndex.load(build, SPARSE_DIR, mmap=True),
                   SparseIndex.load(build, PAGES_DIR, mmap=True))


class SearchEngine:
    def __init__(self, index: IndexView, store: VectorStore, sparse: SparseIndexes,
                 vectors: QueryVectors, include_drafts: bool, lanes: ModelLanes,
                 owns_lanes: bool = False) -> None:
        self.index = index
        self.store = store
        self.sparse = sparse
        self.masks = {"passages": SparseMasks(sparse.passages), "pages": SparseMasks(sparse.pages)}
        self.vectors = vectors  # the process's query vectors: cache and batched encodes
        self.encoder = vectors.encoder
        self.include_drafts = include_drafts
        self.collections = index.manifest.collections
        # Pages by number (position in sorted ids): ranked lists are arrays of page numbers.
        self.numbers = number_pages(index.pages)
        self.page_ids = sorted(index.pages)
        # Point id -> (page number, passage; -1 = the page vector). Dense hits come back without
        # payload: reading payloads is what made a search slow (and page-fault) at 50k pages.
        self.points: dict[str, tuple[int, int]] = {}
        for page_id, page in index.pages.items():
            number = self.numbers[page_id]
            self.points[point_id(page_id)] = (number, -1)
            for i in range(len(page["passages"])):
                self.points[point_id(f"{page_id}#{i}")] = (number, i)
        self.documents = {name: Located.of([(self.numbers[p["page_id"]], int(p.get("passage", -1)))
                                            for p in found.payloads])
                          for name, found in (("passages", sparse.passages), ("pages", sparse.pages))}
        self._exact: dict[str, tuple[ExactSearch, Located] | None] = {}
        for name in ("passages", "pages"):  # now, not in the first search
            self._exact_rows(self.collections[name])
        # Model calls run on the lanes' threads (service/admission.py), one per kind of work:
        # torch's OpenMP keeps a thread team per calling thread, and many teams (e.g. anyio's
        # pool threads) halve encode speed on 2 cores (7.8 ms on one thread, 14.7 ms on many).
        self.lanes = lanes
        self.owns_lanes = owns_lanes  # False when the process shares them across builds
        # A lone search's BM25 runs here while its query encodes on the event loop (`find`).
        self._beside = ThreadPoolExecutor(max_workers=1, thread_name_prefix="search-beside")

    def warm_up(self) -> None:
        self.lanes.search.call(lambda: self.encoder.encode_query("warm up"))

    def close(self) -> None:
        self._beside.shutdown(wait=False)
        self.store.close()
        if self.owns_lanes:
            self.lanes.close()

    def dense(self, vector: npt.NDArray[np.float32], where: Where, limit: int) -> dict[str, PageList]:
        """Two ranked lists: pages by their page vector, pages by their best passage."""
        return {f"dense_{name}": self._nearest_pages(self.collections[name], vector, depth, where)
                for name, depth in (("passages", DEPTH), ("pages", max(limit, DEPTH // 2)))}

    def _nearest_pages(self, collection: str, vector: npt.NDArray[np.float32], depth: int,
                       where: Where) -> PageList:
        exact = self._exact_rows(collection)
        if exact is not None:
            matrix, located = exact
            return located.best_per_page(*matrix.top(vector, depth, where))
        hits = self.store.search(collection, vector, depth, where, fields=())
        found = Located.of([self.points[hit.key] for hit in hits])
        rows = np.arange(len(hits), dtype=np.intp)
        return found.best_per_page(rows, np.array([hit.score for hit in hits], dtype=np.float32))

    def _exact_rows(self, collection: str) -> tuple[ExactSearch, Located] | None:
        """A small collection's matrix and where each of its rows lies (None: the store
        searches it), worked out on first use."""
        if collection not in self._exact:
            exact = self.store.exact(collection) if isinstance(self.store, SearchesExactly) else None
            self._exact[collection] = None if exact is None else (
                exact, Located.of([self.points[key] for key in exact.keys]))
        return self._exact[collection]

    def sparse_search(self, query: str, filters: Filters) -> dict[str, PageList]:
        """Two ranked lists: BM25 over passages (best passage per page) and over whole pages."""
        lists: dict[str, PageList] = {}
        tokens = query_tokens(query)  # once for both indexes
        for name, index in (("passages", self.sparse.passages), ("pages", self.sparse.pages)):
            mask = self.masks[name].mask(filters, self.include_drafts)
            lists[f"sparse_{name}"] = self.documents[name].best_per_page(
                *index.top_documents(tokens, DEPTH, mask))
        return lists

    def fuse(self, lists: dict[str, PageList], limit: int) -> list[PageHit]:
        return fuse(lists, len(self.page_ids), limit, RRF_K, self.page_ids)

    def search(self, query: str, filters: Filters, mode: Mode, limit: int) -> list[PageHit]:
        """The ranked pages, in one go on the calling thread (benches and offline tools)."""
        lists: dict[str, PageList] = {}
        if mode in ("hybrid", "sparse"):
            lists.update(self.sparse_search(query, filters))
        if mode in ("hybrid", "dense"):
            vector = self.encoder.encode_query(query)
            lists.update(self.dense(vector, filters.where(self.include_drafts), limit))
        return self.fuse(lists, limit)

    async def find(self, query: str, filters: Filters, mode: Mode, limit: int,
                   receive: Receive | None = None) -> list[PageHit]:
        """`search` as the server runs it, on the event loop: the query vector comes from the
        process's cache or its next batched model call (admitted on the search lane: 503 when
        full; dropped if the client behind `receive` leaves).

        BM25 runs after a cached or batched vector has come, not while a batch encodes on the
        lane's thread: measured, that overlap saved nothing, since both halves fought for the
        GIL (the encode took ~1 ms longer). A lone query encoded on the event loop is another
        matter: its forward pass releases the GIL, and BM25 started on a thread of ours just
        then (`meanwhile`) is done before the encode is, ~0.4 ms off a lone search when the
        other core is free (when it is not, BM25 may not have started: it runs here then)."""
        lists: dict[str, PageList] = {}
        sparse = mode in ("hybrid", "sparse")
        beside: list[Future[dict[str, PageList]]] = []

        def meanwhile() -> None:
            beside.append(self._beside.submit(self._beside_encode, query, filters))

        vector = await self.vectors.vector(query, receive, meanwhile if sparse else None) \
            if mode in ("hybrid", "dense") else None
        if sparse:  # beside work not started yet (no core was free) is done here instead
            started = bool(beside) and not beside[0].cancel()
            lists.update(beside[0].result() if started else self.sparse_search(query, filters))
        if vector is not None:
            lists.update(self.dense(vector, filters.where(self.include_drafts), limit))
        return self.fuse(lists, limit)

    def _beside_encode(self, query: str, filters: Filters) -> dict[str, PageList]:
        """What a lone search does while its query encodes: BM25, and its snippets' word
        pattern compiled (a pattern per query's letters, ~0.1 ms when not cached yet)."""
        lists = self.sparse_search(query, filters)
        snippet_pattern(stems(query))
        return lists

    def snippet(self, page: PageRecord, passage: int, query: str | set[str]) -> str:
        """The matching passage (or the description), query terms (or their stems, worked
        out once per query) wrapped in <mark>."""
        spans = page["passages"]
        if 0 <= passage < len(spans):
            start, end = spans[passage]
            text = page["body"][start:end]
        else:
            text = page["description"] or page["body"][:SNIPPET_CHARS]
        return mark(text, stems(query) if isinstance(query, str) else query)
