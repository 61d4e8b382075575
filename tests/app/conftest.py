"""AppTest fixtures: each test gets its own copy of the demo database via HUBDASH_DB."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(p.name for p in (ROOT / "pages").glob("*.py"))


@pytest.fixture
def app_db(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HUBDASH_DB", str(demo_db))
    return demo_db


@pytest.fixture
def run_app(app_db: Path):  # noqa: ANN201
    """`run_app()` runs app.py; `run_app("pages/x.py")` runs one page alone; query params optional."""

    def _run(path: str = "app.py", **query: str) -> AppTest:
        at = AppTest.from_file(str(ROOT / path), default_timeout=60)
        for k, v in query.items():
            at.query_params[k] = v
        return at.run()

    return _run
