"""The web UI and the embeddable widget in a real browser: Debian's chromium via Playwright,
against a real `principles serve` on 127.0.0.1 and a host page on another loopback origin.
Screenshots go to test-output/screenshots/."""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from principles.settings import Settings
from tests.conftest import ROOT, free_port, running_server

pytestmark = pytest.mark.slow
SHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def host_origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A static 'website' on its own loopback origin, where the widget is embedded."""
    root = tmp_path_factory.mktemp("host-site")
    port = free_port()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}", root
    server.shutdown()


@pytest.fixture(scope="module")
def api_server(corpus_settings: Settings, host_origin: tuple[str, Path]) -> Iterator[str]:
    with running_server(corpus_settings.index_dir,
                        PRINCIPLES_CORS_ORIGINS=json.dumps([host_origin[0]])) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail("chromium is not installed: `make test` installs Debian's chromium")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def test_search_flow(browser: object, api_server: str) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(api_server + "/")
    page.fill("#q", "why should we limit work in progress")
    page.keyboard.press("Enter")
    results = page.locator("ol.results li")
    expect(results.first).to_be_visible(timeout=15000)
    assert results.count() >= 5
    assert page.locator("ol.results mark").count() > 0
    assert "work" in results.first.inner_text().lower()
    page.screenshot(path=str(SHOTS / "search.png"), full_page=True)
    page.select_option("#type", "tag")
    page.click("form#search button")
    expect(page.locator("ol.results li").first).to_be_visible()
    assert all("tag ·" in t for t in page.locator("ol.results .meta").all_inner_texts())
    page.close()


def test_page_view_with_related_and_graph(browser: object, api_server: str) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    page = browser.new_page(viewport={"width": 1100, "height": 1000})
    page.goto(api_server + "/#/page/resources/articles/limit-work-in-progress")
    expect(page.locator("article h1")).to_have_text("Limit Work in Progress to Finish Sooner")
    related = page.locator("section ol.results li")
    expect(related.first).to_be_visible()
    assert "wip-limits-in-practice" in page.inner_html("section ol.results")
    assert page.locator(".reason").first.inner_text().startswith("Shares")
    expect(page.locator("#graph canvas").first).to_be_attached(timeout=10000)
    page.screenshot(path=str(SHOTS / "page.png"), full_page=True)
    page.locator("ul.chips a").first.click()
    expect(page.locator("h1")).not_to_have_text("Limit Work in Progress to Finish Sooner")
    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone.goto(api_server + "/#/page/tags/customer-focus")
    expect(phone.locator("article h1")).to_have_text("Customer Focus")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    phone.screenshot(path=str(SHOTS / "phone.png"), full_page=True)
    page.close()
    phone.close()


def test_widget_cross_origin(browser: object, api_server: str, host_origin: tuple[str, Path]) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    origin, root = host_origin
    script = f'<script src="{api_server}/static/widget/principles-related.js" defer></script>'
    (root / "host.html").write_text(
        "<!doctype html><html lang=en><body><h1>Customer Focus</h1><p>Host page text.</p>"
        f'<principles-related page="/principles/customer-focus/" limit="4"></principles-related>'
        f"<p>After the widget.</p>{script}</body></html>")
    page = browser.new_page()
    page.goto(origin + "/host.html")
    links = page.locator("principles-related a")
    expect(links.first).to_be_visible(timeout=15000)
    assert links.count() == 4
    assert page.locator("principles-related ul[role=list] li").count() == 4
    assert page.locator("principles-related .reason").first.inner_text()
    href = links.first.get_attribute("href")
    assert href and href.startswith("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.shadowRoot?.activeElement?.tagName")
    assert focused == "A"
    page.screenshot(path=str(SHOTS / "widget.png"), full_page=True)
    page.close()


def test_widget_renders_nothing_when_the_api_fails(browser: object, host_origin: tuple[str, Path]) -> None:
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    origin, root = host_origin
    dead = f"http://127.0.0.1:{free_port()}"
    (root / "broken.html").write_text(
        "<!doctype html><html lang=en><body><p>Before.</p>"
        f'<principles-related api="{dead}" page="/tags/flow/"></principles-related>'
        f'<principles-related api="{origin}" page="/tags/flow/"></principles-related>'
        '<p>After.</p><script src="/widget.js"></script></body></html>')
    shutil.copy(ROOT / "service" / "static" / "widget" / "principles-related.js", root / "widget.js")
    page = browser.new_page()
    page.goto(origin + "/broken.html")
    page.wait_for_function("[...document.querySelectorAll('principles-related')].every(e => e.hidden)",
                           timeout=10000)
    boxes = page.evaluate("[...document.querySelectorAll('principles-related')]"
                          ".map(e => e.getBoundingClientRect().height)")
    assert boxes == [0, 0]
    page.screenshot(path=str(SHOTS / "widget-failure.png"))
    page.close()


def _corpus_text(page_id: str) -> str:
    folder = ROOT / "corpus" / page_id
    path = folder / "index.md" if (folder / "index.md").is_file() else folder.with_suffix(".md")
    return path.read_text(encoding="utf-8")


def test_author_check(browser: object, api_server: str) -> None:
    """Paste a planted near-duplicate into /author: its partner page is listed with a band, the
    suggested action and the passages side by side; an empty draft shows the API's problem
    detail; at 390 px nothing scrolls sideways."""
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    planted = json.loads((ROOT / "tests" / "data" / "planted.json").read_text())
    partner, pasted = planted["near_duplicate_pairs"][0]
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(api_server + "/")
    page.click("header nav a[href='/author']")
    expect(page.locator("h1")).to_have_text("Author check")
    page.fill("#text", _corpus_text(pasted))
    page.click("form#draft button")
    found = page.locator(f"li.overlap:has(a.title[href='/#/page/{partner}'])")
    expect(found).to_be_visible(timeout=15000)
    assert found.locator(".badge").inner_text() in ("near-duplicate", "strong overlap", "related")
    assert found.locator(".action").inner_text().startswith("Suggested action: ")
    assert found.locator(".action a").get_attribute("href") == f"/#/page/{partner}"
    pair = found.locator(".pair").first
    expect(pair).to_be_visible()
    sides = pair.locator(".passage blockquote")
    assert sides.count() == 2 and all(len(t.split()) > 5 for t in sides.all_inner_texts())
    assert pair.locator(".similarity").inner_text().startswith("similarity 0.")
    left, right = (box for box in (s.bounding_box() for s in sides.all()) if box)
    assert left["x"] + left["width"] <= right["x"]  # side by side on a wide screen
    page.screenshot(path=str(SHOTS / "author.png"), full_page=True)
    found.screenshot(path=str(SHOTS / "author-match.png"))

    page.fill("#text", "")
    page.click("form#draft button")
    error = page.locator("#report .error[role=alert]")
    expect(error).to_contain_text("no text")
    assert page.locator("li.overlap").count() == 0
    page.screenshot(path=str(SHOTS / "author-error.png"))
    page.close()

    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone.goto(api_server + "/author")
    phone.fill("#text", _corpus_text(pasted))
    phone.click("form#draft button")
    expect(phone.locator("li.overlap .pair").first).to_be_visible(timeout=15000)
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    phone.evaluate("document.querySelector('li.overlap').scrollIntoView()")
    phone.screenshot(path=str(SHOTS / "author-phone.png"))
    phone.close()
