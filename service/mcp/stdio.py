"""`principles mcp`: the MCP server over stdio for an assistant that starts it as a command.

stdout carries the protocol, so nothing else may print there: logs go to stderr.
"""

from __future__ import annotations

import logging
import sys

import anyio

from principles.settings import Settings
from service.engines import query_encoder
from service.index import open_index
from service.mcp.server import build_server
from service.services import open_services


def serve_stdio(settings: Settings) -> None:
    """Open the build, serve until the client closes stdin, then stop the SPARQL workers."""
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    view = open_index(settings)  # IndexProblem names the command that fixes it
    services = open_services(settings, view, query_encoder(settings, view), start_sparql=True)
    try:
        anyio.run(build_server(services).run_stdio_async)
    finally:
        services.close()
