"""The one exception tree of Principles Graph.

Every expected failure is a `PrinciplesError`: it carries a `detail` written for the person
who has to act on it (which file, field or command) and a `kind` naming the problem. It is
mapped in exactly two places: to RFC 9457 problem+json by status (service/errors.py) and to
an exit code with a one-line message (principles_graph/cli.py). Anything else that escapes
is a bug: a logged 500, a traceback.

    PrinciplesError               the base; never raised itself
    +-- InvalidInput              a caller sent something we cannot use (400, exit 2)
    |   +-- InvalidParameter      a value out of range, empty or of the wrong kind (422)
    |   +-- ContentTooLarge       a field over its size limit (413)
    |   +-- DraftError            a draft's text or front matter (principles/overlap/draft.py)
    +-- NotFound                  a page, term or path that does not exist (404, exit 2)
    +-- Unavailable               something we depend on cannot answer now; retry (503, exit 3)
    |   +-- StoreUnavailable      a Qdrant server unreachable
    |   +-- ModelUnavailable      the embedding model cannot be loaded offline
    +-- IndexProblem              no usable index build; the detail names the command (503, exit 2)
    +-- IngestError               ingest could not produce a build (exit 2)

The service adds its HTTP-only problems (SPARQL limits, overload, content negotiation) under
`service.errors.ServiceError`, itself a PrinciplesError.
"""

from __future__ import annotations

from typing import Any


class PrinciplesError(Exception):
    """An expected failure, with a message that says what to do about it."""

    kind = "error"
    title = "Error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra  # structured members for API clients (suggestions, limits)


class InvalidInput(PrinciplesError):
    kind, title = "bad-request", "Bad request"


class InvalidParameter(InvalidInput):
    kind, title = "invalid-parameter", "Invalid parameter"


class ContentTooLarge(InvalidInput):
    kind, title = "too-large", "Content too large"


class NotFound(PrinciplesError):
    kind, title = "not-found", "Not found"


class Unavailable(PrinciplesError):
    """Retrying later can succeed; `retry_after` (seconds) when we know how much later."""

    kind, title = "unavailable", "Service unavailable"
    retry_after: int | None = None


class StoreUnavailable(Unavailable):
    """A Qdrant server that cannot be reached (or answered with a server error)."""


class ModelUnavailable(Unavailable):
    """The configured model cannot be loaded offline."""


class IndexProblem(PrinciplesError):
    """The index is missing, unreadable or was built for other settings; the message says
    which command fixes it."""

    kind, title = "index-unavailable", "Index unavailable"


class IngestError(PrinciplesError):
    """Ingest could not produce a build (bad corpus folder, unwritable index, ...)."""

    kind, title = "ingest-failed", "Ingest failed"
