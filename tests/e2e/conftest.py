"""A real server and Debian's headless Chromium (never `playwright install`).

The server runs `python -m hubdash serve` (streamlit run app.py) on a free port against a private copy of the demo
database; screenshots go to artifacts/screenshots/ for a person to look at.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from hubdash.demo import build_demo
from hubdash.store import Store

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: run `make test` (it installs it) or apt-get install chromium")
    return {**browser_type_launch_args, "executable_path": CHROMIUM,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync"]}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "viewport": {"width": 1600, "height": 1000}}


def start_server(db: Path, *, env: dict | None = None) -> tuple[subprocess.Popen, str, Path]:
    port = _free_port()
    log = db.parent / f"server-{port}.log"
    cmd = [sys.executable, "-m", "hubdash", "serve", "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "HUBDASH_DB": str(db), **(env or {})},
                            stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, url, log
        except OSError:
            time.sleep(0.3)
        if proc.poll() is not None:
            break
    proc.kill()
    pytest.fail(f"streamlit did not start; its log:\n{log.read_text()}")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """(base url, db path) of a server on a private demo database, shared by the e2e session."""
    db = tmp_path_factory.mktemp("e2e") / "hubdash.duckdb"
    with Store(db) as s:
        build_demo(s)
    proc, url, log = start_server(db)
    yield url, db
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


def wait_for_app(page, timeout: float = 30_000) -> None:  # noqa: ANN001
    """Wait until Streamlit has finished running the script (no 'running' indicator)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    page.wait_for_function(
        """() => { const s = document.querySelector('[data-testid="stStatusWidget"]');
                   return !s || !s.innerText.toLowerCase().includes('running'); }""", timeout=timeout)
    page.wait_for_selector('[data-testid="stMainBlockContainer"] h1', timeout=timeout)
    page.wait_for_timeout(300)


CHARTS_DRAWN = """() => {
    const shown = sel => [...document.querySelectorAll(sel)].filter(e => e.offsetParent !== null);
    const vega = shown('[data-testid="stVegaLiteChart"], [data-testid="stArrowVegaLiteChart"]');
    const decks = shown('[data-testid="stDeckGlJsonChart"]');
    return vega.every(c => c.querySelector('canvas, svg.marks'))
        && decks.every(d => d.querySelector('canvas'))
        && shown('[data-testid="stSkeleton"], [data-testid="stElementSkeleton"]').length === 0;
}"""


def wait_for_charts(page, timeout: float = 30_000) -> None:  # noqa: ANN001
    """Wait until every visible chart and map has drawn and no element is still a loading placeholder
    (a screenshot taken before that shows grey boxes)."""
    page.wait_for_function(CHARTS_DRAWN, timeout=timeout)
    page.wait_for_timeout(300)
