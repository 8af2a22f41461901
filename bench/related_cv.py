"""How the related-links weights were chosen: leave-one-out cross-validation over the site's
own related lists (data.index.related.json in ../shared/corpora/nkdagility).

For every page pair of a site-corpus build it computes the three signals ingest/related.py
combines (passage coverage both ways, page-profile cosine, idf-weighted term cosine), then, for
each list in turn, picks the weights (a grid summing to 1) that agree best with the OTHER lists
and scores the held-out list with them. The mean over held-out lists is the figure to trust;
the in-sample best is printed beside it to show the gap. The weights ingest uses are scored too.
Run: .venv/bin/python bench/related_cv.py [--index DIR] (an index of the site corpus; built in a
temporary folder when not given).
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.judged import agreement, site_build, site_related_lists  # noqa: E402
from ingest.corpus import discover, load_pages  # noqa: E402
from ingest.pages import Page  # noqa: E402
from ingest.related import (  # noqa: E402
    WEIGHTS,
    PageVectors,
    _term_matrix,
    page_profiles,
    term_idf,
    term_keys,
)
from ingest.report import Report  # noqa: E402
from ingest.terms import resolve_terms  # noqa: E402
from ingest.vector_table import VectorTable  # noqa: E402
from principles.page_types import HUB_TYPES  # noqa: E402
from principles.settings import Settings  # noqa: E402

Matrix = npt.NDArray[np.float64]
STEP = 0.05


def load_build(settings: Settings, build: Path) -> tuple[list[Page], PageVectors]:
    """The pages of the corpus as ingest parses them, and their vectors from the build's table."""
    report = Report()
    pages = load_pages(discover(settings.corpus_dir), report)
    resolve_terms(pages, report)
    table = VectorTable.load(build)
    assert table is not None, f"no vector table in {build}"
    position = {page_id: i for i, page_id in enumerate(table.page_ids)}
    vectors = PageVectors(page=table.vectors[[position[p.id] for p in pages]],
                          passages=[table.passages(position[p.id]) for p in pages])
    return pages, vectors


def signals(settings: Settings, build: Path) -> tuple[list[str], list[str], list[bool], dict[str, Matrix]]:
    """Page ids, types, draft flags and the three n x n signal matrices of one build."""
    pages, vectors = load_build(settings, build)
    profiles = page_profiles(vectors).astype(np.float64)
    terms = _term_matrix([term_keys(p) for p in pages], term_idf(pages))
    every = np.concatenate(vectors.passages).astype(np.float64)
    sizes = np.array([len(p) for p in vectors.passages])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    sims = every @ every.T
    best_in_page = np.maximum.reduceat(sims, offsets, axis=1)  # passage x page
    forward = np.add.reduceat(best_in_page, offsets, axis=0) / sizes[:, None]  # page x page
    return ([p.id for p in pages], [p.type for p in pages], [p.draft for p in pages],
            {"coverage": 0.5 * (forward + forward.T), "dense": profiles @ profiles.T,
             "graph": (terms @ terms.T).toarray()})


def grid(names: list[str]) -> list[dict[str, float]]:
    n = round(1 / STEP)
    return [dict(zip(names, [p * STEP for p in parts] + [(n - sum(parts)) * STEP], strict=True))
            for parts in itertools.product(range(n + 1), repeat=len(names) - 1) if sum(parts) <= n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", type=Path, help="an index of the site corpus")
    args = parser.parse_args()
    with site_build(args.index) as (settings, build):
        ids, types, drafts, matrices = signals(settings, build)
    position = {pid: i for i, pid in enumerate(ids)}
    hidden = np.array([t in HUB_TYPES or d for t, d in zip(types, drafts, strict=True)])
    lists = site_related_lists({pid for pid, d in zip(ids, drafts, strict=True) if not d})
    sources = sorted(lists)

    def scores(weights: dict[str, float]) -> list[float]:
        total = sum(w * matrices[name] for name, w in weights.items())
        out = []
        for source in sources:
            row = np.where(hidden, -np.inf, total[position[source]])
            row[position[source]] = -np.inf
            ours = [ids[j] for j in np.argsort(-row, kind="stable")[:10]]
            out.append(agreement(ours, lists[source]))
        return out

    combos = grid(list(WEIGHTS))
    table = np.array([scores(c) for c in combos])  # combos x lists
    held_out = []
    for j in range(len(sources)):
        pick = int(np.argmax(np.delete(table, j, axis=1).mean(axis=1)))
        held_out.append(table[pick, j])
    best = int(np.argmax(table.mean(axis=1)))
    print(f"site lists: {len(sources)}; weights searched: {len(combos)} (step {STEP})")
    for name in WEIGHTS:
        print(f"  {name} alone: {np.mean(scores({name: 1.0})):.3f}")
    print(f"held-out agreement (leave one list out): {np.mean(held_out):.3f}")
    print(f"in-sample best: {table[best].mean():.3f} with "
          + ", ".join(f"{k} {v:.2f}" for k, v in combos[best].items()))
    print(f"ingest's weights ({', '.join(f'{k} {v}' for k, v in WEIGHTS.items())}): "
          f"{np.mean(scores(WEIGHTS)):.3f} (all pairs; ingest scores its candidates only, "
          "bench/related_candidates.py compares the two)")


if __name__ == "__main__":
    main()
