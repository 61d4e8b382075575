"""Service records: writing them into the store and reading them back as one frame.

A *record* is a plain dict keyed by question code (see `hubdash.schema.QUESTIONS`):
single-choice answers are option codes, multi-select answers are lists of option codes,
question 13 is a list of ward names or codes (or `schema.WHOLE_LA`), 14 and 22 are lists of
strings, numbers are floats. Optional keys: `other_answers` (question code -> the text given
for "Other"), `extra` (unmatched columns kept aside), `source_file`, `source_row`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from hubdash import schema
from hubdash.schema import CHOICE_QUESTIONS, Filters, normalise
from hubdash.store import Store, ident, idents

SCALAR_COLUMNS = [q.code for q in schema.SCALAR_QUESTIONS]
LIST_COLUMNS = [q.code for q in CHOICE_QUESTIONS] + ["wards", "postcodes", "languages"]
_ORDER = {q.code: {c: i for i, c in enumerate(q.codes)} for q in CHOICE_QUESTIONS}


def _text(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    s = str(v).strip()
    return s or None


def _num(v: Any) -> float | None:
    if v is None or v == "":
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(f) else f


def _json(d: Any) -> str | None:
    return json.dumps(d, ensure_ascii=False, sort_keys=True) if d else None


def next_service_id(cur: duckdb.DuckDBPyConnection) -> int:
    return int(cur.execute("SELECT coalesce(max(service_id), 0) + 1 FROM services").fetchall()[0][0])


def insert_services(
    cur: duckdb.DuckDBPyConnection,
    records: Sequence[dict[str, Any]],
    *,
    import_id: int | None = None,
    service_ids: Sequence[int] | None = None,
) -> list[int]:
    """Insert records inside an open write transaction; returns their new service ids.

    Call only through `Store.write()`, which serialises writers, so ids taken as max+1 are safe.
    Pass `service_ids` to restore records under their old ids (undo, merge).
    """
    if not records:
        return []
    first = next_service_id(cur)
    ids = list(service_ids) if service_ids is not None else list(range(first, first + len(records)))
    rows = []
    choices, wards, postcodes, languages = [], [], [], []
    for sid, r in zip(ids, records, strict=True):
        ward_list = [w for w in (r.get("wards") or []) if _text(w)]
        whole = any(normalise(w) == normalise(schema.WHOLE_LA) for w in ward_list)
        row = {c: r.get(c) for c in SCALAR_COLUMNS}
        for c in ("capacity", "families_supported", "annual_cost"):
            row[c] = _num(row[c])
        for c in SCALAR_COLUMNS:
            if c not in ("capacity", "families_supported", "annual_cost"):
                row[c] = _text(row[c])
        row.update(
            service_id=sid,
            whole_la=whole,
            other_answers=_json(r.get("other_answers")),
            extra=_json(r.get("extra")),
            import_id=r.get("import_id", import_id),
            source_file=_text(r.get("source_file")),
            source_row=r.get("source_row"),
        )
        rows.append(row)
        for q in CHOICE_QUESTIONS:
            for opt in dict.fromkeys(r.get(q.code) or []):
                choices.append((sid, q.code, opt))
        for w in dict.fromkeys(ward_list):
            if normalise(w) != normalise(schema.WHOLE_LA):
                wards.append((sid, str(w).strip(), normalise(w)))
        for p in dict.fromkeys(r.get("postcodes") or []):
            postcodes.append((sid, p))
        for lang in dict.fromkeys(r.get("languages") or []):
            languages.append((sid, lang))

    cols = ["service_id", *SCALAR_COLUMNS, "whole_la", "other_answers", "extra", "import_id",
            "source_file", "source_row"]
    df = pd.DataFrame(rows, columns=cols)
    df["source_row"] = df["source_row"].astype("Int64")
    df["import_id"] = df["import_id"].astype("Int64")
    for c in ("capacity", "families_supported", "annual_cost"):
        df[c] = df[c].astype("float64")
    cur.register("_new_services", df)
    try:
        cur.execute("INSERT INTO services (" + idents(cols) + ") SELECT " + idents(cols) + " FROM _new_services")
    finally:
        cur.unregister("_new_services")
    _bulk(cur, "service_choices", ["service_id", "question", "option"], choices)
    _bulk(cur, "service_wards", ["service_id", "ward_name", "ward_key"], wards)
    _bulk(cur, "service_postcodes", ["service_id", "postcode"], postcodes)
    _bulk(cur, "service_languages", ["service_id", "language"], languages)
    return ids


def insert_frame(cur: duckdb.DuckDBPyConnection, table: str, df: pd.DataFrame) -> None:
    """Bulk insert a DataFrame whose columns are named as in `table` (names from the code, quoted by `ident`)."""
    name = f"_bulk_{table}"
    cols = idents(list(df.columns))
    cur.register(name, df)
    try:
        cur.execute("INSERT INTO " + ident(table) + " (" + cols + ") SELECT " + cols + " FROM " + ident(name))
    finally:
        cur.unregister(name)


def _bulk(cur: duckdb.DuckDBPyConnection, table: str, cols: list[str], rows: list[tuple]) -> None:
    if rows:
        insert_frame(cur, table, pd.DataFrame(rows, columns=cols))


def delete_services(cur: duckdb.DuckDBPyConnection, service_ids: Iterable[int]) -> int:
    """Delete services and their link rows inside an open write transaction."""
    ids = [int(i) for i in service_ids]
    if not ids:
        return 0
    for table in ("service_choices", "service_wards", "service_postcodes", "service_languages", "services"):
        cur.execute("DELETE FROM " + ident(table) + " WHERE service_id IN (SELECT unnest(?::INTEGER[]))", [ids])
    return len(ids)


def replace_service(cur: duckdb.DuckDBPyConnection, service_id: int, record: dict[str, Any]) -> None:
    """Overwrite one service (in-app edit) keeping its id, inside a write transaction."""
    old = cur.execute("SELECT import_id, source_file, source_row, created_at FROM services WHERE service_id = ?",
                      [service_id]).fetchall()
    old = old[0] if old else None
    delete_services(cur, [service_id])
    rec = dict(record)
    if old:
        rec.setdefault("import_id", old[0])
        rec.setdefault("source_file", old[1])
        rec.setdefault("source_row", old[2])
    insert_services(cur, [rec], service_ids=[service_id])


# --- reading -------------------------------------------------------------------------------

_FRAME_SQL = """
WITH ch AS (
    SELECT service_id, question, list(option) AS opts
    FROM service_choices GROUP BY service_id, question
),
w AS (SELECT service_id, list(ward_name ORDER BY ward_name) AS opts FROM service_wards GROUP BY service_id),
p AS (SELECT service_id, list(postcode ORDER BY postcode) AS opts FROM service_postcodes GROUP BY service_id),
l AS (SELECT service_id, list(language ORDER BY language) AS opts FROM service_languages GROUP BY service_id)
SELECT s.*,
  {choice_cols},
  coalesce(w.opts, []::VARCHAR[]) AS wards,
  coalesce(p.opts, []::VARCHAR[]) AS postcodes,
  coalesce(l.opts, []::VARCHAR[]) AS languages
FROM services s
{choice_joins}
LEFT JOIN w ON w.service_id = s.service_id
LEFT JOIN p ON p.service_id = s.service_id
LEFT JOIN l ON l.service_id = s.service_id
{where}
ORDER BY s.service_id
"""


def _frame_sql(where: str = "") -> str:
    cols, joins = [], []
    for i, q in enumerate(CHOICE_QUESTIONS):
        cols.append(f"coalesce(c{i}.opts, []::VARCHAR[]) AS {q.code}")
        # q.code comes from the schema constant, never from user input
        joins.append(f"LEFT JOIN ch c{i} ON c{i}.service_id = s.service_id AND c{i}.question = '{q.code}'")
    return _FRAME_SQL.format(choice_cols=",\n  ".join(cols), choice_joins="\n".join(joins), where=where)


FRAME_SQL = _frame_sql()


def service_frame(store: Store) -> pd.DataFrame:
    """Every service, one row each, multi-select answers as tuples of codes in survey order.

    Ordering within each tuple follows the survey's option order (age groups run young to old).
    """
    return service_frame_rows(store.read(FRAME_SQL))


def filter_frame(frame: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """Services matching the global filter (area, target level, kind)."""
    f = filters.validated()
    mask = np.ones(len(frame), dtype=bool)
    if f.area:
        mask &= np.fromiter((f.area in v for v in frame["service_areas"]), bool, len(frame))
    if f.level:
        mask &= (frame["target_level"] == f.level).to_numpy()
    if f.kind:
        mask &= (frame["kind"] == f.kind).to_numpy()
    return frame[mask]


_MANY_SQL = _frame_sql("WHERE s.service_id IN (SELECT unnest(?::INTEGER[]))")


def _none_if_missing(v: Any) -> Any:
    if v is None or isinstance(v, str):
        return v
    try:
        return None if pd.isna(v) else v
    except (TypeError, ValueError):
        return v


def row_to_record(row: dict[str, Any]) -> dict[str, Any]:
    """A `service_frame` row as a record (the shape `insert_services` takes), with provenance."""
    rec: dict[str, Any] = {c: _none_if_missing(row.get(c)) for c in SCALAR_COLUMNS}
    for c in LIST_COLUMNS:
        rec[c] = list(row.get(c) or ())
    if row.get("whole_la"):
        rec["wards"] = [schema.WHOLE_LA, *rec["wards"]]
    for c in ("other_answers", "extra"):
        v = row.get(c)
        rec[c] = json.loads(v) if isinstance(v, str) and v else {}
    for c in ("import_id", "source_row"):
        v = _none_if_missing(row.get(c))
        rec[c] = None if v is None else int(v)
    rec["source_file"] = _none_if_missing(row.get("source_file"))
    return rec


def records_by_id(cur: Store | duckdb.DuckDBPyConnection, service_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Records for `service_ids` in one query, through a Store or an open transaction cursor."""
    ids = [int(i) for i in service_ids]
    if not ids:
        return {}
    df = cur.read(_MANY_SQL, [ids]) if isinstance(cur, Store) else cur.execute(_MANY_SQL, [ids]).df()
    df = service_frame_rows(df)
    return {int(r["service_id"]): row_to_record(r) for r in df.to_dict("records")}


def service_record(store: Store, service_id: int) -> dict[str, Any] | None:
    """One service as a record (the shape `insert_services` takes, plus `service_id`), or None."""
    rec = records_by_id(store, [service_id]).get(int(service_id))
    if rec is not None:
        rec["service_id"] = int(service_id)
    return rec


def service_frame_rows(df: pd.DataFrame) -> pd.DataFrame:
    """List columns as tuples (choice codes in survey order), as `service_frame` returns them."""
    for q in CHOICE_QUESTIONS:
        order = _ORDER[q.code]
        df[q.code] = [tuple(sorted(v, key=lambda c: order.get(c, 99))) if v is not None else ()
                      for v in df[q.code]]
    for c in ("wards", "postcodes", "languages"):
        df[c] = [tuple(v) if v is not None else () for v in df[c]]
    return df


#: Option code -> survey label per question, for `labelled` (dict lookups, not a scan per cell).
_LABELS = {q.code: {o.code: o.label for o in q.options} for q in schema.QUESTIONS if q.options}


def labelled(frame: pd.DataFrame, *, personal: bool = False) -> pd.DataFrame:
    """A human-readable copy: option codes become survey labels, list columns become text.

    Personal fields (contact name and email) are dropped unless `personal=True`.
    """
    # Called on every rerun of pages that show survey rows (20,000 at national size), so each
    # distinct answer is labelled once: multi-select tuples repeat heavily (age spans, areas).
    cols: dict[str, object] = {"service_id": frame["service_id"].to_numpy()}
    for q in schema.QUESTIONS:
        if q.personal and not personal:
            continue
        if q.code not in frame.columns:
            continue
        values = frame[q.code].tolist()
        if q.kind == "single":
            lab = _LABELS.get(q.code, {})
            cols[q.short] = [lab.get(v, v) if isinstance(v, str) else None for v in values]
        elif q.kind == "multi":
            lab = _LABELS.get(q.code, {})
            memo: dict[tuple, str] = {}
            out_col = []
            for v in values:
                text = memo.get(v)
                if text is None:
                    text = memo[v] = "; ".join(lab.get(c, c) for c in v)
                out_col.append(text)
            cols[q.short] = out_col
        elif q.code == "wards":
            whole = frame["whole_la"].to_numpy()
            cols[q.short] = [
                "; ".join(([schema.WHOLE_LA] if wl else []) + list(v)) for v, wl in zip(values, whole, strict=True)
            ]
        elif q.is_multi:
            cols[q.short] = ["; ".join(v) for v in values]
        else:
            cols[q.short] = frame[q.code].to_numpy()
    return pd.DataFrame(cols)
