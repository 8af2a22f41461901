"""Precompute related pages at ingest: the widget's answer becomes a lookup at serve time.

Score = 0.35 graph + 0.35 page-dense + 0.30 best passage pair, where
- graph is the cosine of the two pages' term vectors weighted by rarity (idf): a tag on half
  the corpus says little, a rare shared tag says a lot; a taxonomy page counts its own term;
- page-dense is the cosine of the page vectors;
- best passage pair is the highest cosine between any passage of one and any of the other,
  kept with the pair of passages as evidence.
Candidates are the top pages by graph+dense, so the passage step never compares all pairs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from ingest.pages import Page
from principles.embedder import Vectors

WEIGHTS = {"graph": 0.35, "dense": 0.35, "passage": 0.30}
CANDIDATES = 80
KEEP = 40  # enough for the Hugo export's five per resource type
BLOCK = 1024


@dataclass(frozen=True)
class PageVectors:
    page: Vectors  # (n, d) one per page, in page order
    passages: list[Vectors]  # per page, (m_i, d)


def term_keys(page: Page) -> list[str]:
    keys = [f"{kind}/{slug}" for kind, slugs in page.terms.items() for slug in slugs]
    if page.taxonomy is not None:
        keys.append("/".join(page.taxonomy))
    return list(dict.fromkeys(keys))


def term_idf(pages: list[Page]) -> dict[str, float]:
    df: dict[str, int] = {}
    for page in pages:
        for key in term_keys(page):
            df[key] = df.get(key, 0) + 1
    n = len(pages)
    return {key: math.log((n + 1) / (count + 0.5)) for key, count in df.items()}


def _term_matrix(pages: list[Page], idf: dict[str, float]) -> sparse.csr_matrix:
    column = {key: i for i, key in enumerate(sorted(idf))}
    rows, cols, vals = [], [], []
    for row, page in enumerate(pages):
        for key in term_keys(page):
            rows.append(row)
            cols.append(column[key])
            vals.append(max(idf[key], 0.0))
    matrix = sparse.csr_matrix((vals, (rows, cols)), shape=(len(pages), max(len(column), 1)))
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix)


def compute_related(pages: list[Page], vectors: PageVectors) -> dict[str, list[dict[str, Any]]]:
    """For every page, its KEEP best related pages with the evidence of each score."""
    n = len(pages)
    if n < 2:
        return {p.id: [] for p in pages}
    idf = term_idf(pages)
    terms = _term_matrix(pages, idf)
    keys = [set(term_keys(p)) for p in pages]
    related: dict[str, list[dict[str, Any]]] = {}
    for start in range(0, n, BLOCK):
        stop = min(start + BLOCK, n)
        dense = vectors.page[start:stop] @ vectors.page.T
        graph = (terms[start:stop] @ terms.T).toarray()
        prelim = 0.5 * graph + 0.5 * dense
        prelim[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        k = min(CANDIDATES, n - 1)
        top = np.argpartition(-prelim, k - 1, axis=1)[:, :k]
        for offset, candidates in enumerate(top):
            i = start + offset
            rows: list[dict[str, Any]] = []
            for j in candidates:
                pair = vectors.passages[i] @ vectors.passages[j].T
                a, b = np.unravel_index(int(np.argmax(pair)), pair.shape)
                passage = float(pair[a, b])
                score = (WEIGHTS["graph"] * graph[offset, j] + WEIGHTS["dense"] * dense[offset, j]
                         + WEIGHTS["passage"] * passage)
                shared = sorted(keys[i] & keys[int(j)], key=lambda key: (-idf[key], key))
                rows.append({"id": pages[int(j)].id, "score": round(float(score), 4),
                             "graph": round(float(graph[offset, j]), 4),
                             "dense": round(float(dense[offset, j]), 4),
                             "passage": round(passage, 4), "pair": [int(a), int(b)],
                             "shared": shared})
            rows.sort(key=lambda r: (-float(r["score"]), str(r["id"])))
            related[pages[i].id] = rows[:KEEP]
    return related
