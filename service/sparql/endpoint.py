"""One request to /sparql, start to finish: protocol -> safety -> dataset -> Accept -> engine.

The engine call runs in a worker thread with its own capacity limiter, so the event loop
(and every other endpoint) keeps serving however long a query takes, and SPARQL cannot use up
the threads other handlers need. Engines: embedded worker pool by default, the remote proxy
when PRINCIPLES_SPARQL_URL is set.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
from litestar import Request, Response

from ontology.vocab import ontology_file
from principles.settings import Settings
from service.edge import csp_with_inline_scripts
from service.errors import InvalidQuery, NotAcceptable, QueryRefused
from service.index import IndexView
from service.sparql.analysis import Refused, analyse
from service.sparql.dataset import resolve_dataset
from service.sparql.description import describe
from service.sparql.engine import Engine, Job, Reply
from service.sparql.formats import (
    GRAPH_ALIASES,
    GRAPH_TYPES,
    HTML,
    RESULT_ALIASES,
    RESULT_TYPES,
    negotiate,
)
from service.sparql.pool import LocalEngine, WorkerSpec
from service.sparql.protocol import parse_request
from service.sparql.remote import RemoteEngine
from service.sparql.ui import query_page

log = logging.getLogger("principles.service.sparql")
STATIC = "sparql/assets"  # the page is /sparql: relative, so a path prefix keeps working


def make_engine(settings: Settings, view: IndexView) -> Engine:
    if settings.sparql_url:
        return RemoteEngine(settings.sparql_url, settings.sparql_query_path, view.version,
                            settings.include_drafts)
    spec = WorkerSpec(view.build / "graph.nt", ontology_file("vocabulary.ttl"),
                      settings.include_drafts, settings.sparql_worker_memory_mb)
    return LocalEngine(spec, settings.sparql_workers)


class SparqlService:
    def __init__(self, settings: Settings, view: IndexView, engine: Engine | None = None) -> None:
        self.settings = settings
        self.build = view.version
        self.engine = engine or make_engine(settings, view)
        self.limiter = anyio.CapacityLimiter(max(4, 2 * settings.sparql_workers))
        self.limits = (f"query timeout {settings.sparql_timeout:g} s; at most "
                       f"{settings.sparql_max_rows} result rows or triples per answer (more is "
                       "cut and flagged by the X-SPARQL-Truncated header); queries up to "
                       f"{settings.sparql_max_query_length} characters, nesting up to "
                       f"{settings.sparql_max_nesting} levels, answers up to "
                       f"{settings.sparql_max_answer_bytes} bytes.")

    def start(self) -> None:
        self.engine.start()
        if self.settings.sparql_url and self.engine.sizes() is None:
            log.warning("the SPARQL store at %s has no graphs for build %s; run `principles "
                        "ingest --force` with PRINCIPLES_SPARQL_URL set", self.settings.sparql_url,
                        self.build)

    def close(self) -> None:
        self.engine.close()

    async def answer(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        body = await request.body() if request.method == "POST" else b""
        proto = parse_request(request.method, request.scope.get("query_string", b""),
                              request.headers.get("content-type"), body,
                              self.settings.sparql_max_query_length)
        accept = request.headers.get("accept")
        if proto.query is None:
            return await self._describe(request, accept)
        reply, media = await self.execute(proto.query, accept, proto.default_graphs,
                                          proto.named_graphs)
        headers = {"Vary": "Accept", "X-SPARQL-Rows": str(reply.rows)}
        if reply.truncated:
            headers["X-SPARQL-Truncated"] = "true"
            headers["X-SPARQL-MaxRows"] = str(self.settings.sparql_max_rows)
        return Response(reply.body, media_type=media, headers=headers)

    async def execute(self, query: str, accept: str | None, default_graphs: list[str],
                      named_graphs: list[str]) -> tuple[Reply, str]:
        """Safety checks, dataset, Accept and the bounded engine run for one query: the HTTP
        endpoint and the MCP `sparql_query` tool both come through here. Returns the reply
        and its media type."""
        try:
            info = analyse(query)
            dataset = resolve_dataset(default_graphs, named_graphs, info)
        except Refused as exc:
            raise QueryRefused(str(exc)) from None
        if info.depth > self.settings.sparql_max_nesting:
            raise InvalidQuery(f"the query nests braces/parentheses {info.depth} levels deep; the "
                               f"limit is {self.settings.sparql_max_nesting} "
                               "(PRINCIPLES_SPARQL_MAX_NESTING)", limit="nesting")
        results_format = negotiate(accept, RESULT_TYPES, RESULT_ALIASES)
        graph_format = negotiate(accept, GRAPH_TYPES, GRAPH_ALIASES)
        if info.form in ("SELECT", "ASK") and results_format is None:
            raise NotAcceptable(f"{info.form} answers one of {', '.join(RESULT_TYPES.values())}; "
                                f"none matches Accept: {accept}")
        if info.form in ("CONSTRUCT", "DESCRIBE") and graph_format is None:
            raise NotAcceptable(f"{info.form} answers one of {', '.join(GRAPH_TYPES.values())}; "
                                f"none matches Accept: {accept}")
        job = Job(query, dataset.default, dataset.named, results_format, graph_format,
                  self.settings.sparql_max_rows, self.settings.sparql_max_answer_bytes)
        reply = await anyio.to_thread.run_sync(self.engine.run, job, self.settings.sparql_timeout,
                                               limiter=self.limiter)
        if reply.kind == "graph":
            assert graph_format is not None
            media = GRAPH_TYPES[graph_format]
        else:
            assert results_format is not None
            media = RESULT_TYPES[results_format]
        return reply, media

    async def _describe(self, request: Request[Any, Any, Any], accept: str | None) -> Response[bytes]:
        """No query: the service description (RDF) or, for a browser, the query UI."""
        offers = {**GRAPH_TYPES, "html": HTML}
        choice = negotiate(accept, offers)
        if choice is None:
            raise NotAcceptable("without a query, /sparql answers its service description ("
                                f"{', '.join(GRAPH_TYPES.values())}) or the query page (text/html)")
        endpoint = str(request.url.with_replacements(query="", fragment=""))
        if choice == "html":
            page = query_page(endpoint, STATIC, self.limits)
            return Response(page.encode(), media_type=HTML,
                            headers={"Vary": "Accept",
                                     "Content-Security-Policy": csp_with_inline_scripts(page)})
        sizes = await anyio.to_thread.run_sync(self.engine.sizes, limiter=self.limiter)
        body = describe(endpoint, choice, sizes, self.limits, self.engine.name)
        return Response(body, media_type=GRAPH_TYPES[choice], headers={"Vary": "Accept"})
