"""Ingest side of the editorial related-link rules: read them, resolve every page they name,
report the ones that name no page (file and field), and write `editorial.json` into the build.

References may be page ids (`tags/customer-focus`), urls or aliases (`/principles/flow/`):
authors copy whichever they see. A rule naming no page is reported and dropped, never fatal.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml

from ingest.pages import Page
from ingest.report import Action, Report, Severity
from principles.editorial import SITE_KEYS, Editorial, SiteRules
from principles.paths import normalise_site_path
from principles.settings import Settings


def _resolve(ref: str, ids: set[str], paths: dict[str, str]) -> str | None:
    if ref.strip("/") in ids:
        return ref.strip("/")
    return paths.get(normalise_site_path(ref))


def load_site_rules(path: Path, ids: set[str], paths: dict[str, str], report: Report) -> SiteRules:
    name = str(path)
    try:
        data = yaml.safe_load(path.read_text("utf-8")) or {}
    except OSError as exc:
        report.add(name, "file", f"related rules file cannot be read ({exc.strerror}); no site "
                   "rules applied", Action.SKIPPED, Severity.ERROR, "related-rules-file")
        return SiteRules()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        report.add(name, f"line {mark.line + 1}" if mark else "file",
                   f"invalid YAML in the related rules file: {getattr(exc, 'problem', exc)}",
                   Action.SKIPPED, Severity.ERROR, "related-rules-file")
        return SiteRules()
    if not isinstance(data, dict):
        report.add(name, "file", "the related rules file should be a mapping of rules",
                   Action.SKIPPED, Severity.ERROR, "related-rules-file")
        return SiteRules()
    rules = SiteRules()
    for key, value in data.items():
        if key not in SITE_KEYS:
            report.add(name, f"field {key}", f"unknown rule {key!r} (known: {', '.join(SITE_KEYS)})",
                       Action.SKIPPED, Severity.WARNING, "related-rules-file")
        elif key == "boost_same_section" and isinstance(value, (int, float)):
            rules.boost_same_section = float(value)
        elif key == "max_per_type" and isinstance(value, int) and not isinstance(value, bool):
            rules.max_per_type = {"default": value}
        elif key == "max_per_type" and isinstance(value, dict) and all(
                isinstance(v, int) for v in value.values()):
            rules.max_per_type = {str(k): int(v) for k, v in value.items()}
        elif key in ("exclude_types", "exclude_sections", "fallback") and isinstance(value, list):
            items = [str(v).strip() for v in value if str(v).strip()]
            if key == "fallback":
                items = _resolved(items, ids, paths, report, name, "field fallback")
            elif key == "exclude_sections":
                items = [i.strip("/") for i in items]
            setattr(rules, key, items)
        else:
            report.add(name, f"field {key}", f"{key} has the wrong shape: {value!r}",
                       Action.SKIPPED, Severity.ERROR, "related-rules-file")
    return rules


def _resolved(refs: list[str], ids: set[str], paths: dict[str, str], report: Report, file: str,
              where: str) -> list[str]:
    out = []
    for ref in refs:
        page_id = _resolve(ref, ids, paths)
        if page_id is None:
            report.add(file, where, f"related rule names {ref!r}, which is no page id, url or alias",
                       Action.SKIPPED, Severity.WARNING, "related-rule-unknown-page")
        elif page_id not in out:
            out.append(page_id)
    return out


def resolve_editorial(pages: list[Page], paths: dict[str, str], settings: Settings,
                      report: Report) -> Editorial:
    ids = {p.id for p in pages}
    editorial = Editorial()
    for page in pages:
        rules: dict[str, list[str]] = {}
        for key, refs in page.related_rules.items():
            where = f"field related.{key}"
            rules[key] = _resolved(refs, ids, paths, report, page.rel_path, where)
        if any(rules.values()):
            editorial.pages[page.id] = rules
    if settings.related_rules is not None:
        editorial.site = load_site_rules(settings.related_rules, ids, paths, report)
    return editorial


def rules_digest(settings: Settings) -> bytes:
    """Part of the corpus hash: editing the rules file alone must trigger a new build."""
    path = settings.related_rules
    if path is None:
        return b""
    try:
        return hashlib.sha256(path.read_bytes()).digest()
    except OSError:
        return b"unreadable"
