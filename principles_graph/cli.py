"""`principles`: the command line. The composition root: it builds Settings from flags and
the environment, then hands them to ingest or serve (imported lazily: each pulls heavy deps).

Expected failures (principles.errors.PrinciplesError, and OSError from a file the user named)
end a command the same way everywhere: one line on stderr and the exit code from
`EXIT_CODES`; 1 is kept for "ran, and found errors" (--strict, check --fail-on).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from principles.errors import IngestError, PrinciplesError, Unavailable
from principles.settings import Settings

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Knowledge graph and semantic search over principle pages.")

EXIT_CODES: dict[type[Exception], int] = {PrinciplesError: 2, OSError: 2, Unavailable: 3}
"""Exit code per expected failure (nearest class along the MRO); 3 means "retry later"."""

P = ParamSpec("P")
R = TypeVar("R")


def exit_code(exc: Exception) -> int:
    return next(EXIT_CODES[cls] for cls in type(exc).__mro__ if cls in EXIT_CODES)


def _fail(what: str, exc: Exception) -> NoReturn:
    detail = exc.detail if isinstance(exc, PrinciplesError) else (
        f"{exc.filename}: {exc.strerror}" if isinstance(exc, OSError) and exc.filename and exc.strerror
        else str(exc))
    Console(stderr=True, soft_wrap=True).print(f"[red]{what}:[/red] {escape(detail)}")
    raise typer.Exit(exit_code(exc))


def failing_as(what: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A command whose expected failures print `what: detail` and exit with their code."""
    def wrap(command: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(command)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return command(*args, **kwargs)
            except (PrinciplesError, OSError) as exc:
                _fail(what, exc)
        return run
    return wrap


def _settings(**overrides: Any) -> Settings:
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


@app.command()
@failing_as("ingest failed")
def ingest(
    corpus: Annotated[Path | None, typer.Option(help="Corpus folder [PRINCIPLES_CORPUS_DIR]")] = None,
    index: Annotated[Path | None, typer.Option(help="Index folder [PRINCIPLES_INDEX_DIR]")] = None,
    strict: Annotated[bool, typer.Option(help="Exit 1 when any file has an error.")] = False,
    force: Annotated[bool, typer.Option(help="Rebuild even if the corpus is unchanged.")] = False,
    if_stale: Annotated[bool, typer.Option(help="Quietly do nothing when up to date.")] = False,
    report_limit: Annotated[int, typer.Option(help="Report lines printed (all are in report.json).")] = 200,
    watch: Annotated[bool, typer.Option(
        help="Keep running: rebuild after every change to a page (debounced). Ctrl-C stops.")] = False,
    debounce_ms: Annotated[int, typer.Option(
        min=50, max=60_000, help="--watch: wait this long for more changes before rebuilding")] = 800,
) -> None:
    """Read the corpus and write a new index build (atomically switched in)."""
    from ingest.pipeline import ingest as run_ingest
    from ingest.summary import print_report, print_summary

    settings = _settings(corpus_dir=corpus, index_dir=index)
    err = Console(stderr=True, soft_wrap=True)
    if watch:
        from ingest.watch import watch_corpus

        if strict or force or if_stale:
            err.print("[red]usage:[/red] --watch rebuilds as pages change; it takes no --strict, "
                      "--force or --if-stale")
            raise typer.Exit(2)
        if not settings.corpus_dir.is_dir():
            raise IngestError(f"corpus folder {settings.corpus_dir} does not exist; pass --corpus DIR")
        watch_corpus(settings, err, debounce_ms=debounce_ms)
        return
    result = run_ingest(settings, force=force, console=err)
    if result.up_to_date:
        if not if_stale:
            err.print(f"index {settings.index_dir} is up to date with {settings.corpus_dir} "
                      f"(build {result.manifest.build_id if result.manifest else '?'}); "
                      "use --force to rebuild")
    else:
        print_report(result.report, err, limit=report_limit)
        print_summary(result, err)
    if strict and result.errors:
        err.print(f"[red]--strict: {result.errors} error(s)[/red]")
        raise typer.Exit(1)


@app.command()
@failing_as("cannot serve")
def serve(
    index: Annotated[Path | None, typer.Option(help="Index folder [PRINCIPLES_INDEX_DIR]")] = None,
    host: Annotated[str | None, typer.Option(help="Bind address [PRINCIPLES_HOST]")] = None,
    port: Annotated[int | None, typer.Option(help="Port [PRINCIPLES_PORT]")] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, max=64, help="Worker processes [PRINCIPLES_WORKERS; default: the core count]")] = None,
) -> None:
    """Serve the API over an existing index with N worker processes; a newly ingested build
    goes live in every worker without a restart (polled, or at once on SIGHUP)."""
    from service.server import serve as run_server

    run_server(_settings(index_dir=index, host=host, port=port, workers=workers))


@app.command()
@failing_as("cannot serve MCP")
def mcp(
    index: Annotated[Path | None, typer.Option(help="Index folder [PRINCIPLES_INDEX_DIR]")] = None,
) -> None:
    """The MCP server for AI assistants over stdio (read-only; the app serves it at /mcp too)."""
    from service.mcp.stdio import serve_stdio

    serve_stdio(_settings(index_dir=index))


@app.command()
def settings() -> None:
    """Print the effective settings (after PRINCIPLES_* environment variables)."""
    table = Table("setting", "env", "value")
    current = Settings()
    for name in Settings.model_fields:
        value = getattr(current, name)
        shown = "***" if name.endswith("api_key") and value else str(value)
        table.add_row(name, f"PRINCIPLES_{name.upper()}", shown)
    Console().print(table)


export_app = typer.Typer(no_args_is_help=True, help="Write files other tools read.")
app.add_typer(export_app, name="export")


@export_app.command("hugo")
@failing_as("cannot export")
def export_hugo(
    out: Annotated[Path, typer.Option(help="Folder mirroring the Hugo content tree")],
    index: Annotated[Path | None, typer.Option(help="Index folder [PRINCIPLES_INDEX_DIR]")] = None,
) -> None:
    """Per-page data.index.related.json in the site's own shape, plus redirect maps."""
    from service.export_hugo import export_hugo as run_export
    from service.index import open_index

    settings = _settings(index_dir=index)
    err = Console(stderr=True, soft_wrap=True)
    summary = run_export(open_index(settings), out)
    err.print(f"wrote {summary.files} data.index.related.json files ({summary.entries} entries), "
              f"{summary.redirects} redirects (staticwebapp.config.json, _redirects) under {out}; "
              f"{summary.skipped_single_files} single-file pages skipped (Hugo gives them no "
              "page resources)")


@app.command()
@failing_as("overlap failed")
def overlap(
    draft: Annotated[str | None, typer.Argument(
        help="Draft file (markdown with or without front matter, or text); - reads stdin")] = None,
    all_pairs: Annotated[bool, typer.Option(
        "--all", help="Corpus-wide: overlapping page pairs and clusters of the current build")] = False,
    index: Annotated[Path | None, typer.Option(help="Index folder [PRINCIPLES_INDEX_DIR]")] = None,
    title: Annotated[str | None, typer.Option(
        help="Draft title (default: front matter, then the first # heading)")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="A tag of the draft; repeatable")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Results shown [10 pages; 100 pairs]")] = None,
    min_score: Annotated[float | None, typer.Option(
        min=0.0, max=1.0, help="Lowest score shown [draft: 0.55 related; --all: 0.75 strong]")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON in the API's shape (--format json)")] = False,
    output: Annotated[str, typer.Option("--format", help="table, markdown or json")] = "table",
) -> None:
    """What already covers a draft; with --all, which pages duplicate each other."""
    import sys

    from principles.errors import IndexProblem
    from principles.overlap import artefacts, render, scoring
    from principles.overlap.results import DraftReport, PairsReport
    from service.index import open_index
    from service.overlap import DraftRequest, check_draft_offline

    err = Console(stderr=True, soft_wrap=True)
    fmt = "json" if as_json else output
    if fmt not in ("table", "markdown", "json") or all_pairs == (draft is not None):
        err.print("[red]usage:[/red] principles overlap DRAFT|- or --all, "
                  "with --format table|markdown|json")
        raise typer.Exit(2)
    settings = _settings(index_dir=index)
    report: DraftReport | PairsReport
    view = open_index(settings)
    if all_pairs:
        found = artefacts.load_pairs(view.build)
        if found is None:
            raise IndexProblem(artefacts.MISSING.format(index=settings.index_dir))
        report = artefacts.pairs_report(
            found, view.pages, view.terms, view.visible, limit=limit or 100,
            min_score=scoring.STRONG if min_score is None else min_score)
    else:
        assert draft is not None
        text = sys.stdin.read() if draft == "-" else Path(draft).read_text("utf-8-sig", "replace")
        report = check_draft_offline(settings, view, DraftRequest(text, title, tag), limit or 10,
                                     scoring.RELATED if min_score is None else min_score)
    out = Console(soft_wrap=fmt != "table")
    if fmt == "json":
        out.print_json(render.to_json(report))
    elif fmt == "markdown":
        out.print(render.draft_markdown(report) if isinstance(report, DraftReport)
                  else render.pairs_markdown(report), markup=False, highlight=False, end="")
    elif isinstance(report, DraftReport):
        render.draft_table(report, out)
    else:
        render.pairs_table(report, out)


@app.command()
@failing_as("check failed")
def check(
    paths: Annotated[list[Path] | None, typer.Argument(
        help="Page files or folders to check (default with --since: the changed pages)")] = None,
    corpus: Annotated[Path | None, typer.Option(help="Corpus folder [PRINCIPLES_CORPUS_DIR]")] = None,
    index: Annotated[Path | None, typer.Option(help="Index folder [PRINCIPLES_INDEX_DIR]")] = None,
    since: Annotated[str | None, typer.Option(
        help="Check pages changed since this git ref (staged, unstaged and untracked too)")] = None,
    output: Annotated[str, typer.Option("--format", help="text, json, markdown or github")] = "text",
    fail_on: Annotated[str, typer.Option(help="Exit 1 at or above: error or warning")] = "error",
) -> None:
    """Pre-publish check of new and changed pages: overlap, taxonomy health, links, front matter."""
    from ingest.check.changes import from_paths
    from ingest.check.changes import since as changed_since
    from ingest.check.context import load_index
    from ingest.check.render import FORMATS, render
    from ingest.check.runner import run_check

    err = Console(stderr=True, soft_wrap=True)
    if output not in FORMATS or fail_on not in ("error", "warning") or (not paths and not since):
        err.print("[red]usage:[/red] principles check PATHS... | --since REF "
                  "[--format text|json|markdown|github] [--fail-on error|warning]")
        raise typer.Exit(2)
    settings = _settings(corpus_dir=corpus, index_dir=index)
    changes, ignored = from_paths(list(paths or []), settings.corpus_dir)
    if since:
        more, skipped = changed_since(since, settings.corpus_dir)
        changes += [c for c in more if c.path not in {x.path for x in changes}]
        ignored += skipped
    report = run_check(settings, load_index(settings), changes)
    report.ignored = ignored
    typer.echo(render(report, output), nl=False)
    err.print(f"checked {len(report.files)} page file(s) in {report.timings.get('check', 0):.2f} s "
              f"(model and store opened in {report.timings.get('model+store', 0):.2f} s)",
              highlight=False)
    if report.fails(fail_on):
        raise typer.Exit(1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
