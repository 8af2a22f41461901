"""Related candidates against all pairs: does scoring only each page's candidates from the
vector index (ingest/related.py) lose any of the rows scoring every pair would give?

On a site-corpus build it computes the related rows twice with the ingest code: once with
every page a candidate of every other (all pairs), then with the candidate lists for each
setting of k (page-vector neighbours, passage neighbours per passage, rare-term bound). Per
setting it prints the mean candidates per page, the share of pages whose served top 10 (content
pages only, as /v1/related lists them) is exactly the all-pairs top 10, the recall of the
all-pairs top 10 and top 40 (the stored rows), and the agreement with the site's own lists
(bench/quality.py's figure). Run: .venv/bin/python bench/related_candidates.py [--index DIR]
(an index of the site corpus; built in a temporary folder when not given).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.judged import agreement, site_build, site_related_lists  # noqa: E402
from bench.related_cv import load_build  # noqa: E402
from ingest.related import (  # noqa: E402
    PAGE_NEIGHBOURS,
    PASSAGE_NEIGHBOURS,
    RARE_TERM_PAGES,
    Params,
    VectorIndex,
    compute_related,
)
from principles.index import Manifest  # noqa: E402
from principles.page_types import HUB_TYPES  # noqa: E402
from principles.related_store import RelatedColumns  # noqa: E402
from principles.stores import open_store, tuning_of  # noqa: E402

SETTINGS = [(40, 0, 0), (80, 0, 0), (0, 40, 0), (0, 80, 0), (0, 0, 25), (40, 40, 25), (60, 60, 25),
            (80, 40, 25), (80, 80, 0), (80, 80, 25), (100, 100, 25),
            (PAGE_NEIGHBOURS, PASSAGE_NEIGHBOURS, RARE_TERM_PAGES)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", type=Path, help="an index of the site corpus")
    args = parser.parse_args()
    with site_build(args.index) as (settings, build):
        manifest = Manifest.load(build)
        pages, vectors = load_build(settings, build)
        ids = [p.id for p in pages]
        hashes = {p.id: p.content_hash() for p in pages}
        store = open_store(manifest.engine, build, settings.qdrant_url, settings.qdrant_api_key,
                           tuning_of(settings))
        try:
            index = VectorIndex(store, manifest.collections, ids, vectors)
            n = len(pages)
            every = Params(page_neighbours=n, passage_neighbours=0, rare_term_pages=0)
            start = time.perf_counter()
            reference = compute_related(pages, vectors, index, hashes, params=every).columns
            print(f"{n} pages; all pairs scored in {time.perf_counter() - start:.2f} s")
            runs = []
            for k, kp, rare in SETTINGS:
                params = Params(page_neighbours=k, passage_neighbours=kp, rare_term_pages=rare)
                start = time.perf_counter()
                result = compute_related(pages, vectors, index, hashes, params=params)
                runs.append(((k, kp, rare), result.columns, result.state.candidates,
                             time.perf_counter() - start))
        finally:
            store.close()
    content = np.array([p.type not in HUB_TYPES and not p.draft for p in pages])
    lists = site_related_lists({p.id for p in pages if not p.draft})
    position = {pid: i for i, pid in enumerate(ids)}

    def served(columns: RelatedColumns, i: int, top: int = 10) -> list[int]:
        return [int(t) for t in columns.targets(i) if content[t]][:top]

    def site_agreement(columns: RelatedColumns) -> float:
        return statistics.mean(agreement([ids[t] for t in served(columns, position[source])], theirs)
                               for source, theirs in lists.items())

    print(f"all pairs: agreement with the site's lists {site_agreement(reference):.3f} "
          f"({len(lists)} lists)")
    print(f"{'k page':>7}{'k passage':>10}{'rare':>6}{'cands/page':>12}{'top-10 exact':>14}"
          f"{'recall@10':>11}{'recall@40':>11}{'agreement':>11}{'seconds':>9}")
    for (k, kp, rare), columns, candidates, seconds in runs:
        exact, r10, r40 = [], [], []
        for i in range(n):
            ours, ref = served(columns, i), served(reference, i)
            exact.append(ours == ref)
            r10.append(len(set(ours) & set(ref)) / len(ref) if ref else 1.0)
            ref40 = set(reference.targets(i).tolist())
            r40.append(len(set(columns.targets(i).tolist()) & ref40) / len(ref40) if ref40 else 1.0)
        print(f"{k:>7}{kp:>10}{rare:>6}{np.mean([len(c) for c in candidates]):>12.1f}"
              f"{np.mean(exact):>14.3f}{np.mean(r10):>11.4f}{np.mean(r40):>11.4f}"
              f"{site_agreement(columns):>11.3f}{seconds:>9.2f}")
    print("(the last row is what ingest uses)")


if __name__ == "__main__":
    main()
