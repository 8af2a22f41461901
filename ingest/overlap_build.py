"""Write the overlap finder's artefacts into a staging build: MinHash signatures of every page
and the corpus-wide overlapping pairs, so serving them is a lookup.

Runs after the vectors are stored: candidates come from the build's own vector store (page
nearest neighbours) and the LSH buckets; scores from the vectors already in memory. Signatures
of pages whose body is unchanged are copied from the previous build, and so are the neighbour
lists and pair verdicts a change does not touch (principles/overlap/pairs.py, overlap/state.npz).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar, overload

from ingest.embedding import page_passages
from ingest.pages import Page
from ingest.related import PageVectors, term_keys
from ingest.vectorize import VectorBuild
from principles.overlap import artefacts
from principles.overlap.pair_table import PairTable
from principles.overlap.pairs import CorpusVectors, PairsState, PreviousPairs, corpus_pairs
from principles.overlap.shingles import Signatures
from principles.settings import Settings
from principles.vectors import VectorStore

T = TypeVar("T")


class PerPage(Sequence[T]):
    """`make(page)` for each page, computed on first use: after a small change only the pages
    of the pairs scored again need their passage lengths and terms."""

    def __init__(self, pages: list[Page], make: Callable[[Page], T]) -> None:
        self._pages, self._make = pages, make
        self._made: dict[int, T] = {}

    def __len__(self) -> int:
        return len(self._pages)

    @overload
    def __getitem__(self, i: int) -> T: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[T]: ...

    def __getitem__(self, i: int | slice) -> T | Sequence[T]:
        if isinstance(i, slice):
            return [self[n] for n in range(*i.indices(len(self)))]
        if i not in self._made:
            self._made[i] = self._make(self._pages[i])
        return self._made[i]


def corpus_vectors(settings: Settings, pages: list[Page], vectors: PageVectors) -> CorpusVectors:
    def lengths(page: Page) -> list[int]:
        return [len(x.text.split())
                for x in page_passages(page, settings.passage_words, settings.passage_overlap)]

    return CorpusVectors(
        ids=[p.id for p in pages], types=[p.type for p in pages], page=vectors.page,
        passages=vectors.passages, lengths=PerPage(pages, lengths),
        terms=PerPage(pages, lambda page: set(term_keys(page))))


def write_overlap(settings: Settings, staging: Path, pages: list[Page], written: VectorBuild,
                  store: VectorStore, previous_build: Path | None, hashes: dict[str, str], *,
                  same_vectors: bool = False) -> dict[str, int]:
    """Compute and write the artefacts; returns the counts added to the manifest.
    `same_vectors`: the previous build's vectors of an unchanged page are this build's (same
    model and chunking), so its neighbour lists and pair verdicts can be carried over."""
    old_signatures = artefacts.load_signatures(previous_build) if previous_build else None
    signatures = Signatures.compute(
        ((p.id, hashlib.sha256(p.body.encode("utf-8", "replace")).hexdigest(), p.body)
         for p in pages), old_signatures)
    previous = None
    if previous_build is not None and same_vectors:
        state = PairsState.load(artefacts.folder(previous_build))
        table = PairTable.load(artefacts.folder(previous_build)) if state is not None else None
        if state is not None and table is not None:
            previous = PreviousPairs(state, table)
    vectors = corpus_vectors(settings, pages, written.vectors)
    artefact, state = corpus_pairs(vectors, store, written.collections["pages"], signatures,
                                   settings.overlap_candidates,
                                   hashes=[hashes[p.id] for p in pages], previous=previous)
    artefacts.write(staging, artefact, signatures)
    state.save(artefacts.folder(staging))
    counts = artefact.summary["counts"]
    return {"overlap_pairs": counts["pairs"], "overlap_clusters": counts["clusters"],
            "overlap_candidate_pairs": counts["candidate_pairs"],
            "overlap_pages_searched": counts["pages_searched"],
            "overlap_pairs_scored": counts["pairs_scored"]}
