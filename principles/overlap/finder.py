"""Draft mode: which existing pages cover a draft, ranked, with evidence.

Two rounds against the build's vector store, never a scan of the corpus:
1. candidates: the nearest passages of each draft passage, the nearest page vectors of the
   draft as a whole, and LSH buckets of its MinHash (copied text);
2. exact: each draft passage against every passage of the candidates only (a `page_id`
   filter), so every candidate is scored on all its passages, not on what made the top k.
`encode` is the only step that runs the model; the service runs it on its model thread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from principles.contract import PageRecord, TermRecord
from principles.embedder import QueryEncoder, Vectors
from principles.overlap import scoring
from principles.overlap.draft import Draft
from principles.overlap.results import (
    DraftOverlap,
    DraftReport,
    DraftSummary,
    PassageMatch,
    PassageRef,
    page_term_keys,
    passage_ref,
    shared_term,
)
from principles.overlap.shingles import Signatures, shingles, signature
from principles.page_types import HUB_TYPES
from principles.vectors import VectorStore, Where

CANDIDATES = 20
MAX_CANDIDATES = 100  # pages scored exactly per draft


@dataclass(frozen=True)
class DraftVectors:
    passages: Vectors  # (m, d), one per draft passage
    head: Vectors  # (d,), the draft as a whole


class OverlapFinder:
    """Everything a draft is compared with: pages and terms of one build, its vector store
    (collections from the manifest) and its MinHash signatures (None on older builds)."""

    def __init__(self, pages: dict[str, PageRecord], terms: dict[str, TermRecord],
                 store: VectorStore, collections: dict[str, str], signatures: Signatures | None,
                 *, include_drafts: bool = False, candidates: int = CANDIDATES) -> None:
        self.pages = pages
        self.terms = terms
        self.store = store
        self.collections = collections
        self.signatures = signatures
        self.include_drafts = include_drafts
        self.candidates = candidates
        labels = {t["label"].lower(): key for key, t in terms.items() if len(t["label"]) > 2}
        self.labels = labels
        self.mention = re.compile(r"\b(" + "|".join(
            re.escape(label) for label in sorted(labels, key=len, reverse=True)) + r")\b",
            re.IGNORECASE) if labels else None

    def encode(self, encoder: QueryEncoder, draft: Draft) -> DraftVectors:
        vectors = encoder.encode([*draft.passage_texts(), draft.head_text()])
        return DraftVectors(passages=vectors[:-1], head=vectors[-1])

    def find(self, encoder: QueryEncoder, draft: Draft, *, limit: int = 10,
             min_score: float = scoring.RELATED, exclude: frozenset[str] = frozenset()) -> DraftReport:
        return self.match(draft, self.encode(encoder, draft), limit=limit, min_score=min_score,
                          exclude=exclude)

    def match(self, draft: Draft, vectors: DraftVectors, *, limit: int = 10,
              min_score: float = scoring.RELATED, exclude: frozenset[str] = frozenset()) -> DraftReport:
        """`exclude`: pages never reported, e.g. the page a draft is a new version of."""
        where: list[tuple[str, Any]] = [] if self.include_drafts else [("draft", False)]
        found = shingles(draft.body)
        sig = signature(found)
        candidates = [c for c in self._candidates(vectors, sig, where) if c not in exclude]
        results = self._score(draft, vectors, candidates, where, sig, len(found))
        kept = [r for r in results if r.score >= min_score or r.band == scoring.BANDS[0]]
        kept.sort(key=lambda r: (r.band != scoring.BANDS[0], -r.score, r.id))
        summary = DraftSummary(title=draft.title, words=draft.words, passages=len(draft.passages),
                               terms=sorted(self._draft_terms(draft)))
        return DraftReport(draft=summary, thresholds=scoring.thresholds(), results=kept[:limit])

    def _visible(self, page_id: str) -> bool:
        page = self.pages.get(page_id)
        return page is not None and (self.include_drafts or not page["draft"])

    def _candidates(self, vectors: DraftVectors, sig: Any, where: Where) -> list[str]:
        """Nearest pages by their best hit, at most MAX_CANDIDATES (a long draft's passages
        each bring their own neighbours), plus every LSH near-duplicate candidate."""
        best: dict[str, float] = {}
        searches = [(self.collections["passages"], v) for v in vectors.passages]
        for collection, vector in [*searches, (self.collections["pages"], vectors.head)]:
            for hit in self.store.search(collection, vector, self.candidates, where,
                                         fields=("page_id",)):
                page_id = hit.payload["page_id"]
                best[page_id] = max(best.get(page_id, -1.0), hit.score)
        found = set(sorted(best, key=lambda p: (-best[p], p))[:MAX_CANDIDATES])
        if self.signatures is not None:
            found.update(self.signatures.similar(sig))
        return sorted(p for p in found if self._visible(p))

    def _score(self, draft: Draft, vectors: DraftVectors, candidates: list[str], where: Where,
               sig: Any, size: int) -> list[DraftOverlap]:
        if not candidates:
            return []
        restrict = [*where, ("page_id", candidates)]
        sims = {c: np.full((len(vectors.passages), len(self.pages[c]["passages"])), -1.0,
                           dtype=np.float32) for c in candidates}
        total = sum(m.shape[1] for m in sims.values())
        for i, vector in enumerate(vectors.passages):
            for hit in self.store.search(self.collections["passages"], vector, total, restrict,
                                         fields=("page_id", "passage")):
                sims[hit.payload["page_id"]][i, int(hit.payload["passage"])] = hit.score
        heads = {h.payload["page_id"]: h.score for h in self.store.search(
            self.collections["pages"], vectors.head, len(candidates), restrict, fields=("page_id",))}
        weights = scoring.passage_weights([len(p.text.split()) for p in draft.passages])
        mine = self._draft_terms(draft)
        return [self._result(draft, c, sims[c], heads.get(c, 0.0), weights, mine, sig, size)
                for c in candidates]

    def _result(self, draft: Draft, page_id: str, sims: Any, head: float, weights: Any,
                mine: set[str], sig: Any, size: int) -> DraftOverlap:
        page = self.pages[page_id]
        cover = scoring.coverage(sims.max(axis=1), weights)
        score = scoring.combine(head, cover.similarity)
        jac = self.signatures.jaccard(page_id, sig, size) if self.signatures else None
        contained = None
        if jac is not None and self.signatures is not None:
            contained = scoring.containment(jac, size, self.signatures.sizes[self.signatures.row[page_id]])
        evidence = [PassageMatch(similarity=s, source=_draft_passage(draft, i),
                                 target=passage_ref(page, j)) for i, j, s in scoring.evidence(sims)]
        shared = sorted(mine & page_term_keys(page))
        return DraftOverlap(
            id=page_id, title=page["title"], url=page["url"], type=page["type"],
            score=round(score, 4),
            band=scoring.band(score, jac, contained,
                              hub=draft.hub or page["type"] in HUB_TYPES),
            covered=round(cover.covered, 4), passage_similarity=round(cover.similarity, 4),
            page_similarity=round(head, 4), jaccard=jac, containment=contained,
            evidence=evidence, shared_terms=[shared_term(self.terms, k) for k in shared])

    def _draft_terms(self, draft: Draft) -> set[str]:
        """Terms the draft declares (by slug or label) or names in its text."""
        keys = {key for key, t in self.terms.items() if t["slug"] in draft.terms}
        if self.mention is not None:
            keys.update(self.labels[m.lower()] for m in self.mention.findall(draft.body)
                        if m.lower() in self.labels)
        return keys


def _draft_passage(draft: Draft, index: int) -> PassageRef:
    p = draft.passages[index]
    return PassageRef(index=index, start=p.start, end=p.end, text=p.text)
