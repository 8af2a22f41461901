"""Quality floors on the real site corpus: a change that loses answer quality fails here.

The figures come from bench/quality.py (the same functions run here); each floor sits a little
below what was measured (README, "Answer quality"), so run-to-run noise passes and a real loss
does not. Skipped without ../shared.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench.judged import load_queries
from bench.quality import open_engine, overlap_table, related_table, search_table, seed_table
from ingest.pipeline import IngestResult
from principles.embedder import Encoder
from principles.page_types import HUB_TYPES
from principles.settings import Settings
from tests.conftest import SEEDS, SITE

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(site_ingest: IngestResult, encoder: Encoder) -> Any:
    assert site_ingest.build is not None
    settings = Settings(corpus_dir=SITE, index_dir=site_ingest.build.parent.parent)
    view, engine = open_engine(settings, encoder)
    yield settings, view, engine
    engine.close()


@pytest.fixture(scope="module")
def search(site: Any) -> dict[str, Any]:
    _, view, engine = site
    served = {pid for pid, p in view.pages.items() if view.visible(p)}
    return search_table(engine, load_queries("site_queries.json", served))


def test_hybrid_search_floors(search: dict[str, Any]) -> None:
    hybrid = search["hybrid"]
    assert hybrid["all"]["queries"] >= 100
    assert hybrid["all"]["ndcg@10"] >= 0.75, hybrid["all"]
    floors = {"keyword": 0.91, "paraphrase": 0.46, "conceptual": 0.77, "draft": 0.80}
    for kind, floor in floors.items():
        assert hybrid[kind]["ndcg@10"] >= floor, (kind, hybrid[kind])


def test_hybrid_beats_each_single_mode(search: dict[str, Any]) -> None:
    for metric in ("ndcg@10", "recall@10"):
        assert search["hybrid"]["all"][metric] > search["dense"]["all"][metric], metric
        assert search["hybrid"]["all"][metric] > search["sparse"]["all"][metric], metric


def test_related_agrees_with_the_sites_own_lists(site: Any) -> None:
    _, view, _ = site
    table = related_table(view)
    assert table["all"]["lists"] == 28
    assert table["all"]["agreement"] >= 0.62, table


def test_overlap_bands_authors_act_on_are_right(site: Any, encoder: Encoder) -> None:
    settings, view, engine = site
    table = overlap_table(view, engine, settings, encoder)
    assert table["precision"] is not None and table["precision"] >= 0.85, table["bands"]
    assert table["recall"] >= 0.2, table["bands"]
    for pair in table["pairs"]:
        hubs = {view.pages[pair["a"]]["type"], view.pages[pair["b"]]["type"]} & HUB_TYPES
        if hubs:  # a tag or category page is at most "related" unless the text is copied
            assert pair["band"] != "strong overlap", pair


@pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is not beside the project")
def test_seed_articles_find_customer_focus(site: Any, encoder: Encoder) -> None:
    settings, view, engine = site
    ranks = seed_table(engine, view, settings, encoder)
    assert len(ranks) == 2
    for name, row in ranks.items():
        assert row["hybrid"] is not None and row["hybrid"] <= 2, (name, row)
        assert row["overlap"] is not None and row["overlap"] <= 2, (name, row)
