"""GET /health: is the index loaded, which build and model."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from litestar import get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.serialization import encode_json
from litestar.types import ASGIApp

from service.answers import OK, JsonAnswer
from service.feature import Feature, provide
from service.index import IndexView
from service.models import Health

if TYPE_CHECKING:
    from service.services import Services


@get("/health", operation_id="health", summary="Service and index status", tags=["meta"],
     responses={200: ResponseSpec(data_container=Health, description=OK)})
async def health(health_answer: NamedDependency[bytes]) -> ASGIApp:
    return JsonAnswer(health_answer)  # Health, serialised once per build


def health_of(index: IndexView) -> Health:
    manifest = index.manifest
    return Health(
        status="ok", index_version=index.version, pages=len(index.pages),
        served_pages=index.served_pages,
        model=manifest.model, dimension=manifest.dimension, created=manifest.created,
        corpus=Path(manifest.corpus).name,
    )


def feature(services: Services) -> Feature:
    # Everything /health says is fixed for a build: serialised once (load balancers and the
    # UI footer ask often).
    return Feature([health], {"health_answer": provide(encode_json(health_of(services.index)))})
