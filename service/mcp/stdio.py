"""`principles mcp`: the MCP server over stdio for an assistant that starts it as a command.

stdout carries the protocol, so nothing else may print there: logs go to stderr.
"""

from __future__ import annotations

import logging
import sys

import anyio

from principles.settings import Settings
from service.mcp.backend import open_backend
from service.mcp.server import build_server


def serve_stdio(settings: Settings) -> None:
    """Open the build, serve until the client closes stdin, then stop the SPARQL workers."""
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    backend = open_backend(settings)
    try:
        anyio.run(build_server(backend).run_stdio_async)
    finally:
        backend.close()
