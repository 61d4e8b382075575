"""Hostile service names in a real browser: shown as text on every page, never run, never break SQL.

Two demo services are renamed (through the undoable edit path, as a person would) to
`<script>alert(1)</script>` and `Robert'); DROP TABLE services;--`. Every page must render
without an exception, no alert may fire, no script element may appear, the markup must never
contain the tag unescaped, and the services table must still be whole afterwards.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from hubdash import history
from hubdash.services import service_record
from hubdash.store import Store
from tests.e2e.conftest import start_server, wait_for_app

pytestmark = pytest.mark.e2e

XSS = "<script>alert(1)</script>"
SQLI = "Robert'); DROP TABLE services;--"
IMG = "<img src=x onerror=alert(2)>"
PAGES = [("", "home"), ("ingestion", "ingestion"), ("quality", "quality"), ("gaps", "gaps"),
         ("coverage", "coverage"), ("redie", "redie")]


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory, demo_db_master: Path):  # noqa: ANN201
    folder = tmp_path_factory.mktemp("e2e_hostile")
    db = folder / "hubdash.duckdb"
    shutil.copy(demo_db_master, db)
    with Store(db) as s:
        ids = [r[0] for r in s.rows("SELECT service_id FROM services ORDER BY service_id LIMIT 3")]
        for sid, name in zip(ids, (XSS, SQLI, IMG), strict=True):
            rec = service_record(s, sid)
            rec.update(name=name, organisation=name if name != SQLI else "O'Brien & Sons <b>Ltd</b>")
            history.edit_service(s, sid, rec, description="hostile name")
        count = int(s.scalar("SELECT count(*) FROM services"))
    proc, url, log = start_server(db, env={"HUBDASH_BACKUP_DIR": str(folder / "backups")})
    yield url, db, count, log
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.mark.parametrize(("path", "name"), PAGES)
def test_hostile_names_are_inert_on_every_page(page: Page, hostile_server, shots, path: str, name: str) -> None:  # noqa: ANN001
    url, _, _, _ = hostile_server
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{url}/{path}")
    wait_for_app(page)
    page.wait_for_timeout(800)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    # Open every expander and tab panel a person could open, so their contents render too.
    for exp in page.locator('[data-testid="stExpander"] summary').all()[:12]:
        exp.click()
    wait_for_app(page)
    html = page.content()
    assert XSS not in html and IMG not in html, "the tag is escaped wherever the name is written"
    scripts = page.evaluate("() => [...document.scripts].map(s => s.textContent).join('\\n')")
    assert "alert(1)" not in scripts and "alert(2)" not in scripts
    assert page.evaluate("() => document.querySelectorAll('img[src=\"x\"]').length") == 0
    assert dialogs == [], "no alert ran"
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    page.screenshot(path=str(shots / f"hostile-{name}.png"), full_page=True)


def test_names_show_as_text_and_the_table_is_whole(page: Page, hostile_server, shots) -> None:  # noqa: ANN001
    url, db, count, log = hostile_server
    page.goto(f"{url}/ingestion")
    wait_for_app(page)
    close = page.get_by_role("dialog").get_by_role("button", name="Close")  # a first-visit notice, if any
    if close.count():
        close.first.click()
    page.get_by_role("tab", name="Add or edit a service").click()
    wait_for_app(page)
    # The service picker lists every name as an option label: the literal text, not markup.
    page.locator('.st-key-svc_pick [data-testid="stSelectbox"]').first.click()
    expect(page.get_by_role("option", name=f"{XSS} · {XSS}", exact=True)).to_be_visible(timeout=10_000)
    expect(page.get_by_role("option", name=f"{IMG} · {IMG}", exact=True)).to_be_visible()
    page.screenshot(path=str(shots / "hostile-names-as-text.png"))
    page.keyboard.type("Robert')")  # the picker filters as you type
    expect(page.get_by_role("option", name=f"{SQLI} · O'Brien & Sons <b>Ltd</b>", exact=True)).to_be_visible()
    page.keyboard.press("Escape")
    assert "Traceback" not in log.read_text()
    copy = db.with_name("peek.duckdb")
    shutil.copy(db, copy)
    if Path(str(db) + ".wal").exists():
        shutil.copy(Path(str(db) + ".wal"), Path(str(copy) + ".wal"))
    with Store(copy) as s:
        assert int(s.scalar("SELECT count(*) FROM services")) == count
        names = {r[0] for r in s.rows("SELECT name FROM services")}
    assert {XSS, SQLI, IMG} <= names
