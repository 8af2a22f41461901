"""Editorial control of related links: front-matter pins and exclusions and the site rules
file, through a real ingest, the real API (/v1/related) and the Hugo export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from litestar.testing import TestClient

from ingest.pipeline import ingest
from principles.embedder import Encoder
from principles.settings import Settings
from service.app import create_app
from service.export_hugo import export_hugo
from service.index import open_index

TEXT = {
    "queues": "Queues between steps add waiting time; limiting work in progress keeps queues short.",
    "wip": "Limiting work in progress shortens queues and lead time, so work flows to customers.",
    "batches": "Small batches shorten queues and feedback loops, so work flows with less risk.",
    "flow-video": "A video on flow: queues, work in progress limits and lead time on a board.",
    "hiring": "Hiring engineers takes interviews, offers and onboarding plans for new people.",
}


def _page(root: Path, rel: str, front: str, body: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\n{front}---\n{body}\n", "utf-8")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> tuple[Settings, list[str]]:
    root = tmp_path_factory.mktemp("editorial") / "content"
    for name in ("queues", "wip", "batches"):
        front = f"title: {name.title()}\ntags: [Flow]\n"
        if name == "queues":
            front += ("related:\n  pin: [/resources/articles/hiring/, resources/articles/nope]\n"
                      "  exclude: [resources/articles/wip]\n")
        _page(root, f"resources/articles/{name}/index.md", front, TEXT[name])
    _page(root, "resources/videos/flow-video/index.md", "title: Flow Video\ntags: [Flow]\n",
          TEXT["flow-video"])
    _page(root, "resources/articles/hiring/index.md", "title: Hiring\ntags: [People]\n",
          TEXT["hiring"])
    rules = root.parent / "related-rules.yaml"
    rules.write_text("exclude_sections: [resources/videos]\nmax_per_type: 5\n"
                     "fallback: [resources/articles/hiring, /no/such/page/]\n", "utf-8")
    settings = Settings(corpus_dir=root, index_dir=root.parent / "index", related_rules=rules)
    result = ingest(settings, encoder=encoder)
    return settings, [f.line() for f in result.report.findings]


def test_unknown_pages_in_rules_are_reported_with_file_and_field(
        built: tuple[Settings, list[str]]) -> None:
    _, lines = built
    assert any(line.startswith("resources/articles/queues/index.md:field related.pin: warning: "
                               "related rule names 'resources/articles/nope'") for line in lines)
    assert any("related-rules.yaml:field fallback: warning: related rule names '/no/such/page/'"
               in line for line in lines)


def test_api_honours_pins_exclusions_and_site_rules(built: tuple[Settings, list[str]],
                                                     encoder: Encoder) -> None:
    settings, _ = built
    with TestClient(create_app(settings, encoder=encoder)) as client:
        body = client.get("/v1/related", params={"page": "resources/articles/queues"}).json()
        ids = [r["id"] for r in body["results"]]
        assert ids[0] == "resources/articles/hiring"
        assert body["results"][0]["reasons"]["editor"] == "pinned by the editor"
        assert "resources/articles/wip" not in ids  # excluded by the page
        assert "resources/videos/flow-video" not in ids  # excluded section
        assert "resources/articles/batches" in ids
        other = client.get("/v1/related", params={"page": "resources/articles/wip"}).json()
        assert "resources/videos/flow-video" not in [r["id"] for r in other["results"]]
        assert all(r["reasons"]["editor"] in (None, "fallback chosen by the editor")
                   for r in other["results"])


def test_hugo_export_uses_the_same_rules(built: tuple[Settings, list[str]], tmp_path: Path) -> None:
    settings, _ = built
    export_hugo(open_index(settings), tmp_path)
    rows = json.loads((tmp_path / "resources/articles/queues/data.index.related.json")
                      .read_text("utf-8"))["related"]
    refs = [r["Reference"] for r in rows]
    assert "resources/articles/hiring" in refs and "resources/articles/wip" not in refs
    assert not any(r.startswith("resources/videos/") for r in refs)
