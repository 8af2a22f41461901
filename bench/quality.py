"""Search quality on the judged query set (tests/data/judged_queries.json) over corpus/.

Prints nDCG@10 and recall@10 for hybrid, dense-only and sparse-only side by side, and, when
../shared is present, where `tags/customer-focus` ranks for the two seed articles used as
queries against the site corpus. Run: .venv/bin/python bench/quality.py [--no-site]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from ingest.pipeline import ingest  # noqa: E402
from principles.embedder import Encoder  # noqa: E402
from principles.settings import Settings  # noqa: E402
from principles.sparse import SparseIndex  # noqa: E402
from service.app import open_vectors  # noqa: E402
from service.index import open_index  # noqa: E402
from service.search import Filters, Mode, SearchEngine  # noqa: E402

MODES: tuple[Mode, ...] = ("hybrid", "dense", "sparse")
SEEDS = ROOT.parent / "shared" / "seeds"
SITE = ROOT.parent / "shared" / "corpora" / "nkdagility"


def ndcg(ranked: list[str], relevant: dict[str, int], k: int = 10) -> float:
    dcg = sum((2 ** relevant.get(pid, 0) - 1) / math.log2(i + 2) for i, pid in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum((2 ** rel - 1) / math.log2(i + 2) for i, rel in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall(ranked: list[str], relevant: dict[str, int], k: int = 10) -> float:
    return len(set(ranked[:k]) & set(relevant)) / len(relevant)


def engine_for(corpus: Path, index: Path, encoder: Encoder) -> SearchEngine:
    settings = Settings(corpus_dir=corpus, index_dir=index)
    ingest(settings, encoder=encoder)
    view = open_index(settings)
    return SearchEngine(view, open_vectors(settings, view), SparseIndex.load(view.build), encoder,
                        include_drafts=False)


def evaluate(engine: SearchEngine, queries: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    table: dict[str, dict[str, float]] = {}
    for mode in MODES:
        scores = [(ndcg(ranked, q["relevant"]), recall(ranked, q["relevant"]))
                  for q in queries
                  for ranked in [[h.page_id for h in engine.search(q["query"], Filters(), mode, 10)]]]
        table[mode] = {"ndcg@10": sum(s[0] for s in scores) / len(scores),
                       "recall@10": sum(s[1] for s in scores) / len(scores)}
    return table


SeedRanks = list[tuple[str, dict[str, int | None]]]


def seed_ranks(engine: SearchEngine, target: str = "tags/customer-focus") -> SeedRanks:
    rows = []
    for seed in sorted(SEEDS.glob("00[13]_*")):
        text = seed.read_text("utf-8")
        ranks: dict[str, int | None] = {}
        for mode in MODES:
            ids = [h.page_id for h in engine.search(text, Filters(), mode, 50)]
            ranks[mode] = ids.index(target) + 1 if target in ids else None
        rows.append((seed.name, ranks))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-site", action="store_true")
    args = parser.parse_args()
    queries = json.loads((ROOT / "tests" / "data" / "judged_queries.json").read_text())["queries"]
    encoder = Encoder(Settings().model)
    with tempfile.TemporaryDirectory() as tmp:
        engine = engine_for(ROOT / "corpus", Path(tmp) / "corpus", encoder)
        table = evaluate(engine, queries)
        print(f"judged queries: {len(queries)} over corpus/")
        print(f"{'mode':<8}{'nDCG@10':>10}{'recall@10':>11}")
        for mode, row in table.items():
            print(f"{mode:<8}{row['ndcg@10']:>10.3f}{row['recall@10']:>11.3f}")
        best_single = max(table["dense"]["ndcg@10"], table["sparse"]["ndcg@10"])
        print(f"hybrid vs best single mode (nDCG@10): {table['hybrid']['ndcg@10'] / best_single:.3f}x")
        if SITE.is_dir() and SEEDS.is_dir() and not args.no_site:
            site = engine_for(SITE, Path(tmp) / "site", encoder)
            print("\nrank of tags/customer-focus with the seed articles as queries (site corpus):")
            for name, ranks in seed_ranks(site):
                print(f"  {name}: " + ", ".join(f"{m} {r if r else '>50'}" for m, r in ranks.items()))


if __name__ == "__main__":
    main()
