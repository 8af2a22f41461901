"""`principles`: the command line. The composition root: it builds Settings from flags and
the environment, then hands them to ingest or serve (imported lazily: each pulls heavy deps)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from principles.settings import Settings

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Knowledge graph and semantic search over principle pages.")


def _settings(**overrides: Any) -> Settings:
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


@app.command()
def ingest(
    corpus: Annotated[Path | None, typer.Option(help="Corpus folder [PRINCIPLES_CORPUS_DIR]")] = None,
    index: Annotated[Path | None, typer.Option(help="Index folder [PRINCIPLES_INDEX_DIR]")] = None,
    strict: Annotated[bool, typer.Option(help="Exit 1 when any file has an error.")] = False,
    force: Annotated[bool, typer.Option(help="Rebuild even if the corpus is unchanged.")] = False,
    if_stale: Annotated[bool, typer.Option(help="Quietly do nothing when up to date.")] = False,
    report_limit: Annotated[int, typer.Option(help="Report lines printed (all are in report.json).")] = 200,
) -> None:
    """Read the corpus and write a new index build (atomically switched in)."""
    from ingest.pipeline import IngestError
    from ingest.pipeline import ingest as run_ingest
    from ingest.summary import print_report, print_summary

    settings = _settings(corpus_dir=corpus, index_dir=index)
    err = Console(stderr=True, soft_wrap=True)
    try:
        result = run_ingest(settings, force=force, console=err)
    except IngestError as exc:
        err.print(f"[red]ingest failed:[/red] {exc}")
        raise typer.Exit(2) from exc
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
def serve(
    index: Annotated[Path | None, typer.Option(help="Index folder [PRINCIPLES_INDEX_DIR]")] = None,
    host: Annotated[str | None, typer.Option(help="Bind address [PRINCIPLES_HOST]")] = None,
    port: Annotated[int | None, typer.Option(help="Port [PRINCIPLES_PORT]")] = None,
) -> None:
    """Serve the API over an existing index."""
    import uvicorn

    from principles.index import IndexProblem
    from service.app import create_app

    settings = _settings(index_dir=index, host=host, port=port)
    try:
        application = create_app(settings)
    except IndexProblem as exc:
        Console(stderr=True, soft_wrap=True).print(f"[red]cannot serve:[/red] {exc}")
        raise typer.Exit(2) from exc
    uvicorn.run(application, host=settings.host, port=settings.port, log_level="info",
                loop="uvloop", http="httptools")


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
def export_hugo(
    out: Annotated[Path, typer.Option(help="Folder mirroring the Hugo content tree")],
    index: Annotated[Path | None, typer.Option(help="Index folder [PRINCIPLES_INDEX_DIR]")] = None,
) -> None:
    """Per-page data.index.related.json in the site's own shape, plus redirect maps."""
    from principles.index import IndexProblem
    from service.export_hugo import export_hugo as run_export
    from service.index import open_index

    settings = _settings(index_dir=index)
    err = Console(stderr=True, soft_wrap=True)
    try:
        summary = run_export(open_index(settings), out)
    except IndexProblem as exc:
        err.print(f"[red]cannot export:[/red] {exc}")
        raise typer.Exit(2) from exc
    except OSError as exc:
        err.print(f"[red]cannot write to {out}:[/red] {exc.strerror or exc}")
        raise typer.Exit(2) from exc
    err.print(f"wrote {summary.files} data.index.related.json files ({summary.entries} entries), "
              f"{summary.redirects} redirects (staticwebapp.config.json, _redirects) under {out}; "
              f"{summary.skipped_single_files} single-file pages skipped (Hugo gives them no "
              "page resources)")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
