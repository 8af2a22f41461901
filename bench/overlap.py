"""Overlap finder: calibration on the planted pairs of corpus/, timings, scaling, seed results.

Prints, for corpus/ (real model, real vector store, the real ingest):
- precision and recall of the corpus-wide pairs against tests/data/planted.json at several
  thresholds; precision counts every pair flagged, planted or not; the unplanted pairs are
  listed so they can be judged by reading them;
- the near-duplicate band and the planted cluster;
- draft mode: every page of a planted pair sent as a draft (where does its partner land?),
  every look-alike sent as a draft (is its twin flagged?);
- the time of the corpus-wide pairs step inside the ingest, and of one draft check;
then the synthetic 10k-page corpus (bench/overlap_synthetic.py) and, when ../shared exists,
the two seed articles against the site corpus.
Run: .venv/bin/python bench/overlap.py [--no-site] [--pages 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import overlap_synthetic  # noqa: E402  (bench/ is on sys.path: the script's own folder)

from ingest.pipeline import ingest  # noqa: E402
from principles.embedder import Encoder  # noqa: E402
from principles.overlap import artefacts, scoring  # noqa: E402
from principles.overlap.draft import parse_draft  # noqa: E402
from principles.overlap.finder import OverlapFinder  # noqa: E402
from principles.settings import Settings  # noqa: E402
from service.engines import open_vectors  # noqa: E402
from service.index import IndexView, open_index  # noqa: E402

SEEDS = ROOT.parent / "shared" / "seeds"
SITE = ROOT.parent / "shared" / "corpora" / "nkdagility"
THRESHOLDS = (0.55, 0.58, 0.60, 0.62, 0.64, 0.66, 0.68, 0.70, 0.72)
FLAGGED = {"near-duplicate", "strong overlap"}
Pair = frozenset[str]


def build(corpus: Path, index: Path, encoder: Encoder) -> tuple[IndexView, OverlapFinder, float]:
    settings = Settings(corpus_dir=corpus, index_dir=index)
    result = ingest(settings, encoder=encoder)
    view = open_index(settings)
    finder = OverlapFinder(view.pages, view.terms, open_vectors(settings, view),
                           view.manifest.collections, artefacts.load_signatures(view.build))
    return view, finder, result.timings["overlap"]


def pair_table(artefact: dict[str, Any], planted: dict[str, Any]) -> None:
    truth = {frozenset(p) for p in planted["overlap_pairs"]}
    looks = {frozenset(p) for p in planted["lookalike_pairs"]}
    rows = [(frozenset((p["a"], p["b"])), p["score"], p["band"]) for p in artefact["pairs"]]
    print(f"corpus-wide pairs, corpus/ ({artefact['counts']['pages_compared']} content pages, "
          f"{artefact['counts']['candidate_pairs']} candidate pairs of {artefact['counts']['all_pairs']}); "
          f"planted: {len(truth)} overlap pairs, {len(looks)} look-alike pairs")
    print(f"{'score >=':>9}{'flagged':>9}{'planted':>9}{'precision':>11}{'recall':>8}{'look-alikes':>13}")
    for t in THRESHOLDS:
        flagged = {k for k, score, band in rows if score >= t or band == "near-duplicate"}
        hit = flagged & truth
        note = "  <- strong" if t == scoring.STRONG else "  <- related" if t == scoring.RELATED else ""
        print(f"{t:>9.2f}{len(flagged):>9}{len(hit):>9}{len(hit) / max(1, len(flagged)):>11.2f}"
              f"{len(hit) / len(truth):>8.2f}{len(flagged & looks):>13}{note}")
    dups = {k for k, _, band in rows if band == "near-duplicate"}
    planted_dups = {frozenset(p) for p in planted["near_duplicate_pairs"]}
    print(f"near-duplicate band: {len(dups)} flagged, precision "
          f"{len(dups & planted_dups) / max(1, len(dups)):.2f}, recall "
          f"{len(dups & planted_dups) / len(planted_dups):.2f}")
    clusters = [sorted(c["pages"]) for c in artefact["clusters"]]
    print(f"clusters: {len(clusters)}; planted 3-page cluster found exactly: "
          f"{sorted(planted['clusters'][0]) in clusters}")
    print("flagged pairs that were not planted (score, band), to judge by reading:")
    for key, score, band in rows:
        if key not in truth:
            a, b = sorted(key)
            print(f"  {score:.3f} {band:<15} {a} | {b}")


def draft_mode(view: IndexView, finder: OverlapFinder, encoder: Encoder,
               planted: dict[str, Any]) -> None:
    truth = {frozenset(p) for p in planted["overlap_pairs"]}
    ranks: list[int | None] = []
    other_flags = {"taxonomy page": 0, "planted partner": 0, "other content page": 0}
    seconds: list[float] = []
    for a, b in [(x, y) for p in planted["overlap_pairs"] for x, y in (p, p[::-1])]:
        start = time.perf_counter()
        report = finder.find(encoder, parse_draft((ROOT / "corpus" / view.pages[a]["rel_path"]).read_text()))
        seconds.append(time.perf_counter() - start)
        results = [r for r in report.results if r.id != a]
        ids = [r.id for r in results]
        ranks.append(ids.index(b) + 1 if b in ids and results[ids.index(b)].band in FLAGGED else None)
        for r in results:
            if r.band in FLAGGED and r.id != b:
                kind = ("taxonomy page" if r.type in ("tag", "category", "concept") else
                        "planted partner" if frozenset((a, r.id)) in truth else "other content page")
                other_flags[kind] += 1
    found = [r for r in ranks if r is not None]
    print(f"\ndraft mode: each page of a planted pair as a draft ({len(ranks)} drafts)")
    print(f"  partner flagged (strong overlap or near-duplicate): {len(found)}/{len(ranks)}; "
          f"in the top 3 pages: {sum(r <= 3 for r in found)}; ranks {ranks}")
    print("  other pages flagged strong: " + ", ".join(f"{v} {k}" for k, v in other_flags.items()))
    twins = 0
    for a, b in [(x, y) for p in planted["lookalike_pairs"] for x, y in (p, p[::-1])]:
        report = finder.find(encoder, parse_draft((ROOT / "corpus" / view.pages[a]["rel_path"]).read_text()))
        twins += any(r.id == b for r in report.results)
    print(f"  look-alike twin listed at all (score >= related {scoring.RELATED}): "
          f"{twins}/{2 * len(planted['lookalike_pairs'])}")
    print(f"  one draft check (encode + 2 store rounds + scoring): "
          f"{1000 * sorted(seconds)[len(seconds) // 2]:.0f} ms median")


def seeds(finder: OverlapFinder, encoder: Encoder) -> None:
    print("\nseed articles against the site corpus (top 5; target tags/customer-focus):")
    for seed in sorted(SEEDS.glob("00[13]_*")):
        report = finder.find(encoder, parse_draft(seed.read_text("utf-8")), limit=5, min_score=0.0)
        ids = [r.id for r in report.results]
        rank = ids.index("tags/customer-focus") + 1 if "tags/customer-focus" in ids else None
        print(f"  {seed.name}: customer-focus rank {rank}")
        for r in report.results:
            print(f"    {r.score:.3f} {r.band:<15} covers {r.covered:>4.0%}  {r.id}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-site", action="store_true")
    parser.add_argument("--pages", type=int, default=10_000, help="synthetic corpus size")
    args = parser.parse_args()
    planted = json.loads((ROOT / "tests" / "data" / "planted.json").read_text())
    encoder = Encoder(Settings().model)
    with tempfile.TemporaryDirectory() as tmp:
        view, finder, pair_seconds = build(ROOT / "corpus", Path(tmp) / "corpus", encoder)
        found = artefacts.load_pairs(view.build)
        assert found is not None
        pair_table(found.as_dict(), planted)
        start = time.perf_counter()
        artefacts.pairs_report(found, view.pages, view.terms, view.visible, min_score=0.0)
        print(f"\ntime: corpus-wide pairs step at ingest {pair_seconds:.2f} s (MinHash + kNN + "
              f"scoring + clusters); GET /v1/overlap/pairs lookup "
              f"{1000 * (time.perf_counter() - start):.1f} ms")
        draft_mode(view, finder, encoder, planted)
        if SITE.is_dir() and SEEDS.is_dir() and not args.no_site:
            _, site_finder, site_seconds = build(SITE, Path(tmp) / "site", encoder)
            print(f"\nsite corpus: corpus-wide pairs step at ingest {site_seconds:.2f} s")
            seeds(site_finder, encoder)
    overlap_synthetic.run(args.pages)


if __name__ == "__main__":
    main()
