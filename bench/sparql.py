"""SPARQL engine speed: rdflib against ours on the same data and the same typical queries.

Datasets: the RDF graph of corpus/, of ../shared/corpora/nkdagility when present (both built
by ingest's own graph builder, no model needed) and a synthetic graph of ~100k triples in the
same vocabulary (pages, tags under categories under top categories, aliases). Queries: pages
sharing >= 2 tags with a page, alias lookup, pages per category, a skos:broader* walk.
Engines: rdflib (Graph.query of the query text, and prepared once: its best case), ours
in-process (pyoxigraph query + capped JSON results, what a worker does), and ours through the
worker-process pool (adds the IPC a /sparql request pays). Answers are checked equal. Also
prints the W3C protocol conformance pass/total of /sparql over corpus/.
Run: .venv/bin/python bench/sparql.py [--seconds S] [--pages N]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pyoxigraph as ox  # noqa: E402
from rdflib import Graph  # noqa: E402
from rdflib.plugins.sparql import prepareQuery  # noqa: E402

from ingest.corpus import discover, load_pages  # noqa: E402
from ingest.rdf import build_graph  # noqa: E402
from ingest.report import Report  # noqa: E402
from ingest.terms import resolve_terms  # noqa: E402
from ontology.vocab import ontology_file  # noqa: E402
from service.sparql.dataset import DEFAULT_DATASET, load_store  # noqa: E402
from service.sparql.engine import Job  # noqa: E402
from service.sparql.pool import LocalEngine, WorkerSpec  # noqa: E402
from service.sparql.results import render  # noqa: E402

PG, SDO = "https://principles.graph/ontology#", "https://schema.org/"
SKOS, DCT = "http://www.w3.org/2004/02/skos/core#", "http://purl.org/dc/terms/"
BASE = "https://principles.graph/"
PREFIXES = (f"PREFIX pg: <{PG}> PREFIX schema: <{SDO}> PREFIX skos: <{SKOS}> "
            f"PREFIX dcterms: <{DCT}>\n")
QUERIES = {
    "shared >=2 tags": """SELECT ?other (COUNT(?tag) AS ?shared) WHERE {{
  ?page pg:pageId "{page}" ; pg:hasTag ?tag . ?other pg:hasTag ?tag . FILTER(?other != ?page)
}} GROUP BY ?other HAVING (COUNT(?tag) >= 2) ORDER BY DESC(?shared) ?other""",
    "alias lookup": """SELECT ?page ?url WHERE {{ ?page pg:alias "{alias}" ; schema:url ?url }}""",
    "pages per category": """SELECT ?category (COUNT(DISTINCT ?page) AS ?pages) WHERE {{
  ?category skos:inScheme <{base}scheme/categories> . OPTIONAL {{ ?page pg:hasCategory ?category }}
}} GROUP BY ?category ORDER BY DESC(?pages) ?category""",
    "skos:broader* walk": """SELECT ?term (COUNT(DISTINCT ?page) AS ?pages) WHERE {{
  ?term skos:broader* <{category}> . OPTIONAL {{ ?page schema:about ?term }}
}} GROUP BY ?term ORDER BY DESC(?pages) ?term""",
}


def corpus_graph(corpus: Path, out: Path) -> Path:
    """graph.nt of a corpus, built exactly as ingest builds it (no embeddings)."""
    pages = load_pages(discover(corpus), Report())
    terms = resolve_terms(pages, Report())
    out.mkdir(parents=True, exist_ok=True)
    build_graph(pages, terms).serialize(out / "graph.nt", format="nt", encoding="utf-8")
    return out / "graph.nt"


def synthetic_graph(pages: int, out: Path, seed: int = 5) -> Path:
    """~29 triples per page: pages with 4 tags, 1-2 categories, an alias; tags under
    categories under top categories (three levels for broader*)."""
    rng = random.Random(seed)
    n, lit = ox.NamedNode, ox.Literal
    triples: list[ox.Triple] = []

    def add(s: str, p: str, o: ox.NamedNode | ox.Literal) -> None:
        triples.append(ox.Triple(n(s), n(p), o))

    def term(kind: str, slug: str, broader: list[str]) -> str:
        iri = f"{BASE}term/{kind}/{slug}"
        add(iri, "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", n(SKOS + "Concept"))
        add(iri, SKOS + "inScheme", n(f"{BASE}scheme/{kind}"))
        add(iri, SKOS + "prefLabel", lit(slug.replace("-", " ").title(), language="en"))
        add(iri, SKOS + "notation", lit(slug))
        for b in broader:
            add(iri, SKOS + "broader", n(b))
        return iri

    tops = [term("categories", f"top-{i}", []) for i in range(6)]
    categories = [term("categories", f"cat-{i}", [rng.choice(tops)]) for i in range(40)]
    tags = [term("tags", f"tag-{i}", rng.sample(categories, rng.randint(1, 2))) for i in range(400)]
    for i in range(pages):
        iri, pid = f"{BASE}page/resources/articles/a{i}", f"resources/articles/a{i}"
        add(iri, "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", n(PG + "Page"))
        for prop, value in ((PG + "pageId", pid), (PG + "pageType", "article"),
                            (DCT + "title", f"Article {i}"), (SDO + "name", f"Article {i}"),
                            (SDO + "url", f"/{pid}/"), (PG + "alias", f"/old/a{i}/"),
                            (DCT + "description", f"About article {i}.")):
            add(iri, prop, lit(value))
        add(iri, PG + "draft", lit(False))
        add(iri, SDO + "wordCount", lit(rng.randint(100, 3000)))
        window = rng.randrange(len(tags) - 20)  # neighbouring tags co-occur, as on a real site
        for prop, chosen in ((PG + "hasTag", rng.sample(tags[window:window + 20], 4)),
                             (PG + "hasCategory", rng.sample(categories, rng.randint(1, 2)))):
            for t in chosen:
                add(iri, prop, n(t))
                add(iri, SDO + "about", n(t))
                add(iri, SDO + "keywords", lit(t.rsplit("/", 1)[1]))
    out.mkdir(parents=True, exist_ok=True)
    ox.serialize(triples, str(out / "graph.nt"), format=ox.RdfFormat.N_TRIPLES)
    return out / "graph.nt"


def parameters(store: ox.Store) -> dict[str, str]:
    """A page with the most tags, one of its aliases or any alias, the broadest category."""
    def first(query: str) -> str:
        rows = store.query(PREFIXES + query, default_graph=[ox.NamedNode(DEFAULT_DATASET.default[0])])
        assert isinstance(rows, ox.QuerySolutions)
        return str(next(iter(rows))[0].value)  # type: ignore[union-attr]
    return {
        "page": first("SELECT ?id { ?p pg:pageId ?id ; pg:hasTag ?t } GROUP BY ?id "
                      "ORDER BY DESC(COUNT(?t)) ?id LIMIT 1"),
        "alias": first("SELECT ?a { ?p pg:alias ?a } ORDER BY ?a LIMIT 1"),
        "category": first("SELECT ?c { ?t skos:broader+ ?c } GROUP BY ?c "
                          "ORDER BY DESC(COUNT(?t)) ?c LIMIT 1"),
        "base": BASE,
    }


def timed(run: Callable[[], Any], budget: float) -> tuple[float, Any]:
    """Median milliseconds of repeated runs within `budget` seconds (at least 3 runs)."""
    samples: list[float] = []
    result = None
    deadline = time.monotonic() + budget
    while len(samples) < 3 or (time.monotonic() < deadline and len(samples) < 200):
        start = time.perf_counter()
        result = run()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), result


def bench_dataset(name: str, nt: Path, budget: float) -> list[list[str]]:
    rdf = Graph().parse(nt, format="nt")
    store, sizes = load_store(nt, ontology_file("vocabulary.ttl"), include_drafts=True)
    engine = LocalEngine(WorkerSpec(nt, ontology_file("vocabulary.ttl"), True, 4096), 1)
    default = [ox.NamedNode(g) for g in DEFAULT_DATASET.default]
    params = parameters(store)
    rows = []
    try:
        for label, template in QUERIES.items():
            query = PREFIXES + template.format(**params)
            prepared = prepareQuery(query)
            text_ms, _ = timed(lambda q=query: list(rdf.query(q)), budget)  # type: ignore[misc]
            rdflib_ms, rdflib_rows = timed(lambda q=prepared: list(rdf.query(q)), budget)  # type: ignore[misc]

            def ours(q: str = query) -> Any:
                return render(store.query(q, default_graph=default), "json", None, 100_000)

            ours_ms, rendered = timed(ours, budget)
            job = Job(query, DEFAULT_DATASET.default, DEFAULT_DATASET.named, "json", None, 100_000)
            pool_ms, reply = timed(lambda j=job: engine.run(j, 60.0), budget)  # type: ignore[misc]
            assert rendered.rows == len(rdflib_rows) == reply.rows, (label, rendered.rows, len(rdflib_rows))
            rows.append([name, f"{sizes[DEFAULT_DATASET.default[0]]:,}", label, str(len(rdflib_rows)),
                         f"{text_ms:.2f}", f"{rdflib_ms:.2f}", f"{ours_ms:.2f}", f"{pool_ms:.2f}",
                         f"{text_ms / ours_ms:.0f}x", f"{rdflib_ms / ours_ms:.0f}x",
                         f"{pool_ms - ours_ms:.2f}"])
    finally:
        engine.close()
    return rows


def conformance(nt: Path) -> tuple[int, int]:
    """Run the W3C protocol cases against /sparql (the real handlers and worker pool)."""
    from litestar import Litestar
    from litestar.testing import TestClient

    from principles.settings import Settings
    from service.controllers import sparql
    from service.errors import EXCEPTION_HANDLERS
    from service.sparql.endpoint import SparqlService
    from tests.test_sparql_conformance import run_cases

    view: Any = SimpleNamespace(build=nt.parent, version="bench")
    services: Any = SimpleNamespace(sparql=SparqlService(Settings(), view))
    feature = sparql.feature(services)
    app = Litestar(route_handlers=feature.routes, exception_handlers=EXCEPTION_HANDLERS,
                   lifespan=[feature.lifespan] if feature.lifespan else [])
    with TestClient(app) as client:
        outcomes = run_cases(client)
    return sum(o.passed for o in outcomes), len(outcomes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time budget per query and engine")
    parser.add_argument("--pages", type=int, default=3700, help="pages in the synthetic graph")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        datasets = [("corpus/", corpus_graph(ROOT / "corpus", Path(tmp) / "corpus"))]
        site = ROOT.parent / "shared" / "corpora" / "nkdagility"
        if site.is_dir():
            datasets.append(("site corpus", corpus_graph(site, Path(tmp) / "site")))
        datasets.append(("synthetic", synthetic_graph(args.pages, Path(tmp) / "synthetic")))
        header = ["dataset", "triples", "query", "rows", "rdflib ms", "rdflib prepared ms", "ours ms",
                  "ours via worker ms", "speed-up", "vs prepared", "IPC ms"]
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for name, nt in datasets:
            for row in bench_dataset(name, nt, args.seconds):
                print("| " + " | ".join(row) + " |", flush=True)
        passed, total = conformance(datasets[0][1])
    print("\nmedians. rdflib: Graph.query(text), as an endpoint receives queries; prepared: parsed once."
          "\nspeed-up = rdflib / ours in-process (goal >= 10x); IPC = worker pool - in-process")
    print(f"SPARQL 1.1 Protocol conformance (W3C cases, read-only endpoint): {passed}/{total} passed")


if __name__ == "__main__":
    main()
