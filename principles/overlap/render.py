"""Human output of `principles overlap`: rich tables for the terminal, markdown for pasting into a
review, JSON with the API's shape. Pure functions of the result dataclasses."""

from __future__ import annotations

import json
from dataclasses import asdict

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from principles.overlap.results import DraftReport, PairsReport, PassageMatch

SNIPPET = 110
BAND_STYLE = {"near-duplicate": "bold red", "strong overlap": "yellow", "related": "cyan",
              "none": "dim"}


def to_json(report: DraftReport | PairsReport) -> str:
    return json.dumps(asdict(report), ensure_ascii=False, indent=1)


def snippet(text: str, limit: int = SNIPPET) -> str:
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat.rfind(" ", 0, limit)
    return flat[:cut if cut > limit // 2 else limit] + " …"


def _evidence(match: PassageMatch, left: str, right: str) -> str:
    return (f"{left} ¶{match.source.index} ↔ {right} ¶{match.target.index} "
            f"({match.similarity:.2f}): {snippet(match.target.text)}")


def draft_table(report: DraftReport, console: Console) -> None:
    d = report.draft
    name = repr(d.title) if d.title else "untitled draft"
    plural = "" if d.passages == 1 else "s"
    table = Table(title=f"Pages covering {name} ({d.words} words, {d.passages} passage{plural})",
                  show_lines=True)
    for column in ("#", "score", "band", "covers"):
        table.add_column(column, no_wrap=True)
    for column in ("page", "best evidence", "shared terms"):
        table.add_column(column, overflow="fold", ratio=2 if column == "best evidence" else 1)
    for n, r in enumerate(report.results, start=1):
        best = _evidence(r.evidence[0], "draft", "page") if r.evidence else ""
        table.add_row(str(n), f"{r.score:.3f}", f"[{BAND_STYLE[r.band]}]{r.band}[/]",
                      f"{r.covered:.0%}", f"{escape(r.title)}\n[dim]{escape(r.id)}[/]",
                      escape(best), escape(", ".join(t.label for t in r.shared_terms)))
    if report.results:
        console.print(table)
    else:
        console.print(f"No existing page covers {name} (nothing scored >= the minimum score).")


def pairs_table(report: PairsReport, console: Console) -> None:
    table = Table(title=f"Overlapping pages (score >= {report.min_score:.2f})", show_lines=True)
    for column in ("#", "score", "band", "cluster"):
        table.add_column(column, no_wrap=True)
    for column in ("page (covered)", "overlaps with (covered)", "best evidence"):
        table.add_column(column, overflow="fold", ratio=2 if column == "best evidence" else 1)
    for n, r in enumerate(report.results, start=1):
        best = _evidence(r.evidence[0], "page", "other") if r.evidence else ""
        table.add_row(str(n), f"{r.score:.3f}", f"[{BAND_STYLE[r.band]}]{r.band}[/]",
                      str(r.cluster or ""), f"{escape(r.title)} ({r.covered:.0%})\n[dim]{escape(r.id)}[/]",
                      f"{escape(r.other.title)} ({r.other_covered:.0%})\n[dim]{escape(r.other.id)}[/]",
                      escape(best))
    console.print(table if report.results else "No page pairs at or above the minimum score.")
    for cluster in report.clusters:
        pages = "\n".join(f"{escape(p.title)} [dim]{escape(p.id)} ({p.score:.3f})[/]" for p in cluster.pages)
        console.print(f"\n[bold]cluster {cluster.id}[/] (mean score {cluster.score:.3f}): "
                      f"{len(cluster.pages)} pages cover one subject\n{pages}")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _quote(match: PassageMatch, left: str, right: str) -> list[str]:
    return [f"- {left} ¶{match.source.index} ↔ {right} ¶{match.target.index}, "
            f"similarity {match.similarity:.2f}",
            f"  > {left}: {_cell(snippet(match.source.text, 240))}",
            f"  > {right}: {_cell(snippet(match.target.text, 240))}"]


def draft_markdown(report: DraftReport) -> str:
    d = report.draft
    lines = [f"### Overlap check: {d.title or 'untitled draft'}", "",
             f"{d.words} words, {d.passages} passages. Score = 0.5 page similarity + 0.5 "
             "passage coverage; bands: near-duplicate (copied text), strong overlap "
             f"(>= {report.thresholds['strong']}), related (>= {report.thresholds['related']}).", ""]
    if not report.results:
        return "\n".join([*lines, "No existing page covers this draft."]) + "\n"
    lines += ["| # | Page | Band | Score | Covers |", "|---|---|---|---|---|"]
    lines += [f"| {n} | [{_cell(r.title)}]({r.url}) | {r.band} | {r.score:.3f} | {r.covered:.0%} |"
              for n, r in enumerate(report.results, start=1)]
    for n, r in enumerate(report.results, start=1):
        lines += ["", f"**{n}. {_cell(r.title)}** (`{r.id}`): {r.band}, score {r.score:.3f}"]
        for match in r.evidence:
            lines += _quote(match, "draft", "page")
        if r.shared_terms:
            lines.append("- shared terms: " + ", ".join(t.label for t in r.shared_terms))
    return "\n".join(lines) + "\n"


def pairs_markdown(report: PairsReport) -> str:
    lines = [f"### Overlapping pages (score >= {report.min_score:.2f})", ""]
    if report.results:
        lines += ["| # | Page | Overlaps with | Band | Score | Cluster |", "|---|---|---|---|---|---|"]
        lines += [f"| {n} | [{_cell(r.title)}]({r.url}) ({r.covered:.0%} covered) | "
                  f"[{_cell(r.other.title)}]({r.other.url}) ({r.other_covered:.0%} covered) | "
                  f"{r.band} | {r.score:.3f} | {r.cluster or ''} |"
                  for n, r in enumerate(report.results, start=1)]
    else:
        lines.append("No page pairs at or above the minimum score.")
    for cluster in report.clusters:
        lines += ["", f"**Cluster {cluster.id}** (mean score {cluster.score:.3f}):"]
        lines += [f"- [{_cell(p.title)}]({p.url}) `{p.id}`" for p in cluster.pages]
    for n, r in enumerate(report.results, start=1):
        lines += ["", f"**{n}. {_cell(r.title)} ↔ {_cell(r.other.title)}**"]
        for match in r.evidence:
            lines += _quote(match, "page", "other")
    return "\n".join(lines) + "\n"
