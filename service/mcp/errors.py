"""Service errors as MCP tool errors: the model reads the same detail an HTTP client gets in
its problem+json, with the problem's title and any suggestions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from mcp.server.mcpserver.exceptions import ResourceError, ToolError

from principles.errors import PrinciplesError


def message(exc: PrinciplesError) -> str:
    """`Title: detail` plus the problem's extra members (suggestions, limits) as JSON."""
    text = f"{exc.title}: {exc.detail}"
    if exc.extra:
        text += " " + json.dumps(exc.extra, ensure_ascii=False, default=str)
    return text


@contextmanager
def tool_errors() -> Iterator[None]:
    """Around a tool body: PrinciplesError -> ToolError (is_error result, message kept)."""
    try:
        yield
    except PrinciplesError as exc:
        raise ToolError(message(exc)) from None


@contextmanager
def resource_errors() -> Iterator[None]:
    """Around a resource read: PrinciplesError -> ResourceError with the same message."""
    try:
        yield
    except PrinciplesError as exc:
        raise ResourceError(message(exc)) from None
