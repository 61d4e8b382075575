"""The DuckDB store: one file holding services, wards, needs, sites, agencies and imports.

Concurrency model (DuckDB allows one writing process per file; Streamlit serves each browser
session on its own thread):

* One `Store` per database file per process, shared by every session (`ui.get_store`).
* Every read takes its own cursor (`Store.read`), because one DuckDB connection is not safe to
  share between threads but its cursors are. DuckDB's MVCC gives each read a consistent
  snapshot, so nobody ever sees half an import.
* Every write goes through `Store.write()`: a process-wide lock, one transaction, and a bump of
  `data_version` that invalidates cached analyses. An exception rolls the whole write back.
* A second process (the CLI while the app runs) cannot open the file: it gets a `StoreError`
  that says so and what to do, never a corrupt file or a hang.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from hubdash.errors import StoreError

DEFAULT_DB = Path(__file__).resolve().parent.parent / "data" / "hubdash.duckdb"


def default_db_path() -> Path:
    """The database path: `$HUBDASH_DB` if set, else `data/hubdash.duckdb` in the project."""
    env = os.environ.get("HUBDASH_DB")
    return Path(env) if env else DEFAULT_DB


# Each migration is a list of statements; the schema version is the number applied.
# Add new migrations at the end; never edit one that has shipped.
MIGRATIONS: list[list[str]] = [
    [
        "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
        "CREATE SEQUENCE IF NOT EXISTS seq_services START 1",
        "CREATE SEQUENCE IF NOT EXISTS seq_imports START 1",
        "CREATE SEQUENCE IF NOT EXISTS seq_sites START 1",
        "CREATE SEQUENCE IF NOT EXISTS seq_agencies START 1",
        "CREATE SEQUENCE IF NOT EXISTS seq_bookmarks START 1",
        """CREATE TABLE IF NOT EXISTS imports (
            import_id INTEGER PRIMARY KEY DEFAULT nextval('seq_imports'),
            file_name VARCHAR, sha256 VARCHAR, detected_format VARCHAR,
            rows_read INTEGER, rows_accepted INTEGER, rows_rejected INTEGER,
            mode VARCHAR, imported_at TIMESTAMP DEFAULT current_timestamp,
            status VARCHAR DEFAULT 'committed', note VARCHAR)""",
        """CREATE TABLE IF NOT EXISTS services (
            service_id INTEGER PRIMARY KEY DEFAULT nextval('seq_services'),
            name VARCHAR NOT NULL, kind VARCHAR, organisation VARCHAR, sector VARCHAR,
            format VARCHAR, primary_outcome VARCHAR, target_level VARCHAR, eligibility VARCHAR,
            capacity DOUBLE, families_supported DOUBLE, annual_cost DOUBLE, evidence VARCHAR,
            interpreter VARCHAR, contact_name VARCHAR, contact_email VARCHAR,
            whole_la BOOLEAN DEFAULT FALSE,
            other_answers JSON, extra JSON,
            import_id INTEGER, source_file VARCHAR, source_row INTEGER,
            created_at TIMESTAMP DEFAULT current_timestamp,
            updated_at TIMESTAMP DEFAULT current_timestamp)""",
        # Multi-select answers (questions 5, 7, 9, 10, 15, 19, 21) as option codes.
        """CREATE TABLE IF NOT EXISTS service_choices (
            service_id INTEGER NOT NULL, question VARCHAR NOT NULL, option VARCHAR NOT NULL)""",
        # Question 13: ward names or codes as answered; `ward_key` is the normalised text used
        # to join to `wards` (by code or name) so newly loaded boundaries apply at once.
        """CREATE TABLE IF NOT EXISTS service_wards (
            service_id INTEGER NOT NULL, ward_name VARCHAR NOT NULL, ward_key VARCHAR NOT NULL)""",
        "CREATE TABLE IF NOT EXISTS service_postcodes (service_id INTEGER NOT NULL, postcode VARCHAR NOT NULL)",
        "CREATE TABLE IF NOT EXISTS service_languages (service_id INTEGER NOT NULL, language VARCHAR NOT NULL)",
        """CREATE TABLE IF NOT EXISTS wards (
            ward_code VARCHAR PRIMARY KEY, ward_name VARCHAR NOT NULL, name_key VARCHAR,
            locality VARCHAR, geometry BLOB, geometry_display VARCHAR, area_km2 DOUBLE,
            centroid_lon DOUBLE, centroid_lat DOUBLE, source VARCHAR)""",
        """CREATE TABLE IF NOT EXISTS needs (
            ward_code VARCHAR NOT NULL, indicator VARCHAR NOT NULL, value DOUBLE,
            unit VARCHAR, period VARCHAR, source VARCHAR)""",
        """CREATE TABLE IF NOT EXISTS sites (
            site_id INTEGER PRIMARY KEY DEFAULT nextval('seq_sites'),
            name VARCHAR NOT NULL, kind VARCHAR NOT NULL, postcode VARCHAR,
            lat DOUBLE, lon DOUBLE, ward_code VARCHAR, source VARCHAR)""",
        "CREATE TABLE IF NOT EXISTS postcode_lookup (postcode VARCHAR PRIMARY KEY, lat DOUBLE, lon DOUBLE)",
        """CREATE TABLE IF NOT EXISTS agencies (
            agency_id INTEGER PRIMARY KEY DEFAULT nextval('seq_agencies'),
            organisation VARCHAR NOT NULL, sector VARCHAR, contacted_on DATE,
            responded BOOLEAN, notes VARCHAR)""",
        "CREATE TABLE IF NOT EXISTS agency_areas (agency_id INTEGER NOT NULL, area VARCHAR NOT NULL)",
        """CREATE TABLE IF NOT EXISTS bookmarks (
            bookmark_id INTEGER PRIMARY KEY DEFAULT nextval('seq_bookmarks'),
            name VARCHAR NOT NULL, page VARCHAR, query VARCHAR,
            created_at TIMESTAMP DEFAULT current_timestamp)""",
        "CREATE TABLE IF NOT EXISTS report_text (key VARCHAR PRIMARY KEY, value VARCHAR)",
        "CREATE INDEX IF NOT EXISTS ix_choices ON service_choices (service_id)",
        "CREATE INDEX IF NOT EXISTS ix_wards_s ON service_wards (service_id)",
    ],
    [
        # Undoable changes (hubdash.history): one row per committed change, with the
        # before-image of every service it touched.
        """CREATE TABLE IF NOT EXISTS changes (
            change_id INTEGER PRIMARY KEY, kind VARCHAR NOT NULL, description VARCHAR,
            import_id INTEGER, created_at TIMESTAMP DEFAULT current_timestamp,
            undone BOOLEAN DEFAULT FALSE, undone_at TIMESTAMP)""",
        """CREATE TABLE IF NOT EXISTS change_services (
            change_id INTEGER NOT NULL, service_id INTEGER NOT NULL, before JSON)""",
    ],
    [
        # Geographic coverage (hubdash.geoload): where people live inside each ward (e.g. LSOA
        # population-weighted centroids), for population-weighted ward centroids.
        """CREATE TABLE IF NOT EXISTS population_points (
            lon DOUBLE NOT NULL, lat DOUBLE NOT NULL, population DOUBLE NOT NULL,
            ward_code VARCHAR, label VARCHAR, source VARCHAR)""",
    ],
    [
        # Workshop mode (hubdash.presenter): the saved sequence of views a presenter steps
        # through. `query` is a JSON object of allowlisted URL keys, never pickle.
        "CREATE SEQUENCE IF NOT EXISTS seq_presenter_steps START 1",
        """CREATE TABLE IF NOT EXISTS presenter_steps (
            step_id INTEGER PRIMARY KEY DEFAULT nextval('seq_presenter_steps'),
            position INTEGER NOT NULL, page VARCHAR NOT NULL, query VARCHAR, title VARCHAR)""",
    ],
    [
        # Data quality (hubdash.duplicates): pairs the user decided are NOT duplicates ("keep
        # both"), keyed by each service's normalised name|organisation so the decision survives
        # a re-import of the same returns. Merges are undoable changes in `changes` instead.
        """CREATE TABLE IF NOT EXISTS duplicate_decisions (
            key_a VARCHAR NOT NULL, key_b VARCHAR NOT NULL, decision VARCHAR NOT NULL,
            service_a INTEGER, service_b INTEGER, name_a VARCHAR, name_b VARCHAR,
            decided_at TIMESTAMP DEFAULT current_timestamp, PRIMARY KEY (key_a, key_b))""",
    ],
]

SCHEMA_VERSION = len(MIGRATIONS)

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def ident(name: str) -> str:
    """Quote a table or column name that comes from the code (never from users).

    The few statements that cannot bind a name as a parameter (bulk inserts over a list of
    tables) build SQL through this helper, which refuses anything but a plain lower-case
    identifier, so a mistake can never become an injection.
    """
    if not _IDENT.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return f'"{name}"'


def idents(names: Sequence[str]) -> str:
    return ", ".join(ident(n) for n in names)


class Store:
    """A DuckDB database file with one transactional write path.

    Args:
        path: The database file, or ":memory:" for tests.
    """

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(self.path)
        except duckdb.IOException as e:  # another process holds the write lock
            if "lock" in str(e).lower():
                raise StoreError(
                    f"The database {self.path} is in use by another hubdash process (probably the "
                    "running app). Stop that process, or make this change in the app, then try again.",
                    title="Database in use",
                ) from e
            raise StoreError(f"Could not open {self.path}: {e}") from e
        except duckdb.Error as e:
            raise StoreError(
                f"{self.path} is not a hubdash database DuckDB can open ({e}). Point --db or "
                "HUBDASH_DB at another file, or delete this one to start again."
            ) from e
        self._migrate()

    # --- lifecycle ---------------------------------------------------------------------------

    def _migrate(self) -> None:
        with self._lock:
            cur = self._con.cursor()
            cur.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
            row = cur.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
            current = int(row[0][0]) if row else 0
            if current > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} was written by a newer hubdash (schema {current}, this one knows "
                    f"{SCHEMA_VERSION}). Upgrade hubdash before opening it."
                )
            for version in range(current, SCHEMA_VERSION):
                cur.execute("BEGIN TRANSACTION")
                try:
                    for stmt in MIGRATIONS[version]:
                        cur.execute(stmt)
                    cur.execute(
                        "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(version + 1)]
                    )
                    cur.execute("COMMIT")
                except Exception:
                    cur.execute("ROLLBACK")
                    raise
            cur.close()

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- reads -------------------------------------------------------------------------------

    def read(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> pd.DataFrame:
        """Run a parameterised query on a fresh cursor and return a DataFrame."""
        cur = self._con.cursor()
        try:
            return cur.execute(sql, params).df()
        finally:
            cur.close()

    def rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[tuple]:
        cur = self._con.cursor()
        try:
            return cur.execute(sql, params).fetchall()
        finally:
            cur.close()

    def scalar(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        rows = self.rows(sql, params)
        return rows[0][0] if rows else None

    def meta(self, key: str, default: str | None = None) -> str | None:
        value = self.scalar("SELECT value FROM meta WHERE key = ?", [key])
        return default if value is None else value

    def data_version(self) -> int:
        """A number that changes with every committed write: the key for cached analyses."""
        return int(self.meta("data_version", "0") or 0)

    def schema_version(self) -> int:
        return int(self.meta("schema_version", "0") or 0)

    def is_demo(self) -> bool:
        return self.meta("demo") == "1"

    def counts(self) -> dict[str, int]:
        tables = ("services", "wards", "needs", "sites", "agencies", "imports")
        return {t: int(self.scalar("SELECT count(*) FROM " + ident(t))) for t in tables}

    # --- the one write path --------------------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A transaction: yields a cursor; commits and bumps `data_version`, or rolls back.

        Writes from every thread of this process are serialised by a lock, so two imports can
        never interleave.
        """
        with self._lock:
            cur = self._con.cursor()
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
                cur.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('data_version', "
                    "CAST(COALESCE((SELECT CAST(value AS BIGINT) FROM meta WHERE key = 'data_version'), 0) + 1 AS VARCHAR))"
                )
                cur.execute("COMMIT")
            except BaseException:
                try:
                    cur.execute("ROLLBACK")
                except duckdb.Error:
                    pass
                raise
            finally:
                cur.close()

    def set_meta(self, key: str, value: str) -> None:
        with self.write() as cur:
            cur.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])

    def checkpoint(self) -> None:
        with self._lock:
            self._con.execute("CHECKPOINT")


def open_store(path: str | Path | None = None, *, build_demo_if_missing: bool = False) -> Store:
    """Open (creating if needed) the store at `path` or the default location.

    With `build_demo_if_missing`, a database file that does not exist yet is created holding the
    fictional demo borough, so a fresh clone shows a working dashboard on first start. An
    existing file is never filled with demo data, even when empty: it may hold someone's wards.
    """
    p = Path(path) if path else default_db_path()
    is_new = str(p) != ":memory:" and not p.exists()
    store = Store(p)
    if build_demo_if_missing and is_new:
        from hubdash.demo import build_demo

        build_demo(store)
    return store
