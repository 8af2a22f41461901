"""`principles overlap`: table, --json and --format markdown over the corpus/ index, plus the
draft parsing both the CLI and the API share."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from principles.overlap.draft import DraftError, parse_draft
from principles.settings import Settings
from principles_graph.cli import app
from tests.conftest import CORPUS

runner = CliRunner()
BATCHES = CORPUS / "resources" / "articles" / "small-batches-reduce-risk" / "index.md"
SAFER = "resources/blog/2023/2023-09-05-why-smaller-releases-are-safer"


def _run(settings: Settings, *args: str, stdin: str | None = None) -> Any:
    result = runner.invoke(app, ["overlap", "--index", str(settings.index_dir), *args], input=stdin,
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result


def test_all_pairs_json_matches_the_api(corpus_settings: Settings, api: Any) -> None:
    body = json.loads(_run(corpus_settings, "--all", "--json").stdout)
    assert body == api.get("/v1/overlap/pairs").json()
    assert isinstance(body["clusters"], list) and body["results"][0]["band"] == "near-duplicate"


def test_all_pairs_markdown_and_table(corpus_settings: Settings) -> None:
    markdown = _run(corpus_settings, "--all", "--format", "markdown").stdout
    assert markdown.startswith("### Overlapping pages (score >= 0.75)")
    assert "| # | Page | Overlaps with | Band | Score | Cluster |" in markdown
    assert "> other:" in markdown
    table = _run(corpus_settings, "--all", "--limit", "3").stdout
    assert "near-duplicate" in table and "strong overlap" in table


def test_draft_from_stdin_as_json_and_file_as_markdown(corpus_settings: Settings) -> None:
    text = BATCHES.read_text("utf-8")
    body = json.loads(_run(corpus_settings, "-", "--json", "--limit", "3", stdin=text).stdout)
    ids = [r["id"] for r in body["results"]]
    assert ids[0] == "resources/articles/small-batches-reduce-risk" and SAFER in ids
    markdown = _run(corpus_settings, str(BATCHES), "--format", "markdown", "--limit", "3").stdout
    assert markdown.startswith("### Overlap check: Why Small Batches Reduce Delivery Risk")
    assert "> draft:" in markdown and "> page:" in markdown and "shared terms:" in markdown


@pytest.mark.parametrize("args", [[], ["--all", "x.md"], ["--all", "--format", "html"]])
def test_usage_errors_exit_2(corpus_settings: Settings, args: list[str]) -> None:
    result = runner.invoke(app, ["overlap", "--index", str(corpus_settings.index_dir), *args])
    assert result.exit_code == 2


def test_missing_index_and_bad_draft_exit_2(corpus_settings: Settings, tmp_path: Any) -> None:
    missing = runner.invoke(app, ["overlap", "--all", "--index", str(tmp_path)])
    assert missing.exit_code == 2 and "principles ingest" in missing.output
    bad = runner.invoke(app, ["overlap", "--index", str(corpus_settings.index_dir), "-"],
                        input="---\ntitle: [\n---\nbody\n")
    assert bad.exit_code == 2 and "invalid YAML" in bad.output


def test_parse_draft_front_matter_heading_and_plain_text() -> None:
    draft = parse_draft("\ufeff---\r\ntitle: Pull Systems\r\ntags: [Flow]\r\ncategories: Lean\r\n"
                        "---\r\n# Ignored heading\r\n\r\nWork is **pulled** when there is room.\r\n")
    assert draft.title == "Pull Systems" and draft.terms == ["flow", "lean"]
    assert draft.body.startswith("Ignored heading.") and "pulled when" in draft.body
    assert draft.passage_texts()[0].startswith("Pull Systems. Ignored heading.")
    heading = parse_draft("# Small Batches\n\nShip less at once.", tags=["small-batches"])
    assert heading.title == "Small Batches" and heading.terms == ["small-batches"]
    plain = parse_draft("Customer Centricity | Agile Scrum Master\nDecisions follow customers.")
    assert plain.title is None and plain.head_text() == plain.body
    p = plain.passages[0]
    assert plain.body[p.start:p.end] == p.text


@pytest.mark.parametrize("text", ["", "---\n---\n", "---\n- a list\n---\nbody", "---\nx: 1\n"])
def test_parse_draft_rejects_unusable_text(text: str) -> None:
    with pytest.raises(DraftError):
        parse_draft(text)
