"""/sparql: the read-only SPARQL 1.1 Protocol endpoint, its query page and static files.

`feature(services)` brings the route handlers (a Router carrying the SparqlService
dependency), the vendored YASGUI files (service/static/yasgui/) at /sparql/assets/, and a
lifespan hook that starts the query workers and stops them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import anyio
from litestar import Litestar, Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import (
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
)
from litestar.params import QueryParameter
from litestar.static_files import create_static_files_router

from service.feature import Feature, provide
from service.sparql.endpoint import SparqlService
from service.sparql.formats import GRAPH_TYPES, HTML, RESULT_TYPES

if TYPE_CHECKING:
    from service.services import Services

STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "yasgui"
TAGS = ["sparql"]
PROTOCOL = (
    "SPARQL 1.1 Protocol query operation, read-only. Results: SELECT/ASK as "
    "application/sparql-results+json (default), application/sparql-results+xml, text/csv or "
    "text/tab-separated-values; CONSTRUCT/DESCRIBE as text/turtle (default), "
    "application/n-triples, application/ld+json or application/rdf+xml, chosen by Accept (406 "
    "when none matches). Updates, SERVICE and graphs other than the served ones are refused "
    "(403); a malformed query is a 400 carrying the parser's message; a query past the time "
    "limit is stopped (503); answers are cut at the row limit with `X-SPARQL-Truncated: true`.")


def _answer_types(html: bool) -> dict[str, OpenAPIMediaType]:
    types = [*RESULT_TYPES.values(), *GRAPH_TYPES.values(), *([HTML] if html else [])]
    return {media: OpenAPIMediaType(schema=Schema(description=f"{media} document")) for media in types}


def _optional_header(description: str) -> OpenAPIHeader:
    return OpenAPIHeader(schema=Schema(type=OpenAPIType.STRING), description=description,
                         required=False)


ANSWER_HEADERS: dict[str, OpenAPIHeader | Reference] = {
    "X-SPARQL-Rows": _optional_header("Result rows (or triples) in this answer"),
    "X-SPARQL-Truncated": _optional_header("`true` when the answer was cut at the row limit"),
    "X-SPARQL-MaxRows": _optional_header("The row limit, sent with X-SPARQL-Truncated"),
}


@dataclass
class QueryOperation(Operation):
    """The GET operation: answers in every result/RDF format, the description or the page."""

    def __post_init__(self) -> None:
        self.responses = {**(self.responses or {}), "200": OpenAPIResponse(
            description="Query results (SELECT/ASK), an RDF graph (CONSTRUCT/DESCRIBE), or "
                        "without a query the service description or the query page, by Accept",
            content=_answer_types(html=True), headers=ANSWER_HEADERS)}


@dataclass
class PostOperation(Operation):
    """The POST operation: answers in every result/RDF format."""

    def __post_init__(self) -> None:
        self.responses = {**(self.responses or {}), "200": OpenAPIResponse(
            description="Query results (SELECT/ASK) or an RDF graph (CONSTRUCT/DESCRIBE), by "
                        "Accept", content=_answer_types(html=False), headers=ANSWER_HEADERS)}


@get("/sparql", operation_id="sparqlQuery", operation_class=QueryOperation, tags=TAGS,
     summary="SPARQL query (GET), service description or query page",
     description=PROTOCOL + " Without `query`: the sd:Service description (RDF, by Accept) or, "
     "for `Accept: text/html`, the YASGUI query page preloaded with example queries.")
async def sparql_get(
    request: Request[Any, Any, Any], sparql: NamedDependency[SparqlService],
    sparql_query: Annotated[str | None, QueryParameter(name="query", description="The SPARQL query")] = None,
    default_graph_uri: Annotated[list[str] | None, QueryParameter(
        name="default-graph-uri", description="Default graph(s) of the dataset")] = None,
    named_graph_uri: Annotated[list[str] | None, QueryParameter(
        name="named-graph-uri", description="Named graph(s) of the dataset")] = None,
) -> Response[bytes]:
    return await sparql.answer(request)


@post("/sparql", operation_id="sparqlQueryPost", operation_class=PostOperation, tags=TAGS,
      status_code=200,
      summary="SPARQL query (POST form-encoded or application/sparql-query)",
      description=PROTOCOL + " Body: `application/x-www-form-urlencoded` with `query` (and "
      "optional `default-graph-uri` / `named-graph-uri`), or the query itself as "
      "`application/sparql-query` (dataset parameters then in the URL).")
async def sparql_post(request: Request[Any, Any, Any],
                      sparql: NamedDependency[SparqlService]) -> Response[bytes]:
    return await sparql.answer(request)


def feature(services: Services) -> Feature:
    """The endpoint's router (carrying the SparqlService dependency), the vendored YASGUI
    files at /sparql/assets/, and a lifespan that starts the query workers and stops them."""
    service = services.sparql
    router = Router(path="/", route_handlers=[sparql_get, sparql_post],
                    dependencies={"sparql": provide(service)})
    static = create_static_files_router(path="/sparql/assets", directories=[STATIC_DIR],
                                        name="yasgui", include_in_schema=False)

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(service.start)  # remote mode asks the store: may block
        try:
            yield
        finally:
            service.close()

    return Feature([router, static], lifespan=lifespan)
