"""The remote engine: /sparql proxies to an external SPARQL 1.1 store (PRINCIPLES_SPARQL_URL).

Ingest loads each build into its own graphs there (ingest/sparql_load.py); the proxy maps the
stable graph names to the build's and passes the dataset as protocol parameters, so a running
service keeps answering from its own build while a newer one loads. Answers are requested as
SPARQL JSON / N-Triples, capped and re-serialised by service.sparql.results like the embedded
engine's, with the per-build graph names mapped back. The same safety checks run before
anything is forwarded; the store's own timeout (e.g. `oxigraph serve --timeout-s`) should be
set too, because closing the connection is all a client can do.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pyoxigraph as ox

from principles.errors import Unavailable
from service.errors import QueryTimeout
from service.sparql.dataset import GRAPHS, KNOWLEDGE, remote_graphs
from service.sparql.engine import Job, Reply, raise_for
from service.sparql.results import FormatUnavailable, TooLarge, render

ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9"
CHUNK = 1 << 16


class RemoteEngine:
    name = "remote"

    def __init__(self, url: str, query_path: str, build_id: str, include_drafts: bool) -> None:
        self.url = url.rstrip("/")
        self.endpoint = f"{self.url}/{query_path.strip('/')}"
        self.graphs = remote_graphs(build_id, include_drafts)
        self.back = {remote: stable for stable, remote in self.graphs.items()}

    def start(self) -> None:
        """Nothing to start; the store is checked per request."""

    def close(self) -> None:
        """Nothing held open between requests."""

    def _post(self, params: list[tuple[str, str]], timeout: float) -> tuple[str, bytes]:
        deadline = time.monotonic() + timeout
        request = urllib.request.Request(
            self.endpoint, data=urllib.parse.urlencode(params).encode(), method="POST",
            headers={"Accept": ACCEPT, "Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                chunks = []
                while chunk := response.read(CHUNK):
                    chunks.append(chunk)
                    if time.monotonic() > deadline:
                        raise TimeoutError
                return response.headers.get_content_type(), b"".join(chunks)
        except urllib.error.HTTPError as exc:
            message = exc.read(4096).decode("utf-8", "replace").strip()
            if exc.code == 400:
                raise_for("syntax", message or "the SPARQL store rejected the query")
            raise Unavailable(f"the SPARQL store answered {exc.code}: {message[:300]}") from exc
        except TimeoutError:
            raise QueryTimeout(f"the query ran longer than the {timeout:g} s limit and was "
                               "stopped; narrow the patterns or add a LIMIT",
                               timeout_seconds=timeout) from None
        except (urllib.error.URLError, OSError) as exc:
            raise Unavailable(f"the SPARQL store at {self.url} is not reachable: {exc}") from exc

    def run(self, job: Job, timeout: float) -> Reply:
        params = [("query", job.query)]
        params += [("default-graph-uri", self.graphs[g]) for g in job.default]
        params += [("named-graph-uri", self.graphs[g]) for g in job.named]
        media, body = self._post(params, timeout)
        result: Any
        if media == "application/n-triples":
            result = [q.triple for q in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)]
        else:
            result = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        try:
            rendered = render(result, job.results_format, job.graph_format, job.max_rows, self.back,
                              max_bytes=job.max_bytes)
        except FormatUnavailable as exc:
            raise_for("format", str(exc))
            raise
        except TooLarge as exc:
            raise_for("too-large", str(exc))
            raise
        return Reply(rendered.body, rendered.kind, rendered.rows, rendered.truncated)

    def sizes(self) -> dict[str, int] | None:
        """Triples per stable graph name, or None when the store cannot be asked."""
        query = ("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
        params = [("query", query)] + [("named-graph-uri", self.graphs[g]) for g in GRAPHS]
        try:
            _, body = self._post(params, 10.0)
        except Exception:  # a description without counts is still a description
            return None
        rows = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        if not isinstance(rows, ox.QuerySolutions):
            return None
        counts = {self.back.get(s["g"].value, s["g"].value): int(s["n"].value) for s in rows
                  if isinstance(s["g"], ox.NamedNode) and isinstance(s["n"], ox.Literal)}
        return counts if KNOWLEDGE in counts else None
