"""`create_app(settings)`: the Litestar application over one index build."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin

from principles.embedder import QueryEncoder
from principles.settings import Settings
from service.admission import ModelLanes
from service.caching import caching_middleware
from service.controllers.health import health
from service.controllers.llms import llms_handlers
from service.controllers.navigation import NAVIGATION_HANDLERS, navigation
from service.controllers.overlap import overlap_router
from service.controllers.pages import PagesController, page_neighbours
from service.controllers.related import related
from service.controllers.resolve import alias_conflicts, redirect, resolve
from service.controllers.search import search
from service.controllers.ui import ui_handlers
from service.engines import open_search, query_encoder
from service.errors import EXCEPTION_HANDLERS
from service.guards import url_limit_middleware
from service.hardening import harden
from service.index import IndexView, open_index
from service.openapi import add_problem_responses
from service.overlap import OverlapService
from service.search import SearchEngine


def create_app(settings: Settings, *, index: IndexView | None = None,
               encoder: QueryEncoder | None = None, lanes: ModelLanes | None = None) -> Litestar:
    """Open the index (raising IndexProblem with the fixing command if it is unusable), load
    the model and build the app. Everything is opened once here and shared read-only."""
    view = index or open_index(settings)
    model = encoder or query_encoder(settings, view)
    navigation(view)  # derive the navigation tables now, not on the first request
    engine = open_search(settings, view, model, lanes)
    engine.warm_up()  # load the model now: the first search must not pay for it

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        try:
            yield
        finally:
            engine.close()

    def provide_index() -> IndexView:
        return view

    def provide_engine() -> SearchEngine:
        return engine

    cors = CORSConfig(allow_origins=settings.cors_origins,
                      allow_methods=["GET", "HEAD", "POST", "OPTIONS"],
                      expose_headers=["ETag", "X-SPARQL-Truncated", "X-SPARQL-MaxRows"],
                      max_age=600) if settings.cors_origins else None
    handlers: list[Any] = [health, PagesController, page_neighbours, related, search, resolve,
                           alias_conflicts, redirect, *NAVIGATION_HANDLERS, *ui_handlers()]
    # [sparql] the SPARQL endpoint registers its handlers here
    from service.controllers.sparql import mount_sparql
    sparql = mount_sparql(settings, view)
    handlers += sparql.handlers
    # [overlap] the overlap finder registers its handlers here
    overlap = OverlapService(settings, view, engine)
    handlers.append(overlap_router(settings, view, engine, overlap))
    # [mcp] the MCP server at /mcp (same service objects) and /llms.txt, /llms-full.txt
    from service.mcp.backend import Backend
    from service.mcp.http import mount_mcp
    mcp = mount_mcp(Backend(settings, view, engine, overlap, sparql.service))
    handlers += [mcp.handler, *llms_handlers(settings)]
    app = Litestar(
        route_handlers=handlers,
        dependencies={"index": Provide(provide_index, sync_to_thread=False),
                      "engine": Provide(provide_engine, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,
        cors_config=cors,
        middleware=[url_limit_middleware(settings.max_url_bytes),
                    caching_middleware(view.version, settings.cache_max_age)],
        request_max_body_size=settings.max_body_bytes,
        lifespan=[lifespan, sparql.lifespan, mcp.lifespan],
        openapi_config=OpenAPIConfig(title="Principles Graph", version="1.0.0", path="/schema",
                                     render_plugins=[SwaggerRenderPlugin()]),
        debug=False,
    )
    add_problem_responses(app)
    harden(app, settings, view)
    return app
