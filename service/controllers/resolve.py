"""Old URL -> canonical page: /v1/resolve, /v1/aliases/conflicts and the /r/ redirect."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated
from urllib.parse import quote

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter
from litestar.status_codes import HTTP_301_MOVED_PERMANENTLY

from principles.contract import PageRecord
from principles.errors import InvalidParameter, NotFound
from principles.paths import check_reference, normalise_site_path
from service.feature import Feature
from service.index import IndexView
from service.models import AliasConflict, AliasConflicts, PageResult, Resolution

if TYPE_CHECKING:
    from service.services import Services


MAX_PATH = 2048


def page_result(page: PageRecord, score: float = 1.0) -> PageResult:
    return PageResult(id=page["id"], title=page["title"], url=page["url"], type=page["type"],
                      score=score)


def resolve_path(index: IndexView, raw: str) -> tuple[str, str, PageRecord]:
    """(normalised path, how it matched, page) or NotFound with near misses."""
    if not raw.strip():
        raise InvalidParameter("path is empty: pass an old or current site path, e.g. "
                               "?path=/principles/customer-focus/")
    if len(raw) > MAX_PATH:
        raise InvalidParameter(f"path is {len(raw)} characters; the limit is {MAX_PATH}")
    check_reference(raw)
    path = normalise_site_path(raw)
    page_id = index.paths.get(path)
    page = index.pages.get(page_id) if page_id else None
    if page is not None and index.visible(page):
        return path, "url" if page["url"] == path else "alias", page
    suggestions = [
        {"path": p, "id": index.paths[p], "url": index.pages[index.paths[p]]["url"]}
        for p in index.near_paths.suggest(path)
        if index.visible(index.pages[index.paths[p]])
    ]
    raise NotFound(f"no page has the url or alias {path!r}", suggestions=suggestions)


@get("/v1/resolve", operation_id="resolve", tags=["aliases"], summary="Resolve an old or current path",
     description="Normalises case, slashes, query, fragment, percent-encoding and index.html, then "
                 "finds the page by url or alias. 404 answers carry near-miss `suggestions`.")
async def resolve(index: NamedDependency[IndexView],
                  path: Annotated[str, Parameter(description="Site path or full URL")]) -> Resolution:
    return resolution(index, path)


def resolution(index: IndexView, path: str) -> Resolution:
    """The resolve answer; also the MCP `resolve` tool's."""
    normalised, matched, page = resolve_path(index, path)
    return Resolution(path=path, normalised=normalised, matched=matched, page=page_result(page))


@get("/v1/aliases/conflicts", operation_id="aliasConflicts", tags=["aliases"],
     summary="Aliases claimed by more than one page, and the rule that picks the winner")
async def alias_conflicts(index: NamedDependency[IndexView]) -> AliasConflicts:
    results = [AliasConflict(alias=c["alias"], winner=page_result(index.pages[c["winner"]]),
                             claimants=[page_result(index.pages[p]) for p in c["claimants"]])
               for c in index.alias_conflicts]
    return AliasConflicts(rule=index.alias_rule, results=results)


@get("/r/{path:path}", operation_id="redirect", tags=["aliases"], status_code=HTTP_301_MOVED_PERMANENTLY,
     summary="301 to the canonical url of an old path",
     description="The Location is always site-relative: it is the stored canonical url, which "
                 "always starts with exactly one '/'.")
async def redirect(index: NamedDependency[IndexView], path: FromPath[str]) -> Response[None]:
    _, _, page = resolve_path(index, path)
    return Response(None, status_code=HTTP_301_MOVED_PERMANENTLY,
                    headers={"Location": location_for(page["url"])})


def location_for(url: str) -> str:
    """A site-relative, percent-encoded (ASCII) Location: header values are latin-1 on the
    wire, so a url such as `/café/` was a 500; `%` itself is encoded (stored urls are
    decoded), `/` is kept, and the leading `/` never becomes `//host`."""
    return "/" + quote(url.lstrip("/\\"), safe="/!$&'()*+,;=:@-._~")


def feature(services: Services) -> Feature:
    return Feature([resolve, alias_conflicts, redirect])
