"""`create_app(settings)`: the Litestar application over one index build."""

from __future__ import annotations

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin

from principles.embedder import Encoder
from principles.settings import Settings
from service.controllers.health import health
from service.controllers.pages import PagesController
from service.errors import EXCEPTION_HANDLERS
from service.index import IndexView, open_index


def create_app(settings: Settings, *, index: IndexView | None = None,
               encoder: Encoder | None = None) -> Litestar:
    """Open the index (raising IndexProblem with the fixing command if it is unusable) and
    build the app. The index is read once here and shared read-only by all requests."""
    view = index or open_index(settings)

    def provide_index() -> IndexView:
        return view

    return Litestar(
        route_handlers=[health, PagesController],
        dependencies={"index": Provide(provide_index, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,
        cors_config=CORSConfig(allow_origins=settings.cors_origins) if settings.cors_origins else None,
        openapi_config=OpenAPIConfig(title="Principles Graph", version="1.0.0", path="/schema",
                                     render_plugins=[SwaggerRenderPlugin()]),
        debug=False,
    )
