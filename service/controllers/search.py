"""GET /v1/search: hybrid (default), dense or sparse search with filters and snippets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromQuery, Parameter
from litestar.serialization import encode_json
from litestar.types import ASGIApp, Receive

from principles.errors import InvalidParameter
from principles.sparse import stems
from service.answers import OK, JsonAnswer
from service.feature import Feature
from service.guards import check_page_type
from service.index import IndexView
from service.models import SearchResponse, SearchResult
from service.search import Filters, Mode, SearchEngine

if TYPE_CHECKING:
    from service.services import Services


MAX_QUERY = 500
MAX_LIMIT = 50


@get("/v1/search", operation_id="search", tags=["search"], summary="Hybrid semantic search",
     description="Dense (page and passage vectors) and sparse (BM25) retrieval fused by "
                 "reciprocal rank fusion; `snippet` is the best passage with query terms in "
                 "`<mark>` (HTML-escaped).",
     responses={200: ResponseSpec(data_container=SearchResponse, description=OK)})
async def search(
    request: Request[Any, Any, Any],
    engine: NamedDependency[SearchEngine],
    q: Annotated[str, Parameter(description="Query text", examples=[])] = "",
    limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = 10,
    type: Annotated[str | None, Parameter(description="Page type, e.g. article, tag")] = None,
    tag: Annotated[list[str] | None, Parameter(description="Tag slug(s); all must match")] = None,
    category: Annotated[list[str] | None, Parameter(description="Category slug(s))")] = None,
    mode: FromQuery[Mode] = "hybrid",
) -> ASGIApp:
    # One dependency (the engine has the index): Litestar resolves two in a task group per
    # request. The answer is serialised here and sent as it is (the bytes Litestar would
    # send), skipping the Response it builds per request.
    return JsonAnswer(encode_json(await run_search(engine.index, engine, q, limit, Filters(
        type=type, tags=tuple(tag or ()), categories=tuple(category or ())), mode,
        receive=request.receive)))


async def run_search(index: IndexView, engine: SearchEngine, q: str, limit: int, filters: Filters,
                     mode: Mode, receive: Receive | None = None) -> SearchResponse:
    """The search answer; also the MCP `search` tool's. A query vector not in the process's
    cache is encoded with the queries waiting at the same time, admitted through the search
    lane (503 with Retry-After when it is full; dropped if the client behind `receive` left)."""
    query = q.strip()
    if not query:
        raise InvalidParameter("q is empty: pass the text to search for, e.g. ?q=limit+work+in+progress")
    if len(query) > MAX_QUERY:
        raise InvalidParameter(f"q is {len(query)} characters; the limit is {MAX_QUERY}")
    check_page_type(filters.type, index.page_types)
    results = []
    query_stems = stems(query)
    for hit in await engine.find(query, filters, mode, limit, receive):
        page = index.pages[hit.page_id]
        results.append(SearchResult(
            id=page["id"], title=page["title"], url=page["url"], type=page["type"],
            score=round(hit.score, 6), snippet=engine.snippet(page, hit.passage, query_stems),
            ranks=hit.ranks))
    return SearchResponse(query=query, mode=mode, results=results)


def feature(services: Services) -> Feature:
    return Feature([search])
