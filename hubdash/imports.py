"""Importing a checked survey into the store: one transaction, recorded, undoable.

An import is ONE `Store.write()`: it inserts the `imports` row, opens a history change
(`history.begin_change(kind="import")`), records the before-image of every service it replaces
or removes and the ids of every service it creates, then writes the services. Any failure rolls
all of it back, so a failed or cancelled import leaves the store exactly as it was. Undo is
`history.undo_change` on that change, which also marks the import 'undone'.

Two modes, matching services by name and organisation (ignoring case, spaces and punctuation):

* **append** ("add to what is there"): a row matching an existing service updates it; other rows
  are added; nothing is removed.
* **replace** ("a new survey round"): as append, and every service not in the file is removed.

When a name and organisation appear several times (the same group run at two venues), the k-th
row in the file is matched with the k-th such service in the store (by id), so nothing is
matched twice. Re-importing a file with the same content (SHA-256) is refused unless the
earlier import was undone.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb
import pandas as pd

from hubdash.errors import HubdashError, IngestError
from hubdash.history import begin_change, mark_created, snapshot, undo_change
from hubdash.ingest import Mapping, Survey, load_survey
from hubdash.schema import normalise
from hubdash.services import delete_services, insert_services
from hubdash.store import Store

Mode = Literal["append", "replace"]
MODES: tuple[str, ...] = ("append", "replace")
MODE_LABELS = {
    "append": "Add to what is there (matching services are updated, nothing is removed)",
    "replace": "Replace with this survey round (services not in this file are removed)",
}


def match_key(name: Any, organisation: Any) -> str:
    """The key two services are the same by: normalised name and organisation.

    E.g. `match_key("Café Bébé ", "Zoë's")` == `match_key("cafe bebe", "ZOES")`.
    """
    return f"{normalise(name)}|{normalise(organisation)}"


@dataclass
class ChangePlan:
    """What an import would do.

    Attributes:
        mode: "append" or "replace".
        new: Indexes (into the survey's records) of rows that become new services.
        updated: (record index, service id) pairs: rows that replace an existing service.
        removed: Ids of services a replace removes.
        names: Service id -> (name, organisation) for the updated and removed services.
    """

    mode: str
    new: list[int]
    updated: list[tuple[int, int]]
    removed: list[int]
    names: dict[int, tuple[str, str]]

    def counts(self) -> dict[str, int]:
        return {"new": len(self.new), "updated": len(self.updated), "removed": len(self.removed)}

    def describe(self) -> str:
        """E.g. "3 new, 2 updated, 0 removed"."""
        c = self.counts()
        return f"{c['new']} new, {c['updated']} updated, {c['removed']} removed"

    def table(self, records: list[dict[str, Any]]) -> pd.DataFrame:
        """One row per service the import touches: change, name, organisation, file row, service id."""
        rows = [("New", records[i].get("name"), records[i].get("organisation"), records[i].get("source_row"), None)
                for i in self.new]
        rows += [("Updated", records[i].get("name"), records[i].get("organisation"), records[i].get("source_row"), sid)
                 for i, sid in self.updated]
        rows += [("Removed", *self.names.get(sid, ("", "")), None, sid) for sid in self.removed]
        df = pd.DataFrame(rows, columns=["Change", "Service", "Organisation", "File row", "Service id"])
        df["File row"] = df["File row"].astype("Int64")
        df["Service id"] = df["Service id"].astype("Int64")
        return df


def plan_changes(existing: pd.DataFrame, records: list[dict[str, Any]], *, mode: str) -> ChangePlan:
    """Match the file's rows with existing services (see the module docstring).

    Args:
        existing: service_id, name, organisation of every stored service.
        records: The survey's accepted records.
        mode: "append" or "replace".
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    pool: dict[str, list[int]] = defaultdict(list)
    names: dict[int, tuple[str, str]] = {}
    for sid, name, org in existing[["service_id", "name", "organisation"]].itertuples(index=False):
        pool[match_key(name, org)].append(int(sid))
        names[int(sid)] = (name, org if isinstance(org, str) else "")
    for ids in pool.values():
        ids.sort()
    used: dict[str, int] = defaultdict(int)
    new, updated = [], []
    for i, r in enumerate(records):
        k = match_key(r.get("name"), r.get("organisation"))
        n = used[k]
        if n < len(pool.get(k, ())):
            updated.append((i, pool[k][n]))
        else:
            new.append(i)
        used[k] = n + 1
    removed: list[int] = []
    if mode == "replace":
        matched = {sid for _, sid in updated}
        removed = sorted(sid for sid in names if sid not in matched)
    keep = {sid for _, sid in updated} | set(removed)
    return ChangePlan(mode, new, updated, removed, {k: v for k, v in names.items() if k in keep})


def _existing(reader: Any) -> pd.DataFrame:
    sql = "SELECT service_id, name, organisation FROM services ORDER BY service_id"
    return reader.read(sql) if isinstance(reader, Store) else reader.execute(sql).df()


def previous_import(reader: Store | duckdb.DuckDBPyConnection, sha256: str) -> dict[str, Any] | None:
    """The import still in force with this content hash, or None."""
    sql = ("SELECT import_id, file_name, imported_at FROM imports WHERE sha256 = ? AND status <> 'undone' "
           "ORDER BY import_id LIMIT 1")
    rows = reader.rows(sql, [sha256]) if isinstance(reader, Store) else reader.execute(sql, [sha256]).fetchall()
    if not rows:
        return None
    return {"import_id": int(rows[0][0]), "file_name": rows[0][1], "imported_at": rows[0][2]}


def duplicate_message(file_name: str, prev: dict[str, Any]) -> str:
    when = prev["imported_at"]
    when_text = when.strftime("%d %b %Y at %H:%M") if hasattr(when, "strftime") else str(when)
    return (f"{file_name} has already been imported: import {prev['import_id']} ('{prev['file_name']}', {when_text}) "
            f"had exactly the same content. Nothing was changed. To load it again, undo import "
            f"{prev['import_id']} first.")


@dataclass
class ImportPreview:
    """What would happen: the change plan, and why it cannot go ahead (if it cannot)."""

    plan: ChangePlan
    blocked: str | None

    def describe(self) -> str:
        return self.blocked or self.plan.describe()


def preview_import(store: Store, survey: Survey, *, mode: str) -> ImportPreview:
    """n new / n updated / n removed for `mode`, without writing anything."""
    plan = plan_changes(_existing(store), survey.records, mode=mode)
    prev = previous_import(store, survey.sha256)
    blocked = survey.fatal or (duplicate_message(survey.file_name, prev) if prev else None)
    return ImportPreview(plan, blocked)


@dataclass
class ImportResult:
    """A committed import."""

    import_id: int
    change_id: int
    plan: ChangePlan
    survey: Survey

    def describe(self) -> str:
        return (f"Import {self.import_id}: {self.survey.describe()}. {self.plan.describe()}. "
                f"Undo with: python -m hubdash undo {self.import_id}")


def commit_import(store: Store, survey: Survey, *, mode: str, expected: ChangePlan | None = None,
                  backup: bool = True) -> ImportResult:
    """Write the survey into the store as one undoable transaction.

    Args:
        store: The store.
        survey: A prepared survey (`ingest.prepare_survey`) with no `fatal` problem.
        mode: "append" or "replace".
        expected: The plan the person confirmed. If the data changed since (another session
            imported meanwhile), the import is refused rather than doing something else.
        backup: Take an automatic backup of the database file first (`hubdash.backup`).

    Raises:
        IngestError: the survey cannot be imported, was imported before, or the data changed
            since the preview. Nothing is written.
    """
    if mode not in MODES:
        raise IngestError(f"Choose append or replace, not '{mode}'.", title="Unknown import mode")
    if survey.fatal:
        raise IngestError(survey.fatal)
    prev = previous_import(store, survey.sha256)
    if prev:
        raise IngestError(duplicate_message(survey.file_name, prev), title="Already imported")
    if backup:
        from hubdash.backup import auto_backup

        auto_backup(store, f"before-import-{Path(survey.file_name).stem}")
    with store.write() as cur:
        prev = previous_import(cur, survey.sha256)  # again, under the write lock
        if prev:
            raise IngestError(duplicate_message(survey.file_name, prev), title="Already imported")
        plan = plan_changes(_existing(cur), survey.records, mode=mode)
        if expected is not None and plan.counts() != expected.counts():
            raise IngestError(
                f"The data changed since you checked {survey.file_name} (now {plan.describe()}, you confirmed "
                f"{expected.describe()}). Nothing was changed: check the preview again.", title="Data changed")
        import_id = int(cur.execute(
            "INSERT INTO imports (file_name, sha256, detected_format, rows_read, rows_accepted, rows_rejected, mode, "
            "status, note) VALUES (?, ?, ?, ?, ?, ?, ?, 'committed', ?) RETURNING import_id",
            [survey.file_name, survey.sha256, survey.detected_format, survey.rows_read, survey.rows_accepted,
             survey.rows_rejected, mode, plan.describe()]).fetchall()[0][0])
        change_id = begin_change(cur, kind="import", import_id=import_id,
                                 description=f"Import {import_id}: {survey.file_name} ({plan.describe()})")
        touched = [sid for _, sid in plan.updated] + plan.removed
        # Ids are never reused, even those of services removed earlier, so a before-image in the
        # history always refers to one service.
        next_id = int(cur.execute(
            "SELECT greatest(coalesce((SELECT max(service_id) FROM services), 0), "
            "coalesce((SELECT max(service_id) FROM change_services), 0)) + 1").fetchall()[0][0])
        snapshot(cur, change_id, touched)
        delete_services(cur, touched)
        if plan.updated:
            insert_services(cur, [survey.records[i] for i, _ in plan.updated], import_id=import_id,
                            service_ids=[sid for _, sid in plan.updated])
        new_ids = list(range(next_id, next_id + len(plan.new)))
        if plan.new:
            insert_services(cur, [survey.records[i] for i in plan.new], import_id=import_id, service_ids=new_ids)
        mark_created(cur, change_id, new_ids)
    return ImportResult(import_id, change_id, plan, survey)


# --- history -----------------------------------------------------------------------------------------

_IMPORTS_SQL = """
SELECT i.import_id, i.file_name, i.detected_format, i.imported_at, i.rows_read, i.rows_accepted,
       i.rows_rejected, i.mode, i.status, i.note, c.change_id
FROM imports i
LEFT JOIN changes c ON c.import_id = i.import_id AND c.kind = 'import'
ORDER BY i.import_id DESC
"""


def list_imports(store: Store) -> pd.DataFrame:
    """Every import, newest first: id, file, format, when, rows read/accepted/rejected, mode, status."""
    return store.read(_IMPORTS_SQL)


def undo_import(store: Store, import_id: int) -> int:
    """Undo one import (restoring every service it replaced or removed); returns services restored.

    Raises:
        HubdashError: no such import, already undone, or a later change touched the same services.
    """
    rows = store.rows("SELECT status, file_name FROM imports WHERE import_id = ?", [int(import_id)])
    if not rows:
        raise HubdashError(f"There is no import number {import_id}. List them with `python -m hubdash imports`.",
                           title="Nothing to undo")
    if rows[0][0] == "undone":
        raise HubdashError(f"Import {import_id} ({rows[0][1]}) has already been undone.", title="Nothing to undo")
    change = store.rows("SELECT change_id FROM changes WHERE import_id = ? AND kind = 'import' "
                        "ORDER BY change_id DESC", [int(import_id)])
    if not change:
        raise HubdashError(f"Import {import_id} ({rows[0][1]}) has no undo record, so it cannot be undone here. "
                           "Restore a backup taken before it instead.", title="Cannot undo")
    return undo_change(store, int(change[0][0]))


def known_wards(store: Store) -> list[str]:
    """Ward names to offer for question 13: the loaded boundaries, then names already answered."""
    rows = store.rows("SELECT ward_name FROM wards UNION SELECT ward_name FROM service_wards ORDER BY 1")
    return [r[0] for r in rows if r[0]]


def import_file(store: Store, path: str | Path, *, mode: str = "append", mapping: Mapping | None = None,
                dry_run: bool = False) -> tuple[Survey, ImportPreview, ImportResult | None]:
    """Read, check and (unless `dry_run`) import one file: the command line's path through.

    Raises:
        IngestError: the file cannot be imported (nothing is written).
    """
    survey = load_survey(path, mapping=mapping)
    preview = preview_import(store, survey, mode=mode)
    if dry_run:
        return survey, preview, None
    if preview.blocked:
        raise IngestError(preview.blocked, title="Already imported" if not survey.fatal else None)
    return survey, preview, commit_import(store, survey, mode=mode, expected=preview.plan)
