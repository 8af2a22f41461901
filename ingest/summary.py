"""Human output of an ingest: the report lines and the closing summary."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ingest.pipeline import IngestResult
from ingest.report import Report, Severity

_STYLE = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "dim"}


def print_report(report: Report, console: Console, *, limit: int) -> None:
    findings = report.sorted()
    for finding in findings[:limit]:
        console.print(escape(finding.line()), style=_STYLE[finding.severity], highlight=False,
                      soft_wrap=True)
    if len(findings) > limit:
        console.print(f"... {len(findings) - limit} more lines in report.json")


def print_summary(result: IngestResult, console: Console) -> None:
    manifest = result.manifest
    if manifest is None:
        return
    counts = manifest.counts
    table = Table(title=f"ingest {manifest.build_id}", show_header=False)
    rows = [("pages", counts["pages"]), ("drafts", counts["drafts"]), ("terms", counts["terms"]),
            ("terms without a page", counts["generated_terms"]), ("aliases", counts["aliases"]),
            ("alias conflicts", counts["alias_conflicts"]), ("triples", counts["triples"]),
            ("vectors", (f"{counts['vectors']} ({counts['page_vectors']} pages, "
                         f"{counts['passage_vectors']} passages; {counts['encoded']} encoded, "
                         f"{counts['reused_vectors']} reused)")),
            ("SHACL violations", counts["shacl_violations"]), ("errors", counts["errors"]),
            ("warnings", counts["warnings"]), ("seconds", f"{manifest.seconds:.1f}"),
            ("steps (s)", "  ".join(f"{name} {seconds:.1f}" for name, seconds
                                    in result.timings.items() if name != "total"))]
    for name, value in rows:
        table.add_row(name, str(value))
    console.print(table)
    if result.build is not None:
        console.print(f"index: {result.build}")
