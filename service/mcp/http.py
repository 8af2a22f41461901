"""/mcp: the same MCP server over streamable HTTP, mounted inside the Litestar app.

Stateless with JSON answers: every tool is a read-only request/response, so no session is
kept between requests (any worker can answer, nothing to expire) and no SSE stream is held
open. Request bodies are bounded by PRINCIPLES_MAX_BODY_BYTES like every other endpoint; on a
loopback bind the SDK's DNS-rebinding protection checks Host and Origin.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from litestar import Litestar, asgi
from litestar.types import Receive, Scope, Send

from service.mcp.backend import Backend
from service.mcp.server import build_server

PATH = "/mcp"


@dataclass
class McpMount:
    handler: Any
    lifespan: Callable[[Litestar], AbstractAsyncContextManager[None]]


def mount_mcp(backend: Backend) -> McpMount:
    """The /mcp route handler and the lifespan that runs the SDK's session manager."""
    server = build_server(backend)
    server.streamable_http_app(streamable_http_path=PATH, stateless_http=True, json_response=True,
                               max_request_body_size=backend.settings.max_body_bytes,
                               host=backend.settings.host)
    manager = server.session_manager

    @asgi(PATH, copy_scope=False, include_in_schema=False)
    async def mcp_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        await manager.handle_request(scope, receive, send)  # type: ignore[arg-type]

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        async with manager.run():
            yield

    return McpMount(mcp_endpoint, lifespan)
