"""The overlap files inside a build, and reading the corpus-wide pairs back as results.

    <build>/overlap/summary.json thresholds, neighbours, counts, clusters
    <build>/overlap/pairs.npz    kept pairs as columns, and records-*.bin their evidence
                                 (see pair_table.py)
    <build>/overlap/minhash.npz  one MinHash signature per page (see shingles.py)

Ingest writes them; serve and `principles overlap --all` only read them, so the pairs
endpoint is a lookup.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from principles.contract import PageRecord, TermRecord
from principles.overlap import scoring
from principles.overlap.pair_table import PairsArtefact, PairTable
from principles.overlap.results import (
    Cluster,
    ClusterPage,
    PairOverlap,
    PairsReport,
    PassageMatch,
    page_ref,
    passage_ref,
    shared_term,
)
from principles.overlap.shingles import Signatures

FOLDER = "overlap"
SUMMARY = "summary.json"
MISSING = ("this index build has no overlap data (it predates the overlap finder or its "
           "format); run `principles ingest --index {index} --force`")


def folder(build: Path) -> Path:
    return build / FOLDER


def write(build: Path, artefact: PairsArtefact, signatures: Signatures) -> None:
    target = folder(build)
    signatures.save(target)
    artefact.table.save(target)
    (target / SUMMARY).write_bytes(msgspec.json.encode(artefact.summary))


def load_pairs(build: Path) -> PairsArtefact | None:
    """The build's pairs (records read lazily); None when it has none."""
    path = folder(build) / SUMMARY
    table = PairTable.load(folder(build))
    if table is None or not path.is_file():
        return None
    summary: dict[str, Any] = msgspec.json.decode(path.read_bytes())
    return PairsArtefact(summary, table)


def load_signatures(build: Path) -> Signatures | None:
    return Signatures.load(folder(build))


def pairs_report(artefact: PairsArtefact, pages: dict[str, PageRecord],
                 terms: dict[str, TermRecord], visible: Callable[[PageRecord], bool],
                 *, min_score: float = scoring.STRONG, limit: int = 100) -> PairsReport:
    """Pairs of visible pages scoring >= min_score (near-duplicates always), near-duplicates
    first, then by score; clusters whose visible members are still 3 or more. Filtered and
    ordered on the columns; only the pairs returned are decoded."""
    def shown(page_id: str) -> bool:
        return page_id in pages and visible(pages[page_id])

    summary, table = artefact.summary, artefact.table
    clusters: list[Cluster] = []
    for c in summary["clusters"]:
        members = [p for p in c["pages"] if shown(p)]
        if len(members) < 3 or c["score"] < min_score:
            continue
        clusters.append(Cluster(id=c["id"], score=c["score"], pages=[
            ClusterPage(**vars(page_ref(pages[p])), score=c["page_scores"][p]) for p in members]))
    kept_clusters = {c.id for c in clusters}
    on_show = np.array([shown(page_id) for page_id in table.ids], dtype=bool)
    near_duplicate = table.band == 0
    rows = np.flatnonzero(on_show[table.a] & on_show[table.b]
                          & ((table.score >= min_score) | near_duplicate))
    # the table is in (-score, a, b) order already: a stable sort puts near-duplicates first
    rows = rows[np.argsort(~near_duplicate[rows], kind="stable")][:limit]
    results = [_pair(table.record(r), pages, terms, kept_clusters) for r in rows.tolist()]
    return PairsReport(min_score=min_score, thresholds=summary["thresholds"], results=results,
                       clusters=clusters)


def _pair(row: dict[str, Any], pages: dict[str, PageRecord],
          terms: dict[str, TermRecord], clusters: set[int]) -> PairOverlap:
    a, b = pages[row["a"]], pages[row["b"]]
    evidence = [PassageMatch(similarity=s, source=passage_ref(a, i), target=passage_ref(b, j))
                for i, j, s in row["evidence"]]
    return PairOverlap(
        id=a["id"], title=a["title"], url=a["url"], type=a["type"], score=row["score"],
        band=row["band"], other=page_ref(b), covered=row["covered"][0],
        other_covered=row["covered"][1], passage_similarity=row["passage_similarity"],
        page_similarity=row["page_similarity"], jaccard=row["jaccard"],
        containment=row["containment"],
        cluster=row["cluster"] if row["cluster"] in clusters else None,
        evidence=evidence, shared_terms=[shared_term(terms, k) for k in row["shared"]])
