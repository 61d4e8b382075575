"""REDIE access in a real browser: every section draws, drill-down works, the filter changes figures."""

from __future__ import annotations

import re
import shutil
import subprocess

from playwright.sync_api import Page, expect

from hubdash.store import Store
from tests.e2e.conftest import start_server, wait_for_app

HEADINGS = ["Who has adapted support?", "Across which ages?", "Through which languages, formats and places?",
            "Where is need high and adapted support low?", "Does adapted support reach each group in proportion?"]


def _open_redie(page: Page, url: str, query: str = "") -> None:
    """Open the app (with an optional query string) and go to REDIE access through the sidebar."""
    page.goto(f"{url}/{query}")
    wait_for_app(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_text("REDIE access").click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name=HEADINGS[0])).to_be_visible()


def _charts_drawn(page: Page, n: int) -> None:
    page.wait_for_function(
        f"""() => document.querySelectorAll('[data-testid="stVegaLiteChart"] svg, '
               + '[data-testid="stVegaLiteChart"] canvas').length >= {n}""", timeout=30_000)


def _metric(page: Page, label: str) -> str:
    m = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return m.locator('[data-testid="stMetricValue"]').inner_text()


def _shot_chart(page: Page, index: int, path: str) -> None:
    """Screenshot one chart (0 matrix, 1 ages, 2 access, 3 languages, 4 interpreter, 5 wards, 6 reach)."""
    chart = page.locator('[data-testid="stVegaLiteChart"]').nth(index)
    chart.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    chart.screenshot(path=path)


def _shot_section(page: Page, heading: str, path: str) -> None:
    page.get_by_role("heading", name=heading).scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -20)")
    page.wait_for_timeout(400)
    page.screenshot(path=path)


def test_redie_page_sections_drilldown_and_no_personal_data(page: Page, server, shots) -> None:  # noqa: ANN001
    url, _ = server
    _open_redie(page, url)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    for h in HEADINGS:
        expect(page.get_by_role("heading", name=h)).to_be_visible()
    _charts_drawn(page, 7)
    expect(page.get_by_text("What the data suggests").first).to_be_visible()
    assert "@" not in page.inner_text("body"), "an email-like text is on the page"
    page.screenshot(path=str(shots / "redie-top.png"))
    _shot_section(page, HEADINGS[0], str(shots / "redie-matrix.png"))
    _shot_section(page, HEADINGS[1], str(shots / "redie-ages.png"))
    _shot_section(page, HEADINGS[2], str(shots / "redie-access.png"))
    _shot_section(page, HEADINGS[3], str(shots / "redie-where.png"))
    _shot_section(page, HEADINGS[4], str(shots / "redie-reach.png"))
    _shot_chart(page, 1, str(shots / "redie-ages-chart.png"))
    _shot_chart(page, 3, str(shots / "redie-languages-none.png"))
    _shot_chart(page, 5, str(shots / "redie-wards-chart.png"))
    _shot_chart(page, 6, str(shots / "redie-reach-chart.png"))

    # Drill-down: the services behind the first non-empty cell of the matrix.
    page.get_by_text("Show the services behind a count").first.click()
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text="Pick a count").first
    expect(box).to_be_visible()
    box.click()
    option = page.get_by_role("option").filter(has_text="Families of children with SEND · Parenting support")
    option.click()
    wait_for_app(page)
    expect(page.locator('[data-testid="stExpander"] [data-testid="stDataFrame"]').first).to_be_visible()
    page.wait_for_timeout(500)
    page.locator('[data-testid="stExpander"]').first.screenshot(path=str(shots / "redie-drilldown.png"))
    assert "@" not in page.inner_text("body")


def test_redie_area_filter_changes_the_figures(page: Page, server, shots) -> None:  # noqa: ANN001
    url, _ = server
    _open_redie(page, url)
    before = _metric(page, "Adapted for at least one group")
    _open_redie(page, url, "?area=perinatal_mh")
    expect(page).to_have_url(re.compile(r"/redie\?.*area=perinatal_mh"))
    expect(page.get_by_text("Perinatal mental health and parent-infant relationships, all target levels").first
           ).to_be_visible()
    after = _metric(page, "Adapted for at least one group")
    assert int(after) < int(before)
    _charts_drawn(page, 7)
    _shot_section(page, HEADINGS[0], str(shots / "redie-perinatal.png"))


def test_redie_presenter_mode(page: Page, server, shots) -> None:  # noqa: ANN001
    url, _ = server
    _open_redie(page, url)
    page.locator('[data-testid="stSidebar"]').get_by_text("Presenter mode").click()
    wait_for_app(page)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    expect(page.get_by_role("heading", name=HEADINGS[0])).to_be_visible()
    _charts_drawn(page, 7)
    assert "@" not in page.inner_text("body")
    _shot_section(page, HEADINGS[0], str(shots / "redie-presenter.png"))
    _shot_section(page, HEADINGS[3], str(shots / "redie-presenter-where.png"))


def test_redie_languages_against_local_language_data(page: Page, server, shots, tmp_path) -> None:  # noqa: ANN001
    """With `language:<Name>` needs rows the page compares languages offered with languages spoken."""
    _, master = server
    db = tmp_path / "langs.duckdb"
    shutil.copy(master, db)
    with Store(db) as s:
        wards = [r[0] for r in s.rows("SELECT ward_code FROM wards ORDER BY ward_code")]
        with s.write() as cur:
            for i, w in enumerate(wards):
                for lang, pct in (("English", 88.0 - i % 5), ("Polish", 3.0 + i % 3), ("Urdu", 2.5),
                                  ("Romanian", 1.5 + (i % 4) / 2), ("Lithuanian", 0.8)):
                    cur.execute("INSERT INTO needs VALUES (?, ?, ?, '%', '2021', 'test')",
                                [w, f"language:{lang}", pct])
    proc, url, _ = start_server(db)
    try:
        _open_redie(page, url)
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
        _charts_drawn(page, 7)
        expect(page.get_by_text(re.compile("Spoken locally but offered by no service: Romanian")).first).to_be_visible()
        _shot_chart(page, 3, str(shots / "redie-languages.png"))
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
