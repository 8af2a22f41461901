"""Aliases: which old path leads to which page, and who wins when two pages claim one.

The rule (documented in the README and served by /v1/aliases/conflicts), in order:
1. a page whose canonical url is the path wins over pages that only list it as an alias;
2. a published page wins over a draft;
3. the page with the earliest date wins (it held the address first); undated pages last;
4. the smallest page id wins (a stable last resort).
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest.pages import Page
from ingest.report import Action, Report, Severity
from principles.safe_yaml import excerpt

WINNER_RULE = ("canonical url first, then published before draft, then the earliest date, "
               "then the smallest page id")


@dataclass(frozen=True)
class AliasConflict:
    alias: str
    winner: str
    claimants: list[str]


def resolve_aliases(pages: list[Page], report: Report) -> tuple[dict[str, str], list[AliasConflict]]:
    """Map every alias and url to one page id; report each contested path once."""
    claims: dict[str, list[Page]] = {}
    for page in pages:
        for path in dict.fromkeys([page.url, *page.aliases]):  # once per page, linear
            claims.setdefault(path, []).append(page)
    table: dict[str, str] = {}
    conflicts: list[AliasConflict] = []
    for path, claimants in sorted(claims.items()):
        if len(claimants) == 1:
            table[path] = claimants[0].id
            continue
        ranked = sorted(claimants, key=lambda p: (p.url != path, p.draft, p.date is None,
                                                  p.date or "", p.id))
        table[path] = ranked[0].id
        if len(ranked) > 1:
            conflicts.append(AliasConflict(path, ranked[0].id, [p.id for p in ranked]))
            for loser in ranked[1:]:
                report.add(loser.rel_path, "field aliases",
                           f"alias {excerpt(path)} is also claimed by {ranked[0].id}, which wins "
                           f"({WINNER_RULE}); remove it from one page", Action.FLAGGED,
                           Severity.WARNING, "alias-conflict")
    return table, conflicts
