"""The web UI at `/` and the static files (UI, embeddable widget, vendored libraries).

Everything under service/static is plain files: no build step at run time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Response, get
from litestar.static_files import create_static_files_router

STATIC = Path(__file__).resolve().parent.parent / "static"


@get("/", operation_id="webUi", summary="The web UI", include_in_schema=False, media_type="text/html")
async def web_ui() -> Response[bytes]:
    return Response((STATIC / "ui" / "index.html").read_bytes(), media_type="text/html",
                    headers={"Cache-Control": "no-cache"})


def ui_handlers() -> list[Any]:
    """`/` and `/static/...` (the widget is /static/widget/principles-related.js)."""
    static = create_static_files_router(path="/static", directories=[STATIC], name="static",
                                        include_in_schema=False,
                                        cache_control=None)
    return [web_ui, static]
