"""Resolve the taxonomy: references by title ("Customer Focus") or by slug (`customer-focus`)
meet the term pages; terms referenced without a page are created and flagged."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from ingest.pages import Page
from ingest.report import Action, Report, Severity
from ontology.vocab import TAXONOMY_KINDS
from principles.contract import term_key
from principles.paths import slugify, title_from_filename
from principles.safe_yaml import excerpt


@dataclass
class Term:
    kind: str
    slug: str
    label: str
    alt_labels: set[str] = field(default_factory=set)
    page_id: str | None = None
    broader: list[tuple[str, str]] = field(default_factory=list)
    related: list[tuple[str, str]] = field(default_factory=list)
    generated: bool = False  # referenced, but no taxonomy page defines it

    @property
    def key(self) -> str:
        return term_key(self.kind, self.slug)


def loose_key(text: str) -> str:
    """What two spellings of one term share: `Lean & Kanban`, `lean-and-kanban`, `lean-kanban`."""
    return re.sub(r"[^0-9a-z]+|(?<![0-9a-z])and(?![0-9a-z])", "", slugify(text).replace("-", " "))


class _Memo(dict[str, str]):
    """A pure text function's answers: a corpus writes the same few hundred term spellings
    tens of thousands of times, and every ingest resolves all of them."""

    def __init__(self, function: Callable[[str], str]) -> None:
        super().__init__()
        self.function = function

    def __missing__(self, text: str) -> str:
        value = self[text] = self.function(text)
        return value


def resolve_terms(pages: list[Page], report: Report) -> dict[str, Term]:
    """Fill `page.terms` for every page and return all terms by `kind/slug`."""
    loose, slug_of = _Memo(loose_key), _Memo(slugify)
    terms: dict[str, Term] = {}
    lookup: dict[tuple[str, str], str] = {}  # (kind, loose key) -> slug
    for page in pages:
        if page.taxonomy is None:
            continue
        kind, slug = page.taxonomy
        term = Term(kind, slug, page.title, page_id=page.id)
        terms[term.key] = term
        lookup.setdefault((kind, loose[slug]), slug)
        lookup.setdefault((kind, loose[page.title]), slug)

    spellings: defaultdict[str, Counter[str]] = defaultdict(Counter)
    # A reference whose loose key is in `lookup` with its slug resolves alike from then on:
    # `lookup` entries are never replaced, and the term they name exists.
    settled: dict[tuple[str, str], tuple[str, str]] = {}
    first_use: dict[str, Page] = {}
    for page in pages:
        for kind in TAXONOMY_KINDS:
            resolved: list[str] = []
            for ref in page.term_refs.get(kind, []):
                known = settled.get((kind, ref))
                if known is not None:
                    slug, key = known
                else:
                    slug = lookup.get((kind, loose[ref])) or slug_of[ref]
                    if not slug:
                        report.add(page.rel_path, f"field {kind}", f"{kind} entry {excerpt(ref)} has "
                                   "no letters or digits", Action.SKIPPED, Severity.WARNING,
                                   "empty-term")
                        continue
                    key = term_key(kind, slug)
                    if key not in terms:
                        terms[key] = Term(kind, slug, "", generated=True)
                        lookup[(kind, loose[ref])] = slug
                        first_use[key] = page
                    if lookup.get((kind, loose[ref])) == slug:
                        settled[(kind, ref)] = (slug, key)
                spellings[key][ref] += 1
                if slug not in resolved:
                    resolved.append(slug)
            page.terms[kind] = resolved

    for key, term in terms.items():
        used = spellings.get(key, Counter())
        if term.generated:
            titled = [s for s, _ in used.most_common() if s != s.lower() or " " in s]
            term.label = titled[0] if titled else title_from_filename(term.slug)
            page = first_use[key]
            report.add(page.rel_path, f"field {term.kind}",
                       f"{term.kind} {excerpt(term.label)} has no page ({term.kind}/{term.slug}/_index.md);"
                       f" created the term, used by {sum(used.values())} page(s)",
                       Action.FLAGGED, Severity.WARNING, "term-without-page")
        term.alt_labels = {s for s in used if s != term.label and s != term.slug}

    for page in pages:
        if page.taxonomy is None:
            continue
        term = terms[f"{page.taxonomy[0]}/{page.taxonomy[1]}"]
        for kind, slugs in page.terms.items():
            for slug in slugs:
                target = (kind, slug)
                if target == (term.kind, term.slug):
                    continue
                # A tag page's categories are where the tag sits: skos:broader.
                bucket = term.broader if term.kind == "tags" and kind == "categories" else term.related
                bucket.append(target)
    return terms
