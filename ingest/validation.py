"""SHACL on what changed: pages whose content hash differs from the previous build (and all
terms) are validated; unchanged pages keep the verdicts of the previous report. Without a
usable previous build everything is validated."""

from __future__ import annotations

from pathlib import Path

from rdflib import Graph

from ingest.pages import Page
from ingest.report import Report
from ingest.shacl import focus_nodes, load_shapes, validate_graph
from ontology.vocab import ONTOLOGY_VERSION
from principles.contract import REPORT_FILE
from principles.index import Manifest


def validate_changed(graph: Graph, pages: list[Page], hashes: dict[str, str],
                     previous_build: Path | None, previous: Manifest | None,
                     report: Report) -> int:
    """Adds the violations to `report`; returns how many there are in all."""
    shapes = load_shapes()
    old_report = previous_build / REPORT_FILE if previous_build else None
    if (previous is None or old_report is None or not old_report.is_file()
            or previous.ontology_version != ONTOLOGY_VERSION):
        return validate_graph(graph, shapes, report)
    changed = {page_id for page_id, digest in hashes.items()
               if previous.page_hashes.get(page_id) != digest}
    count = validate_graph(graph, shapes, report, focus=focus_nodes(graph, changed))
    unchanged_paths = {p.rel_path for p in pages if p.id not in changed}
    for finding in Report.load(old_report).findings:
        if finding.kind == "shacl-violation" and finding.path in unchanged_paths:
            report.findings.append(finding)
            count += 1
    return count
