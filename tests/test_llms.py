"""/llms.txt, /llms-full.txt and `Accept: text/markdown` on the real app over corpus/."""

from __future__ import annotations

import re

import yaml
from litestar import Litestar
from litestar.testing import TestClient

from principles.settings import Settings
from service.index import open_index
from service.markdown import wants_markdown

Client = TestClient[Litestar]


def test_page_as_markdown_with_its_facts(api: Client) -> None:
    answer = api.get("/v1/pages/principles/flow/", headers={"Accept": "text/markdown"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/markdown; charset=utf-8"
    assert answer.headers["vary"] == "Accept" and answer.headers["etag"]
    head, _, body = answer.text.removeprefix("---\n").partition("\n---\n")
    facts = yaml.safe_load(head)
    detail = api.get("/v1/pages/tags/flow").json()
    # absolute: built from PRINCIPLES_SITE_BASE_URL, as JSON-LD urls are
    assert facts["id"] == detail["id"] and facts["url"] == Settings().site_base() + detail["url"]
    assert facts["title"] == detail["title"] and facts["type"] == "tag"
    assert facts["aliases"] == detail["aliases"]
    assert facts["tags"] == [t["label"] for t in detail["tags"]]
    assert facts["word_count"] == detail["word_count"]
    assert body.startswith(f"\n# {detail['title']}\n")
    # JSON stays the default, JSON-LD still wins when asked first.
    assert api.get("/v1/pages/tags/flow").headers["content-type"].startswith("application/json")
    assert api.get("/v1/pages/tags/flow", headers={"Accept": "application/ld+json, text/markdown"}
                   ).headers["content-type"].startswith("application/ld+json")
    missing = api.get("/v1/pages/no/such", headers={"Accept": "text/markdown"})
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


def test_wants_markdown() -> None:
    assert wants_markdown("text/markdown")
    assert wants_markdown("text/markdown;q=0.9, text/plain")
    assert not wants_markdown("application/json, text/markdown")
    assert not wants_markdown(None) and not wants_markdown("*/*")


def test_llms_txt_maps_every_served_page(api: Client, corpus_settings: Settings) -> None:
    answer = api.get("/llms.txt")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    text = answer.text
    lines = text.splitlines()
    assert lines[0].startswith("# ") and lines[2].startswith("> ")
    assert "/mcp" in text and "/llms-full.txt" in text
    sections = [line for line in lines if line.startswith("## ")]
    assert any(s.startswith("## Concept: ") for s in sections)
    assert any(s.startswith("## Category: ") for s in sections)
    assert sections[-1] == "## Optional"
    listed = set(re.findall(r"\(id `([^`]+)`\)", text))
    index = open_index(corpus_settings)
    assert listed == {p["id"] for p in index.pages.values() if index.visible(p)}
    # every link is a markdown link to the page's url
    flow = next(line for line in lines if "(id `tags/flow`)" in line)
    assert flow.startswith(f"- [Flow]({Settings().site_base()}/tags/flow/): ")


def test_llms_full_txt_has_every_page_as_markdown(api: Client) -> None:
    short = api.get("/llms.txt").text
    full = api.get("/llms-full.txt")
    assert full.status_code == 200
    ids = set(re.findall(r"\(id `([^`]+)`\)", short))
    documented = set(re.findall(r"^id: (.+)$", full.text, re.MULTILINE))
    assert ids == documented
    assert full.text.startswith(short.split("\n## ")[0].rstrip())
