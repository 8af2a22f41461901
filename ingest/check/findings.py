"""What the check reports: one finding per problem, at a file and line, with the action to take.

The same shape as ingest's report lines (`path:line: severity: problem -> action`) so authors
read one format; `evidence` carries the side-by-side passages of an overlap finding.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

SEVERITIES = ("error", "warning", "info")
_LINE = re.compile(r"line (\d+)")
_FIELD = re.compile(r"field (\w[\w-]*)")


def rank(severity: str) -> int:
    """error 0, warning 1, info 2: lower is more severe."""
    return SEVERITIES.index(severity)


@dataclass
class Evidence:
    """One passage of the checked page beside the passage of the other page it matches."""

    similarity: float
    page: str  # text of the checked page's passage
    other: str  # text of the existing page's passage


@dataclass
class CheckFinding:
    file: str  # path as given (relative to the working directory when inside it)
    line: int | None
    severity: str  # error | warning | info
    kind: str  # stable code: near-duplicate, strong-overlap, term-without-page, ...
    message: str
    action: str
    field: str | None = None
    other: dict[str, Any] | None = None  # the existing page involved (id, title, url, band, score)
    evidence: list[Evidence] = dataclasses.field(default_factory=list)

    def text(self) -> str:
        where = f":{self.line}" if self.line else ""
        return f"{self.file}{where}: {self.severity}: {self.message} -> {self.action}"


@dataclass
class CheckedFile:
    file: str
    page_id: str
    status: str  # added | modified | renamed | deleted | given
    title: str | None = None
    url: str | None = None
    renamed_from: str | None = None


@dataclass
class CheckReport:
    files: list[CheckedFile] = dataclasses.field(default_factory=list)
    findings: list[CheckFinding] = dataclasses.field(default_factory=list)
    ignored: list[str] = dataclasses.field(default_factory=list)  # paths outside the corpus or not pages
    timings: dict[str, float] = dataclasses.field(default_factory=dict)

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def fails(self, fail_on: str) -> bool:
        return any(rank(f.severity) <= rank(fail_on) for f in self.findings)

    def sorted(self) -> list[CheckFinding]:
        return sorted(self.findings, key=lambda f: (f.file, rank(f.severity), f.line or 0, f.kind))


def where_parts(where: str) -> tuple[int | None, str | None]:
    """(line, field) from an ingest report location: `line 4 (field tags)`, `field tags`."""
    line, name = _LINE.search(where), _FIELD.search(where)
    return (int(line.group(1)) if line else None), (name.group(1) if name else None)
