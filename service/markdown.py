"""A page as Markdown with its front-matter facts: for `Accept: text/markdown`, the MCP page
resources and /llms-full.txt (one renderer, so an assistant reads the same text everywhere).

The body is the plain text ingest keeps (shortcodes and markup removed), which is valid
Markdown; the facts an assistant needs to cite and navigate (id, url, type, terms, aliases,
date) go into a YAML front matter block.
"""

from __future__ import annotations

from typing import Any

import yaml

from principles.contract import PageRecord
from service.index import IndexView

MARKDOWN = "text/markdown"
TERM_KINDS = ("concepts", "categories", "tags")


def wants_markdown(accept: str | None) -> bool:
    """True when Accept names text/markdown before any JSON type (a q-less preference, as
    service.jsonld.wants_jsonld judges JSON-LD)."""
    if not accept:
        return False
    types = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    if MARKDOWN not in types:
        return False
    first_json = min((i for i, t in enumerate(types) if "json" in t), default=len(types))
    return types.index(MARKDOWN) < first_json


def term_labels(index: IndexView, kind: str, slugs: list[str]) -> list[str]:
    labels = []
    for slug in slugs:
        term = index.terms.get(f"{kind}/{slug}")
        labels.append(term["label"] if term else slug)
    return labels


def front_matter(index: IndexView, page: PageRecord, base_url: str = "") -> dict[str, Any]:
    """The page's facts in the order a reader wants them; empty facts are left out."""
    facts: dict[str, Any] = {
        "title": page["title"], "id": page["id"], "url": base_url.rstrip("/") + page["url"],
        "type": page["type"], "description": page["description"], "date": page["date"],
        "resource_id": page["resource_id"], "draft": page["draft"] or None,
        "aliases": page["aliases"],
    }
    for kind in TERM_KINDS:
        facts[kind] = term_labels(index, kind, page["terms"].get(kind, []))
    facts["word_count"] = len(page["body"].split())
    return {key: value for key, value in facts.items() if value not in (None, "", [])}


def page_markdown(index: IndexView, page: PageRecord, base_url: str = "") -> str:
    """`---` YAML facts `---`, the title as a heading, the description as a quote, the body."""
    facts = yaml.safe_dump(front_matter(index, page, base_url), sort_keys=False,
                           allow_unicode=True, width=1000)
    parts = [f"---\n{facts}---", f"# {page['title']}"]
    if page["description"]:
        parts.append("> " + " ".join(page["description"].split()))
    if page["body"].strip():
        parts.append(page["body"].strip())
    return "\n\n".join(parts) + "\n"
