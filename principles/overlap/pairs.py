"""Corpus-wide overlap: every pair of pages that overlap, and the clusters of 3+ pages.

Never all n^2 pairs: candidates are each page's k nearest page vectors in the vector store
plus the MinHash LSH buckets, then each page is scored against its candidates in one matrix
product over their passages. Taxonomy and section pages are left out: a tag page is meant
to sum up the pages it tags, which is not duplication.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from principles.embedder import Vectors
from principles.overlap import scoring
from principles.overlap.shingles import Signatures
from principles.page_types import HUB_TYPES
from principles.vectors import VectorStore

NOT_COMPARED = HUB_TYPES
NEIGHBOURS = 20


@dataclass(frozen=True)
class CorpusVectors:
    """Vectors of the pages to compare, in one order: `ids[i]` has `page[i]`, `passages[i]`."""

    ids: list[str]
    types: list[str]
    page: Vectors  # (n, d)
    passages: list[Vectors]  # (m_i, d)
    lengths: list[list[int]]  # words per passage
    terms: list[set[str]]


def candidate_pairs(vectors: CorpusVectors, store: VectorStore, collection: str,
                    signatures: Signatures | None, k: int = NEIGHBOURS) -> set[tuple[int, int]]:
    """(i, j) with i < j: j among i's k nearest pages (or i among j's), or in one LSH bucket."""
    row = {page_id: i for i, page_id in enumerate(vectors.ids)}
    eligible = [t not in NOT_COMPARED for t in vectors.types]
    types = sorted({t for t, ok in zip(vectors.types, eligible, strict=True) if ok})
    where = None if all(eligible) else [("type", types)]  # a filter costs ~40% per query
    pairs: set[tuple[int, int]] = set()
    for i, ok in enumerate(eligible):
        if not ok:
            continue
        for hit in store.search(collection, vectors.page[i], k + 1, where, fields=("page_id",)):
            j = row.get(hit.payload["page_id"])
            if j is not None and j != i and eligible[j]:
                pairs.add((min(i, j), max(i, j)))
        if signatures is not None and vectors.ids[i] in signatures.row:
            for other in signatures.similar(signatures.matrix[signatures.row[vectors.ids[i]]]):
                j = row.get(other)
                if j is not None and j != i and eligible[j]:
                    pairs.add((min(i, j), max(i, j)))
    return pairs


def score_pairs(vectors: CorpusVectors, pairs: set[tuple[int, int]],
                signatures: Signatures | None) -> list[dict[str, Any]]:
    """Score each candidate pair; keep those in a band (score >= RELATED or copied text)."""
    by_source: dict[int, list[int]] = {}
    for i, j in sorted(pairs):
        by_source.setdefault(i, []).append(j)
    weights = [scoring.passage_weights(lengths) for lengths in vectors.lengths]
    kept: list[dict[str, Any]] = []
    for i, targets in by_source.items():
        sizes = [len(vectors.passages[j]) for j in targets]
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.intp)
        target_weights = np.concatenate([weights[j] for j in targets])
        sims = vectors.passages[i] @ np.concatenate([vectors.passages[j] for j in targets]).T
        row_best = np.maximum.reduceat(sims, offsets, axis=1)  # (m_i, targets)
        col_best = sims.max(axis=0)
        total = np.add.reduceat(target_weights, offsets)
        forward_sim = weights[i] @ row_best / weights[i].sum()
        forward_cov = weights[i] @ (row_best >= scoring.PASSAGE_MATCH) / weights[i].sum()
        back_sim = np.add.reduceat(target_weights * col_best, offsets) / total
        back_cov = np.add.reduceat(target_weights * (col_best >= scoring.PASSAGE_MATCH), offsets) / total
        cosines = vectors.page[targets] @ vectors.page[i]
        for n, j in enumerate(targets):
            score = scoring.combine(float(cosines[n]), (forward_sim[n] + back_sim[n]) / 2)
            jac, contained = _lexical(vectors, signatures, i, j)
            hub = vectors.types[i] in HUB_TYPES or vectors.types[j] in HUB_TYPES
            band = scoring.band(score, jac, contained, hub=hub)
            if band == scoring.BANDS[3]:
                continue
            block = sims[:, offsets[n]:offsets[n] + sizes[n]]
            forward = (float(forward_cov[n]), float(forward_sim[n]))
            backward = (float(back_cov[n]), float(back_sim[n]))
            kept.append(_record(vectors, i, j, block, forward, backward, float(cosines[n]),
                                score, band, jac, contained))
    kept.sort(key=lambda r: (-r["score"], r["a"], r["b"]))
    return kept


def _lexical(vectors: CorpusVectors, signatures: Signatures | None, i: int,
             j: int) -> tuple[float | None, float | None]:
    if signatures is None:
        return None, None
    a, b = signatures.row.get(vectors.ids[i]), signatures.row.get(vectors.ids[j])
    if a is None or b is None or not signatures.sizes[a] or not signatures.sizes[b]:
        return None, None
    jac = round(float(np.mean(signatures.matrix[a] == signatures.matrix[b])), 4)
    return jac, scoring.containment(jac, signatures.sizes[a], signatures.sizes[b])


def _record(vectors: CorpusVectors, i: int, j: int, block: Vectors, forward: tuple[float, float],
            backward: tuple[float, float], cosine: float, score: float, band: str,
            jac: float | None, contained: float | None) -> dict[str, Any]:
    """`a` is the page more covered by the other, so evidence reads from a's passages."""
    if backward > forward:
        i, j, block, forward, backward = j, i, block.T, backward, forward
    return {"a": vectors.ids[i], "b": vectors.ids[j], "score": round(score, 4), "band": band,
            "covered": [round(forward[0], 4), round(backward[0], 4)],
            "passage_similarity": round((forward[1] + backward[1]) / 2, 4),
            "page_similarity": round(cosine, 4), "jaccard": jac, "containment": contained,
            "evidence": [list(e) for e in scoring.evidence(block)],
            "shared": sorted(vectors.terms[i] & vectors.terms[j])}


def find_clusters(pairs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Groups of 3+ pages that all overlap each other (cliques of strong/near-duplicate
    pairs), largest and strongest first; a page joins one cluster at most."""
    graph = nx.Graph()
    for pair in pairs:
        if pair["band"] in scoring.BANDS[:2]:
            graph.add_edge(pair["a"], pair["b"], score=pair["score"])
    cliques = [sorted(c) for c in nx.find_cliques(graph) if len(c) >= 3]
    cliques.sort(key=lambda c: (-len(c), -_mean_score(graph, c), c))
    taken: set[str] = set()
    clusters: list[dict[str, Any]] = []
    for clique in cliques:
        members = [p for p in clique if p not in taken]
        if len(members) < 3:
            continue
        taken.update(members)
        clusters.append({"id": len(clusters) + 1, "pages": members,
                         "score": round(_mean_score(graph, members), 4),
                         "page_scores": {p: round(_mean_score(graph, members, p), 4)
                                         for p in members}})
    return clusters


def _mean_score(graph: nx.Graph, members: list[str], page: str | None = None) -> float:
    scores = [float(graph.edges[a, b]["score"]) for n, a in enumerate(members)
              for b in members[n + 1:] if page is None or page in (a, b)]
    return sum(scores) / len(scores) if scores else 0.0


def corpus_pairs(vectors: CorpusVectors, store: VectorStore, collection: str,
                 signatures: Signatures | None, k: int = NEIGHBOURS) -> dict[str, Any]:
    """The artefact ingest writes: kept pairs, clusters, and what was compared."""
    candidates = candidate_pairs(vectors, store, collection, signatures, k)
    pairs = score_pairs(vectors, candidates, signatures)
    clusters = find_clusters(pairs)
    member = {p: c["id"] for c in clusters for p in c["pages"]}
    for pair in pairs:
        same = member.get(pair["a"]) is not None and member.get(pair["a"]) == member.get(pair["b"])
        pair["cluster"] = member[pair["a"]] if same else None
    compared = sum(t not in NOT_COMPARED for t in vectors.types)
    return {"thresholds": scoring.thresholds(), "neighbours": k,
            "counts": {"pages_compared": compared, "candidate_pairs": len(candidates),
                       "all_pairs": compared * (compared - 1) // 2, "pairs": len(pairs),
                       "clusters": len(clusters)},
            "pairs": pairs, "clusters": clusters}
