"""The MCP server through the SDK's own client, against the real index: over stdio
(`principles mcp` as a subprocess) and over streamable HTTP (/mcp of `principles serve`).
Both transports get the same checks: the tool list and schemas, one real call of every tool,
bad arguments, a SPARQL update refused, a slow query stopped, the row cap, page resources."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
import yaml
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp_types import CallToolResult, TextContent, TextResourceContents

from principles.settings import Settings
from tests.conftest import running_server
from tests.test_sparql import SLOW

pytestmark = pytest.mark.slow

TOOLS = {"search", "get_page", "related", "resolve", "list_terms", "get_term", "neighbours",
         "overlap_check", "sparql_query"}
# Small limits so the slow query and the row cap show within seconds.
LIMITS = {"PRINCIPLES_SPARQL_TIMEOUT": "1", "PRINCIPLES_SPARQL_MAX_ROWS": "5",
          "PRINCIPLES_SPARQL_WORKERS": "1", "HF_HUB_OFFLINE": "1"}
DRAFT = ("# Limit work in progress\n\nA team that starts fewer items finishes more of them: "
         "work in progress limits cap how many items may be active at once, so finishing work "
         "takes priority over starting more, and queues stop hiding delay.\n")


def text(result: CallToolResult) -> str:
    first = result.content[0]
    assert isinstance(first, TextContent)
    return first.text


def ok(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text(result)
    assert result.structured_content is not None
    return result.structured_content


def error(result: CallToolResult) -> str:
    assert result.is_error, text(result)
    return text(result)


@pytest.fixture(scope="module")
def http_url(corpus_settings: Settings) -> Iterator[str]:
    with running_server(corpus_settings.index_dir, **LIMITS) as base:
        yield base + "/mcp"


def stdio_params(settings: Settings) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, cwd=str(settings.corpus_dir.parent),
                                 args=["-m", "principles_graph", "mcp", "--index", str(settings.index_dir)],
                                 env={**LIMITS, "PATH": "/usr/bin:/bin"})


@asynccontextmanager
async def connect(target: StdioServerParameters | str) -> AsyncIterator[Client]:
    async with Client(target, read_timeout_seconds=120) as client:
        yield client


async def check_everything(client: Client) -> None:
    listed = (await client.list_tools()).tools
    assert {t.name for t in listed} == TOOLS
    for tool in listed:
        assert tool.description and len(tool.description) > 80, tool.name
        assert tool.annotations is not None and tool.annotations.read_only_hint
        assert tool.input_schema["type"] == "object"
    schemas = {t.name: t.input_schema for t in listed}
    assert schemas["search"]["properties"]["limit"]["maximum"] == 50
    assert schemas["neighbours"]["properties"]["depth"]["maximum"] == 3
    assert schemas["search"]["required"] == ["query"]

    found = ok(await client.call_tool("search", {"query": "limit work in progress", "limit": 5}))
    assert found["results"] and "<mark>" in found["results"][0]["snippet"]
    filtered = ok(await client.call_tool("search", {"query": "flow", "type": "article",
                                                    "tags": ["flow"]}))
    assert filtered["results"] and {r["type"] for r in filtered["results"]} == {"article"}

    page = text(await client.call_tool("get_page", {"page": "/principles/flow/"}))
    facts = yaml.safe_load(page.split("---\n")[1])
    assert facts["id"] == "tags/flow" and "/principles/flow/" in facts["aliases"]
    assert "\n# Flow\n" in page

    related = ok(await client.call_tool("related", {"page": "tags/flow", "limit": 3}))
    assert len(related["results"]) == 3
    assert {"shared_terms", "passages", "signals"} <= set(related["results"][0]["reasons"])

    resolved = ok(await client.call_tool("resolve", {"path": "/Principles/Flow/index.html"}))
    assert resolved["page"]["id"] == "tags/flow" and resolved["matched"] == "alias"

    terms = ok(await client.call_tool("list_terms", {"kind": "tags"}))
    assert terms["results"] and {t["kind"] for t in terms["results"]} == {"tags"}
    term = ok(await client.call_tool("get_term", {"kind": "tags", "slug": "Flow"}))
    assert term["id"] == "tags/flow" and term["pages"]

    graph = ok(await client.call_tool("neighbours", {"page": "tags/flow", "depth": 1}))
    assert graph["center"] == "tags/flow" and graph["edges"]

    overlap = ok(await client.call_tool("overlap_check", {"text": DRAFT, "limit": 5}))
    assert overlap["results"] and overlap["results"][0]["band"]

    count = ok(await client.call_tool("sparql_query", {
        "query": "PREFIX pg: <https://principles.graph/ontology#> "
                 "SELECT (COUNT(?p) AS ?n) { ?p a pg:Page }"}))
    assert int(count["results"]["results"]["bindings"][0]["n"]["value"]) > 10
    capped = ok(await client.call_tool("sparql_query", {"query": "SELECT * { ?s ?p ?o }"}))
    assert capped["truncated"] and capped["rows"] == 5 and capped["max_rows"] == 5
    graph_answer = ok(await client.call_tool("sparql_query", {
        "query": "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 2"}))
    assert graph_answer["kind"] == "graph" and graph_answer["turtle"].strip()

    # Bad arguments: refused by the schema, or by the API's own checks with its message.
    assert "less than or equal to 50" in error(await client.call_tool("search", {"query": "x",
                                                                                 "limit": 500}))
    assert "query" in error(await client.call_tool("search", {}))
    assert "no page has the id, url or alias 'no/such-page'" in error(
        await client.call_tool("get_page", {"page": "no/such-page"}))
    assert "'..' segment" in error(await client.call_tool("related", {"page": "../etc/passwd"}))
    missing = error(await client.call_tool("resolve", {"path": "/principles/flw/"}))
    assert "no page has the url or alias" in missing and "suggestions" in missing
    assert "no term" in error(await client.call_tool("get_term", {"kind": "tags", "slug": "zzz"}))
    assert "Input should be" in error(await client.call_tool("get_term", {"kind": "colours",
                                                                          "slug": "red"}))
    assert "Unknown tool" in error(await client.call_tool("delete_everything", {}))

    # SPARQL: read-only, no fetches, bounded.
    assert "read-only" in error(await client.call_tool("sparql_query", {
        "query": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}))
    assert "SERVICE" in error(await client.call_tool("sparql_query", {
        "query": "SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"}))
    assert "limit is" in error(await client.call_tool("sparql_query", {"query": "#" * 20000}))
    assert "Invalid SPARQL query" in error(await client.call_tool("sparql_query", {
        "query": "SELECT WHERE {"}))
    started = time.monotonic()
    slow = error(await client.call_tool("sparql_query", {"query": SLOW}))
    assert time.monotonic() - started < 10
    assert "timed out" in slow and "1 s" in slow
    again = ok(await client.call_tool("sparql_query", {"query": "ASK { ?s ?p ?o }"}))
    assert again["results"]["boolean"] is True

    # Pages as resources.
    resources = await client.list_resources()
    uris = {str(r.uri) for r in resources.resources}
    assert "principles://llms.txt" in uris and "principles://pages/tags/flow" in uris
    read = await client.read_resource("principles://pages/tags/flow")
    content = read.contents[0]
    assert isinstance(content, TextResourceContents) and "id: tags/flow" in content.text
    site_map = (await client.read_resource("principles://llms.txt")).contents[0]
    assert isinstance(site_map, TextResourceContents) and "## Concept:" in site_map.text


def test_stdio_transport(corpus_settings: Settings) -> None:
    async def run() -> None:
        async with connect(stdio_params(corpus_settings)) as client:
            await check_everything(client)

    anyio.run(run)


def test_http_transport(http_url: str) -> None:
    async def run() -> None:
        async with connect(http_url) as client:
            await check_everything(client)

    anyio.run(run)


def test_http_transport_limits(http_url: str) -> None:
    """/mcp keeps the app's request guards: the Host allow-list (DNS rebinding), no
    GET stream in stateless JSON mode."""
    import httpx

    foreign = httpx.post(http_url, headers={"Host": "evil.example", "Content-Type": "application/json",
                                            "Accept": "application/json, text/event-stream"},
                         content=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
    assert foreign.status_code == 400  # the app's Host allow-list answers before /mcp's own check
    assert foreign.headers["content-type"].startswith("application/problem+json")


def test_page_resources_are_listed_by_cursor(monkeypatch: pytest.MonkeyPatch) -> None:
    """resources/list pages through the served pages PAGE_SIZE at a time, drafts hidden."""
    from types import SimpleNamespace

    from service.mcp import server as mcp_server

    pages = {f"p/{i:02d}": {"id": f"p/{i:02d}", "title": f"P{i}", "description": "",
                            "draft": i == 3} for i in range(7)}
    index = SimpleNamespace(pages=pages, visible=lambda p: not p["draft"])
    monkeypatch.setattr(mcp_server, "PAGE_SIZE", 4)
    server = mcp_server.PrinciplesServer(index)  # type: ignore[arg-type]
    first, cursor = server.page_resources(0)
    assert [r.name for r in first] == ["p/00", "p/01", "p/02", "p/04"] and cursor == "4"
    rest, end = server.page_resources(int(cursor))
    assert [str(r.uri) for r in rest] == ["principles://pages/p/05", "principles://pages/p/06"]
    assert end is None
