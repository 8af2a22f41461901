"""Ingest speed against its baseline, measured in one process with one loaded model.

For each corpus (corpus/ and, when present, ../shared/corpora/nkdagility) it prints:
pages, full-ingest seconds, pages/s; full ingest / bare model encode of the same texts
(goal <= 1.3); re-ingest after one changed page / full ingest (goal <= 0.05). Medians of
--repeats runs. Run: .venv/bin/python bench/ingest.py [--repeats N] [--site-repeats N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from ingest.corpus import discover, load_pages  # noqa: E402
from ingest.embedding import page_passages, page_text, passage_text  # noqa: E402
from ingest.onnx_export import export_onnx, onnx_path  # noqa: E402
from ingest.pipeline import ingest  # noqa: E402
from ingest.report import Report  # noqa: E402
from ingest.terms import resolve_terms  # noqa: E402
from principles.embedder import Encoder  # noqa: E402
from principles.settings import Settings  # noqa: E402


def texts_of(corpus: Path, settings: Settings) -> list[str]:
    """The unique texts an ingest of `corpus` embeds (pages and passages)."""
    pages = load_pages(discover(corpus), Report())
    resolve_terms(pages, Report())
    texts = [page_text(p) for p in pages]
    for page in pages:
        texts += [passage_text(page, x) for x in
                  page_passages(page, settings.passage_words, settings.passage_overlap)]
    return list(dict.fromkeys(texts))


def touch_one_page(corpus: Path, round_no: int) -> None:
    target = next(p for p in sorted(corpus.rglob("index.md")) if "resources" in p.parts)
    with target.open("a", encoding="utf-8") as handle:
        handle.write(f"\nOne more sentence, edit number {round_no}, for the benchmark.\n")


def prepare_model_file(index: Path, encoder: Encoder, cache: Path) -> None:
    """The ONNX export is per model, not per corpus (like loading the model, it is done once
    and kept in <index>/models): put the exported file in place before the timed ingest."""
    target = onnx_path(index, encoder.model_name)
    if not cache.is_file():
        export_onnx(encoder, cache)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.link(cache, target)


def bench(name: str, source: Path, encoder: Encoder, repeats: int, model_file: Path) -> dict[str, float]:
    full, bare, again = [], [], []
    pages = 0
    for round_no in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            corpus = Path(tmp) / "corpus"
            shutil.copytree(source, corpus)
            settings = Settings(corpus_dir=corpus, index_dir=Path(tmp) / "index")
            prepare_model_file(settings.index_dir, encoder, model_file)
            texts = texts_of(corpus, settings)
            start = time.perf_counter()
            encoder.encode(texts)
            bare.append(time.perf_counter() - start)

            start = time.perf_counter()
            result = ingest(settings, encoder=encoder)
            full.append(time.perf_counter() - start)
            assert result.manifest is not None
            pages = result.manifest.counts["pages"]

            touch_one_page(corpus, round_no)
            start = time.perf_counter()
            result = ingest(settings, encoder=encoder)
            again.append(time.perf_counter() - start)
            assert result.manifest is not None and result.manifest.counts["changed_pages"] == 1
    f, b, a = (statistics.median(x) for x in (full, bare, again))
    return {"pages": pages, "texts": len(texts), "full": f, "bare": b, "again": a}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--site-repeats", type=int, default=1)
    args = parser.parse_args()
    encoder = Encoder(Settings().model)
    encoder.encode(["warm up the model"])
    corpora = [("corpus/", ROOT / "corpus", args.repeats)]
    site = ROOT.parent / "shared" / "corpora" / "nkdagility"
    if site.is_dir():
        corpora.append(("site (nkdagility)", site, args.site_repeats))
    print(f"{'corpus':<20}{'pages':>6}{'texts':>7}{'full s':>9}{'pages/s':>9}{'encode s':>10}"
          f"{'full/encode':>13}{'re-ingest s':>13}{'re/full':>9}")
    with tempfile.TemporaryDirectory() as models:
        rows = [(name, bench(name, source, encoder, repeats, Path(models) / "model.onnx"))
                for name, source, repeats in corpora]
    for name, r in rows:
        print(f"{name:<20}{r['pages']:>6.0f}{r['texts']:>7.0f}{r['full']:>9.2f}"
              f"{r['pages'] / r['full']:>9.1f}{r['bare']:>10.2f}{r['full'] / r['bare']:>13.2f}"
              f"{r['again']:>13.2f}{r['again'] / r['full']:>9.3f}")
    print("goals: full/encode <= 1.3, re/full <= 0.05 (medians; same process, same model;")
    print("the model is loaded and its one-time ONNX export done before timing, once per run)")


if __name__ == "__main__":
    main()
