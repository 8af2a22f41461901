"""GET /health: is the index loaded, which build and model."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from litestar import get
from litestar.di import NamedDependency

from service.feature import Feature
from service.index import IndexView
from service.models import Health

if TYPE_CHECKING:
    from service.services import Services


@get("/health", operation_id="health", summary="Service and index status", tags=["meta"])
async def health(index: NamedDependency[IndexView]) -> Health:
    manifest = index.manifest
    return Health(
        status="ok", index_version=index.version, pages=len(index.pages),
        served_pages=index.served_pages,
        model=manifest.model, dimension=manifest.dimension, created=manifest.created,
        corpus=Path(manifest.corpus).name,
    )


def feature(services: Services) -> Feature:
    return Feature([health])
