"""The outermost layer of the app, in front of routing: what must hold for every request.

- Host: checked against `PRINCIPLES_ALLOWED_HOSTS` (and for syntax) before anything reads it:
  a malformed Host (`a:b`) used to crash URL building (500) on every route. 400 problem+json.
- HEAD is answered wherever GET is (RFC 9110 9.3.2): routed as GET, same headers, no body.
- Security headers: `nosniff` and a referrer policy on every answer; on HTML a CSP
  (scripts only from this origin unless the page sets its own), no framing.

Litestar runs its own middleware after routing, so this wraps the app's ASGI handler
(`install_edge`); answers from here are written directly as problem+json.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Sequence
from typing import cast

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

_HOST = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)"
                   r"(?::[0-9]{1,5})?$")
CSP_HTML = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'")
# Swagger UI (Litestar's plugin) loads its files from a CDN and starts with an inline script.
CSP_SCHEMA = ("default-src 'self' https://cdn.jsdelivr.net; script-src 'self' 'unsafe-inline' "
              "https://cdn.jsdelivr.net; style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net;"
              " img-src 'self' data: https:; object-src 'none'; base-uri 'none'; "
              "frame-ancestors 'none'")
ALWAYS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
HTML_ONLY = [(b"x-frame-options", b"DENY")]
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def csp_with_inline_scripts(page: str) -> str:
    """CSP_HTML that also allows exactly the page's inline <script> blocks (by hash)."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in _INLINE_SCRIPT.findall(page))
    return CSP_HTML.replace("script-src 'self'", f"script-src 'self' {hashes}".rstrip())


def host_allowed(host: str, allowed: Sequence[str]) -> bool:
    """Syntax first (reg-name, IPv4 or [IPv6], optional port), then the allow-list:
    `*` any host, `.example.com` or `*.example.com` the domain and its subdomains."""
    if not _HOST.match(host):
        return False
    name = host.lower()
    name = name[: name.index("]") + 1] if name.startswith("[") else name.rsplit(":", 1)[0]
    for pattern in allowed:
        pattern = pattern.lower().strip()
        if pattern == "*" or pattern == name:
            return True
        suffix = pattern.removeprefix("*")
        if suffix.startswith(".") and (name.endswith(suffix) or name == suffix[1:]):
            return True
    return False


async def _problem(send: Send, status: int, slug: str, title: str, detail: str) -> None:
    body = json.dumps({"type": f"https://principles.graph/problems/{slug}", "title": title,
                       "status": status, "detail": detail}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()), *ALWAYS]})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def edge(app: ASGIApp, allowed_hosts: Sequence[str]) -> ASGIApp:
    verdicts: dict[str, bool] = {}  # Host header -> allowed; a client picks the keys: bounded

    def allowed(host: str) -> bool:
        verdict = verdicts.get(host)
        if verdict is None:
            if len(verdicts) >= 256:
                verdicts.clear()
            verdict = verdicts[host] = host_allowed(host, allowed_hosts)
        return verdict

    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        hosts = [v for k, v in scope["headers"] if k == b"host"]
        host = hosts[0].decode("latin-1") if len(hosts) == 1 else ""
        if not allowed(host):
            shown = json.dumps(host[:100]) if len(hosts) == 1 else f"{len(hosts)} Host headers"
            await _problem(send, 400, "invalid-host", "Invalid Host header",
                           f"the Host header {shown} is malformed or not served here; allowed: "
                           "PRINCIPLES_ALLOWED_HOSTS")
            return
        head = scope["method"] == "HEAD"
        if head:
            scope = cast(Scope, {**scope, "method": "GET"})
        schema = scope["path"].startswith("/schema")

        async def guarded_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                headers += [h for h in ALWAYS if h[0] not in names]
                media = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if media.startswith(b"text/html"):
                    headers += [h for h in HTML_ONLY if h[0] not in names]
                    if b"content-security-policy" not in names:
                        csp = CSP_SCHEMA if schema else CSP_HTML
                        headers.append((b"content-security-policy", csp.encode()))
                message = cast(Message, {**message, "headers": headers})
            elif head and message["type"] == "http.response.body":
                message = cast(Message, {**message, "body": b""})
            await send(message)

        await app(scope, receive, guarded_send)

    return handler


def install_edge(app: Litestar, allowed_hosts: Sequence[str]) -> None:
    """Put `edge` in front of routing (and of Litestar's exception handling)."""
    app.asgi_handler = edge(app.asgi_handler, list(allowed_hosts))
