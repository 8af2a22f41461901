"""HTTP caching for read endpoints: ETag from the index version, Cache-Control, 304s.

Every answer of a build is fixed until the next build is published, so the ETag is the
build id (plus the Accept header, since /v1/pages negotiates JSON-LD). The handler still
runs for a conditional request: whether a representation exists (200 or 404) decides.
"""

from __future__ import annotations

import hashlib
import json
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


def _tags(header: bytes) -> list[bytes]:
    return [c.strip() for c in header.split(b",") if c.strip()]


def none_match(header: bytes, etag: bytes) -> bool:
    """If-None-Match (RFC 9110 13.1.2, weak comparison): `*` or one of the listed tags."""
    tags = _tags(header)
    return b"*" in tags or etag in [t.removeprefix(b"W/") for t in tags]


def match(header: bytes, etag: bytes) -> bool:
    """If-Match (RFC 9110 13.1.1, strong comparison: a weak tag never matches)."""
    tags = _tags(header)
    return b"*" in tags or etag in tags


def caching_middleware(version: str, max_age: int) -> Callable[[ASGIApp], ASGIApp]:
    """Conditional requests per RFC 9110 section 13, judged on the answer the handler gives:
    only a 200 (a current representation exists) becomes 304 (If-None-Match) or 412 (a
    failed If-Match); a 404 stays a 404 whatever the client sends, `*` included."""
    cache_control = f"public, max-age={max_age}".encode()
    etags: dict[bytes, bytes] = {}  # Accept -> ETag; a client picks the keys: bounded

    def etag_of(accept: bytes) -> bytes:
        etag = etags.get(accept)
        if etag is None:
            if len(etags) >= 256:
                etags.clear()
            etag = etags[accept] = etag_for(version, accept.decode("latin-1")).encode()
        return etag

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if (scope["type"] != ScopeType.HTTP or scope["method"] not in ("GET", "HEAD")
                    or not scope["path"].startswith(CACHED_PREFIXES)):
                await app(scope, receive, send)
                return
            accept, if_match, if_none_match = b"", None, None
            for name, value in scope["headers"]:  # the last of a repeated header wins, as before
                if name == b"accept":
                    accept = value
                elif name == b"if-match":
                    if_match = value
                elif name == b"if-none-match":
                    if_none_match = value
            etag = etag_of(accept)
            swallow = False

            async def send_conditionally(message: Message) -> None:
                nonlocal swallow
                if swallow:
                    return  # the body of an answer replaced by 304 / 412
                if message["type"] == "http.response.start" and message["status"] == 200:
                    if if_match is not None and not match(if_match, etag):
                        swallow = True
                        await _precondition_failed(send, etag, scope["path"])
                        return
                    if if_none_match is not None and none_match(if_none_match, etag):
                        swallow = True
                        await _empty(send, 304, [(b"etag", etag), (b"cache-control", cache_control),
                                                 (b"vary", b"Accept")])
                        return
                    message["headers"] = [*message.get("headers", []), (b"etag", etag),
                                          (b"cache-control", cache_control), (b"vary", b"Accept")]
                await send(message)

            await app(scope, receive, send_conditionally)

        return middleware

    return factory


async def _empty(send: Send, status: int, headers: list[tuple[bytes, bytes]]) -> None:
    start: HTTPResponseStartEvent = {"type": "http.response.start", "status": status,
                                     "headers": headers}
    await send(start)
    body: HTTPResponseBodyEvent = {"type": "http.response.body", "body": b"", "more_body": False}
    await send(body)


async def _precondition_failed(send: Send, etag: bytes, path: str) -> None:
    """412 problem+json: If-Match named none of the current representation's tags."""
    body = json.dumps({"type": "https://principles.graph/problems/precondition-failed",
                       "title": "Precondition failed", "status": 412, "instance": path[:200],
                       "detail": f"If-Match does not match the current ETag {etag.decode()}"}).encode()
    start: HTTPResponseStartEvent = {"type": "http.response.start", "status": 412, "headers": [
        (b"etag", etag), (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode())]}
    await send(start)
    message: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body,
                                      "more_body": False}
    await send(message)
