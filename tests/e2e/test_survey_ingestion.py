"""Survey ingestion in a real browser: upload an export, check it, import it, see it, undo it.

Runs its own server on a private copy of the demo database, because it changes the data.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from hubdash.store import Store
from tests.e2e.conftest import start_server, wait_for_app
from tests.unit.survey_exports import SERVICES, write_google_forms

pytestmark = pytest.mark.e2e
#: Waits after an upload or a click: a shared test machine can take a while to rerun the page.
SLOW = 30_000


@pytest.fixture(scope="module")
def ingest_server(tmp_path_factory: pytest.TempPathFactory, demo_db_master: Path):  # noqa: ANN201
    """(base url, db path, folder of files to upload) for a server on its own demo copy."""
    folder = tmp_path_factory.mktemp("e2e_ingest")
    db = folder / "hubdash.duckdb"
    shutil.copy(demo_db_master, db)
    proc, url, _ = start_server(db, env={"HUBDASH_BACKUP_DIR": str(folder / "backups")})
    yield url, db, folder
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _services_in(db: Path) -> int:
    # The server holds the file open: read through a copy (DuckDB allows one process per file).
    copy = db.with_name("peek.duckdb")
    shutil.copy(db, copy)
    wal = Path(str(db) + ".wal")
    if wal.exists():
        shutil.copy(wal, Path(str(copy) + ".wal"))
    with Store(copy) as s:
        n = int(s.scalar("SELECT count(*) FROM services"))
    copy.unlink()
    Path(str(copy) + ".wal").unlink(missing_ok=True)
    return n


def _open(page: Page, url: str) -> None:
    # Tall enough that a screenshot shows the whole page (Streamlit scrolls inside its own container).
    page.set_viewport_size({"width": 1600, "height": 3200})
    # On a cold start the app shell sometimes says "Page not found" and runs Home instead: close
    # that notice and open the page again, so the test drives Survey ingestion, not Home.
    for _ in range(3):
        page.goto(f"{url}/ingestion")
        wait_for_app(page)
        page.wait_for_timeout(800)
        close = page.get_by_role("dialog").get_by_role("button", name="Close")
        if close.count():
            close.first.click()
            continue
        if page.get_by_role("tab", name="Load survey returns").count():
            return
    expect(page.get_by_role("tab", name="Load survey returns")).to_be_visible(timeout=SLOW)


def _wait_idle(page: Page) -> None:
    page.wait_for_function(
        """() => { const s = document.querySelector('[data-testid="stStatusWidget"]');
                   return !s || !s.innerText.toLowerCase().includes('running'); }""", timeout=30_000)
    page.wait_for_timeout(400)


def test_upload_check_import_and_undo(page: Page, ingest_server, shots) -> None:  # noqa: ANN001
    url, db, folder = ingest_server
    export = write_google_forms(folder / "provider-survey-round-2.csv")
    before = _services_in(db)

    _open(page, url)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    page.screenshot(path=str(shots / "ingestion-1-start.png"), full_page=True)

    page.locator('[data-testid="stFileUploaderDropzone"] input[type="file"]').first.set_input_files(str(export))
    expect(page.get_by_text("Recognised as").first).to_be_visible(timeout=30_000)
    _wait_idle(page)
    expect(page.get_by_text("Google Forms (CSV export)").first).to_be_visible(timeout=SLOW)
    answers = page.locator('[data-testid="stMarkdownContainer"]').filter(has_text="Outdoor sessions")
    expect(answers.first).to_be_visible(timeout=SLOW)  # an answer outside the options, offered for mapping
    expect(page.locator('[data-testid="stMetric"]').filter(has_text="Ready to import")
           .locator('[data-testid="stMetricValue"]')).to_have_text(str(len(SERVICES)), timeout=SLOW)
    page.screenshot(path=str(shots / "ingestion-2-checked.png"), full_page=True)

    page.get_by_role("button", name=f"Import {len(SERVICES)} services").click()
    expect(page.get_by_text("Import 1 done").first).to_be_visible(timeout=30_000)
    _wait_idle(page)
    assert _services_in(db) == before + len(SERVICES)
    page.screenshot(path=str(shots / "ingestion-3-imported.png"), full_page=True)

    page.get_by_role("tab", name="Import history").click()
    entry = page.locator('[class*="st-key-ingest_hist_1"]')
    expect(entry).to_contain_text("provider-survey-round-2.csv", timeout=SLOW)
    expect(entry).to_contain_text("6 new, 0 updated, 0 removed")
    page.screenshot(path=str(shots / "ingestion-4-history.png"), full_page=True)

    entry.get_by_role("button", name="Undo").click()
    expect(page.get_by_text("Import 1 undone").first).to_be_visible(timeout=30_000)
    _wait_idle(page)
    expect(page.locator('[class*="st-key-ingest_hist_1"]')).to_contain_text("Undone", timeout=SLOW)
    assert _services_in(db) == before
    page.screenshot(path=str(shots / "ingestion-5-undone.png"), full_page=True)


def test_broken_file_gets_one_line_and_nothing_changes(page: Page, ingest_server, shots) -> None:  # noqa: ANN001
    url, db, folder = ingest_server
    junk = folder / "responses.csv"
    junk.write_bytes(bytes(range(256)) * 40)
    before = _services_in(db)
    _open(page, url)
    page.locator('[data-testid="stFileUploaderDropzone"] input[type="file"]').first.set_input_files(str(junk))
    expect(page.get_by_text("responses.csv is not a text (CSV) file").first).to_be_visible(timeout=30_000)
    _wait_idle(page)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    expect(page.get_by_role("button", name="Import")).to_have_count(0, timeout=SLOW)
    assert _services_in(db) == before
    page.screenshot(path=str(shots / "ingestion-6-broken-file.png"), full_page=True)


def test_own_headings_get_suggested_matches(page: Page, ingest_server, shots) -> None:  # noqa: ANN001
    url, _, folder = ingest_server
    own = folder / "our-own-sheet.csv"
    own.write_text("Service name,Provider,Age range,Level,Main outcome,Notes\n"
                   "Bumps and babies,Harbour Church,Pre-birth; 0-12 months,Universal,Improve parenting,Tuesdays\n"
                   "Dad's den,Kestlemouth Council,2-3 years; 3-5 years,Targeted selective,Improve the parent-child relationship,\n",
                   encoding="utf-8")
    _open(page, url)
    page.locator('[data-testid="stFileUploaderDropzone"] input[type="file"]').first.set_input_files(str(own))
    expect(page.get_by_text("Recognised as").first).to_be_visible(timeout=30_000)
    _wait_idle(page)
    def choice(label: str):  # noqa: ANN202 - the value shown in a column or answer drop-down
        return page.get_by_role("combobox", name=label)

    expect(choice("Column A holds")).to_have_value("Q1 Name of the service or intervention (suggested)",
                                                   timeout=SLOW)
    expect(choice("Column B holds")).to_have_value("Q3 Which organisation delivers it? (suggested)")
    expect(choice("Column F holds")).to_have_value("Keep aside (not used in the analysis)")  # "Notes"
    # An answer outside the options, matched to the closest option for a person to confirm.
    expect(choice("'Improve the parent-child relationship' means")).to_have_value(
        "Improve parent-child relationship (suggested)")
    expect(page.get_by_role("button", name="Import 2 services")).to_be_visible(timeout=SLOW)
    page.screenshot(path=str(shots / "ingestion-7-column-mapping.png"), full_page=True)


@pytest.mark.parametrize(("tab", "name"), [("Add or edit a service", "add-service"),
                                           ("Contacted agencies", "agencies"), ("Blank template", "template")])
def test_other_tabs_render(page: Page, ingest_server, shots, tab: str, name: str) -> None:  # noqa: ANN001
    url, _, _ = ingest_server
    _open(page, url)
    page.get_by_role("tab", name=tab).click()
    _wait_idle(page)
    panel = page.get_by_role("tabpanel", name=tab)
    expect(panel).to_be_visible(timeout=SLOW)
    page.wait_for_timeout(1500)  # let the panel's widgets finish laying out before the screenshot
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    page.screenshot(path=str(shots / f"ingestion-tab-{name}.png"), full_page=True)
