"""Data quality in a real browser: every section draws, the chase list downloads with contacts,
presenter mode shows no contact details, and a merge can be undone."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess

from playwright.sync_api import Page, expect

from hubdash.store import Store
from tests.e2e.conftest import start_server, wait_for_app

HEADINGS = ["How complete is it?", "How representative is it?", "Is it clear?", "Whom to chase"]


def _open(page: Page, url: str, query: str = "") -> None:
    page.goto(f"{url}/quality{query}")
    wait_for_app(page)
    # A fresh server's first deep link can raise Streamlit's "Page not found" notice over the (right)
    # page; close it so the page underneath can be used.
    notice = page.get_by_role("dialog").filter(has_text="Page not found")
    page.wait_for_timeout(500)
    if notice.count():
        notice.get_by_role("button").first.click()
        expect(notice).to_have_count(0)
    expect(page.get_by_role("heading", name=HEADINGS[0])).to_be_visible(timeout=30_000)
    page.wait_for_function(
        """() => document.querySelectorAll('[data-testid="stVegaLiteChart"] svg, '
               + '[data-testid="stVegaLiteChart"] canvas').length >= 6""", timeout=30_000)


def _metric(page: Page, label: str) -> str:
    m = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return m.locator('[data-testid="stMetricValue"]').inner_text()


def _shot_section(page: Page, heading: str, path: str) -> None:
    page.get_by_role("heading", name=heading).first.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -20)")
    page.wait_for_timeout(500)
    page.screenshot(path=path)


def test_quality_page_sections_and_chase_list_download(page: Page, server, shots) -> None:  # noqa: ANN001
    url, _ = server
    _open(page, url)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    for h in HEADINGS:
        expect(page.get_by_role("heading", name=h)).to_be_visible()
    assert _metric(page, "Data-quality score").endswith("/ 100")
    assert _metric(page, "Response rate") == "62%"
    expect(page.get_by_text("What it may mean for the gap map").first).to_be_visible()
    page.screenshot(path=str(shots / "quality-top.png"))
    _shot_section(page, "Which returns have most blanks?", str(shots / "quality-grid.png"))
    _shot_section(page, "How representative is it?", str(shots / "quality-representative.png"))
    _shot_section(page, "Is it clear?", str(shots / "quality-clear.png"))
    _shot_section(page, "Likely duplicates (1)", str(shots / "quality-duplicates.png"))
    expect(page.get_by_text("Baby massage group (North hub)").first).to_be_visible()
    _shot_section(page, "Whom to chase", str(shots / "quality-chase.png"))
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download chase list (CSV)").click()
    text = open(dl.value.path(), encoding="utf-8-sig").read()  # noqa: PTH123, SIM115
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {"Organisation", "Contact name", "Contact email", "Missing answers"} <= set(rows[0])
    assert any(r["Contact email"] == "familyhubs@example.org" for r in rows)
    assert sum(r["Service"] == "(no survey returned)" for r in rows) == 14


def test_presenter_mode_shows_no_contact_email(page: Page, server, shots) -> None:  # noqa: ANN001
    url, _ = server
    _open(page, url, "?present=1")
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    main = page.locator('[data-testid="stMain"]')
    page.wait_for_timeout(500)
    text = main.inner_text()
    assert "@" not in text and "example.org" not in text
    expect(page.get_by_role("button", name="Merge")).to_have_count(0)
    expect(page.get_by_role("button", name="Download chase list (CSV)")).to_have_count(0)
    expect(page.get_by_text("hidden in presenter mode")).to_be_visible()
    page.screenshot(path=str(shots / "quality-presenter.png"))
    _shot_section(page, "Likely duplicates (1)", str(shots / "quality-presenter-duplicates.png"))


def test_merge_and_undo_in_the_browser(page: Page, server, shots, tmp_path) -> None:  # noqa: ANN001
    _, shared_db = server
    db = tmp_path / "merge.duckdb"
    shutil.copy(shared_db, db)  # a private server: this test writes
    proc, url, _ = start_server(db)
    try:
        _open(page, url)
        page.get_by_role("heading", name="Likely duplicates (1)").scroll_into_view_if_needed()
        page.get_by_role("button", name="Merge").click()
        wait_for_app(page)
        expect(page.get_by_text("Merged #18 into #17")).to_be_visible(timeout=30_000)
        expect(page.get_by_role("heading", name="Likely duplicates (0)")).to_be_visible()
        _shot_section(page, "Likely duplicates (0)", str(shots / "quality-merged.png"))
        page.get_by_role("button", name="Undo this merge").click()
        wait_for_app(page)
        expect(page.get_by_role("heading", name="Likely duplicates (1)")).to_be_visible(timeout=30_000)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    with Store(db) as s:
        assert s.scalar("SELECT count(*) FROM services") == 158
        assert s.rows("SELECT kind, undone FROM changes ORDER BY change_id DESC")[0] == ("merge", True)
