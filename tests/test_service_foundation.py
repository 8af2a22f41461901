"""The service reads the index: health, pages by id/url/alias, refusal on a wrong index."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from litestar.testing import TestClient

from principles.errors import IndexProblem
from principles.settings import Settings
from service.app import create_app
from tests.figures import CORPUS_PAGES, CORPUS_SERVED_PAGES


@pytest.fixture(scope="module")
def client(corpus_settings: Settings) -> TestClient:  # type: ignore[type-arg]
    with TestClient(create_app(corpus_settings)) as c:
        yield c


def test_health(client: TestClient) -> None:  # type: ignore[type-arg]
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["pages"] == CORPUS_PAGES
    assert body["served_pages"] == CORPUS_SERVED_PAGES
    assert body["model"] == "all-MiniLM-L6-v2" and body["dimension"] == 384


@pytest.mark.parametrize("ref", ["tags/customer-focus", "/tags/customer-focus/",
                                 "/principles/customer-focus/", "/Principles/Customer-Focus",
                                 "/resources/2cPH9D0m8y7"])
def test_page_by_id_url_or_alias(client: TestClient, ref: str) -> None:  # type: ignore[type-arg]
    response = client.get(f"/v1/pages/{ref.lstrip('/')}")
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["id"] == "tags/customer-focus" and page["url"] == "/tags/customer-focus/"
    assert page["type"] == "tag" and page["title"] == "Customer Focus"
    assert {t["slug"] for t in page["categories"]} == {"product-development", "product-management"}


def test_draft_hidden_and_unknown_is_problem_json(client: TestClient, planted: dict) -> None:  # type: ignore[type-arg]
    for ref in [planted["draft"][0], "no/such/page"]:
        response = client.get(f"/v1/pages/{ref}")
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert body["status"] == 404 and body["title"] == "Not found" and ref in body["detail"]


def test_openapi_schema(client: TestClient) -> None:  # type: ignore[type-arg]
    schema = client.get("/schema/openapi.json").json()
    assert {"/health", "/v1/pages/{ref}"} <= set(schema["paths"])


def test_refuses_missing_index(tmp_path: Path) -> None:
    with pytest.raises(IndexProblem, match="principles ingest"):
        create_app(Settings(index_dir=tmp_path / "none"))


def test_refuses_other_model(corpus_settings: Settings) -> None:
    with pytest.raises(IndexProblem, match="--force"):
        create_app(corpus_settings.model_copy(update={"model": "some/other-model"}))


def test_refuses_other_dimension(corpus_settings: Settings, tmp_path: Path) -> None:
    copy = tmp_path / "index"
    build = (corpus_settings.index_dir / "current").resolve()
    shutil.copytree(build, copy / "builds" / build.name)
    (copy / "current").symlink_to(Path("builds") / build.name)
    manifest = copy / "builds" / build.name / "manifest.json"
    data = json.loads(manifest.read_text())
    data["dimension"] = 768
    manifest.write_text(json.dumps(data))
    with pytest.raises(IndexProblem, match="768-dimensional"):
        create_app(corpus_settings.model_copy(update={"index_dir": copy}))
