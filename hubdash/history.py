"""Undoable changes: every write to services records before-images, so any change can be undone.

A *change* is one committed write (an import, a merge, an in-app edit, a delete). For each
service it touched, `change_services` holds the record as it was before (`before` JSON, NULL
if the change created it) and whether the service existed after the change. Undo puts every
touched service back as it was, in one transaction, and marks the change undone. Undo is only
offered for the newest change still in force on those services, so later edits are never lost
silently.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import duckdb
import pandas as pd

from hubdash.errors import HubdashError
from hubdash.services import delete_services, insert_services, records_by_id, service_record
from hubdash.store import Store


def begin_change(cur: duckdb.DuckDBPyConnection, *, kind: str, description: str,
                 import_id: int | None = None) -> int:
    """Open a change record inside a write transaction; returns its id."""
    cid = int(cur.execute("SELECT coalesce(max(change_id), 0) + 1 FROM changes").fetchall()[0][0])
    cur.execute("INSERT INTO changes (change_id, kind, description, import_id) VALUES (?, ?, ?, ?)",
                [cid, kind, description, import_id])
    return cid


def snapshot(cur: duckdb.DuckDBPyConnection, change_id: int, service_ids: Iterable[int]) -> None:
    """Record the before-image of services that `change_id` is about to modify or delete."""
    recs = records_by_id(cur, service_ids)
    _insert_change_rows(cur, [(change_id, sid, json.dumps(rec, default=str)) for sid, rec in recs.items()])


def mark_created(cur: duckdb.DuckDBPyConnection, change_id: int, service_ids: Iterable[int]) -> None:
    """Record services that `change_id` created (undo deletes them)."""
    _insert_change_rows(cur, [(change_id, int(sid), None) for sid in service_ids])


def _insert_change_rows(cur: duckdb.DuckDBPyConnection, rows: list[tuple[int, int, str | None]]) -> None:
    """One bulk insert: a survey round can touch thousands of services."""
    if not rows:
        return
    df = pd.DataFrame(rows, columns=["change_id", "service_id", "before"])
    df["before"] = df["before"].astype("object")
    cur.register("_change_rows", df)
    try:
        cur.execute("INSERT INTO change_services (change_id, service_id, before) "
                    "SELECT change_id, service_id, CAST(before AS JSON) FROM _change_rows")
    finally:
        cur.unregister("_change_rows")


def list_changes(store: Store) -> pd.DataFrame:
    """Every change, newest first, with how many services it touched."""
    return store.read(
        """SELECT c.change_id, c.kind, c.description, c.import_id, c.created_at, c.undone,
                  count(cs.service_id) AS services
           FROM changes c LEFT JOIN change_services cs USING (change_id)
           GROUP BY ALL ORDER BY c.change_id DESC""")


def undo_change(store: Store, change_id: int) -> int:
    """Put every service `change_id` touched back as it was; returns how many were restored.

    Refuses (HubdashError) if the change is unknown, already undone, or if a later change still
    in force touched the same services (undo that one first). A backup of the database is taken
    first (`hubdash.backup.auto_backup`), so even an undo can be reversed.
    """
    from hubdash.backup import auto_backup

    auto_backup(store, f"before-undo-{int(change_id)}")
    with store.write() as cur:
        row = cur.execute("SELECT undone, kind, import_id FROM changes WHERE change_id = ?", [change_id]).fetchall()
        if not row:
            raise HubdashError(f"There is no change number {change_id}.", title="Nothing to undo")
        if row[0][0]:
            raise HubdashError(f"Change {change_id} has already been undone.", title="Nothing to undo")
        touched = cur.execute("SELECT service_id, before FROM change_services WHERE change_id = ?",
                              [change_id]).fetchall()
        ids = [t[0] for t in touched]
        later = cur.execute(
            """SELECT DISTINCT c.change_id FROM changes c JOIN change_services cs USING (change_id)
               WHERE c.change_id > ? AND NOT c.undone AND cs.service_id IN (SELECT unnest(?::INTEGER[]))
               ORDER BY 1""", [change_id, ids]).fetchall()
        if later:
            raise HubdashError(
                f"Later change(s) {', '.join(str(r[0]) for r in later)} edited the same services. "
                "Undo those first, newest first.", title="Undo the later change first")
        delete_services(cur, ids)
        restore_ids, restore = [], []
        for sid, before in touched:
            if before is not None:
                restore_ids.append(sid)
                restore.append(json.loads(before))
        insert_services(cur, restore, service_ids=restore_ids)
        cur.execute("UPDATE changes SET undone = TRUE, undone_at = current_timestamp WHERE change_id = ?",
                    [change_id])
        if row[0][2] is not None:
            cur.execute("UPDATE imports SET status = 'undone' WHERE import_id = ?", [row[0][2]])
    return len(ids)


def edit_service(store: Store, service_id: int | None, record: dict, *, description: str | None = None) -> int:
    """Add (service_id None) or overwrite one service as an undoable change; returns its id."""
    from hubdash.services import replace_service

    with store.write() as cur:
        if service_id is None:
            cid = begin_change(cur, kind="add", description=description or f"Added '{record.get('name')}'")
            (sid,) = insert_services(cur, [record])
            mark_created(cur, cid, [sid])
            return sid
        if not cur.execute("SELECT 1 FROM services WHERE service_id = ?", [service_id]).fetchall():
            raise HubdashError(f"There is no service number {service_id}.", title="Service not found")
        cid = begin_change(cur, kind="edit", description=description or f"Edited '{record.get('name')}'")
        snapshot(cur, cid, [service_id])
        replace_service(cur, service_id, record)
        return service_id


__all__ = ["begin_change", "snapshot", "mark_created", "list_changes", "undo_change", "edit_service",
           "service_record"]
