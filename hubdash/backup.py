"""Backups: a consistent copy of the database file, before every import and undo, and on demand.

Why a file copy and not `EXPORT DATABASE`: a DuckDB file plus its write-ahead log is a complete,
self-describing snapshot, copying it takes a fraction of a second even at national size, and a
backup restores by putting the file back. To make the copy consistent while the app keeps
serving readers, it is taken under the store's write lock (no commit can land half-way), after a
`CHECKPOINT`; if a long read stops the checkpoint from folding the log in, the log is copied too
and folded into the copy, so the backup is always one file that opens on its own. The bytes are
copied by a child process (`_copy_file`): copying in this process would drop DuckDB's file lock
and let a second process open the live database.

`restore` refuses while another process (the running app) has the database open, with a message
that says to stop it first, and backs up the current file before replacing it, so a restore can
itself be undone.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from hubdash.errors import StoreError
from hubdash.store import SCHEMA_VERSION, Store

#: How many automatic backups to keep per database (older ones are deleted).
DEFAULT_KEEP = 10
_SUFFIX = ".duckdb"
_REASON = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class BackupInfo:
    """One backup file: where it is, when it was taken and why."""

    path: Path
    taken_at: dt.datetime
    reason: str
    size_bytes: int


def backup_dir(store_or_path: Store | str | Path) -> Path:
    """Where automatic backups of this database go: `$HUBDASH_BACKUP_DIR`, else `backups/` beside it.

    For the default database (data/hubdash.duckdb) that is data/backups/.
    """
    env = os.environ.get("HUBDASH_BACKUP_DIR")
    if env:
        return Path(env)
    path = Path(store_or_path.path if isinstance(store_or_path, Store) else store_or_path)
    return path.resolve().parent / "backups"


def _keep_default() -> int:
    try:
        return max(1, int(os.environ.get("HUBDASH_BACKUP_KEEP", DEFAULT_KEEP)))
    except ValueError:
        return DEFAULT_KEEP


def _name(db: Path, reason: str, when: dt.datetime) -> str:
    slug = _REASON.sub("-", reason.lower()).strip("-")[:40] or "manual"
    return f"{db.stem}-{when:%Y%m%dT%H%M%S-%f}-{slug}{_SUFFIX}"


def _copy_file(src: Path, dest: Path) -> None:
    """Copy a file in a child process, never by opening it here.

    DuckDB keeps its single-writer guarantee with a POSIX (fcntl) lock, and POSIX drops every
    lock a process holds on a file as soon as that process closes ANY descriptor of the file.
    `shutil.copyfile` in this process would therefore silently unlock the running app's
    database, letting a second process open and write it. A child process's descriptors hold
    no locks of ours, so `cp` there is safe.
    """
    proc = subprocess.run(["cp", "--", str(src), str(dest)], capture_output=True, text=True)
    if proc.returncode:
        raise OSError(proc.returncode, proc.stderr.strip() or f"cp exited with {proc.returncode}", str(dest))


def _copy_consistent(store: Store, dest: Path) -> None:
    """Copy the store's file to `dest` as one self-contained DuckDB file."""
    src = Path(store.path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    wal_src = Path(str(src) + ".wal")
    wal_tmp = Path(str(tmp) + ".wal")
    # The write lock keeps every writer of this process out while the bytes are copied; other
    # processes cannot write at all (DuckDB's file lock), and readers never change the file.
    with store._lock:  # noqa: SLF001 - the store's own writer lock, by design shared with backups
        try:
            store._con.execute("CHECKPOINT")  # noqa: SLF001
        except duckdb.Error:
            pass  # a long read holds the log open: copy the log too (below)
        _copy_file(src, tmp)
        if wal_src.exists() and wal_src.stat().st_size:
            _copy_file(wal_src, wal_tmp)
    if wal_tmp.exists():
        # Fold the copied log into the copy, so the backup is one file that opens on its own.
        con = duckdb.connect(str(tmp))
        try:
            con.execute("CHECKPOINT")
        finally:
            con.close()
        wal_tmp.unlink(missing_ok=True)
    os.replace(tmp, dest)


def backup(store: Store, out_dir: str | Path, *, reason: str = "manual") -> Path:
    """Write a consistent copy of `store`'s database into `out_dir`; returns the file.

    Raises:
        StoreError: the store is in memory, or the folder cannot be written.
    """
    if store.path == ":memory:":
        raise StoreError("An in-memory database has no file to back up.", title="Nothing to back up")
    db = Path(store.path)
    dest = Path(out_dir) / _name(db, reason, dt.datetime.now())
    try:
        _copy_consistent(store, dest)
    except OSError as e:
        raise StoreError(f"Could not write a backup to {out_dir}: {e.strerror or e}. Choose a folder you "
                         "can write to, with room for a copy of the database.", title="Backup failed") from e
    return dest


def list_backups(directory: str | Path, *, db_name: str | None = None) -> list[BackupInfo]:
    """Backups in `directory` (of the database called `db_name` if given), newest first."""
    d = Path(directory)
    if not d.is_dir():
        return []
    pat = re.compile(r"^(?P<stem>.+)-(?P<ts>\d{8}T\d{6}-\d{6})-(?P<reason>[a-z0-9-]+)\.duckdb$")
    out = []
    for p in d.iterdir():
        m = pat.match(p.name)
        if not m or (db_name is not None and m["stem"] != Path(db_name).stem):
            continue
        when = dt.datetime.strptime(m["ts"], "%Y%m%dT%H%M%S-%f")
        out.append(BackupInfo(p, when, m["reason"], p.stat().st_size))
    return sorted(out, key=lambda b: b.taken_at, reverse=True)


def auto_backup(store: Store, reason: str, *, keep: int | None = None,
                directory: str | Path | None = None) -> Path | None:
    """Back up before a risky write (import, undo, restore) and keep only the newest `keep` copies.

    Returns the backup file, or None for an in-memory store (tests), which has nothing to lose.
    `keep` defaults to `$HUBDASH_BACKUP_KEEP` or 10; `directory` to `backup_dir(store)`.
    """
    if store.path == ":memory:":
        return None
    d = Path(directory) if directory is not None else backup_dir(store)
    path = backup(store, d, reason=reason)
    keep = keep if keep is not None else _keep_default()
    for old in list_backups(d, db_name=Path(store.path).name)[keep:]:
        old.path.unlink(missing_ok=True)
    return path


def _check_backup_file(path: Path) -> int:
    """The schema version of the hubdash database at `path`; StoreError if it is not one."""
    if not path.is_file():
        raise StoreError(f"There is no backup file at {path}.", title="Backup not found")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as e:
        raise StoreError(f"{path} is not a DuckDB database ({e}). Choose a file written by "
                         "`python -m hubdash backup`.", title="Not a backup") from e
    try:
        rows = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    except duckdb.Error as e:
        raise StoreError(f"{path} is a DuckDB file but not a hubdash database. Choose a file written by "
                         "`python -m hubdash backup`.", title="Not a backup") from e
    finally:
        con.close()
    version = int(rows[0][0]) if rows else 0
    if version > SCHEMA_VERSION:
        raise StoreError(f"{path} was written by a newer hubdash (schema {version}). Upgrade hubdash first.",
                         title="Backup too new")
    return version


def restore(backup_path: str | Path, db_path: str | Path) -> Path | None:
    """Put a backup in place of the database at `db_path`; returns the backup taken of the old file.

    Refuses (StoreError "Database in use") while another process has `db_path` open: stop the app
    first. The current database, if any, is backed up before it is replaced.
    """
    src, db = Path(backup_path), Path(db_path)
    _check_backup_file(src)
    if src.resolve() == db.resolve():
        raise StoreError("The backup and the database are the same file.", title="Nothing to restore")
    previous: Path | None = None
    if db.exists():
        try:
            store = Store(db)  # takes DuckDB's file lock: fails at once if the app holds the file
        except StoreError as e:
            if "in use" in e.title.lower():
                raise StoreError(
                    f"The database {db} is open in another hubdash process (probably the running app). "
                    "Stop the app, run the restore again, then start the app.", title="Database in use") from e
            raise
        try:
            previous = auto_backup(store, "before-restore")
        finally:
            store.close()
    db.parent.mkdir(parents=True, exist_ok=True)
    # Copy beside the target, then rename: the database is either the old file or the backup,
    # never half of one.
    fd, tmp_name = tempfile.mkstemp(prefix=db.name + ".", suffix=".restore", dir=db.parent)
    os.close(fd)
    try:
        shutil.copyfile(src, tmp_name)
        Path(str(db) + ".wal").unlink(missing_ok=True)  # a log from the old file must not replay
        os.replace(tmp_name, db)
    finally:
        Path(tmp_name).unlink(missing_ok=True)
    return previous


# --- command line ------------------------------------------------------------------------------


def _cmd_backup(args) -> int:  # noqa: ANN001
    from hubdash.store import default_db_path

    db = Path(args.db or default_db_path())
    if not db.exists():
        raise StoreError(f"There is no database at {db} to back up.", title="Nothing to back up")
    try:
        store = Store(db)
    except StoreError as e:
        if "in use" in e.title.lower():
            raise StoreError(
                f"The database {db} is open in the running app, which backs it up by itself before every "
                f"import and undo (into {backup_dir(db)}). To take a backup now, stop the app and run this "
                "again.", title="Database in use") from e
        raise
    with store:
        path = backup(store, args.out, reason="manual")
    print(f"Backed up {db} to {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


def _cmd_restore(args) -> int:  # noqa: ANN001
    from hubdash.store import default_db_path

    db = Path(args.db or default_db_path())
    previous = restore(args.backup, db)
    print(f"Restored {db} from {args.backup}"
          + (f"; the database it replaced is kept at {previous}" if previous else ""))
    return 0


def _cmd_backups(args) -> int:  # noqa: ANN001
    from hubdash.cli import emit
    from hubdash.store import default_db_path

    db = Path(args.db or default_db_path())
    d = Path(args.dir) if args.dir else backup_dir(db)
    emit([{"file": str(b.path), "taken_at": b.taken_at.isoformat(timespec="seconds"), "reason": b.reason,
           "mb": round(b.size_bytes / 1e6, 2)} for b in list_backups(d, db_name=db.name)], args.format)
    return 0


def register(sub) -> None:  # noqa: ANN001
    from hubdash.cli import add_db, add_format

    p = sub.add_parser("backup", help="copy the database consistently into a folder")
    add_db(p)
    p.add_argument("--out", required=True, type=Path, help="folder to write the backup into")
    p.set_defaults(func=_cmd_backup)

    p = sub.add_parser("restore", help="put a backup back in place of the database (stop the app first)")
    p.add_argument("backup", type=Path, help="a file written by `backup` or an automatic backup")
    add_db(p)
    p.set_defaults(func=_cmd_restore)

    p = sub.add_parser("backups", help="list the automatic backups of a database, newest first")
    add_db(p)
    p.add_argument("--dir", default=None, help="backup folder (default: backups/ beside the database)")
    add_format(p)
    p.set_defaults(func=_cmd_backups)
