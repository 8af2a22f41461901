"""Document the problem+json answers every operation can give, in the generated OpenAPI.

Litestar documents what a handler returns; the error paths come from one shared mapping
(service/errors.py), so they are added here once, for every operation, with one schema.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Schema

from service.errors import PROBLEM_JSON

PROBLEM_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    required=["type", "title", "status", "detail"],
    properties={
        "type": Schema(type=OpenAPIType.STRING, description="URI naming the problem kind"),
        "title": Schema(type=OpenAPIType.STRING),
        "status": Schema(type=OpenAPIType.INTEGER),
        "detail": Schema(type=OpenAPIType.STRING, description="What went wrong and what to do"),
        "instance": Schema(type=OpenAPIType.STRING),
    },
    description="RFC 9457 problem details; some problems add fields (e.g. `suggestions`).",
)
PROBLEMS = {
    "400": "Malformed request (bad reference, malformed query)",
    "403": "Refused (e.g. a SPARQL update)",
    "404": "No such page, term or path",
    "405": "Method not allowed",
    "406": "No representation matches Accept",
    "413": "Request body or query too large",
    "414": "Request target too long",
    "415": "Unsupported request media type",
    "422": "A parameter is missing, empty or out of range",
    "500": "Internal error (logged; no details are sent)",
    "503": "A backing store is unavailable or a query timed out; retry later",
}


def add_problem_responses(app: Litestar) -> None:
    schema = app.openapi_schema
    for item in (schema.paths or {}).values():
        for operation in (item.get, item.post, item.put, item.delete, item.patch, item.head):
            if operation is None:
                continue
            responses = operation.responses if operation.responses is not None else {}
            for code, description in PROBLEMS.items():  # replaces Litestar's JSON 400
                responses[code] = (OpenAPIResponse(
                    description=description,
                    content={PROBLEM_JSON: OpenAPIMediaType(schema=PROBLEM_SCHEMA)}))
            operation.responses = responses
