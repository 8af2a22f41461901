"""The validation report: one line per problem, saying where, what is wrong and what ingest did."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from principles.contract import FindingRecord


class Severity(str, Enum):
    """`error`: data was lost (file or field skipped); `--strict` fails on these.
    `warning`: data was repaired or flagged and may not be what the author meant.
    `info`: a known variant of the site's schema that ingest handled as designed."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Action(str, Enum):
    SKIPPED = "skipped"
    REPAIRED = "repaired"
    FLAGGED = "flagged"


@dataclass(frozen=True)
class Finding:
    path: str
    where: str  # "line 7", "field tags", "file"
    problem: str
    action: Action
    severity: Severity
    kind: str  # stable machine code, e.g. "invalid-yaml"

    def line(self) -> str:
        return f"{self.path}:{self.where}: {self.severity.value}: {self.problem} -> {self.action.value}"

    def record(self) -> FindingRecord:
        return {"path": self.path, "where": self.where, "problem": self.problem,
                "action": self.action.value, "severity": self.severity.value, "kind": self.kind}

    @classmethod
    def of(cls, row: FindingRecord) -> Finding:
        return cls(row["path"], row["where"], row["problem"], Action(row["action"]),
                   Severity(row["severity"]), row["kind"])


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)

    def add(
        self,
        path: str,
        where: str,
        problem: str,
        action: Action,
        severity: Severity,
        kind: str,
    ) -> None:
        self.findings.append(Finding(path, where, problem, action, severity, kind))

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    def by_kind(self) -> Counter[str]:
        return Counter(f.kind for f in self.findings)

    def sorted(self) -> list[Finding]:
        order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
        return sorted(self.findings, key=lambda f: (order[f.severity], f.path, f.where, f.kind))

    def write(self, target: Path) -> None:
        rows = [{**f.record(), "line": f.line()} for f in self.sorted()]
        target.write_text(json.dumps(rows, indent=1, default=str), encoding="utf-8")

    @classmethod
    def load(cls, source: Path) -> Report:
        """A report.json written by `write` (the previous build's, reused when unchanged)."""
        report = cls()
        report.findings = [Finding.of(row) for row in json.loads(source.read_text("utf-8"))]
        return report
