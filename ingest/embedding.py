"""The texts a build embeds: a page's head and body, and its passages (ingest/vector_table.py
keeps their vectors)."""

from __future__ import annotations

from ingest.pages import Page
from principles.passages import Passage, chunk
from principles.text import head_text


def page_head(page: Page) -> str:
    """Everything the front matter says the page is about: title, description, abstract and
    headline. On the site corpus this lifted related-link agreement and search nDCG
    (bench/quality.py): taxonomy pages say most of what they are about there, not in a body."""
    return head_text(page.title, page.description, page.abstract, page.headline)


def page_text(page: Page) -> str:
    return f"{page_head(page)}\n{page.body}".strip()


def passage_text(page: Page, passage: Passage) -> str:
    return f"{page.title}. {passage.text}"


def page_passages(page: Page, words: int, overlap: int) -> list[Passage]:
    """A page with no body still gets one passage (its title and description)."""
    cached: list[Passage] | None = page.passage_cache.get((words, overlap))
    if cached is None:
        cached = chunk(page.body, words, overlap) or [Passage(0, 0, 0, page.description or "")]
        page.passage_cache[(words, overlap)] = cached
    return cached
