"""Presenter mode in real Chromium at projector sizes, keyboard stepping, and shared links."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import wait_for_app

HEADLINE = ".st-key-present_headline"


def _settle(page: Page) -> None:
    """Wait for the run to finish and charts to draw; close a stray 'Page not found' notice."""
    wait_for_app(page)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]') && "
                           "document.querySelectorAll('.st-key-present_bar').length <= 1", timeout=30_000)
    dialog = page.get_by_role("dialog")
    if dialog.count() and dialog.first.is_visible():
        dialog.first.get_by_role("button").first.click()
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    if charts.count():
        charts.first.locator("canvas, svg").first.wait_for(timeout=15_000)
    page.wait_for_timeout(400)


def _step(page: Page, key: str, url_pattern: str) -> None:
    page.keyboard.press(key)
    expect(page).to_have_url(re.compile(url_pattern), timeout=30_000)
    _settle(page)


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (1920, 1080)])
def test_presenter_steps_through_the_sequence_with_the_keyboard(browser: Browser, server, shots,  # noqa: ANN001
                                                                 width: int, height: int) -> None:
    url, _ = server
    ctx = browser.new_context(viewport={"width": width, "height": height})
    page = ctx.new_page()
    page.goto(f"{url}/?present=1")
    _settle(page)
    expect(page.locator('[data-testid="stSidebar"]')).to_be_hidden()
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    expect(page.locator(HEADLINE)).to_be_visible()
    expect(page.locator(HEADLINE)).to_contain_text("services and interventions from")
    # The headline is large on the projector: at least 1.4x the body text.
    size = page.locator(f"{HEADLINE} p").first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    base = page.evaluate("() => parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert base >= 19 and size >= 1.4 * base
    page.screenshot(path=str(shots / f"presenter-home-{width}.png"))

    _step(page, "ArrowRight", r"/gaps\?.*area=infant_feeding.*present=1.*step=1")
    expect(page.get_by_text("Step 1 of 3")).to_be_visible()
    expect(page.locator(HEADLINE)).to_contain_text("infant feeding")
    page.screenshot(path=str(shots / f"presenter-step1-gaps-{width}.png"))

    _step(page, "PageDown", r"/coverage\?.*step=2")
    page.locator('[data-testid="stDeckGlJsonChart"] canvas').first.wait_for(timeout=30_000)
    page.wait_for_timeout(800)
    expect(page.locator(HEADLINE)).to_contain_text("least coverage")
    page.screenshot(path=str(shots / f"presenter-step2-coverage-{width}.png"))

    _step(page, "ArrowRight", r"/redie\?.*step=3")
    expect(page.get_by_text("Step 3 of 3")).to_be_visible()
    expect(page.locator(".st-key-present_next button:visible")).to_be_disabled()
    page.screenshot(path=str(shots / f"presenter-step3-redie-{width}.png"))
    if width > 1280:  # backwards and Esc are the same at every size: checked once, at 1280 x 720
        ctx.close()
        return

    _step(page, "ArrowLeft", r"/coverage\?.*step=2")
    _step(page, "PageUp", r"/gaps\?.*step=1")
    expect(page.get_by_text("Step 1 of 3")).to_be_visible()

    # Esc leaves presenter mode: the sidebar and the filter come back, the filter is kept.
    page.keyboard.press("Escape")
    expect(page.locator('[data-testid="stSidebar"]')).to_be_visible(timeout=30_000)
    expect(page).not_to_have_url(re.compile(r"present=1"))
    expect(page).to_have_url(re.compile(r"area=infant_feeding"))
    ctx.close()


def test_a_shared_presenter_link_reproduces_the_figures(browser: Browser, server, shots) -> None:  # noqa: ANN001
    url, _ = server
    first = browser.new_context(viewport={"width": 1280, "height": 720})
    page = first.new_page()
    page.goto(f"{url}/?present=1")
    _settle(page)
    _step(page, "ArrowRight", r"step=1")
    _step(page, "ArrowRight", r"step=2")
    _step(page, "ArrowRight", r"/redie\?.*step=3")
    shared = page.url
    headline = page.locator(HEADLINE).inner_text()
    metrics = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    assert metrics, "the REDIE page shows its figures"
    first.close()

    fresh = browser.new_context(viewport={"width": 1280, "height": 720})  # nothing shared with the first
    other = fresh.new_page()
    other.goto(shared)
    _settle(other)
    assert other.locator(HEADLINE).inner_text() == headline
    assert other.locator('[data-testid="stMetricValue"]').all_inner_texts() == metrics
    expect(other.get_by_text("Step 3 of 3")).to_be_visible()
    other.screenshot(path=str(shots / "presenter-shared-link.png"))
    fresh.close()


def test_copy_link_and_bookmark_reproduce_a_view(browser: Browser, server, shots) -> None:  # noqa: ANN001
    url, _ = server
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = ctx.new_page()
    page.goto(f"{url}/redie?area=parenting")
    _settle(page)
    metrics = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Share this view", exact=True).click()
    link = sidebar.locator('[data-testid="stCode"]').inner_text().strip()
    assert link.startswith(url) and "/redie?" in link and "area=parenting" in link
    sidebar.get_by_label("Bookmark name").fill("Parenting: who misses out")
    sidebar.get_by_role("button", name="Bookmark this view").click()
    _settle(page)
    page.screenshot(path=str(shots / "presenter-sharing-sidebar.png"))

    fresh = browser.new_context(viewport={"width": 1600, "height": 1000})
    other = fresh.new_page()
    other.goto(link)
    _settle(other)
    assert other.locator('[data-testid="stMetricValue"]').all_inner_texts() == metrics
    # The bookmark, saved in the database, is there for everyone and opens the same view.
    other.locator('[data-testid="stSidebar"]').get_by_text("Bookmarks (").click()
    other.locator('[data-testid="stSidebar"]').get_by_role("link", name="Parenting: who misses out").click()
    expect(other).to_have_url(re.compile(r"/redie\?.*area=parenting"))
    _settle(other)
    assert other.locator('[data-testid="stMetricValue"]').all_inner_texts() == metrics
    fresh.close()
    ctx.close()
