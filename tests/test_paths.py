"""Page ids, Hugo urls and path normalisation: the rules every lookup relies on."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest

from principles.paths import hugo_url, normalise_site_path, page_id_for, slugify


@pytest.mark.parametrize(("rel", "expected"), [
    ("tags/customer-focus/_index.md", "tags/customer-focus"),
    ("resources/blog/2024/x/index.md", "resources/blog/2024/x"),
    ("resources/articles/cost-of-delay.md", "resources/articles/cost-of-delay"),
    ("notes/working-agreements.txt", "notes/working-agreements"),
    ("_index.md", "index"),
])
def test_page_id(rel: str, expected: str) -> None:
    assert page_id_for(PurePosixPath(rel)) == expected


def test_hugo_url_rules() -> None:
    assert hugo_url("tags/customer-focus") == "/tags/customer-focus/"
    assert hugo_url("resources/blog/2013/x", slug="The Insufficiency") == \
        "/resources/blog/2013/the-insufficiency/"
    assert hugo_url("resources/a", url="custom/path") == "/custom/path/"
    assert hugo_url("resources/videos/youtube/OZt-5iszx-I") == "/resources/videos/youtube/ozt-5iszx-i/"
    assert hugo_url("index") == "/"


@pytest.mark.parametrize(("raw", "expected"), [
    ("principles/small-batches", "/principles/small-batches/"),
    ("/Principles/Customer-Focus", "/principles/customer-focus/"),
    ("https://example.org/principles/x/?utm=1#top", "/principles/x/"),
    ("/principles/x/index.html", "/principles/x/"),
    ("/%70rinciples/x", "/principles/x/"),
    ("//evil.example/x", "/evil.example/x/"),
    ("/\\evil.example", "/evil.example/"),
    ("/../../etc/passwd", "/etc/passwd/"),
    ("/feed.xml", "/feed.xml"),
    ("", "/"),
])
def test_normalise_site_path(raw: str, expected: str) -> None:
    result = normalise_site_path(raw)
    assert result == expected
    assert result.startswith("/") and not result.startswith("//")


def test_slugify_matches_hugo_urlize_for_site_terms() -> None:
    assert slugify("Metrics and Learning") == "metrics-and-learning"
    assert slugify("customer-focus") == "customer-focus"
    assert slugify("  Evidence Based Management ") == "evidence-based-management"
