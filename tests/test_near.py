"""Near-miss suggestions stay right when only a bounded candidate pool is compared."""

from __future__ import annotations

import pytest

from service.near import MAX_CANDIDATES, NearPaths

PATHS = ([f"/resources/articles/{i // 1000:03d}/page-{i}/" for i in range(50000)]
         + [f"/old/{i}/" for i in range(50000)] + ["/tags/customer-focus/"])


@pytest.fixture(scope="module")
def near() -> NearPaths:
    return NearPaths(PATHS)


@pytest.mark.parametrize(("typo", "meant"), [
    ("/resources/articles/012/page-12345x/", "/resources/articles/012/page-12345/"),  # leaf typo
    ("/resources/articles/012/pgae-12345/", "/resources/articles/012/page-12345/"),  # leaf start
    ("/resorces/articles/012/page-12345/", "/resources/articles/012/page-12345/"),  # folder typo
    ("/principles/customer-focus/", "/tags/customer-focus/"),  # moved to another folder
    ("/tags/customer-focs/", "/tags/customer-focus/"),
])
def test_the_meant_path_comes_first(near: NearPaths, typo: str, meant: str) -> None:
    assert near.suggest(typo)[0] == meant


def test_pool_is_bounded_and_unrelated_paths_get_nothing(near: NearPaths) -> None:
    assert len(near.candidates("/resources/articles/012/page-1/")) == MAX_CANDIDATES
    assert near.suggest("/zzzz/qqqq-unknown/") == []
