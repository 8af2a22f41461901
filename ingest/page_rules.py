"""An editor's related-link rules in one page's front matter (`related: {pin, exclude}`):
read and shape-checked while the page is parsed; resolved against the corpus later
(ingest/editorial.py)."""

from __future__ import annotations

from ingest.report import Action, Report, Severity
from ingest.source import SourceFile

PAGE_KEYS = ("pin", "exclude")


def page_rules(src: SourceFile, report: Report) -> dict[str, list[str]]:
    """The raw `related: {pin: [...], exclude: [...]}` of one file, shape-checked."""
    value = (src.meta or {}).get("related")
    if value is None:
        return {}
    where = src.where("related")
    if not isinstance(value, dict):
        report.add(src.rel_path, where, "related should be a mapping with pin and/or exclude "
                   f"lists, got {type(value).__name__}", Action.SKIPPED, Severity.ERROR,
                   "related-rule")
        return {}
    rules: dict[str, list[str]] = {}
    for key, refs in value.items():
        if key not in PAGE_KEYS:
            report.add(src.rel_path, where, f"related.{key} is not a rule (use pin or exclude)",
                       Action.SKIPPED, Severity.WARNING, "related-rule")
            continue
        items = [refs] if isinstance(refs, str) else refs if isinstance(refs, list) else None
        if items is None or not all(isinstance(r, str) for r in items):
            report.add(src.rel_path, where, f"related.{key} should be a list of page ids or urls",
                       Action.SKIPPED, Severity.ERROR, "related-rule")
            continue
        rules[str(key)] = [r.strip() for r in items if r.strip()]
    return rules
