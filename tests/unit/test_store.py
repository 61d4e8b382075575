"""The store: migrations, the transactional write path, concurrent readers, a second process."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from hubdash.errors import StoreError
from hubdash.services import insert_services, service_frame
from hubdash.store import SCHEMA_VERSION, Store
from tests.conftest import record


def test_new_database_is_migrated(tmp_path: Path) -> None:
    with Store(tmp_path / "x.duckdb") as s:
        assert s.schema_version() == SCHEMA_VERSION
        assert s.counts()["services"] == 0
    with Store(tmp_path / "x.duckdb") as s:  # reopening is a no-op
        assert s.schema_version() == SCHEMA_VERSION


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    with Store(tmp_path / "x.duckdb") as s:
        s.set_meta("schema_version", str(SCHEMA_VERSION + 5))
    with pytest.raises(StoreError, match="newer hubdash"):
        Store(tmp_path / "x.duckdb")


def test_failed_write_rolls_back_and_keeps_version() -> None:
    s = Store()
    with s.write() as cur:
        insert_services(cur, [record("A")])
    v = s.data_version()
    with pytest.raises(RuntimeError), s.write() as cur:
        insert_services(cur, [record("B"), record("C")])
        raise RuntimeError("boom")
    assert s.scalar("SELECT count(*) FROM services") == 1
    assert s.scalar("SELECT count(*) FROM service_choices") == 2  # A's area and age only
    assert s.data_version() == v


def test_records_round_trip_with_link_tables(make_store) -> None:  # noqa: ANN001
    s = make_store([record("A", service_areas=["parenting", "hle"], age_groups=["y2_3", "m0_12"],
                           wards=["Whole local authority", "Hollins"], postcodes=["KM1 2AB"],
                           languages=["Polish", "Urdu"], capacity=40, other_answers={"format": "Walk"})])
    f = service_frame(s).iloc[0]
    assert f["service_areas"] == ("parenting", "hle")
    assert f["age_groups"] == ("m0_12", "y2_3")  # survey order, not answer order
    assert bool(f["whole_la"]) is True and f["wards"] == ("Hollins",)
    assert f["postcodes"] == ("KM1 2AB",) and f["languages"] == ("Polish", "Urdu")
    assert f["capacity"] == 40.0


def test_readers_never_see_half_a_write(tmp_path: Path) -> None:
    """Many threads read while one writes batches of 50: every read sees a multiple of 50."""
    s = Store(tmp_path / "c.duckdb")
    seen: list[int] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        try:
            while not stop.is_set():
                seen.append(int(s.scalar("SELECT count(*) FROM services")))
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=reader) for _ in range(8)]
    for t in threads:
        t.start()
    for b in range(10):
        with s.write() as cur:
            insert_services(cur, [record(f"S{b}-{i}") for i in range(50)])
    stop.set()
    for t in threads:
        t.join()
    assert not errors
    assert seen and all(n % 50 == 0 for n in seen)
    assert s.scalar("SELECT count(*) FROM services") == 500


def test_second_process_gets_a_clear_message(tmp_path: Path) -> None:
    db = tmp_path / "busy.duckdb"
    s = Store(db)
    try:
        out = subprocess.run([sys.executable, "-m", "hubdash", "info", "--db", str(db)],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode != 0
        assert "in use by another hubdash process" in out.stderr
        assert "Traceback" not in out.stderr
    finally:
        s.close()
    out = subprocess.run([sys.executable, "-m", "hubdash", "info", "--db", str(db)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def test_not_a_database_file_is_refused_clearly(tmp_path: Path) -> None:
    bad = tmp_path / "junk.duckdb"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError):
        Store(bad)


def test_demo_is_built_only_in_a_new_file(tmp_path: Path) -> None:
    from hubdash.store import open_store

    with open_store(tmp_path / "new.duckdb", build_demo_if_missing=True) as s:
        assert s.is_demo() and s.counts()["services"] > 100
    with Store(tmp_path / "empty.duckdb"):
        pass
    with open_store(tmp_path / "empty.duckdb", build_demo_if_missing=True) as s:
        assert s.counts()["services"] == 0 and not s.is_demo()
