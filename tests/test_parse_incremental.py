"""A re-ingest parses only the files whose bytes changed, and what it stores equals a full
ingest of the same corpus: pages, terms, aliases, editorial rules, report and page hashes.
Real ingest, synthetic vectors (bench/scale.py's encoder), a small corpus in tmp."""

from __future__ import annotations

import json
import shutil
from dataclasses import fields
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from bench.scale import SyntheticEncoder
from ingest.pages import Page
from ingest.pages_file import SPANS_FILE
from ingest.pipeline import IngestResult, ingest
from principles.contract import PARSED_FILE, PageRecord
from principles.settings import Settings


def _page(root: Path, rel: str, front: str, body: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\n{front}---\n{body}\n", "utf-8")


def _corpus(root: Path) -> None:
    """Terms with and without pages, aliases in conflict, a duplicate id, editor's rules,
    a draft and front matter ingest repairs: everything resolved across pages."""
    _page(root, "tags/flow/_index.md", "title: Flow\nClassificationType: tags\n"
          "aliases:\n- /principles/flow/\n", "Flow means work moves without waiting.")
    _page(root, "tags/batch-size/_index.md", "title: Batch Size\n", "Small batches flow.")
    _page(root, "categories/lean/_index.md", "title: Lean\nClassificationType: categories\n",
          "Lean thinking.")
    _page(root, "resources/articles/queues.md", "title: Queues Hide Delay\ntags:\n- Flow\n"
          "categories:\n- Lean\naliases:\n- /old/queues/\n- old/shared/\n"
          "related:\n  pin:\n  - /articles/wip/\n", "Every queue adds waiting time nobody sees.")
    _page(root, "resources/articles/wip/index.md", "title: Limit WIP\ntags:\n- flow\n- Pull\n"
          "url: /articles/wip/\naliases:\n- /old/shared/\ndate: 2021-03-04\nweight: heavy\n",
          "Start less, finish more, and sooner.")
    _page(root, "resources/articles/dup.md", "title: Duplicate Single\n", "Loses to the bundle.")
    _page(root, "resources/articles/dup/index.md", "title: Duplicate Bundle\ndraft: true\n",
          "Wins the id as in Hugo.")
    _page(root, "resources/articles/bad.md", "title: [unclosed\n", "Broken YAML.")
    _page(root, "about.md", "title: About\nrelated:\n  exclude:\n  - resources/articles/gone\n",
          "About this site.")
    (root / "notes").mkdir()
    (root / "notes" / "plain.txt").write_text("A plain note without front matter.\n", "utf-8")
    # a report line quoting a key spelled with a lone surrogate (stored as U+FFFD)
    _page(root, "notes/odd.md", 'title: Odd\nrelated:\n  "\\ud800": [about]\n', "Odd keys.")


def _stored(result: IngestResult) -> dict[str, Any]:
    assert result.build is not None and result.manifest is not None
    out = {name: json.loads((result.build / name).read_text("utf-8"))
           for name in ("pages.json", "terms.json", "aliases.json", "editorial.json")}
    out["pages.json bytes"] = (result.build / "pages.json").read_bytes()  # records copied
    out["pages spans"] = np.load(result.build / SPANS_FILE).tolist()
    out["report"] = [row["line"] for row in json.loads((result.build / "report.json").read_text())]
    out["page_hashes"] = result.manifest.page_hashes
    return out


def _full(corpus: Path, tmp: Path) -> IngestResult:
    """A fresh index: nothing to carry over."""
    index = tmp / "full-index"
    shutil.rmtree(index, ignore_errors=True)
    return ingest(Settings(corpus_dir=corpus, index_dir=index, model="synthetic",
                           query_encoder="torch"),
                  encoder=SyntheticEncoder(), force=True)  # type: ignore[arg-type]


def _incremental(settings: Settings) -> IngestResult:
    return ingest(settings, encoder=SyntheticEncoder(), force=True)  # type: ignore[arg-type]


def test_reingest_parses_changed_files_and_equals_a_full_ingest(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    _corpus(corpus)
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", model="synthetic",
                        query_encoder="torch")
    first = _incremental(settings)
    assert first.manifest is not None and first.build is not None
    assert first.manifest.counts["parsed_files"] == first.manifest.counts["files"] == 11
    assert (first.build / PARSED_FILE).is_file()

    # changed (a new term, a changed alias), added (claims an alias already taken and pins
    # the deleted page), deleted (a term's page: the term becomes generated), made invalid
    _page(corpus, "resources/articles/queues.md", "title: Queues Hide Delay\ntags:\n- Flow\n"
          "- Small Batches\naliases:\n- /old/queues-2/\n", "Every queue adds waiting time.")
    _page(corpus, "resources/articles/new.md", "title: New Page\ntags:\n- Pull\naliases:\n"
          "- /old/queues-2/\nrelated:\n  pin:\n  - tags/flow\n  - about\n", "A new page.")
    shutil.rmtree(corpus / "tags" / "flow")
    _page(corpus, "about.md", "title: About\ndraft: [maybe\n", "About this site.")
    second = _incremental(settings)
    assert second.manifest is not None
    # changed, added, made invalid, and the duplicate id's loser (no record of its own page)
    assert second.manifest.counts["parsed_files"] == 4
    assert _stored(second) == _stored(_full(corpus, tmp_path))
    assert "tags/flow" not in [p["id"] for p in _stored(second)["pages.json"]]

    # the duplicate's winner deleted: the unchanged loser now holds the id; the broken file
    # repaired; a file unchanged since two builds ago still carries its findings over
    shutil.rmtree(corpus / "resources" / "articles" / "dup")
    _page(corpus, "about.md", "title: About\n", "About this site, again.")
    third = _incremental(settings)
    assert third.manifest is not None
    assert third.manifest.counts["parsed_files"] == 2  # the loser, the repaired file
    stored = _stored(third)
    assert stored == _stored(_full(corpus, tmp_path))
    assert any(line.startswith("resources/articles/bad.md:") for line in stored["report"])
    assert any(line.startswith("notes/odd.md:") and "\ufffd" in line for line in stored["report"])
    assert any(p["rel_path"] == "resources/articles/dup.md" for p in stored["pages.json"])

    # a setting that changes parsing carries nothing over
    fewer = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", model="synthetic",
                     query_encoder="torch", max_aliases=1)
    fourth = _incremental(fewer)
    assert fourth.manifest is not None
    assert fourth.manifest.counts["parsed_files"] == fourth.manifest.counts["files"]


def test_a_new_file_winning_a_carried_pages_id_gets_its_own_record(tmp_path: Path) -> None:
    """A bundle added beside an unchanged single file takes its id: the single file is
    carried over (with no terms, as resolved before), but its record is not the page's any
    more."""
    corpus = tmp_path / "corpus"
    _page(corpus, "resources/articles/flow.md", "title: Single\n", "Single.")
    _page(corpus, "about.md", "title: About\n", "About this site.")
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", model="synthetic",
                        query_encoder="torch")
    _incremental(settings)
    _page(corpus, "resources/articles/flow/index.md", "title: Bundle\n", "Bundle.")
    second = _incremental(settings)
    assert [p["title"] for p in _stored(second)["pages.json"]] == ["About", "Bundle"]
    assert _stored(second) == _stored(_full(corpus, tmp_path))


def test_records_not_where_the_spans_say_are_encoded(tmp_path: Path) -> None:
    """A previous pages.json whose records moved (here: reversed, spans to match) tiles as
    its spans say, but no run starts with the page the manifest's order names: every record
    is encoded, none copied from the wrong place."""
    corpus = tmp_path / "corpus"
    _corpus(corpus)
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", model="synthetic",
                        query_encoder="torch")
    first = _incremental(settings)
    assert first.build is not None
    records = [msgspec.json.encode(r) for r in
               reversed(msgspec.json.decode((first.build / "pages.json").read_bytes()))]
    (first.build / "pages.json").write_bytes(b"[" + b",".join(records) + b"]")
    sizes = np.array([len(r) for r in records], dtype=np.int64)
    ends = 1 + np.cumsum(sizes) + np.arange(len(sizes))
    np.save(first.build / SPANS_FILE, np.column_stack([ends - sizes, ends]))
    _page(corpus, "about.md", "title: About\n", "About this site, again.")
    assert _stored(_incremental(settings)) == _stored(_full(corpus, tmp_path))


def test_every_page_field_is_stored() -> None:
    """A carried-over page is decoded from pages.json: a Page field without a record field
    would come back as its default instead of what parsing gave."""
    stored = set(PageRecord.__annotations__)
    assert {f.name for f in fields(Page) if f.name != "passage_cache"} <= stored


def test_a_title_with_a_lone_surrogate_is_stored(tmp_path: Path) -> None:
    """YAML's "\\ud800" escape makes a character UTF-8 cannot hold: the page is still stored,
    the character replaced (U+FFFD), and a surrogate pair becomes the character it spells."""
    corpus = tmp_path / "corpus"
    _page(corpus, "resources/articles/odd.md", 'title: "Odd \\ud800 \\ud83d\\ude00"\n',
          "A page with an odd title.")
    result = _full(corpus, tmp_path)
    assert result.build is not None
    pages = json.loads((result.build / "pages.json").read_text("utf-8"))
    assert [p["title"] for p in pages] == ["Odd \ufffd \U0001f600"]
