"""GET /v1/pages/{ref}: one page by id, url or alias."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get
from litestar.params import Parameter

from service.errors import NotFound
from service.index import IndexView
from service.models import PageDetail, TermRef


def term_refs(index: IndexView, kind: str, slugs: list[str]) -> list[TermRef]:
    out = []
    for slug in slugs:
        term = index.terms.get(f"{kind}/{slug}")
        out.append(TermRef(kind=kind, slug=slug, label=term["label"] if term else slug,
                           id=f"{kind}/{slug}"))
    return out


def page_detail(index: IndexView, page: dict[str, Any]) -> PageDetail:
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


def require_page(index: IndexView, ref: str) -> dict[str, Any]:
    page = index.find(ref)
    if page is None:
        raise NotFound(f"no page has the id, url or alias {ref.lstrip('/')!r}")
    return page


class PagesController(Controller):
    path = "/v1/pages"
    tags = ("pages",)

    @get("/{ref:path}", operation_id="getPage", summary="A page by id, url or alias")
    async def get_page(
        self, index: IndexView,
        ref: str = Parameter(description="Page id (tags/customer-focus), url or alias"),
    ) -> PageDetail:
        return page_detail(index, require_page(index, ref))
