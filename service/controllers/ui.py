"""The web UI at `/`, the author check at `/author`, and the static files (UI, embeddable
widget, vendored libraries).

Everything under service/static is plain files: no build step at run time.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.static_files import create_static_files_router

from service.feature import Feature
from service.index import IndexView

if TYPE_CHECKING:
    from service.services import Services


STATIC = Path(__file__).resolve().parent.parent / "static"


def _html(name: str) -> Response[bytes]:
    return Response((STATIC / "ui" / name).read_bytes(), media_type="text/html",
                    headers={"Cache-Control": "no-cache"})


def corpus_label(index: IndexView) -> str:
    """What the footer says is served: the corpus folder's name (never its full path) and the
    pages shown, from the build's manifest, so it follows a hot swap."""
    name = Path(index.manifest.corpus).name or "corpus"
    return f"{name} ({index.served_pages} pages, build {index.version})"


@get("/", operation_id="webUi", summary="The web UI", include_in_schema=False, media_type="text/html")
async def web_ui(index: NamedDependency[IndexView]) -> Response[bytes]:
    page = (STATIC / "ui" / "index.html").read_text("utf-8")
    page = page.replace("{{corpus}}", html.escape(corpus_label(index)))
    return Response(page.encode(), media_type="text/html", headers={"Cache-Control": "no-cache"})


@get("/author", operation_id="authorUi", summary="Author check: paste a draft, see what covers it",
     include_in_schema=False, media_type="text/html")
async def author_ui() -> Response[bytes]:
    return _html("author.html")


def ui_handlers() -> list[Any]:
    """`/`, `/author` and `/static/...` (the widget is /static/widget/principles-related.js)."""
    static = create_static_files_router(path="/static", directories=[STATIC], name="static",
                                        include_in_schema=False,
                                        cache_control=None)
    return [web_ui, author_ui, static]


def feature(services: Services) -> Feature:
    return Feature(ui_handlers())
