"""The contacted-agencies list: who was asked to fill in the survey, and who answered.

Data quality uses it for response rates ("How many contacted agencies completed the survey?
Which sectors or areas of support do they represent?", step 3 of the guide). It is loaded from a
CSV or Excel file with the same tolerance as survey exports (any encoding, headings matched
ignoring case, spaces and punctuation, a title block above the headings), or edited in the app,
and always replaced as a whole in one transaction. It holds no personal data.

A blank "Responded" can be worked out from the survey returns: an agency responded if a service
in the store is delivered by an organisation of the same name.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hubdash import schema
from hubdash.errors import IngestError
from hubdash.ingest.answers import AnswerMatcher, is_blank
from hubdash.ingest.read import HEADER_SEARCH_ROWS, read_grid
from hubdash.safety import csv_safe
from hubdash.schema import normalise
from hubdash.store import Store

FIELDS = ("organisation", "sector", "service_areas", "contacted_on", "responded", "notes")
#: Headings accepted for each field (matched with `schema.normalise`).
HEADINGS: dict[str, tuple[str, ...]] = {
    "organisation": ("organisation", "organization", "agency", "organisation name", "organization name", "name",
                     "provider", "partner", "org", "agency name", "contacted organisation"),
    "sector": ("sector", "type", "organisation type", "sector type", "type of organisation"),
    "service_areas": ("service areas", "service area", "areas", "family hub service areas", "areas of support",
                      "area of support", "area"),
    "contacted_on": ("date contacted", "contacted", "contacted on", "date", "date sent", "survey sent", "sent",
                     "contact date", "date of contact"),
    "responded": ("responded", "response", "response received", "returned", "completed", "replied",
                  "survey returned", "survey completed", "has responded"),
    "notes": ("notes", "comments", "comment", "note"),
}
_HEADING_KEYS = {normalise(h): f for f, hs in HEADINGS.items() for h in hs}
#: Column labels on the page (the editable table) and in the CSV download.
LABELS = {"organisation": "Organisation", "sector": "Sector", "service_areas": "Service areas",
          "contacted_on": "Date contacted", "responded": "Responded", "notes": "Notes"}
PROBLEM_COLUMNS = ["file", "row", "column", "value", "problem", "what_to_do", "severity"]

_YES = frozenset({"yes", "y", "true", "1", "x", "responded", "returned", "completed", "done", "received", "replied"})
_NO = frozenset({"no", "n", "false", "0", "notyet", "pending", "noresponse", "none", "outstanding", "chased"})
_SECTOR = AnswerMatcher(schema.question("sector"))
_AREAS = AnswerMatcher(schema.question("service_areas"))
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y", "%d %B %Y", "%d %b %Y", "%d-%b-%Y",
                 "%d-%b-%y", "%B %d %Y", "%Y/%m/%d")


@dataclass
class AgencyList:
    """A checked agencies list (codes) and the problems found."""

    frame: pd.DataFrame
    problems: pd.DataFrame

    @property
    def errors(self) -> int:
        return int((self.problems["severity"] == "error").sum()) if len(self.problems) else 0


def parse_date(text: Any) -> dt.date | None:
    """A date as people type them in the UK: "2025-09-01", "01/09/2025", "1 Sep 2025" (day first)."""
    if text is None:
        return None
    if isinstance(text, dt.datetime):
        return text.date()
    if isinstance(text, dt.date):
        return text
    if isinstance(text, pd.Timestamp):
        return None if pd.isna(text) else text.date()
    s = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", str(text).strip()).replace(",", "")
    s = s.split(" ")[0] if re.match(r"^\d{4}-\d{2}-\d{2}[ T]\d", s) else s
    s = s.replace("Sept ", "Sep ")
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(s, fmt).date()
        except ValueError:
            continue
    return None


def parse_responded(text: Any) -> bool | None:
    """Yes/No in the many ways a list says it; None when blank or unclear."""
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return None
    if isinstance(text, bool):
        return text
    key = normalise(text)
    if key in _YES:
        return True
    if key in _NO:
        return False
    return None


def _problem(rows: list, file: str, row: int | None, column: str, value: Any, problem: str, todo: str,
             severity: str) -> None:
    rows.append((file, row, column, None if value is None else str(value), problem, todo, severity))


def _check(records: list[dict[str, Any]], *, file: str, row_numbers: list[int], columns: dict[str, str],
           organisations: set[str] | None) -> AgencyList:
    """Validate raw field values (text or typed) into codes; merge organisations listed twice."""
    probs: list[tuple] = []
    out: dict[str, dict[str, Any]] = {}
    for rec, row in zip(records, row_numbers, strict=True):
        org = rec.get("organisation")
        org = org.strip() if isinstance(org, str) else org
        others = [v for k, v in rec.items() if k != "organisation" and v not in (None, "", [], ())
                  and not (isinstance(v, float) and pd.isna(v))]
        if not org:
            if others:
                _problem(probs, file, row, columns.get("organisation", "Organisation"), None,
                         "No organisation name", "Add the organisation's name; this row was not loaded.", "error")
            continue
        sector = rec.get("sector")
        sector_code = None
        if isinstance(sector, str) and sector.strip():
            if sector in schema.question("sector").codes:
                sector_code = sector
            else:
                p = _SECTOR.single(sector)
                sector_code = p.codes[0] if p.codes and not p.unknown else None
                if sector_code is None:
                    _problem(probs, file, row, columns.get("sector", "Sector"), sector,
                             "Not one of the survey's sectors",
                             "Use one of: " + ", ".join(schema.question("sector").labels) + ". Left blank for now.",
                             "warning")
        areas_in = rec.get("service_areas")
        area_codes: list[str] = []
        if isinstance(areas_in, list | tuple):
            items = [str(a) for a in areas_in if a]
        elif isinstance(areas_in, str) and areas_in.strip():
            items = [areas_in]
        else:
            items = []
        for item in items:
            if item in schema.question("service_areas").codes:
                area_codes.append(item)
                continue
            p = _AREAS.multi(item)
            area_codes += [c for c in p.codes if not (c == "other" and p.unknown)]
            for u in p.unknown:
                _problem(probs, file, row, columns.get("service_areas", "Service areas"), u,
                         "Not one of the Family Hub service areas",
                         "Use: " + "; ".join(o.label for o in schema.SERVICE_AREAS_ALL) + ". It was left out.",
                         "warning")
        raw_date = rec.get("contacted_on")
        date = parse_date(raw_date) if raw_date not in (None, "") else None
        if raw_date not in (None, "") and date is None and not (isinstance(raw_date, float) and pd.isna(raw_date)):
            _problem(probs, file, row, columns.get("contacted_on", "Date contacted"), raw_date, "Not a date",
                     "Write the date as 01/09/2025 (day first) or 2025-09-01. Left blank for now.", "warning")
        raw_resp = rec.get("responded")
        responded = parse_responded(raw_resp)
        if responded is None and isinstance(raw_resp, str) and raw_resp.strip() and not is_blank(raw_resp):
            _problem(probs, file, row, columns.get("responded", "Responded"), raw_resp, "Not yes or no",
                     "Write Yes or No. Left blank for now.", "warning")
        if responded is None and organisations is not None:
            responded = normalise(org) in organisations
            _problem(probs, file, row, columns.get("responded", "Responded"), None,
                     f"Responded worked out from the survey returns: {'yes' if responded else 'no'}",
                     "Nothing to do, unless the organisation answered under another name.", "info")
        notes = rec.get("notes")
        notes = notes.strip() if isinstance(notes, str) and notes.strip() else None
        key = normalise(org)
        if key in out:
            prev = out[key]
            _problem(probs, file, row, columns.get("organisation", "Organisation"), org,
                     f"Listed twice (first as '{prev['organisation']}'): the two rows were merged",
                     "Nothing to do, unless these are different organisations: then give them distinct names.",
                     "warning")
            prev["service_areas"] = list(dict.fromkeys(prev["service_areas"] + area_codes))
            prev["sector"] = prev["sector"] or sector_code
            prev["contacted_on"] = min((d for d in (prev["contacted_on"], date) if d), default=None)
            prev["responded"] = True if (prev["responded"] or responded) else (
                prev["responded"] if prev["responded"] is not None else responded)
            prev["notes"] = "; ".join(n for n in (prev["notes"], notes) if n) or None
            continue
        out[key] = {"organisation": org, "sector": sector_code, "service_areas": list(dict.fromkeys(area_codes)),
                    "contacted_on": date, "responded": responded, "notes": notes}
    frame = pd.DataFrame(list(out.values()), columns=list(FIELDS), dtype=object)  # None stays None
    problems = pd.DataFrame(probs, columns=PROBLEM_COLUMNS)
    problems["row"] = problems["row"].astype("Int64")
    return AgencyList(frame, problems)


def _service_organisations(store: Store | None) -> set[str] | None:
    if store is None:
        return None
    return {normalise(o) for (o,) in store.rows("SELECT DISTINCT organisation FROM services "
                                                "WHERE organisation IS NOT NULL")}


def read_agencies(data: bytes, file_name: str, *, store: Store | None = None) -> AgencyList:
    """Read a contacted-agencies list from CSV or Excel bytes.

    Args:
        data: The file's bytes.
        file_name: Its name, for messages.
        store: If given, a blank "Responded" is worked out from the survey returns in the store.

    Raises:
        IngestError: unreadable file, or no column of organisation names.
    """
    grid = read_grid(data, file_name)
    best, best_row = -1, 0
    for i, row in enumerate(grid.cells[:HEADER_SEARCH_ROWS]):
        score = len({_HEADING_KEYS[normalise(c)] for c in row if c and normalise(c) in _HEADING_KEYS})
        if score > best:
            best, best_row = score, i
    header = grid.cells[best_row]
    fields: dict[int, str] = {}
    for j, c in enumerate(header):
        f = _HEADING_KEYS.get(normalise(c)) if c else None
        if f and f not in fields.values():
            fields[j] = f
    if "organisation" not in fields.values():
        raise IngestError(
            f"{file_name} has no column of organisation names. Its first row of headings should include "
            "'Organisation' (and optionally Sector, Service areas, Date contacted, Responded, Notes).",
            title="Not an agencies list")
    columns = {f: str(header[j]) for j, f in fields.items()}
    records, numbers = [], []
    for row, n in zip(grid.cells[best_row + 1:], grid.row_numbers[best_row + 1:], strict=True):
        rec = {f: (row[j] if j < len(row) else None) for j, f in fields.items()}
        if any(v is not None for v in rec.values()):
            records.append(rec)
            numbers.append(n)
    if not records:
        raise IngestError(f"{file_name} has headings but no agencies listed under them.", title="Empty file")
    return _check(records, file=file_name, row_numbers=numbers, columns=columns,
                  organisations=_service_organisations(store))


def validate_table(table: pd.DataFrame, *, store: Store | None = None) -> AgencyList:
    """Check the page's edited table (labels, as `agencies_table` returns) back into codes.

    Rows are numbered as the table shows them (1 = first row).
    """
    inv = {v: k for k, v in LABELS.items()}
    records = []
    for r in table.rename(columns=inv).to_dict("records"):
        rec = {f: r.get(f) for f in FIELDS}
        for f in FIELDS:
            v = rec[f]
            if v is not None and not isinstance(v, list | tuple | bool | dt.date) and pd.isna(v):
                rec[f] = None
        records.append(rec)
    return _check(records, file="the table", row_numbers=list(range(1, len(records) + 1)),
                  columns=dict(LABELS), organisations=_service_organisations(store))


def _as_date(v: Any) -> dt.date | None:
    if v is None or (not isinstance(v, str | dt.date) and pd.isna(v)):
        return None
    d = parse_date(v)
    if d is None:
        raise ValueError(f"not a date: {v!r}")
    return d


def replace_agencies(store: Store, agencies: pd.DataFrame) -> int:
    """Replace the whole contacted-agencies list in one transaction; returns how many were stored.

    Args:
        agencies: A checked frame (`AgencyList.frame`): organisation, sector, service_areas (codes),
            contacted_on, responded, notes.
    """
    df = agencies.reset_index(drop=True)
    with store.write() as cur:
        cur.execute("DELETE FROM agency_areas")
        cur.execute("DELETE FROM agencies")
        if df.empty:
            return 0
        first = int(cur.execute("SELECT coalesce(max(agency_id), 0) + 1 FROM agencies").fetchall()[0][0])
        ids = list(range(first, first + len(df)))
        main = pd.DataFrame({
            "agency_id": ids,
            "organisation": df["organisation"].astype(str).to_numpy(),
            "sector": df["sector"].astype("object").where(df["sector"].notna(), None).to_numpy(),
            "contacted_on": [_as_date(d) for d in df["contacted_on"]],
            "responded": df["responded"].astype("boolean").to_numpy(),
            "notes": df["notes"].astype("object").where(df["notes"].notna(), None).to_numpy(),
        })
        cur.register("_agencies", main)
        try:
            cur.execute("INSERT INTO agencies (agency_id, organisation, sector, contacted_on, responded, notes) "
                        "SELECT agency_id, organisation, sector, CAST(contacted_on AS DATE), responded, notes "
                        "FROM _agencies")
        finally:
            cur.unregister("_agencies")
        areas = [(aid, a) for aid, codes in zip(ids, df["service_areas"], strict=True) for a in (codes or [])]
        if areas:
            cur.register("_agency_areas", pd.DataFrame(areas, columns=["agency_id", "area"]))
            try:
                cur.execute("INSERT INTO agency_areas SELECT agency_id, area FROM _agency_areas")
            finally:
                cur.unregister("_agency_areas")
    return len(df)


_AGENCIES_SQL = """
SELECT a.agency_id, a.organisation, a.sector, a.contacted_on, a.responded, a.notes,
       coalesce(list(aa.area ORDER BY aa.area) FILTER (WHERE aa.area IS NOT NULL), []::VARCHAR[]) AS service_areas
FROM agencies a LEFT JOIN agency_areas aa USING (agency_id)
GROUP BY ALL ORDER BY a.agency_id
"""


def agencies_frame(store: Store) -> pd.DataFrame:
    """The stored list with codes: agency_id, organisation, sector, contacted_on, responded, notes,
    service_areas (list of area codes in survey order)."""
    df = store.read(_AGENCIES_SQL)
    order = {c: i for i, c in enumerate(schema.question("service_areas").codes)}
    df["service_areas"] = [sorted(v if v is not None else [], key=lambda c: order.get(c, 99))
                           for v in df["service_areas"]]
    return df


def agencies_table(store: Store) -> pd.DataFrame:
    """The stored list in plain English (labels), the shape the page edits and downloads."""
    df = agencies_frame(store)
    q = schema.question("service_areas")
    return pd.DataFrame({
        LABELS["organisation"]: df["organisation"].astype("object"),
        LABELS["sector"]: [schema.label("sector", s) if isinstance(s, str) else None for s in df["sector"]],
        LABELS["service_areas"]: [[q.label_of(c) for c in v] for v in df["service_areas"]],
        LABELS["contacted_on"]: pd.to_datetime(df["contacted_on"]).dt.date,
        LABELS["responded"]: df["responded"].astype("boolean"),
        LABELS["notes"]: df["notes"].astype("object"),
    })


def agencies_csv(store: Store) -> bytes:
    """The list as a CSV download (UTF-8 with BOM so Excel shows £ and accents; formulas neutralised)."""
    table = agencies_table(store)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(list(table.columns))
    for r in table.itertuples(index=False):
        out = []
        for v in r:
            if isinstance(v, list):
                v = "; ".join(v)
            elif v is None or (not isinstance(v, str) and pd.isna(v)):
                v = ""
            elif isinstance(v, bool | np.bool_):
                v = "Yes" if v else "No"
            out.append(csv_safe(str(v) if not isinstance(v, str) else v))
        w.writerow(out)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
