"""The app in a real browser: every page renders, the filter drives the URL and the figures."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import wait_for_app, wait_for_charts

PAGES = [("", "home"), ("ingestion", "ingestion"), ("quality", "quality"), ("gaps", "gaps"),
         ("coverage", "coverage"), ("redie", "redie"), ("reflect", "reflect")]


@pytest.mark.parametrize(("path", "name"), PAGES)
def test_every_page_renders_without_error(page: Page, server, shots, path: str, name: str) -> None:  # noqa: ANN001
    url, _ = server
    page.goto(f"{url}/{path}")
    wait_for_app(page)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    expect(page.get_by_text("fictional borough").first).to_be_visible()
    wait_for_charts(page)
    page.screenshot(path=str(shots / f"page-{name}.png"), full_page=True)


def test_area_filter_updates_url_and_figures(page: Page, server, shots) -> None:  # noqa: ANN001
    url, _ = server
    page.goto(url)
    wait_for_app(page)
    services = page.locator('[data-testid="stMetric"]').filter(has_text="Services").first
    before = services.locator('[data-testid="stMetricValue"]').inner_text()
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name="Infant feeding").click()
    expect(page).to_have_url(re.compile(r"area=infant_feeding"))
    wait_for_app(page)
    expect(services.locator('[data-testid="stMetricValue"]')).not_to_have_text(before)
    page.screenshot(path=str(shots / "home-infant-feeding.png"), full_page=True)
    # The link reproduces the view in a fresh tab.
    other = page.context.new_page()
    other.goto(page.url)
    wait_for_app(other)
    expect(other.locator('[data-testid="stMetric"]').filter(has_text="Services").first
           .locator('[data-testid="stMetricValue"]')).to_have_text(
        services.locator('[data-testid="stMetricValue"]').inner_text())


def test_filter_survives_a_page_change(page: Page, server) -> None:  # noqa: ANN001
    url, _ = server
    page.goto(f"{url}/?area=perinatal_mh")
    wait_for_app(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Gap maps").click()
    wait_for_app(page)
    expect(page).to_have_url(re.compile(r"/gaps\?.*area=perinatal_mh"))
    expect(page.get_by_text("Perinatal mental health and parent-infant relationships, all target levels").first
           ).to_be_visible()
