"""Answer quality on both corpora: search, related links, overlap bands, seed ranks.

- search: nDCG@10, recall@10 and MRR of hybrid, dense and sparse search per query kind, on
  tests/data/judged_queries.json (corpus/) and tests/data/site_queries.json (the site corpus);
  `unjudged@10` is the share of the top 10 never judged (the pool was made before tuning);
- related: agreement with the site's own related lists (their top 5 pages we serve, found in
  our top 10 of /v1/related), per page type;
- overlap: bands of the labelled page pairs (tests/data/site_overlap_pairs.json): precision
  and recall of the bands an author acts on (near-duplicate, strong overlap);
- seeds: rank of tags/customer-focus for the two seed articles, as a search and as a draft.
Run: .venv/bin/python bench/quality.py [--no-site] [--index DIR] [--json FILE]
(`--index` reuses a site-corpus index already built from the current code.)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from statistics import mean
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.judged import (  # noqa: E402
    KINDS,
    SEEDS,
    SITE,
    agreement,
    load_queries,
    mrr,
    ndcg,
    overlap_pairs,
    recall,
    site_related_lists,
)
from ingest.pipeline import ingest  # noqa: E402
from principles.embedder import Encoder  # noqa: E402
from principles.overlap import artefacts  # noqa: E402
from principles.overlap.draft import parse_draft  # noqa: E402
from principles.overlap.finder import OverlapFinder  # noqa: E402
from principles.overlap.scoring import BANDS  # noqa: E402
from principles.settings import Settings  # noqa: E402
from service.controllers.related import related_rows  # noqa: E402
from service.engines import open_search  # noqa: E402
from service.index import IndexView, open_index  # noqa: E402
from service.search import Filters, Mode, SearchEngine  # noqa: E402

MODES: tuple[Mode, ...] = ("hybrid", "dense", "sparse")
FLAGGED = set(BANDS[:2])  # the bands an author acts on
TARGET = "tags/customer-focus"


def open_engine(settings: Settings, encoder: Encoder) -> tuple[IndexView, SearchEngine]:
    view = open_index(settings)
    return view, open_search(settings, view, encoder)


def finder_for(settings: Settings, view: IndexView, engine: SearchEngine) -> OverlapFinder:
    return OverlapFinder(view.pages, view.terms, engine.store, view.manifest.collections,
                         artefacts.load_signatures(view.build), include_drafts=False,
                         candidates=settings.overlap_candidates)


def build(corpus: Path, index: Path, encoder: Encoder) -> Settings:
    settings = Settings(corpus_dir=corpus, index_dir=index)
    ingest(settings, encoder=encoder)
    return settings


def search_table(engine: SearchEngine, queries: list[dict[str, Any]]) -> dict[str, Any]:
    """Per mode and per kind (plus "all"): ndcg@10, recall@10, mrr and unjudged@10."""
    table: dict[str, Any] = {}
    for mode in MODES:
        per_kind: dict[str, list[tuple[float, float, float, float]]] = defaultdict(list)
        for q in queries:
            ranked = [h.page_id for h in engine.search(q["query"], Filters(), mode, 10)]
            pool = set(q.get("pool", ranked))
            row = (ndcg(ranked, q["relevant"]), recall(ranked, q["relevant"]),
                   mrr(ranked, q["relevant"]), sum(p not in pool for p in ranked) / 10)
            per_kind[q["kind"]].append(row)
            per_kind["all"].append(row)
        table[mode] = {kind: {name: round(mean(r[n] for r in rows), 3) for n, name in
                              enumerate(("ndcg@10", "recall@10", "mrr", "unjudged@10"))}
                       | {"queries": len(rows)} for kind, rows in per_kind.items()}
    return table


def related_table(view: IndexView) -> dict[str, Any]:
    """Agreement with the site's own lists, overall and by the source page's type."""
    served = {pid for pid, p in view.pages.items() if view.visible(p)}
    by_type: dict[str, list[float]] = defaultdict(list)
    for source, theirs in site_related_lists(served).items():
        ours = [row["id"] for row in related_rows(view, source, 10)]
        value = agreement(ours, theirs)
        by_type[view.pages[source]["type"]].append(value)
        by_type["all"].append(value)
    return {kind: {"agreement": round(mean(v), 3), "lists": len(v)} for kind, v in by_type.items()}


def overlap_table(view: IndexView, engine: SearchEngine, settings: Settings,
                  encoder: Encoder) -> dict[str, Any]:
    """Each labelled pair scored as the finder scores it: page a's file checked as a draft
    (itself excluded, as an author re-checking a page would see it), the band
    page b gets (pages not reported at all are "none"). Then per band: how many pairs and how
    many of them carry each label; and precision/recall of the flagged bands."""
    finder = finder_for(settings, view, engine)
    pairs = overlap_pairs()
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    flagged_right = flagged = positives = found = 0
    rows = []
    for pair in pairs:
        draft = parse_draft((SITE / view.pages[pair["a"]]["rel_path"]).read_text("utf-8"))
        report = finder.find(encoder, draft, limit=50, min_score=0.0,
                             exclude=frozenset({pair["a"]}))
        hit = next((r for r in report.results if r.id == pair["b"]), None)
        band = hit.band if hit else BANDS[3]
        counts[band][pair["label"]] += 1
        positive = pair["label"] != "not"
        positives += positive
        if band in FLAGGED:
            flagged += 1
            flagged_right += positive
            found += positive
        rows.append({**pair, "band": band, "score": hit.score if hit else None})
    return {"bands": {b: dict(counts[b]) for b in BANDS},
            "precision": round(flagged_right / flagged, 3) if flagged else None,
            "recall": round(found / positives, 3) if positives else None,
            "flagged": flagged, "positives": positives, "pairs": rows}


def seed_table(engine: SearchEngine, view: IndexView, settings: Settings,
               encoder: Encoder) -> dict[str, dict[str, int | None]]:
    finder = finder_for(settings, view, engine)
    out: dict[str, dict[str, int | None]] = {}
    for seed in sorted(SEEDS.glob("00[13]_*")):
        text = seed.read_text("utf-8")
        ranks: dict[str, int | None] = {}
        for mode in MODES:
            ids = [h.page_id for h in engine.search(text, Filters(), mode, 50)]
            ranks[mode] = ids.index(TARGET) + 1 if TARGET in ids else None
        report = finder.find(encoder, parse_draft(text), limit=50, min_score=0.0)
        ids = [r.id for r in report.results]
        ranks["overlap"] = ids.index(TARGET) + 1 if TARGET in ids else None
        out[seed.name] = ranks
    return out


def print_search(name: str, table: dict[str, Any]) -> None:
    kinds = [k for k in (*KINDS, "jargon", "taxonomy", "all") if k in table["hybrid"]]
    print(f"\nsearch, {name}: nDCG@10 / recall@10 / MRR (queries per kind: "
          + ", ".join(f"{k} {table['hybrid'][k]['queries']}" for k in kinds) + ")")
    print(f"{'mode':<8}" + "".join(f"{k:>24}" for k in kinds))
    for mode, row in table.items():
        print(f"{mode:<8}" + "".join(
            f"{row[k]['ndcg@10']:>10.3f} {row[k]['recall@10']:.3f} {row[k]['mrr']:.3f}" for k in kinds))
    best = max(table["dense"]["all"]["ndcg@10"], table["sparse"]["all"]["ndcg@10"])
    print(f"hybrid / best single mode (nDCG@10): {table['hybrid']['all']['ndcg@10'] / best:.3f}x;"
          f" unjudged in hybrid top 10: {table['hybrid']['all']['unjudged@10']:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-site", action="store_true", help="corpus/ only")
    parser.add_argument("--index", type=Path, help="an existing site-corpus index to measure")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    args = parser.parse_args()
    encoder = Encoder(Settings().model)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        own = build(ROOT / "corpus", Path(tmp) / "own", encoder)
        view, engine = open_engine(own, encoder)
        served = {pid for pid, p in view.pages.items() if view.visible(p)}
        results["own"] = {"search": search_table(engine, load_queries("judged_queries.json", served))}
        print_search("corpus/", results["own"]["search"])
        engine.close()
        if SITE.is_dir() and not args.no_site:
            site = (Settings(corpus_dir=SITE, index_dir=args.index) if args.index
                    else build(SITE, Path(tmp) / "site", encoder))
            view, engine = open_engine(site, encoder)
            served = {pid for pid, p in view.pages.items() if view.visible(p)}
            search = search_table(engine, load_queries("site_queries.json", served))
            related = related_table(view)
            overlap = overlap_table(view, engine, site, encoder)
            seeds = seed_table(engine, view, site, encoder)
            results["site"] = {"search": search, "related": related, "overlap": overlap,
                               "seeds": seeds}
            print_search("site corpus", search)
            print("\nrelated, site corpus: the site's top 5 found in our top 10 ("
                  + ", ".join(f"{k} {v['agreement']:.3f} ({v['lists']} lists)"
                              for k, v in sorted(related.items())) + ")")
            print(f"\noverlap, site corpus: {len(overlap['pairs'])} labelled pairs, page a as a "
                  "draft against the corpus; band given to page b -> labels")
            for band, labels in overlap["bands"].items():
                print(f"  {band:<15} " + ", ".join(f"{k} {v}" for k, v in sorted(labels.items())))
            print(f"  near-duplicate + strong overlap: precision {overlap['precision']}, recall "
                  f"{overlap['recall']} ({overlap['flagged']} flagged, {overlap['positives']} "
                  "labelled duplicate or strong)")
            print(f"\nrank of {TARGET} with the seed articles (search modes; overlap draft mode):")
            for name, ranks in seeds.items():
                print(f"  {name}: " + ", ".join(f"{m} {r or '>50'}" for m, r in ranks.items()))
            engine.close()
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), "utf-8")


if __name__ == "__main__":
    main()
