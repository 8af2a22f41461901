"""Remote mode (PRINCIPLES_SPARQL_URL): load a published build into the external SPARQL store.

Each build gets its own graphs, written with the SPARQL 1.1 Graph Store Protocol (HTTP PUT of
N-Triples), so loading never touches the graphs a running service queries:

    https://principles.graph/graph/knowledge/<build-id>/all     graph.nt as is
    https://principles.graph/graph/knowledge/<build-id>/public  without draft pages (served
                                                                unless drafts are included)
    https://principles.graph/graph/ontology/<build-id>          ontology/vocabulary.ttl

(principles/contract.py names them for ingest and service alike). If any load fails, `current` is
switched back to the previous build and the ingest fails: what was served stays served, on
disk and in the store. Graphs of builds that the ingest's pruning removes are dropped.
"""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pyoxigraph as ox

from ontology.vocab import ontology_file
from principles.contract import KNOWLEDGE_GRAPH, ONTOLOGY_GRAPH, store_graph, without_drafts
from principles.errors import IngestError
from principles.index import IndexLayout
from principles.settings import Settings

TIMEOUT = 120.0


def _call(method: str, url: str, body: bytes | None = None,
          headers: dict[str, str] | None = None) -> bytes:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
        data: bytes = response.read()
        return data


def _ntriples(triples: list[ox.Triple]) -> bytes:
    data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    assert data is not None
    return data


def graph_payloads(build: Path) -> dict[str, bytes]:
    """N-Triples for each of the build's graphs."""
    triples = [q.triple for q in ox.parse(path=str(build / "graph.nt"), format=ox.RdfFormat.N_TRIPLES)]
    public = without_drafts(triples)
    vocabulary = [q.triple for q in ox.parse(path=str(ontology_file("vocabulary.ttl")),
                                             format=ox.RdfFormat.TURTLE)]
    return {"all": (build / "graph.nt").read_bytes(),
            "public": _ntriples(public), "ontology": _ntriples(vocabulary)}


def _store_url(settings: Settings, graph: str) -> str:
    assert settings.sparql_url is not None
    base = f"{settings.sparql_url.rstrip('/')}/{settings.sparql_store_path.strip('/')}"
    return f"{base}?{urllib.parse.urlencode({'graph': graph})}"


def load_build(settings: Settings, build: Path) -> None:
    for name, payload in graph_payloads(build).items():
        _call("PUT", _store_url(settings, store_graph(build.name, name)), payload,
              {"Content-Type": "application/n-triples"})


def stored_builds(settings: Settings) -> set[str]:
    """Build ids that have graphs in the store."""
    assert settings.sparql_url is not None
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    url = f"{settings.sparql_url.rstrip('/')}/{settings.sparql_query_path.strip('/')}"
    data = _call("POST", url, urllib.parse.urlencode({"query": query}).encode(),
                 {"Content-Type": "application/x-www-form-urlencoded",
                  "Accept": "application/sparql-results+json"})
    names = [row["g"]["value"] for row in json.loads(data)["results"]["bindings"]]
    return {n.removeprefix(base).split("/")[0] for n in names
            for base in (f"{KNOWLEDGE_GRAPH}/", f"{ONTOLOGY_GRAPH}/") if n.startswith(base)}


def drop_pruned(settings: Settings, layout: IndexLayout) -> None:
    """Drop the graphs of builds the ingest's pruning will remove (same rule as prune())."""
    keep = layout.kept(settings.keep_builds, settings.lease_ttl)
    for build_id in stored_builds(settings) - keep:
        for name in ("all", "public", "ontology"):
            try:
                _call("DELETE", _store_url(settings, store_graph(build_id, name)))
            except urllib.error.HTTPError as exc:
                if exc.code != 404:
                    raise


def publish_remote(settings: Settings, layout: IndexLayout, build: Path,
                   previous: Path | None) -> None:
    """Load `build` into the store; on failure make `previous` current again and fail."""
    try:
        load_build(settings, build)
    except (OSError, ValueError) as exc:
        layout.point_current(previous.name if previous else None)
        reason = f"HTTP {exc.code}" if isinstance(exc, urllib.error.HTTPError) else str(exc)
        kept = f"build {previous.name} stays current" if previous else "no build is current"
        raise IngestError(f"loading build {build.name} into the SPARQL store at "
                          f"{settings.sparql_url} failed ({reason}); {kept}. Fix the store and "
                          "run the ingest again") from exc
    with contextlib.suppress(OSError, ValueError, KeyError):
        drop_pruned(settings, layout)  # stale graphs cost space only; the next ingest retries
