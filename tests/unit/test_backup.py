"""Backups: consistent copies, automatic backups before undo, restore, and a crash mid-write."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from hubdash import history
from hubdash.backup import auto_backup, backup, backup_dir, list_backups, restore
from hubdash.cli import main
from hubdash.errors import StoreError
from hubdash.services import insert_services, service_frame
from hubdash.store import Store
from tests.conftest import ROOT, record


def _names(db: Path) -> list[str]:
    with Store(db) as s:
        return [r[0] for r in s.rows("SELECT name FROM services ORDER BY service_id")]


def test_backup_is_a_consistent_copy_taken_while_readers_run(tmp_path: Path) -> None:
    db = tmp_path / "live.duckdb"
    s = Store(db)
    with s.write() as cur:
        insert_services(cur, [record(f"S{i}") for i in range(300)])
    stop = threading.Event()
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            while not stop.is_set():
                assert len(service_frame(s)) >= 300
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    t = threading.Thread(target=reader)
    t.start()
    try:
        path = backup(s, tmp_path / "out")
    finally:
        stop.set()
        t.join()
    with s.write() as cur:  # written after the backup: must not be in it
        insert_services(cur, [record("After")])
    s.close()
    assert not errors
    assert path.parent == tmp_path / "out" and path.name.startswith("live-") and path.suffix == ".duckdb"
    assert not Path(str(path) + ".wal").exists(), "a backup is one self-contained file"
    names = _names(path)
    assert len(names) == 300 and "After" not in names
    assert "After" in _names(db)


def test_auto_backup_keeps_the_newest_n(tmp_path: Path) -> None:
    db = tmp_path / "h.duckdb"
    with Store(db) as s:
        made = []
        for i in range(5):
            with s.write() as cur:
                insert_services(cur, [record(f"S{i}")])
            made.append(auto_backup(s, f"before import {i}", keep=3))
    kept = list_backups(backup_dir(db), db_name=db.name)
    assert [b.path for b in kept] == made[:1:-1], "newest three, newest first"
    assert kept[0].reason == "before-import-4"
    assert not made[0].exists() and not made[1].exists()
    assert len(_names(kept[-1].path)) == 3  # taken after the third write


def test_auto_backup_skips_memory_and_honours_env_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert auto_backup(Store(), "x") is None
    monkeypatch.setenv("HUBDASH_BACKUP_DIR", str(tmp_path / "elsewhere"))
    with Store(tmp_path / "e.duckdb") as s:
        p = auto_backup(s, "x")
    assert p is not None and p.parent == tmp_path / "elsewhere"


def test_undo_takes_a_backup_first(tmp_path: Path) -> None:
    db = tmp_path / "u.duckdb"
    with Store(db) as s:
        sid = history.edit_service(s, None, record("Original"))
        history.edit_service(s, sid, record("Edited"))
        change = int(history.list_changes(s)["change_id"].iloc[0])
        history.undo_change(s, change)
        assert s.rows("SELECT name FROM services") == [("Original",)]
    (b,) = list_backups(backup_dir(db), db_name=db.name)
    assert b.reason == f"before-undo-{change}"
    assert _names(b.path) == ["Edited"], "the backup holds the state the undo replaced"


def test_restore_puts_the_backup_back_and_keeps_the_replaced_file(tmp_path: Path) -> None:
    db = tmp_path / "r.duckdb"
    with Store(db) as s:
        with s.write() as cur:
            insert_services(cur, [record("Kept")])
        b = backup(s, tmp_path / "b")
        with s.write() as cur:
            insert_services(cur, [record("Mistake")])
    previous = restore(b, db)
    assert _names(db) == ["Kept"]
    assert previous is not None and _names(previous) == ["Kept", "Mistake"]


def test_restore_refuses_files_that_are_not_hubdash_backups(tmp_path: Path) -> None:
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match="not a DuckDB database"):
        restore(junk, tmp_path / "db.duckdb")
    import duckdb

    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).close()
    with pytest.raises(StoreError, match="not a hubdash database"):
        restore(other, tmp_path / "db.duckdb")
    with pytest.raises(StoreError, match="no backup file"):
        restore(tmp_path / "missing.duckdb", tmp_path / "db.duckdb")
    assert not (tmp_path / "db.duckdb").exists()


HOLDER = textwrap.dedent("""
    import sys
    from hubdash.store import Store
    s = Store(sys.argv[1])
    print("open", flush=True)
    sys.stdin.readline()
""")


def test_restore_and_backup_refuse_while_another_process_holds_the_database(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    db = tmp_path / "busy.duckdb"
    with Store(db) as s:
        with s.write() as cur:
            insert_services(cur, [record("Live")])
        b = backup(s, tmp_path / "b")
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(db)], cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "open"
        with pytest.raises(StoreError, match="Stop the app") as e:
            restore(b, db)
        assert e.value.title == "Database in use"
        assert main(["backup", "--db", str(db), "--out", str(tmp_path / "cli")]) == 2
        err = capsys.readouterr().err
        assert "Database in use" in err and "stop the app" in err
    finally:
        proc.communicate("\n", timeout=10)
    assert _names(db) == ["Live"]


def test_cli_backup_and_restore_round_trip(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    db = tmp_path / "c.duckdb"
    with Store(db) as s, s.write() as cur:
        insert_services(cur, [record("One")])
    assert main(["backup", "--db", str(db), "--out", str(tmp_path / "out")]) == 0
    (made,) = (tmp_path / "out").glob("*.duckdb")
    with Store(db) as s, s.write() as cur:
        insert_services(cur, [record("Two")])
    assert main(["restore", str(made), "--db", str(db)]) == 0
    assert "Restored" in capsys.readouterr().out
    assert _names(db) == ["One"]
    assert main(["backups", "--db", str(db), "--format", "json"]) == 0
    assert "before-restore" in capsys.readouterr().out


# A stand-in for a long import: one write transaction adding batches until it is killed.
WRITER = textwrap.dedent("""
    import sys
    from hubdash.services import insert_services
    from hubdash.store import Store
    from tests.conftest import record
    s = Store(sys.argv[1])
    with s.write() as cur:
        for batch in range(1000):
            insert_services(cur, [record(f"Half {batch}-{i}", wards=["W"] * 3) for i in range(500)])
            print("batch", batch, flush=True)
""")


def test_a_crash_mid_write_leaves_the_previous_state(tmp_path: Path) -> None:
    """SIGKILL in the middle of a big write transaction: reopening shows exactly the old data."""
    db = tmp_path / "crash.duckdb"
    with Store(db) as s:
        with s.write() as cur:
            insert_services(cur, [record(f"Before {i}") for i in range(50)])
        before_version = s.data_version()
    before_names = _names(db)
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        for _ in range(3):  # let it write 1,500 rows inside the transaction
            assert proc.stdout.readline().startswith("batch")
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    time.sleep(0.1)
    with Store(db) as s:
        assert s.data_version() == before_version
        assert s.scalar("SELECT count(*) FROM service_choices") == 100  # 2 per service
        frame = service_frame(s)
    assert list(frame["name"]) == before_names


class _NoCheckpoint:
    """A connection whose CHECKPOINT fails, as when a long read keeps the log open."""

    def __init__(self, con) -> None:  # noqa: ANN001
        self._con = con

    def execute(self, sql: str, *a):  # noqa: ANN002, ANN201
        if sql.strip().upper() == "CHECKPOINT":
            import duckdb

            raise duckdb.TransactionException("Cannot CHECKPOINT: other transactions are active")
        return self._con.execute(sql, *a)

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self._con, name)


def test_backup_folds_the_write_ahead_log_when_checkpoint_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    s = Store(db)
    s.checkpoint()
    with s.write() as cur:
        insert_services(cur, [record("Only in the log")])
    assert Path(str(db) + ".wal").stat().st_size > 0, "the commit is still in the log"
    real = s._con
    s._con = _NoCheckpoint(real)
    try:
        path = backup(s, tmp_path / "out")
    finally:
        s._con = real
        s.close()
    assert not Path(str(path) + ".wal").exists()
    assert _names(path) == ["Only in the log"]


OPENER = "import sys\nfrom hubdash.store import Store\nStore(sys.argv[1])\nprint('opened')"


def test_a_backup_keeps_the_app_s_lock_on_the_database(tmp_path: Path) -> None:
    """POSIX drops a process's file lock when it closes any descriptor of the file: copying the
    live database in-process would let a second process open it. The copy must not do that."""
    db = tmp_path / "locked.duckdb"
    s = Store(db)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def other_process_opens() -> bool:
        p = subprocess.run([sys.executable, "-c", OPENER, str(db)], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=60)
        return "opened" in p.stdout

    try:
        assert not other_process_opens()
        backup(s, tmp_path / "out")
        auto_backup(s, "before import")
        assert not other_process_opens(), "still locked after backing up"
    finally:
        s.close()
