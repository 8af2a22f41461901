"""`principles export hugo`: the site's exact data shape, redirects, and a real Hugo build."""

from __future__ import annotations

import json
import shutil
import subprocess
from html import unescape
from pathlib import Path

import pytest
from typer.testing import CliRunner

from principles.settings import Settings
from principles_graph.cli import app
from tests.conftest import SITE

FIELDS = ["Title", "Slug", "Reference", "EntryId", "EntryKind", "EntryType", "EntryGenAt", "Similarity"]


@pytest.fixture(scope="module")
def exported(corpus_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hugo-export")
    result = CliRunner().invoke(app, ["export", "hugo", "--index", str(corpus_settings.index_dir),
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "data.index.related.json files" in result.output
    return out


def test_shape_matches_the_site(exported: Path) -> None:
    data = json.loads((exported / "tags" / "customer-focus" / "data.index.related.json").read_text())
    assert list(data) == ["related"] and data["related"]
    for entry in data["related"]:
        assert list(entry) == FIELDS
        assert isinstance(entry["Similarity"], float) and entry["EntryGenAt"].endswith("Z")
        assert entry["EntryKind"] in ("resource", "program")
        assert not entry["Reference"].startswith(("tags/", "categories/", "concepts/", "notes/"))
    sims = [e["Similarity"] for e in data["related"]]
    assert sims == sorted(sims, reverse=True)
    per_type: dict[str, int] = {}
    for entry in data["related"]:
        per_type[entry["EntryType"]] = per_type.get(entry["EntryType"], 0) + 1
    assert max(per_type.values()) <= 5
    text = (exported / "tags" / "customer-focus" / "data.index.related.json").read_text()
    assert text.startswith('{\n  "related": [\n    {\n      "Title": ')  # the site's 2-space layout


def test_shape_identical_to_a_real_site_file(exported: Path) -> None:
    if not SITE.is_dir():
        pytest.skip("../shared is not beside the project")
    real = json.loads((SITE / "tags" / "customer-focus" / "data.index.related.json").read_text())
    ours = json.loads((exported / "tags" / "customer-focus" / "data.index.related.json").read_text())
    assert list(real) == list(ours)
    assert list(real["related"][0]) == list(ours["related"][0])
    assert {k: type(v) for k, v in real["related"][0].items()} == \
        {k: type(v) for k, v in ours["related"][0].items()}


def test_redirect_maps(exported: Path) -> None:
    routes = json.loads((exported / "staticwebapp.config.json").read_text())["routes"]
    rule = next(r for r in routes if r["route"] == "/principles/customer-focus/")
    assert rule == {"route": "/principles/customer-focus/", "redirect": "/tags/customer-focus/",
                    "statusCode": 301}
    lines = (exported / "_redirects").read_text().splitlines()
    assert "/principles/customer-focus/ /tags/customer-focus/ 301" in lines
    assert len(lines) == len(routes)
    assert all(r["redirect"].startswith("/") and not r["redirect"].startswith("//") for r in routes)


PARTIAL = """{{ with .Resources.GetMatch "data.index.related.json" }}
{{ $data := . | transform.Unmarshal }}
<ul class="related">
{{ range $data.related }}{{ with site.GetPage .Reference }}
<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}
{{ end }}</ul>
{{ end }}"""
PAGE = '<html><body><h1>{{ .Title }}</h1>{{ partial "related.html" . }}</body></html>'


@pytest.mark.slow
def test_real_hugo_build_renders_related_links(exported: Path, tmp_path: Path) -> None:
    hugo = shutil.which("hugo")
    if hugo is None:
        pytest.fail("hugo is not installed: `make test` installs Debian's hugo")
    site = tmp_path / "site"
    (site / "layouts" / "partials").mkdir(parents=True)
    (site / "layouts" / "_default").mkdir(parents=True)
    (site / "layouts" / "partials" / "related.html").write_text(PARTIAL)
    for name in ("single.html", "list.html"):
        (site / "layouts" / "_default" / name).write_text(PAGE)
    (site / "config.toml").write_text('baseURL = "/"\ndisableKinds = ["RSS", "sitemap"]\n')
    source = json.loads((exported / "tags" / "customer-focus" / "data.index.related.json").read_text())
    bundles = ["tags/customer-focus"] + [e["Reference"] for e in source["related"]]
    for ref in bundles:
        folder = site / "content" / ref
        folder.mkdir(parents=True, exist_ok=True)
        name = "_index.md" if ref.startswith("tags/") else "index.md"
        title = "Customer Focus" if ref.startswith("tags/") else next(
            e["Title"] for e in source["related"] if e["Reference"] == ref)
        (folder / name).write_text(f'---\ntitle: "{title}"\n---\nText.\n')
        data = exported / ref / "data.index.related.json"
        if data.is_file():
            shutil.copy(data, folder / "data.index.related.json")
    run = subprocess.run([hugo, "--quiet", "-s", str(site), "-d", str(site / "public")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    html = (site / "public" / "tags" / "customer-focus" / "index.html").read_text()
    assert '<ul class="related">' in html
    text = unescape(html).replace("\u2018", "'").replace("\u2019", "'")  # Hugo's typographer
    for entry in source["related"]:
        assert f'>{entry["Title"]}</a>' in text
    assert html.count("<li>") == len(source["related"])
