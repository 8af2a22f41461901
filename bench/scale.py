"""Scale: a synthetic corpus of 1k, 10k and 50k pages through ingest and serve.

Pages get a realistic taxonomy (tags drawn from a Zipf law over 600 tags, 15 categories,
8 concepts) and ~140-word bodies built from topic vocabularies. VECTORS ARE SYNTHESISED,
not encoded (50k pages would take ~1 h on this machine's model): each page's vector is its
tags' topic directions plus noise, so related and search still have structure to find.
Each size runs in its own process, so RSS is that size's alone.

Prints ingest seconds, index size on disk, /v1/search and /v1/related p50/p99 (in-process
ASGI client), a typical SPARQL query (pages sharing >= 2 tags with one page) on pyoxigraph,
and the API process's peak RSS (served from a fresh process, so ingest's memory is not
counted), with growth factors against the first size.

Then one page's body is edited and the corpus ingested again, five times (a different page
each time): the median re-ingest time, its ratio to the full ingest (goal <= 0.05 at 10k) and
both split per ingest step (the median run's). One re-ingest of ~2 s varies by ~10% from run
to run on this machine class, and an edit that moves a page's vector far (the synthetic
vectors are sums of the topics a text names) enters hundreds of neighbour lists: the median of
five says more than one run.
Run: .venv/bin/python bench/scale.py [--sizes 1000,10000,50000] [--requests 200] [--no-serve]
(--no-serve: ingest and re-ingest only, no API latency/RSS columns)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
DIM = 384
TAGS, CATEGORIES, CONCEPTS = 600, 15, 8
SHARED_TAGS_QUERY = """PREFIX pg: <https://principles.graph/ontology#>
SELECT ?other (COUNT(?tag) AS ?n) WHERE {
  ?page pg:pageId "%s" ; pg:hasTag ?tag . ?other pg:hasTag ?tag . FILTER(?other != ?page)
} GROUP BY ?other HAVING (COUNT(?tag) >= 2) ORDER BY DESC(?n) LIMIT 20"""


class SyntheticEncoder:
    """Deterministic vectors with topic structure: the sum of the topic directions named in
    the text (words `topicNNN`) plus hashed noise, L2-normalised. Not a language model."""

    model_name = "synthetic"

    def __init__(self) -> None:
        self.topics = np.random.default_rng(7).standard_normal((TAGS, DIM)).astype(np.float32)

    @property
    def dimension(self) -> int:
        return DIM

    def _one(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha1(text.encode()).digest()[:8], "little")
        vector = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32) * 0.6
        for word in text.split():
            if word.startswith("topic") and word[5:].isdigit():
                vector += self.topics[int(word[5:]) % TAGS]
        return vector / np.linalg.norm(vector)

    def encode(self, texts: list[str], **_: Any) -> np.ndarray:
        return np.stack([self._one(t) for t in texts]) if texts else np.zeros((0, DIM), np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return self._one(text)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.encode(texts)


def generate(root: Path, pages: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, TAGS + 1) ** 1.1
    weights /= weights.sum()
    words = [f"word{i}" for i in range(3000)]
    for t in range(60):  # taxonomy pages for the most used tags
        folder = root / "tags" / f"topic{t}"
        folder.mkdir(parents=True)
        (folder / "_index.md").write_text(f"---\ntitle: Topic {t}\nClassificationType: tags\n---\n"
                                          f"About topic{t}.\n")
    for i in range(pages):
        tags = sorted(set(rng.choice(TAGS, size=int(rng.integers(2, 7)), p=weights).tolist()))
        body = " ".join(rng.choice(words, 120).tolist() + [f"topic{t}" for t in tags for _ in range(4)])
        folder = root / "resources" / "articles" / f"{i // 1000:03d}" / f"page-{i}"
        folder.mkdir(parents=True)
        front = {"title": f"Page {i} on topic{tags[0]}", "ResourceId": f"R{i:010d}",
                 "tags": [f"topic{t}" for t in tags],
                 "categories": [f"Category {int(rng.integers(CATEGORIES))}"],
                 "concepts": [f"Concept {int(rng.integers(CONCEPTS))}"],
                 "aliases": [f"/old/{i}/"], "date": "2024-01-01"}
        (folder / "index.md").write_text("---\n" + json.dumps(front) + "\n---\n" + body + "\n")


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM). Not getrusage's ru_maxrss: Linux carries that over
    from the parent through fork and exec, so a server started by a 5 GB ingest process
    would report 5 GB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _children_cpu() -> dict[int, int]:
    """CPU ticks used so far by each child process of this one (from /proc)."""
    ticks = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():
            ticks[int(stat.parent.name)] = int(fields[11]) + int(fields[12])
    return ticks


def wait_until_children_idle(limit_s: float = 600.0) -> float:
    """The app starts its SPARQL worker processes, which load the whole graph (at 50k pages
    ~1.5M triples, tens of seconds on both cores). Latency is measured once they are idle,
    as in a server that has been up a minute; returns the seconds waited."""
    begin = time.perf_counter()
    before = _children_cpu()
    while time.perf_counter() - begin < limit_s:
        time.sleep(1.0)
        now = _children_cpu()
        if now and all(now[pid] - before.get(pid, 0) <= 5 for pid in now):
            break
        before = now
    return time.perf_counter() - begin


def serve_one(index: Path, size: int, requests: int) -> dict[str, Any]:
    """Serve a built index in this (fresh) process: latencies, SPARQL time, peak RSS."""
    import logging

    import pyoxigraph
    from litestar.testing import TestClient

    from principles.index import IndexLayout
    from principles.settings import Settings
    from service.app import create_app

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request otherwise
    encoder = SyntheticEncoder()
    settings = Settings(index_dir=index, model="synthetic", query_encoder="torch")
    app = create_app(settings, encoder=encoder)
    rng = np.random.default_rng(3)
    ids = [f"resources/articles/{i // 1000:03d}/page-{i}" for i in rng.integers(0, size, 50)]
    timings: dict[str, list[float]] = {"search": [], "related": []}
    with TestClient(app) as client:
        settle_s = wait_until_children_idle()
        for n in range(requests):
            for name, url, params in (
                    ("search", "/v1/search", {"q": f"topic{int(rng.integers(TAGS))} word{n}"}),
                    ("related", "/v1/related", {"page": ids[n % len(ids)]})):
                begin = time.perf_counter()
                response = client.get(url, params=params)
                timings[name].append((time.perf_counter() - begin) * 1000)
                assert response.status_code == 200, response.text
        rss_mb = peak_rss_mb()
    build = IndexLayout(index).current_build()
    assert build is not None
    store = pyoxigraph.Store()
    store.bulk_load(path=str(build / "graph.nt"), format=pyoxigraph.RdfFormat.N_TRIPLES)
    sparql = []
    for page_id in ids[:20]:
        begin = time.perf_counter()
        list(store.query(SHARED_TAGS_QUERY % page_id))  # type: ignore[arg-type]
        sparql.append((time.perf_counter() - begin) * 1000)
    return {"search": percentiles(timings["search"]), "related": percentiles(timings["related"]),
            "sparql": percentiles(sparql), "rss_mb": rss_mb, "settle_s": settle_s}


REINGESTS = 5


def edit_one_page(corpus: Path, size: int, number: int = 0) -> None:
    """Change one page's body (the middle page, then pages spread from it), as an author's
    edit would."""
    page = (size // 2 + number * (size // 7)) % size
    target = corpus / "resources" / "articles" / f"{page // 1000:03d}" / f"page-{page}" / "index.md"
    with target.open("a", encoding="utf-8") as handle:
        handle.write("One more sentence about topic7 and word5, added by an edit.\n")


def one(size: int, requests: int, keep: Path | None = None, serve: bool = True) -> dict[str, Any]:
    """Ingest in this process, then serve in a fresh one, so RSS is the server's alone
    (peak of the API process; the SPARQL query workers are separate processes); then edit
    one page and ingest again. With `keep`, the corpus and index stay in `keep/<size>/`."""
    from ingest.pipeline import ingest
    from principles.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        folder = keep / str(size) if keep else Path(tmp)
        corpus, index = folder / "corpus", folder / "index"
        generate(corpus, size)
        settings = Settings(corpus_dir=corpus, index_dir=index, model="synthetic",
                            query_encoder="torch")
        start = time.perf_counter()
        result = ingest(settings, encoder=SyntheticEncoder())  # type: ignore[arg-type]
        ingest_s = time.perf_counter() - start
        assert result.build is not None and result.manifest is not None
        size_mb = sum(f.stat().st_blocks * 512 for f in result.build.rglob("*") if f.is_file()) / 1e6
        served: dict[str, Any] = {}
        if serve:
            out = subprocess.run([sys.executable, __file__, "--serve-one", str(index), str(size),
                                  "--requests", str(requests)], stdout=subprocess.PIPE, text=True,
                                 check=True)  # stderr passes through: a failure shows its traceback
            served = json.loads(out.stdout.strip().splitlines()[-1])
        runs = []
        for number in range(REINGESTS):
            edit_one_page(corpus, size, number)
            start = time.perf_counter()
            again = ingest(settings, encoder=SyntheticEncoder())  # type: ignore[arg-type]
            runs.append((time.perf_counter() - start, again.timings))
            assert again.manifest is not None and again.manifest.counts["changed_pages"] == 1
        again_s, again_timings = sorted(runs, key=lambda run: run[0])[len(runs) // 2]
        return {"pages": result.manifest.counts["pages"], "triples": result.manifest.counts["triples"],
                "vectors": result.manifest.counts["vectors"], "ingest_s": ingest_s,
                "timings": result.timings, "size_mb": size_mb, "again_s": again_s,
                "again_runs": [round(seconds, 3) for seconds, _ in runs],
                "again_timings": again_timings, **served}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="keep each size's corpus and index here")
    parser.add_argument("--no-serve", action="store_true", help="ingest and re-ingest only")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--serve-one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_one:
        print(json.dumps(serve_one(Path(args.serve_one[0]), int(args.serve_one[1]), args.requests)))
        return
    if args.one:
        print(json.dumps(one(args.one, args.requests, args.keep, serve=not args.no_serve)))
        return
    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        extra = (["--keep", str(args.keep)] if args.keep else []) + (
            ["--no-serve"] if args.no_serve else [])
        out = subprocess.run([sys.executable, __file__, "--one", str(size), "--requests",
                              str(args.requests), *extra], stdout=subprocess.PIPE, text=True,
                             check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        settle = rows[-1].get("settle_s")
        print(f"done {size}: ingest {rows[-1]['ingest_s']:.0f} s, re-ingest "
              f"{rows[-1]['again_s']:.1f} s" + (f"; SPARQL workers loaded {settle:.0f} s after start"
                                                 if settle is not None else ""), flush=True)
    print("\nVECTORS SYNTHESISED (see docstring). Ingest seconds per step, full / after one "
          "changed page:")
    for r in rows:
        steps = [k for k in r["timings"] if k != "total"]
        print(f"{r['pages']:>7} pages: " + ", ".join(
            f"{k} {r['timings'][k]:.2f}/{r['again_timings'].get(k, 0.0):.2f}" for k in steps))
        print(f"{'':>7}  full {r['ingest_s']:.1f} s, re-ingest {r['again_s']:.2f} s (median of "
              f"{', '.join(f'{s:.2f}' for s in r['again_runs'])}), "
              f"re/full {r['again_s'] / r['ingest_s']:.3f} (goal <= 0.05 at 10k)")
    if args.no_serve:
        return
    base = rows[0]
    print("\nSearch/related via in-process ASGI client.")
    print(f"{'pages':>7}{'triples':>10}{'vectors':>9}{'ingest s':>10}{'index MB':>10}"
          f"{'search p50/p99 ms':>19}{'related p50/p99':>17}{'sparql p50 ms':>15}{'RSS MB':>8}")
    for r in rows:
        print(f"{r['pages']:>7}{r['triples']:>10}{r['vectors']:>9}{r['ingest_s']:>10.1f}"
              f"{r['size_mb']:>10.1f}{r['search'][0]:>10.2f}/{r['search'][1]:<8.2f}"
              f"{r['related'][0]:>8.2f}/{r['related'][1]:<8.2f}{r['sparql'][0]:>15.2f}{r['rss_mb']:>8.0f}")
    last = rows[-1]
    print(f"\ngrowth {base['pages']} -> {last['pages']} pages: search p50 x"
          f"{last['search'][0] / base['search'][0]:.2f} (goal <= 2), related p50 x"
          f"{last['related'][0] / base['related'][0]:.2f}, "
          f"ingest x{last['ingest_s'] / base['ingest_s']:.1f}, "
          f"RSS x{last['rss_mb'] / base['rss_mb']:.2f}")


if __name__ == "__main__":
    main()
