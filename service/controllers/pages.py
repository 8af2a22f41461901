"""GET /v1/pages/{ref}: one page by id, url or alias."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter

from principles.contract import PageRecord, term_key
from principles.errors import NotFound
from service.controllers.navigation import Navigation, NeighboursView, neighbours
from service.feature import Feature
from service.index import IndexView
from service.jsonld import JSONLD, page_jsonld, wants_jsonld
from service.markdown import MARKDOWN, page_markdown, wants_markdown
from service.models import PageDetail, TermRef

if TYPE_CHECKING:
    from service.services import Services


def term_refs(index: IndexView, kind: str, slugs: list[str]) -> list[TermRef]:
    keys = [term_key(kind, slug) for slug in slugs]
    return [TermRef.of(key, term["label"] if (term := index.terms.get(key)) else None)
            for key in keys]


def page_detail(index: IndexView, page: PageRecord) -> PageDetail:
    terms = page["terms"]
    return PageDetail(
        id=page["id"], title=page["title"], url=page["url"], type=page["type"],
        description=page["description"], date=page["date"], resource_id=page["resource_id"],
        draft=page["draft"], aliases=page["aliases"],
        concepts=term_refs(index, "concepts", terms.get("concepts", [])),
        categories=term_refs(index, "categories", terms.get("categories", [])),
        tags=term_refs(index, "tags", terms.get("tags", [])),
        word_count=len(page["body"].split()),
    )


def require_page(index: IndexView, ref: str) -> PageRecord:
    page = index.find(ref)
    if page is None:
        raise NotFound(f"no page has the id, url or alias {ref.lstrip('/')!r}")
    return page


NEIGHBOURS_SUFFIX = "/neighbours"


class PagesController(Controller):
    path = "/v1/pages"
    tags = ("pages",)

    @get("/{ref:path}", operation_id="getPage", summary="A page by id, url or alias",
         description="`Accept: application/ld+json` answers schema.org JSON-LD; `Accept: "
                     "text/markdown` the page as Markdown with its facts in YAML front matter. "
                     "`/v1/pages/{id}/neighbours?depth=1..3` answers the page's neighbourhood "
                     "graph (same as the `neighbours` operation).",
         responses={200: ResponseSpec(data_container=PageDetail, description="The page")})
    async def get_page(
        self, request: Request[Any, Any, Any], navigation: NamedDependency[Navigation],
        ref: str = Parameter(description="Page id (tags/customer-focus), url or alias"),
        depth: Annotated[int, Parameter(description="Only for /neighbours")] = 1,
    ) -> Response[Any]:
        if ref.endswith(NEIGHBOURS_SUFFIX):
            return Response(neighbours(navigation, ref[: -len(NEIGHBOURS_SUFFIX)], depth))
        # One dependency per handler: Litestar resolves two or more in a task group, which
        # cost more than the lookup itself (the index is the navigation's).
        index = navigation.index
        page = require_page(index, ref)
        # Never the request's Host: a forged Host would be reflected into the page's url.
        base = request.app.state.get("site_base_url", "")
        if wants_jsonld(request.headers.get("accept")):
            return Response(page_jsonld(index, page, base), media_type=JSONLD)
        if wants_markdown(request.headers.get("accept")):
            return Response(page_markdown(index, page, base), media_type=MARKDOWN)
        return Response(page_detail(index, page))


@get("/v1/neighbours", operation_id="neighbours", tags=["navigation"],
     summary="A page's neighbourhood: the networkx ego graph (nodes, edges, edge kinds)")
async def page_neighbours(
    navigation: NamedDependency[Navigation],
    page: Annotated[str, Parameter(description="Page id, url or alias")],
    depth: Annotated[int, Parameter(description="Hops from the page, 1 to 3")] = 1,
) -> NeighboursView:
    return neighbours(navigation, page, depth)


def feature(services: Services) -> Feature:
    return Feature([PagesController, page_neighbours])
