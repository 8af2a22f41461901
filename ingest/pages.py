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

from ingest.page_rules import page_rules
from ingest.report import Action, Report, Severity
from ingest.source import SourceFile
from ontology.vocab import TAXONOMY_KINDS
from principles.limits import MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS
from principles.paths import (
    expand_permalink,
    hugo_url,
    normalise_site_path,
    page_id_for,
    site_path_problem,
    title_from_filename,
)
from principles.safe_yaml import excerpt
from principles.text import count_shortcodes, headline_text, markdown_to_text, title_from_body

_PERMALINK_TOKEN = re.compile(r"(^|/):[a-z_]+(/|$)")
DEFAULT_MAX_ALIASES = 500
MAX_URL_CHARS = 2_000
_TYPE_OVERRIDES = {"blog": "blog", "videos": "video", "capabilities": "course",
                   "training-courses": "course"}


def no_terms() -> dict[str, list[str]]:
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
    term_refs: dict[str, list[str]] = field(default_factory=lambda: no_terms())  # raw refs
    terms: dict[str, list[str]] = field(default_factory=lambda: no_terms())  # resolved slugs
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

    def text(self, key: str, max_chars: int = MAX_DESCRIPTION_CHARS) -> str | None:
        value = self.meta.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            text = value.strip()
            if len(text) > max_chars:
                self._flag(key, f"{key} is {len(text)} characters; cut to {max_chars} - "
                           "shorten it", Action.REPAIRED, Severity.WARNING, "field-too-long")
                text = text[:max_chars].strip()
            return text or None
        if isinstance(value, (int, float, bool, dt.date)):
            self._flag(key, f"{key} should be text, got {type(value).__name__} {excerpt(value)}",
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
                self._flag(key, f"{key} has an entry that is not text: {excerpt(item)}",
                           Action.SKIPPED, Severity.ERROR, "wrong-type")
        return out

    def boolean(self, key: str) -> bool:
        value = self.meta.get(key)
        if value is None or isinstance(value, bool):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no"):
            self._flag(key, f"{key} should be true/false, got text {excerpt(value)}",
                       Action.REPAIRED, Severity.WARNING, "wrong-type")
            return value.strip().lower() in ("true", "yes")
        self._flag(key, f"{key} should be true/false, got {excerpt(value)}; treated as false",
                   Action.REPAIRED, Severity.WARNING, "wrong-type")
        return False

    def integer(self, key: str) -> int | None:
        value = self.meta.get(key)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        try:
            if not isinstance(value, str | float) or len(str(value)) > 30:
                raise ValueError(key)
            return int(str(value).strip())
        except (ValueError, OverflowError):
            self._flag(key, f"{key} should be a whole number, got {excerpt(value)}",
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
        if isinstance(value, str) and len(value) <= 40:
            text = value.strip().replace("Z", "+00:00")
            for parse in (dt.datetime.fromisoformat, dt.date.fromisoformat):
                try:
                    return parse(text).isoformat()
                except ValueError:
                    continue
        self._flag(key, f"{key} is not an ISO date: {excerpt(value)}", Action.SKIPPED,
                   Severity.WARNING, "bad-date")
        return None


def build_page(src: SourceFile, report: Report, *, max_aliases: int = DEFAULT_MAX_ALIASES) -> Page:
    """A Page from a decoded file; never fails (problems become report lines)."""
    rel = PurePosixPath(src.rel_path)
    page_id = page_id_for(rel)
    fields = _Fields(src, report)
    is_plain = src.meta is None
    title = None if is_plain else fields.text("title", MAX_TITLE_CHARS)
    if title is None:
        title = title_from_body(src.body, plain_text=rel.suffix == ".txt")
        title = title[:MAX_TITLE_CHARS] if title else None
        source = "first heading"
        if title is None:
            title = title_from_filename(rel.parent.name if rel.name in ("_index.md", "index.md")
                                        else rel.stem)
            source = "file name"
        if not is_plain:
            report.add(src.rel_path, src.where("title"), f"missing title; used the {source}: "
                       f"{excerpt(title)} - add a title field", Action.REPAIRED, Severity.WARNING,
                       "missing-title")
    page = Page(id=page_id, rel_path=src.rel_path, title=title, url="", body="",
                type=page_type_for(page_id, src.meta), has_front_matter=not is_plain)
    if count_shortcodes(src.body):
        report.add(src.rel_path, f"line {src.body_line}",
                   f"{count_shortcodes(src.body)} Hugo shortcode(s) in the body",
                   Action.REPAIRED, Severity.INFO, "shortcodes-stripped")
    page.body = markdown_to_text(src.body)
    if not is_plain:
        _fill_front_matter(page, fields, src, report, max_aliases)
    page.url = hugo_url(page_id, slug=page.slug, url=_front_matter_url(page, fields, src, report))
    if page.url == "/" and page.id != "index":
        report.add(src.rel_path, src.where("url"), "url is the site root '/', which only the "
                   "home page (_index.md at the corpus root) may claim; used the path rule",
                   Action.REPAIRED, Severity.ERROR, "url-root")
        page.url = hugo_url(page_id, slug=page.slug)
    return page


def _front_matter_url(page: Page, fields: _Fields, src: SourceFile, report: Report) -> str | None:
    """The `url` field with Hugo permalink tokens (`:slug`, `:year`...) expanded."""
    raw = fields.text("url", MAX_URL_CHARS) if page.has_front_matter else None
    if raw is not None and (problem := site_path_problem(raw)):
        report.add(src.rel_path, src.where("url"), f"url {excerpt(raw)} {problem}; used the "
                   "path rule - write the url without them", Action.REPAIRED, Severity.ERROR,
                   "url-invalid")
        return None
    if raw is None or ":" not in raw:
        return raw
    url, missing = expand_permalink(raw, page_id=page.id, slug=page.slug, title=page.title,
                                    date=page.date)
    if missing:
        report.add(src.rel_path, src.where("url"), f"url {excerpt(raw)} uses {', '.join(missing)} but "
                   "the page has no value for it; used the path rule", Action.REPAIRED,
                   Severity.WARNING, "url-token")
        return None
    return url


def _fill_front_matter(page: Page, fields: _Fields, src: SourceFile, report: Report,
                       max_aliases: int) -> None:
    page.description = fields.text("description")
    page.abstract = fields.text("abstract")
    page.headline = headline_text((src.meta or {}).get("headline"))
    page.resource_id = fields.text("ResourceId")
    page.date = fields.date("date")
    page.modified = fields.date("lastmod")
    page.draft = fields.boolean("draft")
    page.weight = fields.integer("weight")
    page.slug = fields.text("slug", MAX_TITLE_CHARS)
    page.authors = fields.text_list("author")
    _fill_aliases(page, fields.text_list("aliases"), src, report, max_aliases)
    for kind in TAXONOMY_KINDS:
        page.term_refs[kind] = fields.text_list(kind)
    _fill_taxonomy(page, fields, src, report)


def _fill_aliases(page: Page, raws: list[str], src: SourceFile, report: Report,
                  max_aliases: int) -> None:
    """Valid, normalised, deduplicated aliases (a set, so linear in their number), at most
    `max_aliases`; every alias dropped or changed gets a report line."""
    where = src.where("aliases")
    if len(raws) > max_aliases:
        report.add(src.rel_path, where, f"{len(raws)} aliases; kept the first {max_aliases} "
                   "(PRINCIPLES_MAX_ALIASES) - redirect whole folders on the web server instead",
                   Action.SKIPPED, Severity.ERROR, "too-many-aliases")
        raws = raws[:max_aliases]
    seen: set[str] = set()
    for raw in raws:
        if problem := site_path_problem(raw[:MAX_URL_CHARS + 1]):
            report.add(src.rel_path, where, f"alias {excerpt(raw)} {problem}; write the path "
                       "without them", Action.SKIPPED, Severity.ERROR, "alias-invalid")
            continue
        if len(raw) > MAX_URL_CHARS:
            report.add(src.rel_path, where, f"alias {excerpt(raw)} is longer than "
                       f"{MAX_URL_CHARS} characters", Action.SKIPPED, Severity.ERROR,
                       "alias-invalid")
            continue
        if _PERMALINK_TOKEN.search(raw):
            report.add(src.rel_path, where, f"alias {excerpt(raw)} contains a permalink "
                       "token; Hugo does not expand tokens in aliases - write the real path",
                       Action.SKIPPED, Severity.WARNING, "alias-token")
            continue
        alias = normalise_site_path(raw)
        if alias == "/" and page.id != "index":
            report.add(src.rel_path, where, f"alias {excerpt(raw)} is the site root '/', which "
                       "only the home page may claim", Action.SKIPPED, Severity.ERROR,
                       "alias-root")
            continue
        if not raw.startswith("/"):
            report.add(src.rel_path, where, f"alias {excerpt(raw)} has no leading slash; "
                       f"stored as {excerpt(alias)}", Action.REPAIRED, Severity.INFO,
                       "alias-no-slash")
        if alias not in seen:
            seen.add(alias)
            page.aliases.append(alias)


def _fill_taxonomy(page: Page, fields: _Fields, src: SourceFile, report: Report) -> None:
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
                       f"ClassificationType {excerpt(declared)} disagrees with the folder {parts[0]!r};"
                       " the folder wins", Action.REPAIRED, Severity.WARNING,
                       "classification-type-mismatch")
    page.related_rules = page_rules(src, report)
    if page.draft:
        report.add(src.rel_path, src.where("draft"), "draft page: indexed, not served by default",
                   Action.FLAGGED, Severity.INFO, "draft")
