"""`create_app(settings)`: the Litestar application over one index build."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin

from principles.embedder import QueryEncoder
from principles.settings import Settings
from service.admission import ModelLanes
from service.caching import caching_middleware
from service.controllers import health, llms, navigation, overlap, pages, related, resolve, search, sparql, ui
from service.engines import query_encoder
from service.errors import EXCEPTION_HANDLERS
from service.feature import Feature, provide
from service.guards import url_limit_middleware
from service.hardening import harden
from service.index import IndexView, open_index
from service.mcp import http as mcp
from service.openapi import add_problem_responses
from service.query_vectors import QueryVectors
from service.services import Services, open_services

FEATURES: tuple[Callable[[Services], Feature], ...] = (
    health.feature, pages.feature, related.feature, search.feature, resolve.feature,
    navigation.feature, ui.feature, sparql.feature, overlap.feature, mcp.feature, llms.feature,
)
"""Every feature of the API, mounted the same way: a new one is a module with a `feature`
function (service/feature.py) and one line here."""


def create_app(settings: Settings, *, index: IndexView | None = None,
               encoder: QueryEncoder | None = None, lanes: ModelLanes | None = None,
               vectors: QueryVectors | None = None, warm: bool = True) -> Litestar:
    """Open the index (raising IndexProblem with the fixing command if it is unusable), load
    the model (unless `warm` is off: an encoder already loaded) and build the app. Everything
    is opened once here and shared read-only. A live server passes the process's `lanes` and
    query `vectors` (they outlive a build)."""
    view = index or open_index(settings)
    model = vectors.encoder if vectors is not None else encoder or query_encoder(settings, view)
    services = open_services(settings, view, model, lanes, vectors, warm=warm)
    features = [make(services) for make in FEATURES]

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        try:
            yield
        finally:
            services.engine.close()

    cors = CORSConfig(allow_origins=settings.cors_origins,
                      allow_methods=["GET", "HEAD", "POST", "OPTIONS"],
                      expose_headers=["ETag", "X-SPARQL-Truncated", "X-SPARQL-MaxRows"],
                      max_age=600) if settings.cors_origins else None
    app = Litestar(
        route_handlers=[route for feature in features for route in feature.routes],
        dependencies={"index": provide(view), "engine": provide(services.engine),
                      "navigation": provide(services.navigation),
                      **{name: dependency for feature in features
                         for name, dependency in feature.dependencies.items()}},
        exception_handlers=EXCEPTION_HANDLERS,
        cors_config=cors,
        middleware=[url_limit_middleware(settings.max_url_bytes),
                    caching_middleware(view.version, settings.cache_max_age)],
        request_max_body_size=settings.max_body_bytes,
        lifespan=[lifespan, *(feature.lifespan for feature in features if feature.lifespan)],
        openapi_config=OpenAPIConfig(title="Principles Graph", version="1.0.0", path="/schema",
                                     render_plugins=[SwaggerRenderPlugin()]),
        debug=False,
    )
    add_problem_responses(app)
    harden(app, settings, view)
    return app
