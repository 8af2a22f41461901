"""SPARQL 1.1 Protocol request parsing: which query, which dataset, or none at all.

The three query operations (GET `?query=`, POST form-encoded, POST `application/sparql-query`)
are read from the raw query string and body, so repeated parameters, charsets and media
types are judged exactly as the Protocol says rather than by a framework's form parser.
Any update operation is refused here: the endpoint is read-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

from principles.errors import InvalidInput
from service.errors import QueryRefused, QueryTooLong, UnsupportedMediaType

FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
UPDATE = "application/sparql-update"
READ_ONLY = ("this endpoint is read-only: SPARQL updates are not accepted (it answers SELECT, "
             "ASK, CONSTRUCT and DESCRIBE queries)")


@dataclass(frozen=True)
class ProtocolRequest:
    query: str | None  # None: a GET without a query (service description or query UI)
    default_graphs: list[str]
    named_graphs: list[str]


def _pairs(raw: bytes, where: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(raw.decode("utf-8"), keep_blank_values=True, encoding="utf-8",
                         errors="strict")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"the {where} is not valid percent-encoded UTF-8") from exc


def _values(pairs: list[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in pairs if key == name]


def _media_type(header: str | None) -> tuple[str, str | None]:
    """(media type, charset) of a Content-Type header; ('', None) when absent."""
    if not header:
        return "", None
    media, *params = [p.strip() for p in header.split(";")]
    charset = None
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return media.lower(), charset


def _check_charset(charset: str | None, media: str) -> None:
    if charset not in (None, "utf-8", "utf8"):
        raise UnsupportedMediaType(f"{media} bodies must be UTF-8, not {charset}")


def parse_request(method: str, query_string: bytes, content_type: str | None, body: bytes,
                  max_length: int) -> ProtocolRequest:
    """Validate one request against the Protocol; raise the matching problem otherwise."""
    url = _pairs(query_string, "query string")
    if _values(url, "update"):
        raise QueryRefused(READ_ONLY)
    queries = _values(url, "query")
    defaults, named = _values(url, "default-graph-uri"), _values(url, "named-graph-uri")
    if method == "POST":
        media, charset = _media_type(content_type)
        if media == UPDATE:
            raise QueryRefused(READ_ONLY)
        if media == FORM:
            _check_charset(charset, media)
            form = _pairs(body, "form body")
            if _values(form, "update"):
                raise QueryRefused(READ_ONLY)
            if queries and _values(form, "query"):
                raise InvalidInput("the query is given both in the URL and in the form body; "
                                 "send exactly one")
            queries += _values(form, "query")
            defaults += _values(form, "default-graph-uri")
            named += _values(form, "named-graph-uri")
        elif media == DIRECT:
            _check_charset(charset, media)
            if queries:
                raise InvalidInput("a POST with application/sparql-query carries the query in the "
                                 "body; remove the query parameter from the URL")
            try:
                queries = [body.decode("utf-8")]
            except UnicodeDecodeError as exc:
                raise InvalidInput("the query body is not valid UTF-8") from exc
        else:
            shown = media or "no Content-Type"
            raise UnsupportedMediaType(f"{shown} is not a SPARQL query request; POST "
                                       f"{FORM} (query=...) or {DIRECT}")
        if not queries:
            raise InvalidInput("the request has no query; send query=... or a query body")
    if len(queries) > 1:
        raise InvalidInput(f"the request has {len(queries)} query parameters; send exactly one")
    query = queries[0] if queries else None
    if query is not None and len(query) > max_length:
        raise QueryTooLong(f"the query is {len(query)} characters; the limit is {max_length}",
                           limit=max_length)
    return ProtocolRequest(query, defaults, named)
