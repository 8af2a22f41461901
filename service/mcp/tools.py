"""The MCP tools: each one a thin call into the function its HTTP endpoint uses.

Descriptions say when to pick the tool and what comes back, because that is all a model
sees; the input schemas carry the API's own bounds (limits, depths, lengths), so a bad
argument is refused before any work with the same numbers the HTTP API would give.
(No `from __future__ import annotations` here: the SDK reads these signatures at run time.)
"""

import json
from typing import TYPE_CHECKING, Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

from principles.overlap import scoring
from principles.overlap.results import DraftReport
from service.controllers import overlap as overlap_http
from service.controllers import related as related_http
from service.controllers import search as search_http
from service.controllers.navigation import (
    MAX_DEPTH,
    MIN_DEPTH,
    NeighboursView,
    TermDetail,
    TermList,
    neighbours,
    term_detail,
    term_list,
)
from service.controllers.pages import require_page
from service.controllers.related import related_pages
from service.controllers.resolve import MAX_PATH, resolution
from service.controllers.search import run_search
from service.errors import QueryTooLong
from service.markdown import page_markdown
from service.mcp.errors import tool_errors
from service.models import RelatedResponse, Resolution, SearchResponse
from service.overlap import DraftRequest
from service.search import Filters
from service.sparql.protocol import DIRECT, parse_request

if TYPE_CHECKING:
    from service.services import Services

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True,
                            open_world_hint=False)
# SELECT/ASK answer SPARQL JSON results, CONSTRUCT/DESCRIBE Turtle (the endpoint's negotiation).
SPARQL_ACCEPT = "application/sparql-results+json, text/turtle"

PageRef = Annotated[str, Field(
    min_length=1, max_length=MAX_PATH,
    description="The page: its id (tags/customer-focus), its url (/tags/customer-focus/) or an "
                "old alias; ids come back from every other tool")]
Kind = Literal["concepts", "categories", "tags"]
TermSlugs = Annotated[list[str] | None, Field(
    description="Slugs (customer-focus) or labels; a page must have all of them")]


def register_tools(server: MCPServer, services: "Services") -> None:
    """Add every tool to `server`, bound to `backend`."""
    index, settings = services.index, services.settings

    @server.tool(annotations=READ_ONLY, description=(
        "Search the site's pages by meaning and keywords (hybrid: embeddings + BM25). Use it "
        "first for any question about a topic; then get_page for the full text and related for "
        "what else to read. Each result has the page id, title, url, score and a snippet with "
        "matched words in <mark>. Filters narrow by page type (article, tag, category, concept, "
        "...), tags and categories (slugs from list_terms)."))
    async def search(
        query: Annotated[str, Field(min_length=1, max_length=search_http.MAX_QUERY,
                                    description="What to look for, in plain words")],
        limit: Annotated[int, Field(ge=1, le=search_http.MAX_LIMIT, description="Results")] = 10,
        type: Annotated[str | None, Field(description="Only pages of this type, e.g. article")] = None,
        tags: TermSlugs = None,
        categories: TermSlugs = None,
        mode: Annotated[Literal["hybrid", "dense", "sparse"], Field(
            description="hybrid (default), dense (meaning only) or sparse (keywords only)")] = "hybrid",
    ) -> SearchResponse:
        with tool_errors():
            return await run_search(index, services.engine, query, limit, Filters(
                type=type, tags=tuple(tags or ()), categories=tuple(categories or ())), mode)

    @server.tool(annotations=READ_ONLY, structured_output=False, description=(
        "Read one page in full as Markdown: YAML front matter with its facts (id, url, type, "
        "description, date, aliases, concepts, categories, tags, word count), then the title and "
        "the text. Use it to quote or summarise a page found by search, related or resolve."))
    def get_page(page: PageRef) -> str:
        with tool_errors():
            return page_markdown(index, require_page(index, page), settings.site_base())

    @server.tool(annotations=READ_ONLY, description=(
        "Pages related to a page, best first, each with the reasons: the shared concepts, "
        "categories and tags, the most similar passage pair (text of both) and the signal scores "
        "(graph, dense, passage). Use it to recommend further reading or explain how pages connect."))
    def related(
        page: PageRef,
        limit: Annotated[int, Field(ge=1, le=related_http.MAX_LIMIT, description="Results")] = 5,
        type: Annotated[str | None, Field(description="Only pages of this type, e.g. article")] = None,
    ) -> RelatedResponse:
        with tool_errors():
            return related_pages(index, page, limit, type)

    @server.tool(annotations=READ_ONLY, description=(
        "Find the current page for an old or current site path or full URL (case, slashes, "
        "query, fragment, percent-encoding and index.html are normalised; old aliases are "
        "followed). Use it when a user gives a link. Unknown paths fail with near-miss suggestions."))
    def resolve(
        path: Annotated[str, Field(min_length=1, max_length=MAX_PATH,
                                   description="A site path (/principles/customer-focus/) or URL")],
    ) -> Resolution:
        with tool_errors():
            return resolution(index, path)

    @server.tool(annotations=READ_ONLY, description=(
        "The site's taxonomy: every concept, category and tag with how many pages use it and the "
        "id of its own page (if any). Use it to see what the site covers or to find the slugs that "
        "search filters and get_term take."))
    def list_terms(
        kind: Annotated[Kind | None, Field(description="Only this taxonomy")] = None,
    ) -> TermList:
        with tool_errors():
            return term_list(services.navigation, kind)

    @server.tool(annotations=READ_ONLY, description=(
        "One concept, category or tag: its broader, narrower and related terms and every page "
        "that uses it (best fit first). Use it to list everything the site says under a topic."))
    def get_term(
        kind: Annotated[Kind, Field(description="The taxonomy the term is in")],
        slug: Annotated[str, Field(min_length=1, max_length=200,
                                   description="The term's slug (customer-focus) or label")],
    ) -> TermDetail:
        with tool_errors():
            return term_detail(services.navigation, kind, slug)

    @server.tool(name="neighbours", annotations=READ_ONLY, description=(
        "A page's neighbourhood in the knowledge graph: the nodes (pages and terms) within "
        "`depth` hops and the typed edges between them (has_tag, has_category, has_concept, "
        "defines, broader, related, similar). Use it to map how a page sits among topics; at most "
        "200 nodes (`truncated` says if more existed)."))
    def neighbours_tool(
        page: PageRef,
        depth: Annotated[int, Field(ge=MIN_DEPTH, le=MAX_DEPTH, description="Hops from the page")] = 1,
    ) -> NeighboursView:
        with tool_errors():
            return neighbours(services.navigation, page, depth)

    @server.tool(annotations=READ_ONLY, description=(
        "Check a draft against the site before writing: which existing pages already cover it, "
        "how much (score, band: near-duplicate / strong overlap / related, share `covered`), with "
        "evidence passage pairs and shared terms. Pass the draft's Markdown (front matter "
        f"optional, at most {settings.overlap_max_draft_words} words). " + overlap_http.SCORING))
    async def overlap_check(
        text: Annotated[str, Field(min_length=1, max_length=settings.max_body_bytes,
                                   description="The draft: Markdown or plain text")],
        title: Annotated[str | None, Field(description="Draft title (default: front matter or "
                                                       "first # heading)")] = None,
        tags: Annotated[list[str] | None, Field(description="The draft's tags")] = None,
        limit: Annotated[int, Field(ge=1, le=overlap_http.MAX_LIMIT, description="Pages")] = 10,
        min_score: Annotated[float, Field(ge=0.0, le=1.0, description=(
            "Lowest score returned; near-duplicates are always returned"))] = scoring.RELATED,
    ) -> DraftReport:
        with tool_errors():
            return await services.overlap.check(DraftRequest(text, title, tags), limit, min_score)

    @server.tool(annotations=READ_ONLY, description=(
        "Run a read-only SPARQL 1.1 query (SELECT, ASK, CONSTRUCT, DESCRIBE) over the site's RDF "
        "graph, for questions search cannot answer: counts, lists by property, joins across "
        "pages and terms. Vocabulary: PREFIX pg: <https://principles.graph/ontology#>, schema: "
        "<https://schema.org/>, dcterms: <http://purl.org/dc/terms/>, skos: "
        "<http://www.w3.org/2004/02/skos/core#>; a page is a pg:Page (IRI "
        "https://principles.graph/page/{id}) with dcterms:title, schema:url, pg:pageType and "
        "pg:hasTag / pg:hasCategory / pg:hasConcept links to skos:Concept terms (skos:prefLabel, "
        "skos:broader). Updates, "
        f"SERVICE and LOAD are refused; a query may run {settings.sparql_timeout:g} s and "
        f"answers at most {settings.sparql_max_rows} rows (`truncated` says when cut). SELECT/ASK "
        "return SPARQL JSON results, CONSTRUCT/DESCRIBE Turtle."))
    async def sparql_query(
        query: Annotated[str, Field(min_length=1, description=(
            f"The query, at most {settings.sparql_max_query_length} characters"))],
    ) -> dict[str, Any]:
        with tool_errors():
            # The Protocol's own parsing of a direct POST: UTF-8 and the length limit.
            parsed = parse_request("POST", b"", DIRECT, query.encode("utf-8"),
                                   settings.sparql_max_query_length)
            if parsed.query is None:  # pragma: no cover - a direct POST always has one
                raise QueryTooLong("the query is empty")
            reply, media = await services.sparql.execute(parsed.query, SPARQL_ACCEPT, [], [])
        body = reply.body.decode("utf-8")
        answer: dict[str, Any] = {"kind": reply.kind, "rows": reply.rows,
                                  "truncated": reply.truncated, "media_type": media}
        if reply.truncated:
            answer["max_rows"] = settings.sparql_max_rows
        if reply.kind == "graph":
            answer["turtle"] = body
        else:
            answer["results"] = json.loads(body)
        return answer
