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

from principles.errors import ContentTooLarge, InvalidParameter
from principles.limits import MAX_DESCRIPTION_CHARS, MAX_TERM_CHARS, MAX_TERMS, MAX_TITLE_CHARS
from principles.passages import Passage, chunk
from principles.paths import slugify
from principles.safe_yaml import YamlTooComplex, load_front_matter
from principles.text import head_text, headline_text, markdown_to_text, title_from_body

_OPENING = re.compile(r"\A---[ \t]*\n")
_CLOSING = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)
TERM_FIELDS = ("tags", "categories", "concepts")


class DraftError(InvalidParameter):
    """The draft cannot be read; the message says what to fix, `field` which request field."""

    def __init__(self, message: str, field: str = "text") -> None:
        super().__init__(message)
        self.field = field


class DraftTooLong(ContentTooLarge, DraftError):
    """The draft is longer than the limit before any cleaning is done (a 413)."""


# Characters allowed per allowed word, checked before cleaning: a 1 MB one-"word" draft cost
# 0.15 s of regex time (holding the GIL) before the word count could refuse it.
CHARS_PER_WORD = 12


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
    check_fields(title, tags)
    if len(text) > max_words * CHARS_PER_WORD:
        raise DraftTooLong(f"the draft is {len(text)} characters; the limit is "
                           f"{max_words * CHARS_PER_WORD} ({max_words} words x {CHARS_PER_WORD})")
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    meta, body = split_front_matter(text)
    body_text = markdown_to_text(body)
    words = len(body_text.split())
    if words > max_words:
        raise DraftError(f"the draft has {words} words; the limit is {max_words}")
    found_title = ((title or "").strip() or _bounded(meta, "title", MAX_TITLE_CHARS)
                   or title_from_body(body, plain_text=False))
    declared = [*(tags or []), *(ref for key in TERM_FIELDS for ref in _list(meta.get(key)))]
    if len(declared) > MAX_TERMS:
        raise DraftError(f"the draft declares {len(declared)} tags/categories/concepts; the "
                         f"limit is {MAX_TERMS}")
    terms = list(dict.fromkeys(s for s in (slugify(str(ref)[:MAX_TERM_CHARS]) for ref in declared)
                               if s))
    description = _bounded(meta, "description", MAX_DESCRIPTION_CHARS)
    abstract = _bounded(meta, "abstract", MAX_DESCRIPTION_CHARS)
    headline = headline_text(meta.get("headline"))
    # A page with front matter only (a taxonomy page often is one) gets one passage, its
    # description, as ingest gives such pages (or the rest of its head without one).
    head = description or head_text(abstract, headline)
    passages = chunk(body_text, passage_words, passage_overlap) or (
        [Passage(0, 0, 0, head)] if head else [])
    if not passages:
        raise DraftError("the draft has no text: pass markdown or plain text with a body "
                         "(or front matter with a description)")
    return Draft(title=(found_title or "")[:MAX_TITLE_CHARS] or None, description=description,
                 body=body_text, passages=passages, terms=terms, abstract=abstract,
                 headline=headline, hub=bool(_text(meta.get("ClassificationType"))))


def check_fields(title: str | None, tags: list[str] | None) -> None:
    """The request's own fields, bounded before any work: a title is prefixed to every
    embedded passage (a 400 KB title took 17 s and 600 MB)."""
    if title is not None and len(title) > MAX_TITLE_CHARS:
        raise DraftError(f"title is {len(title)} characters; the limit is {MAX_TITLE_CHARS}",
                         field="title")
    if tags is not None:
        if len(tags) > MAX_TERMS:
            raise DraftError(f"tags has {len(tags)} entries; the limit is {MAX_TERMS}",
                             field="tags")
        if any(len(tag) > MAX_TERM_CHARS for tag in tags):
            raise DraftError(f"a tag is longer than {MAX_TERM_CHARS} characters", field="tags")


def _bounded(meta: dict[str, Any], key: str, limit: int) -> str | None:
    value = _text(meta.get(key))
    if value is not None and len(value) > limit:
        raise DraftError(f"front matter {key} is {len(value)} characters; the limit is {limit}")
    return value


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """(front matter, body); a text without a leading `---` line has no front matter."""
    opening = _OPENING.match(text)
    if not opening:
        return {}, text
    closing = _CLOSING.search(text, opening.end())
    if closing is None:
        raise DraftError("front matter opened with '---' but never closed; add a closing '---' line")
    try:
        meta = load_front_matter(text[opening.end():closing.start()]) or {}
    except YamlTooComplex as exc:
        where = f" at line {exc.line + 1}" if exc.line is not None else ""
        raise DraftError(f"front matter refused{where}: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        problem = str(getattr(exc, "problem", None) or str(exc).splitlines()[0])[:200]
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
