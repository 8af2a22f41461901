"""Normalise a decoded file into a Page: one clean record whatever schema the file used.

Each coercion that changes what the author wrote adds a report line naming the field.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from ingest.report import Action, Report, Severity
from ingest.source import SourceFile
from ingest.text import count_shortcodes, markdown_to_text, title_from_body
from ontology.vocab import TAXONOMY_KINDS
from principles.paths import (
    expand_permalink,
    hugo_url,
    normalise_site_path,
    page_id_for,
    title_from_filename,
)
from principles.text import headline_text

_PERMALINK_TOKEN = re.compile(r"(^|/):[a-z_]+(/|$)")
_TYPE_OVERRIDES = {"blog": "blog", "videos": "video", "capabilities": "course",
                   "training-courses": "course"}


def _no_terms() -> dict[str, list[str]]:
    return {kind: [] for kind in TAXONOMY_KINDS}


@dataclass
class Page:
    id: str
    rel_path: str
    title: str
    url: str
    type: str
    body: str  # plain text, shortcodes and markdown removed
    description: str | None = None
    abstract: str | None = None
    headline: str | None = None  # the site's summary block (headline title, subtitle, content)
    resource_id: str | None = None
    date: str | None = None
    modified: str | None = None
    aliases: list[str] = field(default_factory=list)
    term_refs: dict[str, list[str]] = field(default_factory=lambda: _no_terms())  # raw refs
    terms: dict[str, list[str]] = field(default_factory=lambda: _no_terms())  # resolved slugs
    draft: bool = False
    weight: int | None = None
    slug: str | None = None
    authors: list[str] = field(default_factory=list)
    has_front_matter: bool = True
    taxonomy: tuple[str, str] | None = None  # (kind, slug) when this page defines a term
    related_rules: dict[str, list[str]] = field(default_factory=dict)  # editor's pin/exclude refs
    # Passages by (words, overlap), cut once: several ingest steps need them.
    passage_cache: dict[tuple[int, int], list[Any]] = field(
        default_factory=dict, compare=False, repr=False)

    def content_hash(self) -> str:
        """Changes whenever anything the index stores about the page changes."""
        h = hashlib.sha256()
        for part in (self.title, self.url, self.type, self.description or "", self.abstract or "",
                     self.headline or "", self.resource_id or "", self.date or "", self.modified or "",
                     repr(self.aliases), repr(sorted(self.terms.items())), str(self.draft),
                     str(self.weight), repr(self.authors), self.body):
            h.update(part.encode("utf-8", "replace"))
            h.update(b"\x1f")
        return h.hexdigest()


def page_type_for(page_id: str, meta: dict[str, Any] | None) -> str:
    """concept/category/tag for taxonomy pages, `section` for list pages, the resource type
    (singular) for resources, `note` for files without front matter."""
    parts = page_id.split("/")
    if meta is None:
        return "note"
    if parts[0] in TAXONOMY_KINDS:
        return TAXONOMY_KINDS[parts[0]][0] if len(parts) == 2 else "section"
    if len(parts) == 1:
        return "section" if parts[0] in ("resources", "capabilities") else "page"
    declared = meta.get("ResourceType") or meta.get("type")
    raw = declared if isinstance(declared, str) and declared.strip() else parts[1]
    raw = raw.strip().lstrip("_").lower()
    if parts[0] == "resources" and len(parts) == 2:
        return "resource" if not isinstance(declared, str) else _singular(raw)
    return _TYPE_OVERRIDES.get(raw, _singular(raw))


def _singular(word: str) -> str:
    return _TYPE_OVERRIDES.get(word) or (word[:-1] if word.endswith("s") and len(word) > 3 else word)


class _Fields:
    """Typed access to front-matter fields that reports and repairs wrong types."""

    def __init__(self, src: SourceFile, report: Report) -> None:
        self.src, self.report, self.meta = src, report, src.meta or {}

    def _flag(self, key: str, problem: str, action: Action, severity: Severity, kind: str) -> None:
        self.report.add(self.src.rel_path, self.src.where(key), problem, action, severity, kind)

    def text(self, key: str) -> str | None:
        value = self.meta.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            return value.strip() or None
        if isinstance(value, (int, float, bool, dt.date)):
            self._flag(key, f"{key} should be text, got {type(value).__name__} {value!r}",
                       Action.REPAIRED, Severity.WARNING, "wrong-type")
            return str(value)
        self._flag(key, f"{key} should be text, got a {type(value).__name__}; quote it",
                   Action.SKIPPED, Severity.ERROR, "wrong-type")
        return None

    def text_list(self, key: str) -> list[str]:
        value = self.meta.get(key)
        if value is None:
            return []
        if isinstance(value, str):
            return [value.strip()] if value.strip() else []
        if not isinstance(value, list):
            self._flag(key, f"{key} should be a list of text, got {type(value).__name__}",
                       Action.SKIPPED, Severity.ERROR, "wrong-type")
            return []
        out: list[str] = []
        for item in value:
            if isinstance(item, str) and item.strip():
                out.append(item.strip())
            elif isinstance(item, (int, float)) and not isinstance(item, bool):
                out.append(str(item))
            elif item is not None:
                self._flag(key, f"{key} has an entry that is not text: {item!r}",
                           Action.SKIPPED, Severity.ERROR, "wrong-type")
        return out

    def boolean(self, key: str) -> bool:
        value = self.meta.get(key)
        if value is None or isinstance(value, bool):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no"):
            self._flag(key, f"{key} should be true/false, got text {value!r}",
                       Action.REPAIRED, Severity.WARNING, "wrong-type")
            return value.strip().lower() in ("true", "yes")
        self._flag(key, f"{key} should be true/false, got {value!r}; treated as false",
                   Action.REPAIRED, Severity.WARNING, "wrong-type")
        return False

    def integer(self, key: str) -> int | None:
        value = self.meta.get(key)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            self._flag(key, f"{key} should be a whole number, got {value!r}",
                       Action.SKIPPED, Severity.WARNING, "wrong-type")
            return None

    def date(self, key: str) -> str | None:
        value = self.meta.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, dt.datetime):
            return value.isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, str):
            text = value.strip().replace("Z", "+00:00")
            for parse in (dt.datetime.fromisoformat, dt.date.fromisoformat):
                try:
                    return parse(text).isoformat()
                except ValueError:
                    continue
        self._flag(key, f"{key} is not an ISO date: {value!r}", Action.SKIPPED,
                   Severity.WARNING, "bad-date")
        return None


def build_page(src: SourceFile, report: Report) -> Page:
    """A Page from a decoded file; never fails (problems become report lines)."""
    rel = PurePosixPath(src.rel_path)
    page_id = page_id_for(rel)
    fields = _Fields(src, report)
    is_plain = src.meta is None
    title = None if is_plain else fields.text("title")
    if title is None:
        title = title_from_body(src.body, plain_text=rel.suffix == ".txt")
        source = "first heading"
        if title is None:
            title = title_from_filename(rel.parent.name if rel.name in ("_index.md", "index.md")
                                        else rel.stem)
            source = "file name"
        if not is_plain:
            report.add(src.rel_path, src.where("title"), f"missing title; used the {source}: "
                       f"{title!r} - add a title field", Action.REPAIRED, Severity.WARNING,
                       "missing-title")
    page = Page(id=page_id, rel_path=src.rel_path, title=title, url="", body="",
                type=page_type_for(page_id, src.meta), has_front_matter=not is_plain)
    if count_shortcodes(src.body):
        report.add(src.rel_path, f"line {src.body_line}",
                   f"{count_shortcodes(src.body)} Hugo shortcode(s) in the body",
                   Action.REPAIRED, Severity.INFO, "shortcodes-stripped")
    page.body = markdown_to_text(src.body)
    if not is_plain:
        _fill_front_matter(page, fields, src, report)
    page.url = hugo_url(page_id, slug=page.slug, url=_front_matter_url(page, fields, src, report))
    return page


def _front_matter_url(page: Page, fields: _Fields, src: SourceFile, report: Report) -> str | None:
    """The `url` field with Hugo permalink tokens (`:slug`, `:year`...) expanded."""
    raw = fields.text("url") if page.has_front_matter else None
    if raw is None or ":" not in raw:
        return raw
    url, missing = expand_permalink(raw, page_id=page.id, slug=page.slug, title=page.title,
                                    date=page.date)
    if missing:
        report.add(src.rel_path, src.where("url"), f"url {raw!r} uses {', '.join(missing)} but "
                   "the page has no value for it; used the path rule", Action.REPAIRED,
                   Severity.WARNING, "url-token")
        return None
    return url


def _fill_front_matter(page: Page, fields: _Fields, src: SourceFile, report: Report) -> None:
    page.description = fields.text("description")
    page.abstract = fields.text("abstract")
    page.headline = headline_text((src.meta or {}).get("headline"))
    page.resource_id = fields.text("ResourceId")
    page.date = fields.date("date")
    page.modified = fields.date("lastmod")
    page.draft = fields.boolean("draft")
    page.weight = fields.integer("weight")
    page.slug = fields.text("slug")
    page.authors = fields.text_list("author")
    for raw in fields.text_list("aliases"):
        if _PERMALINK_TOKEN.search(raw):
            report.add(src.rel_path, src.where("aliases"), f"alias {raw!r} contains a permalink "
                       "token; Hugo does not expand tokens in aliases - write the real path",
                       Action.SKIPPED, Severity.WARNING, "alias-token")
            continue
        alias = normalise_site_path(raw)
        if not raw.startswith("/"):
            report.add(src.rel_path, src.where("aliases"), f"alias {raw!r} has no leading slash; "
                       f"stored as {alias!r}", Action.REPAIRED, Severity.INFO, "alias-no-slash")
        if alias not in page.aliases:
            page.aliases.append(alias)
    for kind in TAXONOMY_KINDS:
        page.term_refs[kind] = fields.text_list(kind)
    parts = page.id.split("/")
    if parts[0] in TAXONOMY_KINDS and len(parts) == 2:
        page.taxonomy = (parts[0], parts[1])
        declared = fields.text("ClassificationType")
        if declared is None:
            report.add(src.rel_path, "field ClassificationType",
                       f"missing ClassificationType; taken from the folder: {parts[0]}",
                       Action.REPAIRED, Severity.INFO, "missing-classification-type")
        elif declared != parts[0]:
            report.add(src.rel_path, src.where("ClassificationType"),
                       f"ClassificationType {declared!r} disagrees with the folder {parts[0]!r};"
                       " the folder wins", Action.REPAIRED, Severity.WARNING,
                       "classification-type-mismatch")
    from ingest.editorial import page_rules  # the editor's related-link rules

    page.related_rules = page_rules(src, report)
    if page.draft:
        report.add(src.rel_path, src.where("draft"), "draft page: indexed, not served by default",
                   Action.FLAGGED, Severity.INFO, "draft")
