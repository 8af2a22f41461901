"""The web UI at `/`, the author check at `/author`, and the static files (UI, embeddable
widget, vendored libraries).

Everything under service/static is plain files: no build step at run time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Response, get
from litestar.static_files import create_static_files_router

STATIC = Path(__file__).resolve().parent.parent / "static"


def _html(name: str) -> Response[bytes]:
    return Response((STATIC / "ui" / name).read_bytes(), media_type="text/html",
                    headers={"Cache-Control": "no-cache"})


@get("/", operation_id="webUi", summary="The web UI", include_in_schema=False, media_type="text/html")
async def web_ui() -> Response[bytes]:
    return _html("index.html")


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
