"""Exports every page and the report reuse: charts as PNG or SVG, tables as CSV or XLSX, and the
gap map as a formatted Excel sheet mirroring the guide's template 6.

Rules kept here so no caller has to remember them:

* Every export carries a caption: what it shows, the filters used and the date of the survey
  data (`Caption`).
* Personal fields (contact name and email) are dropped from every table, by question code and
  by their column heading.
* Every text cell goes through `safety.csv_safe`, so a service called "=cmd|..." stays text in
  Excel, LibreOffice or Google Sheets.
* Charts are rendered offline by vl-convert: nothing is fetched from the internet.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import altair as alt
import pandas as pd
import vl_convert as vlc

from hubdash import schema
from hubdash.charts import CROWDED, GAP_FILL, INK, MUTED
from hubdash.safety import csv_safe

#: Width in pixels given to charts drawn "container" wide on screen, when exported.
EXPORT_WIDTH = 900
_PERSONAL = set(schema.PERSONAL_FIELDS) | {schema.question(c).short for c in schema.PERSONAL_FIELDS}


@dataclass(frozen=True)
class Caption:
    """What an export shows and under which filters, printed on the export itself.

    Attributes:
        title: What it is, e.g. "Gap map: Kestlemouth".
        filters: The filters in words, e.g. `Filters.describe()` plus page options.
        data_date: The date of the survey data (`meta.data_date`), if known.
        notes: Further lines, e.g. the counting rule.
    """

    title: str
    filters: str
    data_date: str | None = None
    notes: tuple[str, ...] = field(default=())

    def lines(self) -> list[str]:
        date = f"Survey data as of {self.data_date}" if self.data_date else "Survey data date not recorded"
        return [self.title, f"Filters: {self.filters}", f"{date} · exported {dt.date.today():%Y-%m-%d} from hubdash",
                *self.notes]

    def text(self) -> str:
        return " · ".join(self.lines())


# --- charts -----------------------------------------------------------------------------------------

_TOP_LEVEL = ("$schema", "config", "datasets", "background", "padding", "usermeta", "params")


def _fix_container(node: Any, width: int) -> Any:
    """Replace "container" sizes (screen only) by fixed ones: a file has no container."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "width" and v == "container":
                out[k] = width
            elif k == "height" and v == "container":
                out[k] = 400
            else:
                out[k] = _fix_container(v, width)
        return out
    if isinstance(node, list):
        return [_fix_container(v, width) for v in node]
    return node


def captioned_spec(chart: alt.TopLevelMixin | dict, *, caption: Caption, width: int = EXPORT_WIDTH) -> dict:
    """The chart's Vega-Lite spec (from an Altair chart or a spec dict) with the caption printed under it.

    The chart becomes the only panel of a vertical concatenation whose own title, placed at the
    bottom, carries the caption lines; config, data and selections stay at the top level.
    """
    spec = _fix_container(copy.deepcopy(chart if isinstance(chart, dict) else chart.to_dict()), width)
    top = {k: spec.pop(k) for k in _TOP_LEVEL if k in spec}
    spec.pop("autosize", None)
    footer = {"text": caption.lines(), "orient": "bottom", "anchor": "start", "fontSize": 13,
              "fontWeight": "normal", "color": MUTED, "offset": 18, "subtitle": ""}
    return {**top, "vconcat": [spec], "title": footer, "background": "white", "padding": 16}


def chart_png(chart: alt.TopLevelMixin | dict, *, caption: Caption, scale: float = 2) -> bytes:
    """The chart as a PNG (twice screen resolution by default) with its caption underneath."""
    return vlc.vegalite_to_png(json.dumps(captioned_spec(chart, caption=caption)), scale=scale)


def chart_svg(chart: alt.TopLevelMixin | dict, *, caption: Caption) -> bytes:
    """The chart as SVG text (UTF-8 bytes) with its caption underneath."""
    return vlc.vegalite_to_svg(json.dumps(captioned_spec(chart, caption=caption))).encode("utf-8")


# --- tables -------------------------------------------------------------------------------------------


def public_table(df: pd.DataFrame) -> pd.DataFrame:
    """A copy without personal columns and with every text cell neutralised for spreadsheets."""
    out = df.drop(columns=[c for c in df.columns if str(c) in _PERSONAL])
    out = out.rename(columns={c: csv_safe(str(c)) for c in out.columns})
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = [csv_safe(_cell(v)) for v in out[c]]
    return out


def _cell(v: Any) -> Any:
    if isinstance(v, list | tuple):
        return "; ".join(map(str, v))
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return None
    return v


def table_csv(df: pd.DataFrame, *, caption: Caption) -> bytes:
    """CSV bytes (UTF-8 with a byte-order mark, so Excel reads accents): caption lines, a blank line,
    then the table."""
    buf = io.StringIO()
    for line in caption.lines():
        buf.write(_csv_line([csv_safe(line)]))
    buf.write("\n")
    public_table(df).to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue().encode("utf-8-sig")


def _csv_line(values: Sequence[Any]) -> str:
    s = io.StringIO()
    pd.DataFrame([list(values)]).to_csv(s, index=False, header=False, lineterminator="\n")
    return s.getvalue()


def table_xlsx(df: pd.DataFrame, *, caption: Caption, sheet: str = "Data") -> bytes:
    """An Excel workbook: the caption in the first rows, then the table with a bold header,
    filters on and the header row frozen; an "About" sheet repeats the caption."""
    table = public_table(df)
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="xlsxwriter") as xw:
        start = len(caption.lines()) + 1
        table.to_excel(xw, sheet_name=sheet[:31], index=False, startrow=start)
        wb, ws = xw.book, xw.sheets[sheet[:31]]
        ws.write(0, 0, csv_safe(caption.title), wb.add_format({"bold": True, "font_size": 14}))
        for i, line in enumerate(caption.lines()[1:], start=1):
            ws.write(i, 0, csv_safe(line), wb.add_format({"italic": True, "font_color": MUTED}))
        ws.freeze_panes(start + 1, 0)
        if len(table.columns):
            ws.autofilter(start, 0, start + len(table), len(table.columns) - 1)
        for j, c in enumerate(table.columns):
            longest = max([len(str(c))] + [len(str(v)) for v in table[c].head(200) if v is not None])
            ws.set_column(j, j, min(max(10, longest + 2), 60))
        _about(wb, caption)
    return buf.getvalue()


def _about(wb: Any, caption: Caption) -> None:
    ws = wb.add_worksheet("About")
    ws.set_column(0, 0, 110)
    for i, line in enumerate(caption.lines()):
        ws.write(i, 0, csv_safe(line))


# --- the gap map (template 6) -------------------------------------------------------------------------


def gap_map_xlsx(cells: pd.DataFrame, *, caption: Caption, measure: str = "count", crowded_at: int = 10) -> bytes:
    """The gap map as a formatted Excel sheet laid out like the guide's template 6.

    Sheet "Gap map": a title and caption row, merged SERVICE and INTERVENTION headers over the
    age bands, the target level merged down the side of its outcome rows, a number in every
    covered cell, "gap" in every empty (shaded) cell, crowded cells shaded dark with a ▲ before
    the number, and a key. Sheet "Cells": one row per covered cell with the services in it.

    Args:
        cells: From `gapmap.gap_cells` (every cell, with status and labels).
        caption: Title, filters and data date.
        measure: "count" writes numbers of services, "capacity" families a year.
        crowded_at: The threshold used, for the key.
    """
    ages = list(dict.fromkeys(cells["age_group"]))
    outcomes = list(dict.fromkeys(cells["outcome"]))
    levels = list(dict.fromkeys(cells["target_level"]))
    by = {(r.target_level, r.kind, r.outcome, r.age_group): r for r in cells.itertuples(index=False)}
    buf = io.BytesIO()
    import xlsxwriter

    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("Gap map")
    f = _formats(wb)
    n = len(ages)
    last_col = 1 + 2 * n
    ws.merge_range(0, 0, 0, last_col, csv_safe(caption.title), f["title"])
    ws.merge_range(1, 0, 1, last_col, csv_safe(" · ".join(caption.lines()[1:])), f["caption"])
    ws.set_row(1, 30)
    ws.merge_range(3, 0, 4, 0, "TARGET LEVEL", f["head"])
    ws.merge_range(3, 1, 4, 1, "PRIMARY OUTCOME", f["head"])
    for b, kind in enumerate(("service", "intervention")):
        c0 = 2 + b * n
        if n > 1:
            ws.merge_range(3, c0, 3, c0 + n - 1, kind.upper(), f["block"])
        else:
            ws.write(3, c0, kind.upper(), f["block"])
        for i, a in enumerate(ages):
            ws.write(4, c0 + i, schema.AGE_SHORT[a], f["age"])
    ws.set_row(4, 30)
    row = 5
    for level in levels:
        first = row
        for outcome in outcomes:
            ws.write(row, 1, schema.label("primary_outcome", outcome), f["outcome"])
            for b, kind in enumerate(("service", "intervention")):
                for i, a in enumerate(ages):
                    r = by.get((level, kind, outcome, a))
                    _write_cell(ws, row, 2 + b * n + i, r, measure, f)
            row += 1
        label = f"{schema.LEVEL_SHORT[level].upper()} SUPPORT"
        if row - first > 1:
            ws.merge_range(first, 0, row - 1, 0, label, f["level"])
        else:
            ws.write(first, 0, label, f["level"])
    unit = "families a year (question 16)" if measure == "capacity" else "services and interventions"
    ws.write(row + 1, 0, "Key", f["bold"])
    ws.write(row + 1, 1, f"Number = {unit} in the cell; gap = nothing on offer (shaded); "
                         f"▲ = crowded: {crowded_at} or more services, possible duplication (dark).", f["note"])
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 38)
    ws.set_column(2, last_col, 7.5)
    ws.freeze_panes(5, 2)
    ws.set_landscape()
    ws.fit_to_pages(1, 1)
    _cells_sheet(wb, cells, f)
    about = wb.add_worksheet("About")
    about.set_column(0, 0, 110)
    for i, line in enumerate(caption.lines()):
        about.write(i, 0, csv_safe(line))
    wb.close()
    return buf.getvalue()


def _formats(wb: Any) -> dict[str, Any]:
    base = {"font_name": "Arial", "font_size": 11, "valign": "vcenter", "border": 1, "border_color": "#FFFFFF"}

    def fmt(**kw: Any) -> Any:
        return wb.add_format({**base, **kw})

    return {
        "title": wb.add_format({"bold": True, "font_size": 16, "font_name": "Arial"}),
        "caption": wb.add_format({"italic": True, "font_color": MUTED, "text_wrap": True, "valign": "top",
                                  "font_name": "Arial"}),
        "head": fmt(bold=True, align="center", bg_color="#F2F5F9", font_color=INK, text_wrap=True),
        "block": fmt(bold=True, align="center", bg_color="#0B5CAD", font_color="#FFFFFF", font_size=12),
        "age": fmt(bold=True, align="center", text_wrap=True, bg_color="#F2F5F9", font_size=10),
        "level": fmt(bold=True, align="center", text_wrap=True, rotation=90, bg_color="#F2F5F9"),
        "outcome": fmt(font_color=INK),
        "covered": fmt(align="center", bold=True, bg_color="#C6DBEF", num_format="#,##0"),
        "crowded": fmt(align="center", bold=True, bg_color=CROWDED, font_color="#FFFFFF", num_format='"▲ "#,##0'),
        "gap": fmt(align="center", bg_color=GAP_FILL, font_color=MUTED),
        "unknown": fmt(align="center", bg_color="#C6DBEF", font_color=INK),
        "bold": wb.add_format({"bold": True, "font_name": "Arial"}),
        "note": wb.add_format({"font_name": "Arial", "font_color": INK}),
        "wrap": wb.add_format({"font_name": "Arial", "text_wrap": True, "valign": "top"}),
        "th": wb.add_format({"font_name": "Arial", "bold": True, "bg_color": "#F2F5F9"}),
    }


def _write_cell(ws: Any, row: int, col: int, r: Any, measure: str, f: dict[str, Any]) -> None:
    if r is None or r.status == "gap":
        ws.write_string(row, col, "gap", f["gap"])
        return
    style = f["crowded"] if r.status == "crowded" else f["covered"]
    if measure == "capacity":
        if r.capacity_known == 0:
            ws.write_string(row, col, "?", f["unknown"])
            return
        ws.write_number(row, col, float(r.capacity), style)
    else:
        ws.write_number(row, col, int(r.count), style)


def _cells_sheet(wb: Any, cells: pd.DataFrame, f: dict[str, Any]) -> None:
    """Every covered cell with its services: the rows behind each number on the map."""
    ws = wb.add_worksheet("Cells")
    heads = ["Target level", "Block", "Primary outcome", "Age group", "Services", "Capacity (families a year)",
             "Services in the cell"]
    for j, h in enumerate(heads):
        ws.write(0, j, h, f["th"])
    covered = cells[cells["count"] > 0]
    for i, r in enumerate(covered.itertuples(index=False), start=1):
        ws.write(i, 0, schema.LEVEL_SHORT[r.target_level])
        ws.write(i, 1, r.kind.capitalize())
        ws.write(i, 2, schema.label("primary_outcome", r.outcome))
        ws.write(i, 3, schema.label("age_groups", r.age_group))
        ws.write_number(i, 4, int(r.count))
        ws.write_number(i, 5, float(r.capacity))
        ws.write_string(i, 6, csv_safe("; ".join(r.services)), f["wrap"])
    ws.set_column(0, 3, 22)
    ws.set_column(4, 5, 14)
    ws.set_column(6, 6, 100)
    ws.freeze_panes(1, 0)
    if len(covered):
        ws.autofilter(0, 0, len(covered), len(heads) - 1)
