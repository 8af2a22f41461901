"""Write the overlap finder's artefacts into a staging build: MinHash signatures of every page
and the corpus-wide overlapping pairs, so serving them is a lookup.

Runs after the vectors are stored: candidates come from the build's own vector store (page
nearest neighbours) and the LSH buckets; scores from the vectors already in memory. Signatures
of pages whose body is unchanged are copied from the previous build, and so are the neighbour
lists and pair verdicts a change does not touch (principles/overlap/pairs.py, overlap/state.npz).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ingest.embedding import page_passages
from ingest.pages import Page
from ingest.related import PageVectors, term_keys
from ingest.vectorize import VectorBuild
from principles.overlap import artefacts
from principles.overlap.pairs import CorpusVectors, PairsState, PreviousPairs, corpus_pairs
from principles.overlap.shingles import Signatures
from principles.settings import Settings
from principles.stores import open_store, tuning_of


def corpus_vectors(settings: Settings, pages: list[Page], vectors: PageVectors) -> CorpusVectors:
    return CorpusVectors(
        ids=[p.id for p in pages], types=[p.type for p in pages], page=vectors.page,
        passages=vectors.passages,
        lengths=[[len(x.text.split()) for x in
                  page_passages(p, settings.passage_words, settings.passage_overlap)] for p in pages],
        terms=[set(term_keys(p)) for p in pages])


def write_overlap(settings: Settings, staging: Path, pages: list[Page], written: VectorBuild,
                  previous_build: Path | None, hashes: dict[str, str], *,
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
        records = artefacts.load_pairs(previous_build) if state is not None else None
        if state is not None and records is not None:
            previous = PreviousPairs(state, records["pairs"])
    vectors = corpus_vectors(settings, pages, written.vectors)
    store = open_store(written.engine, staging, settings.qdrant_url, settings.qdrant_api_key,
                       tuning_of(settings))
    try:
        artefact, state = corpus_pairs(vectors, store, written.collections["pages"], signatures,
                                       settings.overlap_candidates,
                                       hashes=[hashes[p.id] for p in pages], previous=previous)
    finally:
        store.close()
    artefacts.write(staging, artefact, signatures)
    state.save(artefacts.folder(staging))
    counts = artefact["counts"]
    return {"overlap_pairs": counts["pairs"], "overlap_clusters": counts["clusters"],
            "overlap_candidate_pairs": counts["candidate_pairs"],
            "overlap_pages_searched": counts["pages_searched"],
            "overlap_pairs_scored": counts["pairs_scored"]}
