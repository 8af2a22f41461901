"""The overlap files inside a build, and reading the corpus-wide pairs back as results.

    <build>/overlap/pairs.json   kept pairs with evidence, clusters, thresholds, counts
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
PAIRS = "pairs.json"
MISSING = ("this index build has no overlap data (it predates the overlap finder); "
           "run `principles ingest --index {index} --force`")


def folder(build: Path) -> Path:
    return build / FOLDER


def write(build: Path, artefact: dict[str, Any], signatures: Signatures) -> None:
    target = folder(build)
    signatures.save(target)
    # 10-20x json.dumps: a 10k-page corpus keeps 100k+ pairs, written again by every build
    (target / PAIRS).write_bytes(msgspec.json.encode(artefact, enc_hook=_plain))


def _plain(value: object) -> object:
    """numpy scalars in scores (msgspec takes only exact floats and ints)."""
    if isinstance(value, np.generic):
        return value.item()
    raise NotImplementedError(f"cannot write {type(value).__name__} to {PAIRS}")


def load_pairs(build: Path) -> dict[str, Any] | None:
    path = folder(build) / PAIRS
    if not path.is_file():
        return None
    data: dict[str, Any] = msgspec.json.decode(path.read_bytes())
    return data


def load_signatures(build: Path) -> Signatures | None:
    return Signatures.load(folder(build))


def pairs_report(artefact: dict[str, Any], pages: dict[str, PageRecord],
                 terms: dict[str, TermRecord], visible: Callable[[PageRecord], bool],
                 *, min_score: float = scoring.STRONG, limit: int = 100) -> PairsReport:
    """Pairs of visible pages scoring >= min_score (near-duplicates always), near-duplicates
    first, then by score; clusters whose visible members are still 3 or more."""
    def shown(page_id: str) -> bool:
        return page_id in pages and visible(pages[page_id])

    clusters: list[Cluster] = []
    for c in artefact["clusters"]:
        members = [p for p in c["pages"] if shown(p)]
        if len(members) < 3 or c["score"] < min_score:
            continue
        clusters.append(Cluster(id=c["id"], score=c["score"], pages=[
            ClusterPage(**vars(page_ref(pages[p])), score=c["page_scores"][p]) for p in members]))
    kept_clusters = {c.id for c in clusters}
    rows = [r for r in artefact["pairs"] if shown(r["a"]) and shown(r["b"])
            and (r["score"] >= min_score or r["band"] == scoring.BANDS[0])]
    rows.sort(key=lambda r: (r["band"] != scoring.BANDS[0], -r["score"], r["a"], r["b"]))
    results = [_pair(r, pages, terms, kept_clusters) for r in rows[:limit]]
    return PairsReport(min_score=min_score, thresholds=artefact["thresholds"], results=results,
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
