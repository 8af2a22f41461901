"""A draft as the overlap finder sees it: the same plain text and passage windows as a page.

Markdown with or without front matter, or plain text. The cleaning is ingest's own
(`principles.text`, `principles.passages`), so a draft that is a copy of a page yields the
page's text and passages. The title comes from the caller, the front matter or a first
`# heading`, never from a guessed first line: a wrong title is prefixed to every passage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from principles.passages import Passage, chunk
from principles.paths import slugify
from principles.text import head_text, headline_text, markdown_to_text, title_from_body

_OPENING = re.compile(r"\A---[ \t]*\n")
_CLOSING = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)
TERM_FIELDS = ("tags", "categories", "concepts")


class DraftError(ValueError):
    """The draft cannot be read; the message says what to fix."""


@dataclass(frozen=True)
class Draft:
    title: str | None
    description: str | None
    body: str  # plain text; passage offsets point into it
    passages: list[Passage]
    terms: list[str]  # slugs of the tags/categories/concepts the draft declares
    abstract: str | None = None
    headline: str | None = None
    hub: bool = False  # a taxonomy page (its front matter has ClassificationType)

    @property
    def words(self) -> int:
        return len(self.body.split())

    def passage_texts(self) -> list[str]:
        """What is embedded: the title prefixed, exactly as ingest embeds page passages."""
        return [f"{self.title}. {p.text}" if self.title else p.text for p in self.passages]

    def head_text(self) -> str:
        """The draft's counterpart of a page vector's text, built the way ingest builds it."""
        head = head_text(self.title, self.description, self.abstract, self.headline)
        return f"{head}\n{self.body}".strip()


def parse_draft(text: str, *, title: str | None = None, tags: list[str] | None = None,
                passage_words: int = 150, passage_overlap: int = 30,
                max_words: int = 20000) -> Draft:
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    meta, body = split_front_matter(text)
    body_text = markdown_to_text(body)
    words = len(body_text.split())
    if words > max_words:
        raise DraftError(f"the draft has {words} words; the limit is {max_words}")
    found_title = (title or "").strip() or _text(meta.get("title")) or title_from_body(body, plain_text=False)
    declared = [*(tags or []), *(ref for key in TERM_FIELDS for ref in _list(meta.get(key)))]
    terms = list(dict.fromkeys(s for s in (slugify(str(ref)) for ref in declared) if s))
    description, abstract = _text(meta.get("description")), _text(meta.get("abstract"))
    headline = headline_text(meta.get("headline"))
    # A page with front matter only (a taxonomy page often is one) gets one passage, its
    # description, as ingest gives such pages (or the rest of its head without one).
    head = description or head_text(abstract, headline)
    passages = chunk(body_text, passage_words, passage_overlap) or (
        [Passage(0, 0, 0, head)] if head else [])
    if not passages:
        raise DraftError("the draft has no text: pass markdown or plain text with a body "
                         "(or front matter with a description)")
    return Draft(title=found_title or None, description=description, body=body_text,
                 passages=passages, terms=terms, abstract=abstract, headline=headline,
                 hub=bool(_text(meta.get("ClassificationType"))))


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """(front matter, body); a text without a leading `---` line has no front matter."""
    opening = _OPENING.match(text)
    if not opening:
        return {}, text
    closing = _CLOSING.search(text, opening.end())
    if closing is None:
        raise DraftError("front matter opened with '---' but never closed; add a closing '---' line")
    try:
        meta = yaml.safe_load(text[opening.end():closing.start()]) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DraftError(f"invalid YAML in front matter{where}: {problem}; fix the YAML") from exc
    if not isinstance(meta, dict):
        raise DraftError(f"front matter is a {type(meta).__name__}, not a mapping of fields")
    return {str(k): v for k, v in meta.items()}, text[closing.end():].lstrip("\n")


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value if v is not None] if isinstance(value, list) else []
