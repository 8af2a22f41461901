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
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from litestar.types import Receive

from principles.contract import PageRecord
from principles.sparse import PAGES_DIR, SPARSE_DIR, SparseIndex, stem_word, stems, tokenize
from principles.vectors import VectorStore, Where, point_id
from service.admission import ModelLanes
from service.index import IndexView
from service.query_vectors import QueryVectors

Mode = Literal["hybrid", "dense", "sparse"]
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
    return best_per_page((score, payload["page_id"], int(payload.get("passage", -1)))
                         for score, payload in hits)


def best_per_page(hits: Iterable[tuple[float, str, int]]) -> list[PageHit]:
    """`roll_up` over (score, page id, passage) triples, without a payload dict per hit."""
    best: dict[str, tuple[float, int]] = {}
    for score, page_id, passage in hits:
        seen = best.get(page_id)
        if seen is None or score > seen[0]:
            best[page_id] = (score, passage)
    ordered = sorted(best.items(), key=lambda item: (-item[1][0], item[0]))
    return [PageHit(page_id, score, passage) for page_id, (score, passage) in ordered]


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

    def close(self) -> None:
        self.store.close()
        if self.owns_lanes:
            self.lanes.close()

    def dense(self, vector: npt.NDArray[np.float32], where: Where, limit: int) -> dict[str, list[PageHit]]:
        """Two ranked lists: pages by their page vector, pages by their best passage."""
        lists: dict[str, list[PageHit]] = {}
        points = self.points
        for name, depth in (("passages", DEPTH), ("pages", max(limit, DEPTH // 2))):
            hits = self.store.search(self.collections[name], vector, depth, where, fields=())
            lists[f"dense_{name}"] = best_per_page((hit.score, *points[hit.key]) for hit in hits)
        return lists

    def sparse_search(self, query: str, filters: Filters) -> dict[str, list[PageHit]]:
        """Two ranked lists: BM25 over passages (best passage per page) and over whole pages."""
        lists: dict[str, list[PageHit]] = {}
        tokens = tokenize([query])[0]  # once for both indexes
        for name, index in (("passages", self.sparse.passages), ("pages", self.sparse.pages)):
            mask = self.masks[name].mask(filters, self.include_drafts)
            lists[f"sparse_{name}"] = roll_up(index.search_tokens(tokens, DEPTH, mask))
        return lists

    def search(self, query: str, filters: Filters, mode: Mode, limit: int) -> list[PageHit]:
        """The ranked pages, in one go on the calling thread (benches and offline tools)."""
        lists: dict[str, list[PageHit]] = {}
        if mode in ("hybrid", "sparse"):
            lists.update(self.sparse_search(query, filters))
        if mode in ("hybrid", "dense"):
            vector = self.encoder.encode_query(query)
            lists.update(self.dense(vector, filters.where(self.include_drafts), limit))
        return rrf(lists)[:limit]

    async def find(self, query: str, filters: Filters, mode: Mode, limit: int,
                   receive: Receive | None = None) -> list[PageHit]:
        """`search` as the server runs it, on the event loop: the query vector comes from the
        process's cache or its next batched model call (admitted on the search lane: 503 when
        full; dropped if the client behind `receive` leaves). BM25 runs after the vector has
        come, not while it encodes: measured, the overlap saved nothing, since both halves
        then fight for the GIL (the encode took ~1 ms longer)."""
        lists: dict[str, list[PageHit]] = {}
        vector = await self.vectors.vector(query, receive) if mode in ("hybrid", "dense") else None
        if mode in ("hybrid", "sparse"):
            lists.update(self.sparse_search(query, filters))
        if vector is not None:
            lists.update(self.dense(vector, filters.where(self.include_drafts), limit))
        return rrf(lists)[:limit]

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


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"  # exactly what \w matches in a str pattern


@lru_cache(maxsize=1024)
def _starting_with(firsts: frozenset[str]) -> re.Pattern[str]:
    """WORD, only the words starting with one of these letters (either case): stemming keeps a
    word's first letter, so no other word can have a query stem."""
    letters = "".join(re.escape(c) for c in sorted(firsts))
    return re.compile(rf"(?iu)\b[{letters}]\w+\b" if letters else r"(?!)")


def matches(text: str, query_stems: set[str]) -> list[tuple[int, int]]:
    """Start and end of every word of `text` whose stem is a query stem, in order. Each
    distinct word that could match is stemmed once, then only the words that match are
    located (several times faster than stemming every word: snippets were a third of a
    search's time)."""
    firsts = frozenset(stem[0] for stem in query_stems if stem)
    found = [w for w in set(_starting_with(firsts).findall(text)) if stem_word(w) in query_stems]
    spans = []
    for word in found:
        at = text.find(word)
        while at >= 0:
            end = at + len(word)
            if (at == 0 or not _is_word_char(text[at - 1])) and (
                    end == len(text) or not _is_word_char(text[end])):
                spans.append((at, end))
            at = text.find(word, end)
    spans.sort()
    return spans


def mark(text: str, query_stems: set[str]) -> str:
    """HTML-escaped text around the first match, matches in <mark>."""
    matched = matches(text, query_stems) if query_stems else []
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
