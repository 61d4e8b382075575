"""Real-browser timings: from opening each page to its main chart being drawn, in Chromium.

One `streamlit run` server per database. Each visit opens a new tab (a new Streamlit session,
so a whole script run, as a person opening a shared link does) in one browser profile, so the
app's JavaScript comes from the browser cache as it does for anyone who has opened the app
before. The first visit of each page warms the server's caches and is not counted.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: What "the main chart is drawn" means: a Vega-Lite canvas/svg or a deck.gl canvas in the page.
CHART = ('[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg, '
         '[data-testid="stDeckGlJsonChart"] canvas')
SETTLED = """() => { const s = document.querySelector('[data-testid="stStatusWidget"]');
                     return !!document.querySelector('[data-testid="stMainBlockContainer"] h1')
                            && (!s || !s.innerText.toLowerCase().includes('running')); }"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(script: Path, db: Path | None, log: Path) -> Iterator[str]:
    """A headless `streamlit run` of `script` on a free port; yields its base URL."""
    port = _free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none"]
    env = {**os.environ}
    if db is not None:
        env["HUBDASH_DB"] = str(db)
    env.pop("HUBDASH_PASSPHRASE_EDITOR", None)
    env.pop("HUBDASH_PASSPHRASE_VIEWER", None)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"streamlit did not start; see {log}") from None
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def _visit(ctx: Any, url: str, *, chart: bool, timeout_ms: float) -> tuple[float, bool]:
    """Seconds from navigation start to the chart (or, for a page without one, to settled)."""
    page = ctx.new_page()
    try:
        t = time.perf_counter()
        page.goto(url, wait_until="commit")
        if chart:
            page.wait_for_selector(CHART, state="visible", timeout=timeout_ms)
            return time.perf_counter() - t, True
        page.wait_for_function(SETTLED, timeout=timeout_ms)
        return time.perf_counter() - t, False
    finally:
        page.close()


def _has_chart(ctx: Any, url: str, *, timeout_ms: float) -> bool:
    """Whether the page draws a chart once it has finished running (also warms the server)."""
    page = ctx.new_page()
    try:
        page.goto(url, wait_until="commit")
        page.wait_for_function(SETTLED, timeout=timeout_ms)
        # A cold first run (national size) can look settled before its status widget appears:
        # look again a second later, then give the chart time to draw.
        page.wait_for_timeout(1_000)
        page.wait_for_function(SETTLED, timeout=timeout_ms)
        try:
            page.wait_for_selector(CHART, state="visible", timeout=10_000)
            return True
        except Exception:  # noqa: BLE001 - Playwright's TimeoutError: no chart on this page
            return False
    finally:
        page.close()


def page_times(db: Path, pages: list[Any], runs: int, log_dir: Path) -> dict[str, dict[str, Any]]:
    """Open-to-chart seconds (median of `runs` after one warm-up) for each page in `pages`."""
    from playwright.sync_api import sync_playwright

    out: dict[str, dict[str, Any]] = {}
    with server(ROOT / "app.py", db, log_dir / f"server-{db.stem}.log") as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
        try:
            _visit(ctx, url, chart=False, timeout_ms=60_000)  # the host opens Home first: fills the cache
            for spec in pages:
                target = f"{url}/{spec.url_path}"
                has_chart = _has_chart(ctx, target, timeout_ms=60_000)
                times = [_visit(ctx, target, chart=has_chart, timeout_ms=60_000)[0] for _ in range(runs)]
                out[spec.title] = {"median": statistics.median(times), "runs": times, "chart": has_chart}
        finally:
            browser.close()
    return out


def empty_page_time(runs: int, log_dir: Path) -> float:
    """The floor: open-to-title seconds of an empty Streamlit page on this machine, now."""
    from playwright.sync_api import sync_playwright

    with server(ROOT / "bench" / "empty_app.py", None, log_dir / "server-empty.log") as url, \
            sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
        try:
            _visit(ctx, url, chart=False, timeout_ms=60_000)
            return statistics.median(_visit(ctx, url, chart=False, timeout_ms=60_000)[0] for _ in range(runs))
        finally:
            browser.close()
