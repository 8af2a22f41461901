"""Write the overlap finder's artefacts into a staging build: MinHash signatures of every page
and the corpus-wide overlapping pairs, so serving them is a lookup.

Runs after the vectors are stored: candidates come from the build's own vector store (page
nearest neighbours) and the LSH index; scores from the vectors already in memory. Signatures
of pages whose body is unchanged are copied from the previous build.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ingest.embedding import page_passages
from ingest.pages import Page
from ingest.related import term_keys
from ingest.vectorize import VectorBuild
from principles.overlap import artefacts
from principles.overlap.pairs import CorpusVectors, corpus_pairs
from principles.overlap.shingles import Signatures
from principles.settings import Settings
from principles.stores import open_store, tuning_of


def write_overlap(settings: Settings, staging: Path, pages: list[Page], written: VectorBuild,
                  previous_build: Path | None) -> dict[str, int]:
    """Compute and write the artefacts; returns the counts added to the manifest."""
    previous = artefacts.load_signatures(previous_build) if previous_build else None
    signatures = Signatures.compute(
        ((p.id, hashlib.sha256(p.body.encode("utf-8", "replace")).hexdigest(), p.body)
         for p in pages), previous)
    vectors = CorpusVectors(
        ids=[p.id for p in pages], types=[p.type for p in pages], page=written.vectors.page,
        passages=written.vectors.passages,
        lengths=[[len(x.text.split()) for x in
                  page_passages(p, settings.passage_words, settings.passage_overlap)] for p in pages],
        terms=[set(term_keys(p)) for p in pages])
    store = open_store(written.engine, staging, settings.qdrant_url, settings.qdrant_api_key,
                       tuning_of(settings))
    try:
        artefact = corpus_pairs(vectors, store, written.collections["pages"], signatures,
                                settings.overlap_candidates)
    finally:
        store.close()
    artefacts.write(staging, artefact, signatures)
    counts = artefact["counts"]
    return {"overlap_pairs": counts["pairs"], "overlap_clusters": counts["clusters"],
            "overlap_candidate_pairs": counts["candidate_pairs"]}
