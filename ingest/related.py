"""Precompute related pages at ingest: the widget's answer becomes a lookup at serve time.

Score = 0.7 coverage + 0.2 dense + 0.1 graph, where
- coverage is how well each page's passages are matched in the other, both ways: the mean,
  over one page's passages, of the best cosine with any passage of the other, averaged over
  the two directions. Two pages whose paragraphs keep meeting are about the same things;
- dense is the cosine of the two pages' vectors, each the sum of the page vector (head fields
  and the first 256 word pieces) and the mean of its passage vectors (the whole body);
- graph is the cosine of the two pages' term vectors weighted by rarity (idf).
The weights were chosen on the site corpus by leave-one-out cross-validation over the site's
own related lists (no weight picked on the list it is scored on): bench/related_cv.py prints
the held-out agreement, bench/quality.py the agreement of what ingest stores. The best passage pair is kept as
the evidence shown to readers. Candidates are the top pages by dense + graph, so the passage
step never compares all pairs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

from ingest.pages import Page
from principles.contract import term_key
from principles.embedder import Vectors

WEIGHTS = {"coverage": 0.7, "dense": 0.2, "graph": 0.1}
CANDIDATES = 80
KEEP = 40  # enough for the Hugo export's five per resource type
BLOCK = 1024


@dataclass(frozen=True)
class PageVectors:
    page: Vectors  # (n, d) one per page, in page order
    passages: list[Vectors]  # per page, (m_i, d)


def term_keys(page: Page) -> list[str]:
    keys = [term_key(kind, slug) for kind, slugs in page.terms.items() for slug in slugs]
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


def page_profiles(vectors: PageVectors) -> Vectors:
    """Unit vectors of page vector + mean passage vector: the page's head and its whole body."""
    means = np.stack([_unit(p.mean(axis=0)) for p in vectors.passages])  # every page has one
    return np.stack([_unit(v) for v in vectors.page + means]).astype(np.float32)


def _unit(vector: npt.NDArray[np.floating]) -> npt.NDArray[np.floating]:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


def coverage(a: Vectors, b: Vectors) -> tuple[float, tuple[int, int], float]:
    """(symmetric passage coverage, best passage pair, its cosine) of two pages."""
    pair = a @ b.T
    x, y = np.unravel_index(int(np.argmax(pair)), pair.shape)
    both = 0.5 * (float(pair.max(axis=1).mean()) + float(pair.max(axis=0).mean()))
    return both, (int(x), int(y)), float(pair[x, y])


def compute_related(pages: list[Page], vectors: PageVectors) -> dict[str, list[dict[str, Any]]]:
    """For every page, its KEEP best related pages with the evidence of each score."""
    n = len(pages)
    if n < 2:
        return {p.id: [] for p in pages}
    idf = term_idf(pages)
    terms = _term_matrix(pages, idf)
    profiles = page_profiles(vectors)
    keys = [set(term_keys(p)) for p in pages]
    related: dict[str, list[dict[str, Any]]] = {}
    for start in range(0, n, BLOCK):
        stop = min(start + BLOCK, n)
        dense = profiles[start:stop] @ profiles.T
        graph = (terms[start:stop] @ terms.T).toarray()
        prelim = dense + 0.2 * graph
        prelim[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        k = min(CANDIDATES, n - 1)
        top = np.argpartition(-prelim, k - 1, axis=1)[:, :k]
        for offset, candidates in enumerate(top):
            i = start + offset
            rows: list[dict[str, Any]] = []
            for j in candidates:
                covered, (a, b), passage = coverage(vectors.passages[i], vectors.passages[j])
                score = (WEIGHTS["coverage"] * covered + WEIGHTS["dense"] * dense[offset, j]
                         + WEIGHTS["graph"] * graph[offset, j])
                shared = sorted(keys[i] & keys[int(j)], key=lambda key: (-idf[key], key))
                rows.append({"id": pages[int(j)].id, "score": round(float(score), 4),
                             "graph": round(float(graph[offset, j]), 4),
                             "dense": round(float(dense[offset, j]), 4),
                             "coverage": round(covered, 4),
                             "passage": round(passage, 4), "pair": [a, b], "shared": shared})
            rows.sort(key=lambda r: (-float(r["score"]), str(r["id"])))
            related[pages[i].id] = rows[:KEEP]
    return related
