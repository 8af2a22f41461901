"""/mcp: the same MCP server over streamable HTTP, mounted inside the Litestar app.

Stateless with JSON answers: every tool is a read-only request/response, so no session is
kept between requests (any worker can answer, nothing to expire) and no SSE stream is held
open. Request bodies are bounded by PRINCIPLES_MAX_BODY_BYTES like every other endpoint; on a
loopback bind the SDK's DNS-rebinding protection checks Host and Origin.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from litestar import Litestar, asgi
from litestar.types import Receive, Scope, Send

from service.feature import Feature
from service.mcp.server import build_server

if TYPE_CHECKING:
    from service.services import Services

PATH = "/mcp"


def feature(services: Services) -> Feature:
    """The /mcp route handler and the lifespan that runs the SDK's session manager."""
    server = build_server(services)
    server.streamable_http_app(streamable_http_path=PATH, stateless_http=True, json_response=True,
                               max_request_body_size=services.settings.max_body_bytes,
                               host=services.settings.host)
    manager = server.session_manager

    @asgi(PATH, copy_scope=False, include_in_schema=False)
    async def mcp_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        await manager.handle_request(scope, receive, send)  # type: ignore[arg-type]

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        async with manager.run():
            yield

    return Feature([mcp_endpoint], lifespan=lifespan)
