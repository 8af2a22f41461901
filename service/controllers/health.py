"""GET /health: is the index loaded, which build and model."""

from __future__ import annotations

from pathlib import Path

from litestar import get
from litestar.di import NamedDependency

from service.index import IndexView
from service.models import Health


@get("/health", operation_id="health", summary="Service and index status", tags=["meta"])
async def health(index: NamedDependency[IndexView]) -> Health:
    manifest = index.manifest
    return Health(
        status="ok", index_version=index.version, pages=len(index.pages),
        served_pages=index.served_pages,
        model=manifest.model, dimension=manifest.dimension, created=manifest.created,
        corpus=Path(manifest.corpus).name,
    )
