"""Taxonomy health of a checked page: the terms it references, its aliases, whether it has terms.

- a reference that matches no term page: ingest would create a page-less term (warning);
- a reference that is a near-duplicate of an existing term (case, plural, hyphen or "and":
  `continuous-improvements` for "Continuous Improvement") would create a second term for one
  subject (warning, naming the term to use); a known term spelled another way is info;
- a term that itself has a near-duplicate twin in the index (two terms for one subject);
- an alias or url another page already claims (ingest's winner rule would hide one of them);
- a content page without any tag, category or concept (it joins no hub and no related-by-term).
Matching uses ingest's own `loose_key`, so "matches" means exactly what ingest would merge.
"""

from __future__ import annotations

import re

from ingest.check.findings import CheckFinding
from ingest.pages import Page
from ingest.source import SourceFile
from ingest.terms import loose_key
from ontology.vocab import TAXONOMY_KINDS
from principles.contract import TermRecord, term_key
from principles.page_types import HUB_TYPES
from principles.paths import slugify

_PLURAL = re.compile(r"(?<=\w{3})(ies|es|s)$")


def stem_key(text: str) -> str:
    """`loose_key` with each word's plural ending removed: what near-duplicate names share."""
    words = [w for w in slugify(text).split("-") if w and w != "and"]
    return "".join(_PLURAL.sub(lambda m: "y" if m.group(1) == "ies" else "", w) for w in words)


class TermIndex:
    """The index's terms plus the terms the checked pages define, looked up the ways ingest
    and authors spell them."""

    def __init__(self, terms: dict[str, TermRecord], defined: list[tuple[str, str, str]]) -> None:
        self.terms = dict(terms)
        for kind, slug, label in defined:  # (kind, slug, title) of checked taxonomy pages
            key = term_key(kind, slug)
            known = self.terms.get(key)
            self.terms[key] = {**known, "page_id": key} if known else TermRecord(
                kind=kind, slug=slug, label=label, alt_labels=[], page_id=key, broader=[],
                related=[], generated=False)
        self.loose: dict[tuple[str, str], str] = {}
        self.stems: dict[tuple[str, str], list[str]] = {}
        for key, t in sorted(self.terms.items()):
            for name in (t["slug"], t["label"], *t["alt_labels"]):
                self.loose.setdefault((t["kind"], loose_key(name)), key)
            self.stems.setdefault((t["kind"], stem_key(t["slug"])), []).append(key)

    def label(self, key: str) -> str:
        return str(self.terms[key]["label"])

    def twins(self, key: str) -> list[str]:
        t = self.terms[key]
        return [k for k in self.stems.get((t["kind"], stem_key(t["slug"])), []) if k != key]


def term_findings(page: Page, src: SourceFile, terms: TermIndex, file: str) -> list[CheckFinding]:
    out: list[CheckFinding] = []

    def add(kind_field: str, severity: str, code: str, message: str, action: str) -> None:
        line = src.field_lines.get(kind_field)
        out.append(CheckFinding(file=file, line=line, severity=severity, kind=code,
                                message=message, action=action, field=kind_field))

    for kind in TAXONOMY_KINDS:
        for ref in page.term_refs.get(kind, []):
            key = terms.loose.get((kind, loose_key(ref)))
            if key is None:
                near = terms.stems.get((kind, stem_key(ref)), [])
                if near:
                    label = terms.label(near[0])
                    add(kind, "warning", "near-duplicate-term",
                        f"{kind} {ref!r} is a near-duplicate of the existing term {label!r} "
                        f"({near[0]}); ingest would create a second term for one subject",
                        f"write {label!r}")
                else:
                    add(kind, "warning", "term-without-page",
                        f"{kind} {ref!r} has no term page and no other page uses it",
                        f"add {kind}/{slugify(ref)}/_index.md, or use an existing term")
                continue
            term = terms.terms[key]
            if not term.get("page_id"):
                add(kind, "warning", "term-without-page",
                    f"{kind} {ref!r} has no term page ({key}/_index.md); it exists only "
                    "because pages reference it", f"add {key}/_index.md or use another term")
            elif ref not in (term["label"], term["slug"]):
                add(kind, "info", "term-spelling",
                    f"{kind} {ref!r} is spelled differently from the term {term['label']!r}",
                    f"write {term['label']!r}")
            for twin in terms.twins(key):
                add(kind, "warning", "near-duplicate-term",
                    f"{kind} {term['label']!r} ({key}) and {terms.label(twin)!r} ({twin}) are "
                    "near-duplicate terms (case, plural or hyphen)",
                    f"merge {twin} into {key} (or the other way) and keep one spelling")
    if (page.taxonomy is None and page.type not in HUB_TYPES
            and not any(page.term_refs.get(kind) for kind in TAXONOMY_KINDS)):
        out.append(CheckFinding(file=file, line=1, severity="warning", kind="no-terms",
                                message="the page has no tags, categories or concepts",
                                action="add at least one tag or category in the front matter"))
    return out


def alias_findings(page: Page, src: SourceFile, paths: dict[str, str], mine: set[str],
                   claimed_by_checked: dict[str, str], file: str) -> list[CheckFinding]:
    """`paths`: the index's url/alias table without pages whose files are gone; `mine`: ids
    this page had in the index (itself, its id before a rename); `claimed_by_checked`: paths
    claimed by the other checked pages."""
    out: list[CheckFinding] = []
    for path in [page.url, *page.aliases]:
        owner = paths.get(path)
        if owner is None or owner in mine:
            owner = claimed_by_checked.get(path)
        if owner is None or owner == page.id or owner in mine:
            continue
        is_url = path == page.url
        out.append(CheckFinding(
            file=file, line=src.field_lines.get("url" if is_url else "aliases"), severity="warning",
            kind="alias-collision", field="url" if is_url else "aliases",
            message=f"{'url' if is_url else 'alias'} {path} is already the url or an alias of "
                    f"{owner}; ingest keeps only one page at that address",
            action=f"remove {path} from this page or from {owner}"))
    return out
