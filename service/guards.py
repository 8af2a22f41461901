"""Request guards in front of every handler: bounded request targets, no path tricks.

A request line longer than `max_url_bytes` is answered 414 problem+json before routing
work is done; bodies are bounded by Litestar's `request_max_body_size` (set from the same
Settings). Page references with `..` segments or control characters are refused in
`principles.paths.check_reference`, which every page lookup goes through.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from principles.errors import InvalidParameter
from service.errors import PROBLEM_JSON, problem_document


def check_page_type(value: str | None, known: frozenset[str]) -> None:
    """`type` filters take one of the index's page types; anything else is a 422 naming them
    (an unknown type used to answer 200 with nothing, hiding a typo or a probe)."""
    if value is not None and value not in known:
        shown = value if len(value) <= 40 else value[:40] + "..."
        raise InvalidParameter(f"type {shown!r} is not a page type of this index; one of: "
                               f"{', '.join(sorted(known))}")


def url_limit_middleware(max_bytes: int) -> Callable[[ASGIApp], ASGIApp]:
    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == ScopeType.HTTP:
                size = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
                if size > max_bytes:
                    body = json.dumps(problem_document(
                        414, "uri-too-long", "URI too long",
                        f"the request target is {size} bytes; the limit is {max_bytes}",
                        scope["path"][:200])).encode()
                    await send({"type": "http.response.start", "status": 414, "headers": [
                        (b"content-type", PROBLEM_JSON.encode()),
                        (b"content-length", str(len(body)).encode())]})
                    await send({"type": "http.response.body", "body": body, "more_body": False})
                    return
            await app(scope, receive, send)

        return middleware

    return factory
