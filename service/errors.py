"""The service's one exception hierarchy and its mapping to RFC 9457 problem+json.

    ServiceError                 500 (never carries internals to the client)
    +-- NotFound                 404  page, term or path unknown (may carry suggestions)
    +-- BadRequest               400  a parameter is malformed
    |   +-- InvalidParameter     422  a parameter is out of range or empty
    |   +-- InvalidQuery         400  SPARQL the engine rejects (detail: the parser's message)
    +-- NotAcceptable            406  no representation matches Accept
    +-- Unavailable              503  a backing store is down; retry later
    |   +-- QueryTimeout         503  a SPARQL query ran past the time limit and was stopped
    +-- QueryRefused             403  SPARQL update, SERVICE or an unknown graph (read-only, no fetches)
    +-- QueryTooLong             413  a SPARQL query longer than the limit
    +-- UnsupportedMediaType     415  a request body in a media type or charset we do not read
    +-- AnswerTooLarge           413  a SPARQL answer over the byte limit
    +-- ContentTooLarge          413  a field over its size limit (an overlap draft's text)
    Unavailable subclasses: EngineCrashed (503, the SPARQL worker died), QueryOutOfMemory (503),
    service.admission.Overloaded (503 with Retry-After: a model lane is full)
principles.vectors.StoreUnavailable (a Qdrant server unreachable) is answered as Unavailable.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap

from principles.vectors import StoreUnavailable

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://principles.graph/problems/"
log = logging.getLogger("principles.service")


class ServiceError(Exception):
    status = 500
    slug = "internal-error"
    title = "Internal server error"
    headers: dict[str, str] | None = None  # e.g. Retry-After on a 503 for overload

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(ServiceError):
    status, slug, title = 404, "not-found", "Not found"


class BadRequest(ServiceError):
    status, slug, title = 400, "bad-request", "Bad request"


class InvalidParameter(BadRequest):
    status, slug, title = 422, "invalid-parameter", "Invalid parameter"


class NotAcceptable(ServiceError):
    status, slug, title = 406, "not-acceptable", "Not acceptable"


class Unavailable(ServiceError):
    status, slug, title = 503, "unavailable", "Service unavailable"


def problem(status: int, slug: str, title: str, detail: str, instance: str,
            headers: dict[str, str] | None = None, **extra: Any) -> Response[dict[str, Any]]:
    body = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail,
            "instance": instance, **extra}
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def handle_service_error(request: Request[Any, Any, Any], exc: ServiceError) -> Response[Any]:
    return problem(exc.status, exc.slug, exc.title, exc.detail, request.url.path, exc.headers,
                   **exc.extra)


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


def handle_store_unavailable(request: Request[Any, Any, Any], exc: StoreUnavailable) -> Response[Any]:
    """A Qdrant server that cannot be reached: 503 for this request. Nothing is cached about
    the failure, so every later request tries the server again and succeeds once it is back."""
    return handle_service_error(request, Unavailable(f"{exc}; retry shortly"))


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ServiceError: handle_service_error,
    StoreUnavailable: handle_store_unavailable,
    HTTPException: handle_http_exception,
    RecursionError: handle_recursion,
    Exception: handle_unexpected,
}


class InvalidQuery(BadRequest):
    status, slug, title = 400, "invalid-query", "Invalid SPARQL query"


class QueryTimeout(Unavailable):
    status, slug, title = 503, "query-timeout", "SPARQL query timed out"


class QueryRefused(ServiceError):
    status, slug, title = 403, "query-refused", "SPARQL request refused"


class QueryTooLong(ServiceError):
    status, slug, title = 413, "query-too-long", "SPARQL query too long"


class UnsupportedMediaType(ServiceError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class AnswerTooLarge(ServiceError):
    status, slug, title = 413, "answer-too-large", "SPARQL answer too large"


class EngineCrashed(Unavailable):
    status, slug, title = 503, "engine-crashed", "query engine crashed"


class QueryOutOfMemory(Unavailable):
    status, slug, title = 503, "query-memory", "SPARQL query hit the memory cap"


class ContentTooLarge(ServiceError):
    status, slug, title = 413, "too-large", "Content too large"
