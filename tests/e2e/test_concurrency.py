"""A room at once: twenty browser sessions browse and filter while one session imports a survey.

No session may see an error or half an import (the Services figure on Home is either the old
count or the new one, never in between), and the import is complete afterwards. A second
process (the command line) on the same database file gets a clear "Database in use" message,
never a corrupt file or a hang.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hubdash import synth
from hubdash.store import Store
from tests.e2e.conftest import CHROMIUM, ROOT, start_server

pytestmark = pytest.mark.e2e

SESSIONS = 20
IMPORTED = 120
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: Per-step limit, generous for a busy shared machine (the whole test takes under a minute when idle).
T_MS = 90_000
SETTLED = """() => { const s = document.querySelector('[data-testid="stStatusWidget"]');
                     return !!document.querySelector('[data-testid="stMainBlockContainer"] h1')
                            && (!s || !s.innerText.toLowerCase().includes('running')); }"""


@pytest.fixture(scope="module")
def busy_server(tmp_path_factory: pytest.TempPathFactory, demo_db_master: Path):  # noqa: ANN201
    folder = tmp_path_factory.mktemp("e2e_busy")
    db = folder / "hubdash.duckdb"
    shutil.copy(demo_db_master, db)
    proc, url, log = start_server(db, env={"HUBDASH_BACKUP_DIR": str(folder / "backups")})
    yield url, db, folder, log
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _peek(db: Path, sql: str) -> int:
    """A figure from the live database, read through a copy (the server holds the file)."""
    copy = db.with_name("peek.duckdb")
    shutil.copy(db, copy)
    wal = Path(str(db) + ".wal")
    if wal.exists():
        shutil.copy(wal, Path(str(copy) + ".wal"))
    try:
        with Store(copy) as s:
            return int(s.scalar(sql))
    finally:
        copy.unlink(missing_ok=True)
        Path(str(copy) + ".wal").unlink(missing_ok=True)


def _survey(folder: Path) -> tuple[Path, int]:
    """A survey export of IMPORTED new services; returns it and how many are kind 'service'."""
    recs = synth.synthetic_services(IMPORTED, synth.generated_wards(20), seed=99)
    for i, r in enumerate(recs):
        r["name"] = f"Concurrency check {i:03d}"
        r["organisation"] = "Room Test Trust"
    # A first row with several answers per multi-select question, as most real first rows have.
    recs[0]["service_areas"], recs[0]["delivery_modes"] = ["parenting", "hle"], ["home", "online"]
    path = synth.write_export(folder / "workshop-round.csv", recs)
    return path, sum(1 for r in recs if r["kind"] == "service")


async def _metric(page, label: str) -> str:  # noqa: ANN001
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return (await box.locator('[data-testid="stMetricValue"]').inner_text()).replace(",", "")


async def _home(page, url: str, n: int, log: list) -> None:  # noqa: ANN001
    opened = time.monotonic()
    await page.goto(url, wait_until="commit")
    await page.wait_for_function(SETTLED)
    await page.locator('[data-testid="stMetric"]').first.wait_for()
    log.append(("home", n, await _metric(page, "Services"), time.monotonic(), opened))


async def _check(page, n: int, log: list) -> None:  # noqa: ANN001
    errors = page.locator('[data-testid="stException"]')
    if await errors.count():
        log.append(("errors", n, page.url + " " + (await errors.first.inner_text())[:800], time.monotonic()))


async def _browse(ctx, url: str, n: int, importing: asyncio.Event, log: list) -> None:  # noqa: ANN001
    """One person in their own tab (own session): Home, a filter in the sidebar, now and then another
    page; some reopen Home every few seconds while the import runs; all look at Home once it is done."""
    page = await ctx.new_page()
    try:
        await _home(page, url, n, log)
        await page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
        await page.get_by_role("option", name=["Infant feeding", "Parenting support"][n % 2]).click()
        await page.wait_for_url("**area=*")
        await page.wait_for_function(SETTLED)
        log.append(("filtered", n, await _metric(page, "Services"), time.monotonic()))
        await _check(page, n, log)
        if n % 4 == 0:
            await page.goto(f"{url}/{['gaps', 'redie', 'quality', 'coverage', 'reflect'][n // 4 % 5]}?level=universal",
                            wait_until="commit")
            await page.wait_for_function(SETTLED)
            await _check(page, n, log)
        while importing.is_set():
            await asyncio.sleep(3.0)
            if n % 4 == 1:  # a few people keep reopening Home while the import runs
                await _home(page, url, n, log)
                await _check(page, n, log)
        await _home(page, url, n, log)  # once the import is done: it must show all of it
        await _check(page, n, log)
    finally:
        await page.close()


async def _import(ctx, url: str, export: Path, rows: int, importing: asyncio.Event, log: list) -> None:  # noqa: ANN001
    page = await ctx.new_page()
    try:
        await page.goto(f"{url}/ingestion", wait_until="commit")
        await page.wait_for_function(SETTLED)
        await page.locator('[data-testid="stFileUploaderDropzone"] input[type="file"]').first.set_input_files(
            str(export))
        button = page.get_by_role("button", name=f"Import {rows} services")
        await button.wait_for()
        log.append(("import-start", -1, "", time.monotonic()))
        await button.click()
        await page.get_by_text("Import 1 done").first.wait_for()
        log.append(("import-done", -1, "", time.monotonic()))
        await _check(page, -1, log)
    finally:
        importing.clear()
        await page.close()


def test_twenty_sessions_browse_while_one_imports(busy_server) -> None:  # noqa: ANN001
    from playwright.async_api import async_playwright

    url, db, folder, server_log = busy_server
    export, new_services = _survey(folder)
    before_total = _peek(db, "SELECT count(*) FROM services")
    before = _peek(db, "SELECT count(*) FROM services WHERE kind = 'service'")
    log: list[tuple] = []

    async def room() -> None:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
            importing = asyncio.Event()
            importing.set()
            # The host opens Home once before the room arrives (as in a real workshop).
            # One browser profile, one tab per person: every tab is its own Streamlit session, and
            # the shared HTTP cache spares the 2-core machine twenty downloads of the app's code
            # (in a real room each person's own laptop does that work).
            ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
            ctx.set_default_timeout(T_MS)
            warm = await ctx.new_page()
            await warm.goto(url, wait_until="commit")
            await warm.wait_for_function(SETTLED)
            await warm.close()
            try:
                await asyncio.wait_for(asyncio.gather(
                    _import(ctx, url, export, IMPORTED, importing, log),
                    *[_browse(ctx, url, n, importing, log) for n in range(SESSIONS)]), timeout=300)
            finally:
                await browser.close()

    t = time.monotonic()
    # pytest-playwright's sync fixtures (other e2e modules) keep an event loop running in this
    # thread for the whole session, so the room runs its own loop in a thread of its own.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, room()).result()
    elapsed = time.monotonic() - t

    errors = [e for e in log if e[0] == "errors" and e[2]]
    assert errors == [], "no session showed an exception:\n" + "\n".join(str(e[2]) for e in errors)
    server_text = server_log.read_text()
    assert "Traceback" not in server_text, server_text[-4000:]
    done = next(e[3] for e in log if e[0] == "import-done")
    start = next(e[3] for e in log if e[0] == "import-start")
    homes = [(int(e[2]), e[4], e[3]) for e in log if e[0] == "home"]  # value, opened, read
    assert len({e[1] for e in log if e[0] == "home"}) == SESSIONS, "every session loaded Home"
    # Never half an import: every reading is the old count or the new one.
    assert {v for v, *_ in homes} <= {before, before + new_services}
    assert all(v == before for v, _, read in homes if read < start), "nothing changed before the import began"
    assert any(opened > done for _, opened, _ in homes), "sessions kept browsing after the import"
    assert all(v == before + new_services for v, opened, _ in homes if opened > done), \
        "a page opened after the import sees all of it"
    assert _peek(db, "SELECT count(*) FROM services") == before_total + IMPORTED
    assert _peek(db, "SELECT count(*) FROM imports WHERE status = 'committed'") == 1
    first = min(e[3] for e in log)
    print(f"{SESSIONS} sessions + 1 import in {elapsed:.1f} s, {len(homes)} Home views; import clicked at "
          f"{start - first:.1f} s, done at {done - first:.1f} s, last reading at {max(e[3] for e in log) - first:.1f} s; "
          f"filters changed by {max(e[3] for e in log if e[0] == 'filtered') - first:.1f} s")


def test_a_second_process_gets_a_clear_message(busy_server, tmp_path: Path) -> None:  # noqa: ANN001
    """The command line on the app's database: refused at once with what to do, file unharmed."""
    url, db, folder, _ = busy_server
    before = _peek(db, "SELECT count(*) FROM services")
    export, _ = _survey(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for args in (["info"], ["ingest", str(export)], ["backup", "--out", str(tmp_path / "b")]):
        t = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "hubdash", *args, "--db", str(db)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert "Database in use" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
        assert time.monotonic() - t < 30, "refused at once, no waiting on a lock"
    assert _peek(db, "SELECT count(*) FROM services") == before
