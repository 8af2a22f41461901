"""The check's four outputs: text (ingest's report-line format), json, a pull-request comment
in markdown, and GitHub workflow annotations (`::warning file=...,line=...::...`)."""

from __future__ import annotations

import json
from dataclasses import asdict

from ingest.check.findings import CheckFinding, CheckReport

FORMATS = ("text", "json", "markdown", "github")
_GITHUB_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}
_ICON = {"error": "❌", "warning": "⚠️", "info": "ℹ️"}


def summary(report: CheckReport) -> str:
    return (f"{len(report.files)} file(s) checked: {report.count('error')} error(s), "
            f"{report.count('warning')} warning(s), {report.count('info')} note(s)")


def text(report: CheckReport) -> str:
    lines: list[str] = []
    for f in report.sorted():
        lines.append(f.text())
        for e in f.evidence:
            lines.append(f"    {e.similarity:.2f}  this page: {e.page}")
            lines.append(f"          {f.other['id'] if f.other else 'other'}: {e.other}")
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def to_json(report: CheckReport) -> str:
    body = {"files": [asdict(f) for f in report.files],
            "findings": [asdict(f) for f in report.sorted()],
            "ignored": report.ignored,
            "counts": {s: report.count(s) for s in ("error", "warning", "info")},
            "timings": report.timings}
    return json.dumps(body, indent=1, ensure_ascii=False)


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(report: CheckReport) -> str:
    """One workflow command per finding; GitHub shows them on the pull request's diff."""
    lines = []
    for f in report.sorted():
        props = [f"file={_escape_property(f.file)}", f"line={f.line or 1}",
                 f"title={_escape_property('principles check: ' + f.kind)}"]
        message = f"{f.message} -> {f.action}"
        for e in f.evidence[:1]:
            message += f"\nthis page: {e.page}\n{f.other['id'] if f.other else 'other'}: {e.other}"
        lines.append(f"::{_GITHUB_LEVEL[f.severity]} {','.join(props)}::{_escape_data(message)}")
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def _cell(value: str) -> str:
    return " ".join(value.split()).replace("|", "\\|")


def _finding_markdown(f: CheckFinding) -> list[str]:
    where = f"`{f.file}`" + (f" line {f.line}" if f.line else "")
    out = [f"- {_ICON[f.severity]} **{f.kind}** {where}: {_cell(f.message)}",
           f"  - **Suggested action:** {_cell(f.action)}"]
    if f.evidence and f.other:
        out += ["", f"  | similarity | this page | [{_cell(str(f.other['title']))}]"
                    f"({f.other['url']}) |", "  |---|---|---|"]
        out += [f"  | {e.similarity:.2f} | {_cell(e.page)} | {_cell(e.other)} |" for e in f.evidence]
        out.append("")
    return out


def markdown(report: CheckReport) -> str:
    """A pull-request comment: a verdict line, then the findings per file with evidence."""
    verdict = ("✅ no problems found" if not report.findings else summary(report))
    lines = ["### Principles check", "", verdict, ""]
    by_file: dict[str, list[CheckFinding]] = {}
    for f in report.sorted():
        by_file.setdefault(f.file, []).append(f)
    for checked in report.files:
        found = by_file.pop(checked.file, [])
        status = checked.status + (f" from `{checked.renamed_from}`" if checked.renamed_from else "")
        lines.append(f"#### `{checked.file}` ({status})" + (f" — {_cell(checked.title)}"
                                                           if checked.title else ""))
        lines += [""] + (sum((_finding_markdown(f) for f in found), []) or ["No problems."]) + [""]
    for file, found in by_file.items():
        lines += [f"#### `{file}`", ""] + sum((_finding_markdown(f) for f in found), []) + [""]
    return "\n".join(lines)


def render(report: CheckReport, fmt: str) -> str:
    return {"text": text, "json": to_json, "markdown": markdown, "github": github}[fmt](report)
