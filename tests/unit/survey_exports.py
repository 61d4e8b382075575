"""Builders that write the SAME services as each survey tool exports them.

`SERVICES` is a hand-made set of six services (codes, as stored). Each `write_*` function writes
them the way that tool really lays out an export:

* Microsoft Forms .xlsx: ID, Start time, Completion time, Email, Name, Last modified time first;
  one column per question headed by its text; multi-selects joined by ";" with a trailing ";";
  text typed for "Other" appears as an answer of its own.
* Google Forms .csv (UTF-8): Timestamp first; multi-selects joined by ", "; "Other" text inline.
* SmartSurvey .csv in Windows-1252: metadata first; numbered headings ("6. Which format ...");
  each multi-select spread over "N. Question - Option" columns holding the label (or 1) when
  chosen; "Other (please specify)" columns holding the typed text; £ in amounts.
* The canonical layout (the blank template's): question texts as headings, "; " between answers,
  "Other: text" for Other; as .xlsx and .csv.
* Parquet, with multi-selects as lists.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

from hubdash import schema
from hubdash.schema import QUESTIONS

WHOLE = schema.WHOLE_LA

SERVICES: list[dict[str, Any]] = [
    {
        "name": "Café Bébé drop-in", "kind": "service", "organisation": "Zoë's Community Nursery", "sector": "vcs",
        "service_areas": ["infant_feeding", "parenting"], "format": "drop_in",
        "delivery_modes": ["family_hub", "community_venue"], "primary_outcome": "infant_feeding",
        "secondary_outcomes": ["parent_child", "other"], "age_groups": ["prebirth", "m0_12"],
        "target_level": "universal", "eligibility": "Free; £2 donation welcome", "wards": [WHOLE],
        "postcodes": ["KM1 2AB"], "workforce": ["infant_feeding", "volunteers"], "capacity": 120.0,
        "families_supported": 95.0, "annual_cost": 12500.0, "funding": ["charitable"], "evidence": "local",
        "groups": ["low_income", "eal"], "languages": ["Polish", "Urdu"], "interpreter": "on_request",
        "contact_name": "Zoë Brontë", "contact_email": "zoe@example.org",
        "other_answers": {"secondary_outcomes": "Confidence in weaning"},
    },
    {
        "name": "Triple P group", "kind": "intervention", "organisation": "Kestlemouth Council", "sector": "la",
        "service_areas": ["parenting"], "format": "small_group", "delivery_modes": ["family_hub", "online"],
        "primary_outcome": "parenting", "secondary_outcomes": ["parent_child", "parental_conflict"],
        "age_groups": ["y2_3", "y3_5", "ks1"], "target_level": "targeted_selective",
        "eligibility": "Referral from a health visitor", "wards": ["Harbourside", "Old Town"],
        "postcodes": ["KM4 6CD"], "workforce": ["family_support"], "capacity": 60.0, "families_supported": 48.0,
        "annual_cost": 30000.0, "funding": ["fh_sfl_grant", "la_core"], "evidence": "guidebook",
        "groups": ["none"], "languages": [], "interpreter": "yes",
        "contact_name": "Priya Shah", "contact_email": "priya.shah@example.org", "other_answers": {},
    },
    {
        "name": "Perinatal mental health team", "kind": "intervention", "organisation": "Kestlemouth NHS Trust",
        "sector": "nhs", "service_areas": ["perinatal_mh"], "format": "one_to_one",
        "delivery_modes": ["home", "telephone"], "primary_outcome": "perinatal_mh", "secondary_outcomes": [],
        "age_groups": ["prebirth", "m0_12", "m12_18", "m18_24"], "target_level": "targeted_indicated",
        "eligibility": None, "wards": [WHOLE], "postcodes": [], "workforce": ["mental_health", "midwives"],
        "capacity": 200.0, "families_supported": 210.0, "annual_cost": None, "funding": ["nhs_icb"],
        "evidence": "other_evidence", "groups": ["parent_mh"], "languages": [], "interpreter": "yes",
        "contact_name": "Jo Example", "contact_email": "jo@example.org", "other_answers": {},
    },
    {
        "name": "@Home learning club", "kind": "service", "organisation": "Fernhill Library", "sector": "la",
        "service_areas": ["hle"], "format": "medium_group", "delivery_modes": ["community_venue"],
        "primary_outcome": "hle", "secondary_outcomes": ["child_dev"], "age_groups": ["y2_3", "y3_5"],
        "target_level": "universal", "eligibility": "=Dads and carers welcome", "wards": ["Fernhill"],
        "postcodes": ["KM8 3EF"], "workforce": ["early_years"], "capacity": 30.0, "families_supported": 22.0,
        "annual_cost": 1500.0, "funding": ["la_core"], "evidence": "dont_know", "groups": ["fathers"],
        "languages": [], "interpreter": "no", "contact_name": "Lee Example", "contact_email": "lee@example.org",
        "other_answers": {},
    },
    {
        "name": "Talk Together, Play Together", "kind": "service", "organisation": "Little Acorns Ltd",
        "sector": "private", "service_areas": ["hle", "other"], "format": "other",
        "delivery_modes": ["community_venue"], "primary_outcome": "child_dev", "secondary_outcomes": ["hle"],
        "age_groups": ["m18_24", "y2_3", "y3_5"], "target_level": "universal", "eligibility": None,
        "wards": ["Millbrook", "Saltmarsh"], "postcodes": ["KM5 1XY"], "workforce": ["salt", "early_years"],
        "capacity": 40.0, "families_supported": 40.0, "annual_cost": 8000.0, "funding": ["other"],
        "evidence": "local", "groups": ["send"], "languages": ["British Sign Language"], "interpreter": "no",
        "contact_name": "Renée Example", "contact_email": "renee@example.org",
        "other_answers": {"service_areas": "Speech and language", "format": "Outdoor sessions",
                          "funding": "Parent fees"},
    },
    {
        "name": "Young parents' group", "kind": "service", "organisation": "Kestlemouth YMCA", "sector": "other",
        "service_areas": ["parenting", "perinatal_mh"], "format": "small_group", "delivery_modes": ["family_hub"],
        "primary_outcome": "parent_child", "secondary_outcomes": ["perinatal_mh", "parenting"],
        "age_groups": ["prebirth", "m0_12", "m12_18"], "target_level": "targeted_selective",
        "eligibility": "Parents under 25", "wards": ["Quayside"], "postcodes": ["KM2 9ZZ"],
        "workforce": ["family_support", "volunteers"], "capacity": 25.0, "families_supported": 18.0,
        "annual_cost": 4200.0, "funding": ["charitable", "public_health"], "evidence": "local",
        "groups": ["young_parents"], "languages": [], "interpreter": "on_request",
        "contact_name": "Mo Example", "contact_email": "mo@example.org", "other_answers": {},
    },
]

MS_META = ["ID", "Start time", "Completion time", "Email", "Name", "Last modified time"]
SMART_META = ["UserNo", "Name", "Email", "IP Address", "Unique ID", "Started", "Ended"]


def _labels(q: schema.Question, rec: dict, *, other_style: str) -> list[str]:
    """Answer labels for one question; Other as "Other: text", or the bare typed text ("inline")."""
    out = []
    codes = rec.get(q.code) or []
    codes = [codes] if isinstance(codes, str) else codes
    for c in codes:
        if c == "other" and rec["other_answers"].get(q.code):
            text = rec["other_answers"][q.code]
            out.append(text if other_style == "inline" else f"Other: {text}")
        else:
            out.append(q.label_of(c))
    return out


def _number(v: float | None, *, pounds: bool = False) -> str:
    if v is None:
        return ""
    s = f"{v:,.0f}" if pounds else f"{v:.0f}"
    return f"£{s}" if pounds else s


def canonical_rows(records: list[dict] = SERVICES) -> tuple[list[str], list[list[Any]]]:
    """Headings and rows in the blank template's layout (question texts; "; " between answers)."""
    header = [q.text for q in QUESTIONS]
    rows = []
    for r in records:
        row: list[Any] = []
        for q in QUESTIONS:
            v = r.get(q.code)
            if q.kind in ("single", "multi"):
                row.append("; ".join(_labels(q, r, other_style="prefix")))
            elif q.kind in ("wards", "postcodes", "languages"):
                row.append("; ".join(v or []))
            elif q.kind == "number":
                row.append(v)
            else:
                row.append(v)
        rows.append(row)
    return header, rows


def write_canonical_csv(path: Path, records: list[dict] = SERVICES) -> Path:
    header, rows = canonical_rows(records)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        for r in rows:
            w.writerow(["" if v is None else (_number(v) if isinstance(v, float) else v) for v in r])
    return path


def write_canonical_xlsx(path: Path, records: list[dict] = SERVICES) -> Path:
    import openpyxl

    header, rows = canonical_rows(records)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Survey"
    ws.append(header)
    for r in rows:
        ws.append([v if v not in ("",) else None for v in r])
    # Formula-like text must be stored as text cells, as a survey tool writes them.
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    wb.save(path)
    return path


def write_ms_forms(path: Path, records: list[dict] = SERVICES) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(MS_META + [q.text for q in QUESTIONS])
    start = dt.datetime(2025, 9, 1, 9, 30)
    for i, r in enumerate(records, start=1):
        t = start + dt.timedelta(hours=i)
        row: list[Any] = [i, t, t + dt.timedelta(minutes=12), "anonymous", None, None]
        for q in QUESTIONS:
            v = r.get(q.code)
            if q.kind == "multi":
                labels = _labels(q, r, other_style="inline")
                row.append("".join(f"{lab};" for lab in labels) or None)
            elif q.kind == "single":
                labels = _labels(q, r, other_style="inline")
                row.append(labels[0] if labels else None)
            elif q.kind in ("wards", "postcodes", "languages"):
                row.append("; ".join(v or []) or None)
            else:
                row.append(v)
        ws.append(row)
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    wb.save(path)
    return path


def write_google_forms(path: Path, records: list[dict] = SERVICES) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Timestamp"] + [q.text for q in QUESTIONS])
        for i, r in enumerate(records, start=1):
            row = [f"2025/09/0{i} 10:0{i}:00 am GMT+1"]
            for q in QUESTIONS:
                v = r.get(q.code)
                if q.kind in ("single", "multi"):
                    row.append(", ".join(_labels(q, r, other_style="inline")))
                elif q.kind in ("wards", "postcodes", "languages"):
                    row.append(", ".join(v or []))
                elif q.kind == "number":
                    row.append(_number(v))
                else:
                    row.append(v or "")
            w.writerow(row)
    return path


def smartsurvey_rows(records: list[dict] = SERVICES) -> tuple[list[str], list[list[str]]]:
    header = list(SMART_META)
    for q in QUESTIONS:
        base = f"{q.number}. {q.text}"
        if q.kind == "multi":
            header += [f"{base} - {'Other (please specify)' if o.code == 'other' else o.label}" for o in q.options]
        else:
            header.append(base)
            if q.kind == "single" and "other" in q.codes:
                header.append(f"{base} - Other (please specify)")
    rows = []
    for i, r in enumerate(records, start=1):
        row = [str(1000 + i), "", "", f"192.0.2.{i}", f"u{i:04d}", f"01/09/2025 09:{i:02d}", f"01/09/2025 10:{i:02d}"]
        for q in QUESTIONS:
            v = r.get(q.code)
            if q.kind == "multi":
                chosen = set(v or [])
                for o in q.options:
                    if o.code not in chosen:
                        row.append("")
                    elif o.code == "other":
                        row.append(r["other_answers"].get(q.code, "Other"))
                    else:
                        # SmartSurvey writes the label; some exports write 1: use both.
                        row.append("1" if q.code == "workforce" else o.label)
            elif q.kind == "single":
                row.append("Other" if v == "other" else (q.label_of(v) if v else ""))
                if "other" in q.codes:
                    row.append(r["other_answers"].get(q.code, "") if v == "other" else "")
            elif q.kind in ("wards", "postcodes", "languages"):
                row.append(", ".join(v or []))
            elif q.kind == "number":
                row.append(_number(v, pounds=q.code == "annual_cost"))
            else:
                row.append(v or "")
        rows.append(row)
    return header, rows


def write_smartsurvey(path: Path, records: list[dict] = SERVICES) -> Path:
    header, rows = smartsurvey_rows(records)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode("cp1252"))
    return path


def write_parquet(path: Path, records: list[dict] = SERVICES) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols: dict[str, list] = {}
    for q in QUESTIONS:
        values = []
        for r in records:
            v = r.get(q.code)
            if q.kind == "multi":
                values.append(_labels(q, r, other_style="prefix"))
            elif q.kind == "single":
                labels = _labels(q, r, other_style="prefix")
                values.append(labels[0] if labels else None)
            elif q.kind in ("wards", "postcodes", "languages"):
                values.append(list(v or []))
            else:
                values.append(v)
        cols[q.text] = values
    pq.write_table(pa.table(cols), path)
    return path


WRITERS = {
    "ms_forms": ("ms_forms.xlsx", write_ms_forms),
    "google_forms": ("google_forms.csv", write_google_forms),
    "smartsurvey": ("smartsurvey.csv", write_smartsurvey),
    "template_xlsx": ("canonical.xlsx", write_canonical_xlsx),
    "template_csv": ("canonical.csv", write_canonical_csv),
    "parquet": ("services.parquet", write_parquet),
}


def write_all(folder: Path, records: list[dict] = SERVICES) -> dict[str, Path]:
    """Every format of the same services: {detected format code: path}."""
    return {fmt: writer(folder / fname, records) for fmt, (fname, writer) in WRITERS.items()}
