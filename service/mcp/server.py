"""The MCP server: tools (service/mcp/tools.py), every served page as a resource, and the
llms.txt map as a resource. Read-only: nothing here writes, fetches or opens files by name.

Pages are listed page by page (`resources/list` with a cursor, PAGE_SIZE per answer): at 50k
pages one list would be megabytes, and the SDK's own listing has no cursor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError
from mcp_types import ListResourcesResult, PaginatedRequestParams
from mcp_types import Resource as MCPResource

from principles.errors import NotFound
from service.index import IndexView
from service.llms import llms_txt
from service.markdown import MARKDOWN, page_markdown
from service.mcp.errors import resource_errors
from service.mcp.tools import register_tools

if TYPE_CHECKING:
    from service.services import Services

NAME = "principles-graph"
PAGE_URI = "principles://pages/{+id}"
LLMS_URI = "principles://llms.txt"
PAGE_SIZE = 500
INSTRUCTIONS = (
    "Read-only access to a website's knowledge graph: its pages, their concepts, categories and "
    "tags, precomputed related pages with reasons, and an RDF graph. Answer from the site, citing "
    "page urls. Start with `search` (or `resolve` for a link the user gave, `list_terms` / "
    "`get_term` to browse a topic); read pages with `get_page`; follow `related` for further "
    "reading and `neighbours` for how topics connect; `overlap_check` tells an author what already "
    "covers a draft; `sparql_query` answers counting and listing questions over the graph. "
    "Pages are also resources: principles://pages/{id} (Markdown), and principles://llms.txt "
    "is the site map.")


class PrinciplesServer(MCPServer[Any]):
    """MCPServer whose resource list is the index's pages, paginated by cursor."""

    def __init__(self, index: IndexView, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.index = index

    def page_resources(self, start: int) -> tuple[list[MCPResource], str | None]:
        pages = [p for p in self.index.pages.values() if self.index.visible(p)]
        pages.sort(key=lambda p: p["id"])
        chunk = pages[start: start + PAGE_SIZE]
        listed = [MCPResource(uri=PAGE_URI.replace("{+id}", p["id"]), name=p["id"],
                              title=p["title"], description=p["description"] or None,
                              mime_type=MARKDOWN) for p in chunk]
        more = start + PAGE_SIZE < len(pages)
        return listed, str(start + PAGE_SIZE) if more else None

    async def _handle_list_resources(self, ctx: ServerRequestContext[Any],
                                     params: PaginatedRequestParams | None) -> ListResourcesResult:
        cursor = params.cursor if params else None
        start = int(cursor) if cursor and cursor.isdigit() else 0
        listed, following = self.page_resources(start)
        if start == 0:
            listed = [*(await self.list_resources()), *listed]
        return ListResourcesResult(resources=listed, next_cursor=following)


def build_server(services: Services) -> PrinciplesServer:
    """The server over one opened backend (no transport yet)."""
    index, settings = services.index, services.settings
    server = PrinciplesServer(index, name=NAME, title=settings.site_name, version=index.version,
                              instructions=INSTRUCTIONS, log_level="WARNING")
    register_tools(server, services)

    @server.resource(PAGE_URI, name="page", mime_type=MARKDOWN,
                     description="A served page as Markdown with its facts in YAML front matter")
    def page_resource(id: str) -> str:
        with resource_errors():
            page = index.find(id)
            if page is None:
                raise ResourceNotFoundError(f"{NotFound.title}: no page has the id {id!r}")
            return page_markdown(index, page, settings.site_base())

    @server.resource(LLMS_URI, name="llms.txt", mime_type=MARKDOWN,
                     description="The site map: summary, pages by concept and category, with ids")
    def llms_resource() -> str:
        return llms_txt(index, settings, "")

    return server
