"""What a feature brings to the app. Every feature (pages, search, SPARQL, overlap, MCP, ...)
is a module with a `feature(services) -> Feature` function, listed once in service/app.py:
its routes, the dependencies only its handlers take, and the lifespan of anything it runs
(started with the app, stopped with it)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

from litestar import Litestar
from litestar.di import Provide

Lifespan = Callable[[Litestar], AbstractAsyncContextManager[None]]


@dataclass(frozen=True)
class Feature:
    routes: Sequence[Any]  # route handlers, controllers and routers
    dependencies: Mapping[str, Provide] = field(default_factory=dict)
    lifespan: Lifespan | None = None


def provide(value: Any) -> Provide:
    """A dependency that is one object opened at start-up, shared by every request."""
    return Provide(lambda: value, sync_to_thread=False)
