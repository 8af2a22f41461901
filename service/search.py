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

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np
import numpy.typing as npt
from litestar.types import Receive

from principles.contract import PageRecord
from principles.embedder import QueryEncoder
from principles.sparse import PAGES_DIR, SPARSE_DIR, SparseIndex, stem_word, stems, words_with_offsets
from principles.vectors import VectorStore, Where, point_id
from service.admission import ModelLanes
from service.index import IndexView

Mode = Literal["hybrid", "dense", "sparse"]
T = TypeVar("T")
RRF_K = 10
DEPTH = 100  # passages fetched per retriever before the roll-up to pages
SNIPPET_CHARS = 280


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


@dataclass
class PageHit:
    page_id: str
    score: float
    passage: int  # index into the page's passages, -1 for the head (title/description)
    ranks: dict[str, int] = field(default_factory=dict)


def roll_up(hits: list[tuple[float, dict[str, Any]]]) -> list[PageHit]:
    """Best passage per page, pages ordered by that passage's score."""
    best: dict[str, PageHit] = {}
    for score, payload in hits:
        page_id = payload["page_id"]
        if page_id not in best or score > best[page_id].score:
            best[page_id] = PageHit(page_id, score, int(payload.get("passage", -1)))
    return sorted(best.values(), key=lambda h: (-h.score, h.page_id))


def rrf(rankings: dict[str, list[PageHit]], k: int = RRF_K) -> list[PageHit]:
    fused: dict[str, PageHit] = {}
    for name, ranking in rankings.items():
        for rank, hit in enumerate(ranking, start=1):
            entry = fused.setdefault(hit.page_id, PageHit(hit.page_id, 0.0, hit.passage))
            entry.score += 1.0 / (k + rank)
            entry.ranks[name] = rank
            if name == "dense_passages" or (entry.passage < 0 <= hit.passage):
                entry.passage = hit.passage  # the best dense passage makes the best snippet
    return sorted(fused.values(), key=lambda h: (-h.score, h.page_id))


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
        return cls(SparseIndex.load(build, SPARSE_DIR), SparseIndex.load(build, PAGES_DIR))


class SearchEngine:
    def __init__(self, index: IndexView, store: VectorStore, sparse: SparseIndexes,
                 encoder: QueryEncoder, include_drafts: bool, lanes: ModelLanes,
                 owns_lanes: bool = False) -> None:
        self.index = index
        self.store = store
        self.sparse = sparse
        self.masks = {"passages": SparseMasks(sparse.passages), "pages": SparseMasks(sparse.pages)}
        self.encoder = encoder
        self.include_drafts = include_drafts
        self.collections = index.manifest.collections
        # Point id -> (page id, passage; -1 = the page vector). Dense hits come back without
        # payload: reading payloads is what made a search slow (and page-fault) at 50k pages.
        self.points: dict[str, tuple[str, int]] = {}
        for page_id, page in index.pages.items():
            self.points[point_id(page_id)] = (page_id, -1)
            for i in range(len(page["passages"])):
                self.points[point_id(f"{page_id}#{i}")] = (page_id, i)
        # Model calls run on the lanes' threads (service/admission.py), one per kind of work:
        # torch's OpenMP keeps a thread team per calling thread, and many teams (e.g. anyio's
        # pool threads) halve encode speed on 2 cores (7.8 ms on one thread, 14.7 ms on many).
        self.lanes = lanes
        self.owns_lanes = owns_lanes  # False when the process shares them across builds

    def warm_up(self) -> None:
        self.lanes.search.call(lambda: self.encoder.encode_query("warm up"))

    async def on_model_thread(self, work: Callable[[], T], receive: Receive | None = None) -> T:
        """Run `work` (which encodes) on the search lane, admitted or refused at once (503);
        dropped before it starts if the client behind `receive` has gone."""
        return await self.lanes.search.run(work, receive)

    def close(self) -> None:
        self.store.close()
        if self.owns_lanes:
            self.lanes.close()

    def dense(self, vector: npt.NDArray[np.float32], where: Where, limit: int) -> dict[str, list[PageHit]]:
        """Two ranked lists: pages by their page vector, pages by their best passage."""
        lists: dict[str, list[PageHit]] = {}
        for name, depth in (("passages", DEPTH), ("pages", max(limit, DEPTH // 2))):
            hits = []
            for hit in self.store.search(self.collections[name], vector, depth, where, fields=()):
                page_id, passage = self.points[hit.key]
                hits.append((hit.score, {"page_id": page_id, "passage": passage}))
            lists[f"dense_{name}"] = roll_up(hits)
        return lists

    def sparse_search(self, query: str, filters: Filters) -> dict[str, list[PageHit]]:
        """Two ranked lists: BM25 over passages (best passage per page) and over whole pages."""
        lists: dict[str, list[PageHit]] = {}
        for name, index in (("passages", self.sparse.passages), ("pages", self.sparse.pages)):
            mask = self.masks[name].mask(filters, self.include_drafts)
            lists[f"sparse_{name}"] = roll_up(index.search(query, DEPTH, mask))
        return lists

    def search(self, query: str, filters: Filters, mode: Mode, limit: int) -> list[PageHit]:
        lists: dict[str, list[PageHit]] = {}
        if mode in ("hybrid", "sparse"):
            lists.update(self.sparse_search(query, filters))
        if mode in ("hybrid", "dense"):
            vector = self.encoder.encode_query(query)
            lists.update(self.dense(vector, filters.where(self.include_drafts), limit))
        return rrf(lists)[:limit]

    def snippet(self, page: PageRecord, passage: int, query: str) -> str:
        """The matching passage (or the description), query terms wrapped in <mark>."""
        spans = page["passages"]
        if 0 <= passage < len(spans):
            start, end = spans[passage]
            text = page["body"][start:end]
        else:
            text = page["description"] or page["body"][:SNIPPET_CHARS]
        return mark(text, stems(query))


def mark(text: str, query_stems: set[str]) -> str:
    """HTML-escaped text around the first match, matches in <mark>."""
    words = words_with_offsets(text)
    matched = [(s, e) for s, e, w in words if stem_word(w) in query_stems]
    start = 0
    if matched and matched[0][0] > SNIPPET_CHARS // 2:
        start = text.rfind(" ", 0, matched[0][0] - 60) + 1
    end = min(len(text), start + SNIPPET_CHARS)
    if end < len(text):
        end = text.rfind(" ", start, end) if text.rfind(" ", start, end) > start else end
    out, cursor = [], start
    for s, e in matched:
        if s < start or e > end:
            continue
        out.append(html.escape(text[cursor:s]))
        out.append(f"<mark>{html.escape(text[s:e])}</mark>")
        cursor = e
    out.append(html.escape(text[cursor:end]))
    snippet = re.sub(r"\s+", " ", "".join(out)).strip()
    return ("… " if start > 0 else "") + snippet + (" …" if end < len(text) else "")
