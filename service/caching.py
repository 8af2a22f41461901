"""HTTP caching for read endpoints: ETag from the index version, Cache-Control, 304s.

Every answer of a build is fixed until the next build is published, so the ETag is the
build id (plus the Accept header, since /v1/pages negotiates JSON-LD) and a matching
If-None-Match is answered 304 before any handler runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from litestar.enums import ScopeType
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Message,
    Receive,
    Scope,
    Send,
)

CACHED_PREFIXES = ("/v1/", "/r/")


def etag_for(version: str, accept: str) -> str:
    return f'"{version}-{hashlib.sha1(accept.encode()).hexdigest()[:8]}"'


def caching_middleware(version: str, max_age: int) -> Callable[[ASGIApp], ASGIApp]:
    cache_control = f"public, max-age={max_age}".encode()

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if (scope["type"] != ScopeType.HTTP or scope["method"] not in ("GET", "HEAD")
                    or not scope["path"].startswith(CACHED_PREFIXES)):
                await app(scope, receive, send)
                return
            headers = dict(scope["headers"])
            etag = etag_for(version, headers.get(b"accept", b"").decode("latin-1")).encode()
            candidates = headers.get(b"if-none-match", b"")
            if candidates and (candidates.strip() == b"*" or etag in
                               [c.strip().removeprefix(b"W/") for c in candidates.split(b",")]):
                start: HTTPResponseStartEvent = {
                    "type": "http.response.start", "status": 304, "headers": [
                        (b"etag", etag), (b"cache-control", cache_control), (b"vary", b"Accept")]}
                await send(start)
                body: HTTPResponseBodyEvent = {"type": "http.response.body", "body": b"",
                                               "more_body": False}
                await send(body)
                return

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start" and message["status"] == 200:
                    message["headers"] = [*message.get("headers", []), (b"etag", etag),
                                          (b"cache-control", cache_control), (b"vary", b"Accept")]
                await send(message)

            await app(scope, receive, send_with_headers)

        return middleware

    return factory
