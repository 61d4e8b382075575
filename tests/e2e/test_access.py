"""Workshop passphrases in a real browser: nothing before sign-in; viewers read only; sign out."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import start_server

pytestmark = pytest.mark.e2e

EDITOR = "harbour lights at dusk"
VIEWER = "saltmarsh in spring"


@pytest.fixture(scope="module")
def locked_server(tmp_path_factory: pytest.TempPathFactory, demo_db_master: Path):  # noqa: ANN201
    folder = tmp_path_factory.mktemp("e2e_access")
    db = folder / "hubdash.duckdb"
    shutil.copy(demo_db_master, db)
    proc, url, _ = start_server(db, env={"HUBDASH_PASSPHRASE_EDITOR": EDITOR, "HUBDASH_PASSPHRASE_VIEWER": VIEWER,
                                         "HUBDASH_BACKUP_DIR": str(folder / "backups")})
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _sign_in(page: Page, phrase: str) -> None:
    page.get_by_label("Passphrase").fill(phrase)
    page.get_by_role("button", name="Sign in").click()


def test_viewer_sees_figures_but_no_editing_or_personal_data(page: Page, locked_server, shots) -> None:  # noqa: ANN001
    url = locked_server
    page.goto(f"{url}/ingestion")
    expect(page.get_by_role("heading", name="Sign in to hubdash")).to_be_visible(timeout=60_000)
    expect(page.locator('[data-testid="stMetric"]')).to_have_count(0)
    expect(page.locator('[data-testid="stSidebarNav"]')).to_have_count(0)
    expect(page.get_by_text("Passphrase", exact=True)).to_be_visible()
    page.wait_for_timeout(500)
    page.screenshot(path=str(shots / "access-1-sign-in.png"))

    _sign_in(page, "not the passphrase")
    expect(page.get_by_text("That passphrase is not right").first).to_be_visible(timeout=60_000)
    expect(page.locator('[data-testid="stMetric"]')).to_have_count(0)

    _sign_in(page, VIEWER)
    # Viewers land on Home, held in presenter mode: figures, but no sidebar, editing or contacts.
    expect(page.locator('[data-testid="stMetric"]').first).to_be_visible(timeout=60_000)
    expect(page.get_by_role("button", name="Next")).to_be_visible()
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    page.screenshot(path=str(shots / "access-2-viewer.png"), full_page=True)
    page.keyboard.press("Escape")  # the presenter's "leave" key does nothing for a viewer
    page.wait_for_timeout(1500)
    expect(page.get_by_role("button", name="Next")).to_be_visible()
    expect(page.locator('[data-testid="stSidebarNav"]')).not_to_be_visible()

    # The sign-in lasts for the tab's session: a reload asks again.
    page.reload()
    expect(page.get_by_role("heading", name="Sign in to hubdash")).to_be_visible(timeout=60_000)


def test_editor_can_load_surveys(page: Page, locked_server, shots) -> None:  # noqa: ANN001
    url = locked_server
    page.goto(f"{url}/ingestion")
    expect(page.get_by_role("heading", name="Sign in to hubdash")).to_be_visible(timeout=60_000)
    _sign_in(page, EDITOR)
    expect(page.get_by_text("Signed in: Editor").first).to_be_visible(timeout=60_000)
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Survey ingestion").click()
    expect(page.locator('[data-testid="stFileUploaderDropzone"]').first).to_be_visible(timeout=60_000)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    page.screenshot(path=str(shots / "access-3-editor.png"), full_page=True)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to hubdash")).to_be_visible(timeout=60_000)
