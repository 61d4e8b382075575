"""Shared fixtures: demo databases, small hand-made stores, and the real open data folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hubdash.demo import build_demo
from hubdash.services import insert_services
from hubdash.store import Store

ROOT = Path(__file__).resolve().parent.parent
#: Real open data (Blackpool, England wards) beside the project; never copied into it.
SHARED_DATA = ROOT.parent / "shared" / "data"
needs_shared_data = pytest.mark.skipif(
    not SHARED_DATA.is_dir(), reason=f"real open data folder {SHARED_DATA} is absent on this machine")


@pytest.fixture(scope="session")
def demo_db_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo database file built once per test run. Do not write to it: use `demo_db`."""
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    with Store(path) as s:
        build_demo(s)
    return path


@pytest.fixture
def demo_db(demo_db_master: Path, tmp_path: Path) -> Path:
    """A private copy of the demo database for one test."""
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db_master, path)
    return path


@pytest.fixture
def demo_store(demo_db: Path):  # noqa: ANN201
    with Store(demo_db) as s:
        yield s


def record(name: str, **kw: object) -> dict:
    """A minimal valid service record for hand-counted fixtures."""
    base = {
        "name": name, "kind": "service", "organisation": "Org", "sector": "la",
        "service_areas": ["parenting"], "primary_outcome": "parenting", "age_groups": ["m0_12"],
        "target_level": "universal",
    }
    base.update(kw)
    return base


@pytest.fixture
def make_store():  # noqa: ANN201
    """Build an in-memory store from a list of records: `make_store([record(...), ...])`."""
    stores: list[Store] = []

    def _make(records: list[dict]) -> Store:
        s = Store(":memory:")
        with s.write() as cur:
            insert_services(cur, records)
        stores.append(s)
        return s

    yield _make
    for s in stores:
        s.close()
