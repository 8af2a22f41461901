"""The real site (../shared): ingest copes with its messy data and serves >= 265 pages."""

from __future__ import annotations

from collections import Counter

from litestar.testing import TestClient

from ingest.pipeline import IngestResult
from principles.settings import Settings
from service.app import create_app


def test_site_ingest_serves_pages(site_ingest: IngestResult) -> None:
    assert site_ingest.manifest is not None and site_ingest.build is not None
    counts = site_ingest.manifest.counts
    assert counts["pages"] >= 265 and counts["shacl_violations"] == 0
    settings = Settings(index_dir=site_ingest.build.parent.parent)
    with TestClient(create_app(settings)) as client:
        health = client.get("/health").json()
        assert health["served_pages"] >= 265
        page = client.get("/v1/pages/principles/customer-focus/").json()
        assert page["id"] == "tags/customer-focus"
        # The UI footer names the corpus served (issue 14), not "our own corpus".
        assert health["corpus"] == "nkdagility"
        footer = client.get("/").text.split("<footer>", 1)[1]
        assert f"nkdagility ({health['served_pages']} pages" in footer
        assert "our own corpus" not in footer


def test_site_problem_files_reported(site_ingest: IngestResult) -> None:
    kinds = Counter(f.kind for f in site_ingest.report.findings)
    # Known messes of the real site, each reported with its file:
    assert kinds["term-without-page"] > 50          # old WordPress categories and tags
    assert kinds["missing-classification-type"] > 20
    assert kinds["alias-conflict"] >= 1              # e.g. '/apom/' on two tag pages
    assert kinds["draft"] >= 1 and kinds["shortcodes-stripped"] >= 10
    for finding in site_ingest.report.findings:
        assert finding.path and finding.where and finding.problem


def test_site_urls_follow_hugo_rules(site_ingest: IngestResult) -> None:
    import json

    assert site_ingest.build is not None
    pages = {p["id"]: p for p in json.loads((site_ingest.build / "pages.json").read_text())}
    assert pages["tags/customer-focus"]["url"] == "/tags/customer-focus/"
    # `url: /resources/videos/:slug` is expanded the way Hugo does it
    video = pages["resources/videos/youtube/2tlzlsgovy0"]
    assert video["url"] == f"/resources/videos/{video['slug']}/"
    assert not any(":" in p["url"] for p in pages.values())
    slugged = [p for p in pages.values() if p["slug"] and not p["url"].startswith("/custom")]
    assert slugged and all(p["url"].rstrip("/").endswith(p["url"].rstrip("/").split("/")[-1])
                           for p in slugged)
