"""Every kind of broken file gives its report line (path, line or field, what, action)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ingest.pipeline import ingest
from ingest.report import Finding
from principles.embedder import Encoder
from principles.settings import Settings
from principles_graph.cli import app

FM = "---\ntitle: {title}\n---\nSome body text about flow.\n"
BadResult = tuple[Path, list[Finding], dict[str, int]]


def _write(root: Path, rel: str, content: bytes | str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)


@pytest.fixture(scope="module")
def bad_result(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> BadResult:
    root = tmp_path_factory.mktemp("bad") / "corpus"
    _write(root, "ok.md", FM.format(title="A Good Page"))
    _write(root, "invalid-yaml.md", "---\ntitle: Broken\ntags: [unclosed\n---\nbody\n")
    _write(root, "unclosed.md", "---\ntitle: Never closed\nbody without an end\n")
    _write(root, "missing-title.md", "---\ndescription: no title here\n---\n# Heading Title\nText.\n")
    _write(root, "wrong-types.md", "---\ntitle: 2025\ntags: {a: 1}\ndraft: maybe\n"
           "date: not-a-date\naliases: [3, {x: 1}]\n---\nText.\n")
    _write(root, "empty.md", "")
    _write(root, "blank.txt", "  \n\n")
    _write(root, "binary.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR" + bytes(range(256)))
    _write(root, "bom.md", b"\xef\xbb\xbf" + FM.format(title="With BOM").encode())
    _write(root, "crlf.md", FM.format(title="With CRLF").replace("\n", "\r\n"))
    _write(root, "latin1.md", "---\ntitle: Caf\xe9\n---\nna\xefve text\n".encode("latin-1"))
    _write(root, "dup/index.md", FM.format(title="Bundle"))
    _write(root, "dup.md", FM.format(title="Single file, same id"))
    _write(root, "list.md", "---\n- just\n- a list\n---\ntext\n")
    _write(root, "a.md", "---\ntitle: A\naliases: [/old/shared/]\ndate: 2020-01-01\n---\nA text.\n")
    _write(root, "b.md", "---\ntitle: B\naliases: [/old/shared/]\ndate: 2021-01-01\n---\nB text.\n")
    _write(root, "README.md", "# Not a page\n")
    _write(root, "image.png", b"\x89PNG\x00")
    result = ingest(Settings(corpus_dir=root, index_dir=root.parent / "index"), encoder=encoder)
    assert result.manifest is not None
    return root, result.report.findings, result.manifest.counts


def _one(findings: list[Finding], path: str, kind: str) -> Finding:
    matches = [f for f in findings if f.path == path and f.kind == kind]
    assert len(matches) == 1, (path, kind, [f.line() for f in findings if f.path == path])
    return matches[0]


def test_invalid_yaml_names_the_line(bad_result: BadResult) -> None:
    f = _one(bad_result[1], "invalid-yaml.md", "invalid-yaml")
    assert f.where == "line 4" and f.action.value == "skipped" and f.severity.value == "error"
    assert "fix the YAML" in f.line()


def test_unclosed_front_matter(bad_result: BadResult) -> None:
    f = _one(bad_result[1], "unclosed.md", "unclosed-front-matter")
    assert "closing '---'" in f.problem and f.action.value == "skipped"


def test_missing_title_repaired_from_heading(bad_result: BadResult) -> None:
    f = _one(bad_result[1], "missing-title.md", "missing-title")
    assert "'Heading Title'" in f.problem and f.action.value == "repaired"


def test_wrong_field_types(bad_result: BadResult) -> None:
    findings = [f for f in bad_result[1] if f.path == "wrong-types.md"]
    lines = {f.where: f for f in findings}
    assert lines["line 2 (field title)"].action.value == "repaired"
    assert lines["line 3 (field tags)"].action.value == "skipped"
    assert lines["line 4 (field draft)"].action.value == "repaired"
    assert lines["line 5 (field date)"].kind == "bad-date"
    alias_lines = [f for f in findings if f.where == "line 6 (field aliases)"]
    assert any(f.severity.value == "error" and "{'x': 1}" in f.problem for f in alias_lines)


@pytest.mark.parametrize(("path", "kind"), [
    ("empty.md", "empty-file"), ("blank.txt", "empty-file"), ("binary.md", "binary-file"),
    ("list.md", "front-matter-not-mapping"),
])
def test_unusable_files_skipped(bad_result: BadResult,
                                path: str, kind: str) -> None:
    f = _one(bad_result[1], path, kind)
    assert f.action.value == "skipped" and f.severity.value == "error"


def test_encoding_repairs(bad_result: BadResult) -> None:
    assert _one(bad_result[1], "bom.md", "bom").where == "line 1"
    assert _one(bad_result[1], "crlf.md", "crlf").action.value == "repaired"
    latin = _one(bad_result[1], "latin1.md", "not-utf8")
    assert latin.where == "line 2" and "save the file as UTF-8" in latin.problem


def test_duplicate_id_keeps_the_bundle(bad_result: BadResult) -> None:
    f = _one(bad_result[1], "dup.md", "duplicate-id")
    assert "dup/index.md already defines it" in f.problem


def test_alias_collision_line(bad_result: BadResult) -> None:
    f = _one(bad_result[1], "b.md", "alias-conflict")
    assert "'/old/shared/'" in f.problem and "claimed by a, which wins" in f.problem


def test_good_pages_still_indexed(bad_result: BadResult) -> None:
    counts = bad_result[2]
    # ok, missing-title, wrong-types, bom, crlf, latin1, dup (bundle), a, b
    assert counts["pages"] == 9
    assert not any(f.path in ("README.md", "image.png") for f in bad_result[1])


def test_strict_exits_nonzero_and_prints_lines(
        bad_result: BadResult, tmp_path: Path) -> None:
    root = bad_result[0]
    result = CliRunner().invoke(app, ["ingest", "--corpus", str(root), "--index",
                                      str(tmp_path / "idx"), "--strict"])
    assert result.exit_code == 1, result.output
    assert "invalid-yaml.md:line 4: error: invalid YAML" in result.output
    assert "--strict" in result.output


def test_missing_corpus_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["ingest", "--corpus", str(tmp_path / "nope"),
                                      "--index", str(tmp_path / "idx")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_a_corpus_without_pages_is_refused_and_the_index_kept(tiny_corpus: Path, tmp_path: Path,
                                                              encoder: Encoder) -> None:
    """No readable page: a clear one-line error, exit 2, and the current build stays."""
    index = tmp_path / "index"
    first = ingest(Settings(corpus_dir=tiny_corpus, index_dir=index), encoder=encoder)
    empty = tmp_path / "empty"
    (empty / "notes").mkdir(parents=True)
    (empty / "notes" / "image.png").write_bytes(b"\x89PNG")
    result = CliRunner().invoke(app, ["ingest", "--corpus", str(empty), "--index", str(index)])
    assert result.exit_code == 2, result.output
    assert "has no page to index" in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert first.build is not None and (index / "current").resolve() == first.build.resolve()
