"""The HTTP side of the error vocabulary: every PrinciplesError (principles/errors.py) is
answered as RFC 9457 problem+json, its status looked up once in `STATUS` along the class's
MRO; its `kind` is the problem type, its `title` and `detail` are sent as they are.

This module adds the problems only HTTP has, under ServiceError:

    ServiceError                 500 (never carries internals to the client)
    +-- NotAcceptable            406  no representation matches Accept
    +-- InvalidQuery             400  SPARQL the engine rejects (detail: the parser's message)
    +-- QueryTimeout             503  a SPARQL query ran past the time limit and was stopped
    +-- QueryRefused             403  SPARQL update, SERVICE or an unknown graph (read-only, no fetches)
    +-- QueryTooLong             413  a SPARQL query longer than the limit
    +-- UnsupportedMediaType     415  a request body in a media type or charset we do not read
    +-- AnswerTooLarge           413  a SPARQL answer over the byte limit
    +-- EngineCrashed            503  the SPARQL worker died
    +-- QueryOutOfMemory         503  a SPARQL query hit the memory cap
service.admission adds Overloaded and ClientGone (Unavailable: 503, Retry-After when known).
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap

from principles.errors import (
    ContentTooLarge,
    IndexProblem,
    InvalidInput,
    InvalidParameter,
    NotFound,
    PrinciplesError,
    Unavailable,
)

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://principles.graph/problems/"
log = logging.getLogger("principles.service")


class ServiceError(PrinciplesError):
    """A problem only the HTTP API has (content negotiation, SPARQL protocol limits)."""

    kind, title = "internal-error", "Internal server error"


class NotAcceptable(ServiceError):
    kind, title = "not-acceptable", "Not acceptable"


class InvalidQuery(InvalidInput):
    kind, title = "invalid-query", "Invalid SPARQL query"


class QueryTimeout(Unavailable):
    kind, title = "query-timeout", "SPARQL query timed out"


class QueryRefused(ServiceError):
    kind, title = "query-refused", "SPARQL request refused"


class QueryTooLong(ServiceError):
    kind, title = "query-too-long", "SPARQL query too long"


class UnsupportedMediaType(ServiceError):
    kind, title = "unsupported-media-type", "Unsupported media type"


class AnswerTooLarge(ServiceError):
    kind, title = "answer-too-large", "SPARQL answer too large"


class EngineCrashed(Unavailable):
    kind, title = "engine-crashed", "query engine crashed"


class QueryOutOfMemory(Unavailable):
    kind, title = "query-memory", "SPARQL query hit the memory cap"


STATUS: dict[type[PrinciplesError], int] = {
    PrinciplesError: 500, InvalidInput: 400, InvalidParameter: 422, ContentTooLarge: 413,
    NotFound: 404, Unavailable: 503, IndexProblem: 503, NotAcceptable: 406, QueryRefused: 403,
    QueryTooLong: 413, UnsupportedMediaType: 415, AnswerTooLarge: 413,
}
"""HTTP status per class; a class not listed takes its nearest listed ancestor's."""


def status_of(exc: PrinciplesError) -> int:
    return next(STATUS[cls] for cls in type(exc).__mro__ if cls in STATUS)


def problem_document(status: int, slug: str, title: str, detail: str, instance: str,
                     **extra: Any) -> dict[str, Any]:
    """The RFC 9457 members every error answer carries (and any extra ones)."""
    return {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail,
            "instance": instance, **extra}


def problem(status: int, slug: str, title: str, detail: str, instance: str,
            headers: dict[str, str] | None = None, **extra: Any) -> Response[dict[str, Any]]:
    body = problem_document(status, slug, title, detail, instance, **extra)
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def handle_error(request: Request[Any, Any, Any], exc: PrinciplesError) -> Response[Any]:
    """Every expected failure, one way: its status, kind, title and detail; Retry-After when
    the error knows when to come back. A 500 is logged and says nothing of internals."""
    status = status_of(exc)
    if status == HTTP_500_INTERNAL_SERVER_ERROR:
        return handle_unexpected(request, exc)
    retry_after = exc.retry_after if isinstance(exc, Unavailable) else None
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return problem(status, exc.kind, exc.title, exc.detail, request.url.path, headers, **exc.extra)


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Litestar's own errors (routing, validation) in the same problem shape."""
    if isinstance(exc, ValidationException):
        extra: dict[str, Any] = {"errors": exc.extra} if exc.extra else {}
        return problem(422 if exc.status_code == 400 else exc.status_code, "invalid-parameter",
                       "Invalid parameter", exc.detail, request.url.path, **extra)
    if isinstance(exc, NotFoundException):
        return problem(404, "not-found", "Not found", exc.detail or "no such resource",
                       request.url.path)
    headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() in ("allow", "retry-after")}
    if exc.status_code == 405:
        # RFC 9110: a 405 lists the methods the resource supports; HEAD goes wherever GET does
        # (service/edge.py answers it).
        methods = {m.strip().upper() for m in headers.pop("allow", "").split(",") if m.strip()}
        methods |= {"HEAD"} if "GET" in methods else set()
        headers["Allow"] = ", ".join(sorted(methods))
        return problem(405, "method-not-allowed", "Method not allowed",
                       f"{request.method} is not supported here; allowed: {headers['Allow']}",
                       request.url.path, headers)
    if exc.status_code == 413:
        return problem(413, "body-too-large", "Request body too large", exc.detail or "",
                       request.url.path, headers)
    return problem(exc.status_code, "http-error", exc.detail or "HTTP error", exc.detail or "",
                   request.url.path, headers)


def handle_recursion(request: Request[Any, Any, Any], exc: RecursionError) -> Response[Any]:
    """A request nested deeper than any decoder can follow (a JSON body `[[[[...`): the
    client's problem, not a crash (json_guard refuses most of these first, naming the limit)."""
    return problem(400, "too-deep", "Request nested too deeply",
                   "the request body is nested too deeply to read; flatten it", request.url.path)


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    return problem(HTTP_500_INTERNAL_SERVER_ERROR, "internal-error", "Internal server error",
                   "the server failed to answer; the error was logged", request.url.path)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    PrinciplesError: handle_error,
    HTTPException: handle_http_exception,
    RecursionError: handle_recursion,
    Exception: handle_unexpected,
}
