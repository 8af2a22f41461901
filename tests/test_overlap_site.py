"""The seed articles (../shared/seeds/001_*, 003_*: plain articles on customer focus) checked
against the real site: its customer-focus page must be among the top results."""

from __future__ import annotations

import json

import pytest
from litestar.testing import TestClient

from ingest.pipeline import IngestResult
from principles.embedder import Encoder
from principles.settings import Settings
from service.app import create_app
from tests.conftest import SEEDS

TOP = 5


@pytest.mark.slow
def test_seed_articles_find_the_customer_focus_page(site_ingest: IngestResult, encoder: Encoder) -> None:
    assert site_ingest.build is not None
    seeds = sorted(SEEDS.glob("00[13]_*"))
    assert len(seeds) == 2
    settings = Settings(index_dir=site_ingest.build.parent.parent)
    with TestClient(create_app(settings, encoder=encoder)) as client:
        for seed in seeds:
            response = client.post("/v1/overlap", params={"limit": TOP},
                                   json={"text": seed.read_text("utf-8")})
            assert response.status_code == 200
            results = response.json()["results"]
            ids = [r["id"] for r in results]
            assert "tags/customer-focus" in ids, (seed.name, ids)
            page = results[ids.index("tags/customer-focus")]
            assert page["band"] in {"related", "strong overlap"} and page["evidence"]
        pairs = client.get("/v1/overlap/pairs", params={"limit": 500}).json()
        assert pairs["results"] and all(r["score"] >= 0.66 or r["band"] == "near-duplicate"
                                        for r in pairs["results"])
    artefact = json.loads((site_ingest.build / "overlap" / "summary.json").read_text("utf-8"))
    assert artefact["counts"]["candidate_pairs"] < artefact["counts"]["all_pairs"] / 2
