"""The gap map (the guide's Figure 1 / template 6) and the detailed map (template 5) as Altair charts.

Both are pure: cells or rows in (from `hubdash.gapmap.gap_cells` and
`hubdash.prevalence.detailed_rows`), a styled chart out. Meaning never rests on colour: a gap
cell says "gap", a crowded cell carries a ▲ beside its number, and the key above the map
spells both out.
"""

from __future__ import annotations

import json

import altair as alt
import pandas as pd

from hubdash import schema
from hubdash.charts import CROWDED, GAP_FILL, GRID, INK, LEVEL_COLOURS, MUTED, SEQUENTIAL, style

#: The name of the cell selection; `st.altair_chart(..., on_select="rerun")` reports it.
CELL_SELECTION = "cell"
#: Fields that identify one cell, as the selection returns them.
CELL_FIELDS = ["target_level", "kind", "outcome", "age_group"]
CROWDED_MARK = "▲"


def _short_outcome(label: str) -> str:
    """Row names without "Improve" (the caption says the rows are outcomes), to give the cells the width."""
    text = label.removeprefix("Improve ")
    return text[:1].upper() + text[1:]


def gap_map_chart(
    cells: pd.DataFrame,
    *,
    title: str | None = None,
    subtitle: str | None = None,
    measure: str = "count",
    crowded_at: int = 10,
    presenter: bool = False,
    selectable: bool = True,
) -> alt.LayerChart:
    """The gap map: outcomes down the side grouped by target level, age bands across, in two blocks.

    Laid out like the guide's Figure 1: a SERVICE and an INTERVENTION block of age-band columns,
    and a heading row for each target level above its outcome rows. It is one view as wide as
    its container: the columns share the width and the numbers in the cells scale with them, so
    the whole map is always on screen, beside the sidebar or full width on a projector.

    Args:
        cells: Every cell, as `gapmap.gap_cells` returns it (value, status, label and the
            *_label columns).
        title: Chart title (plain English); by default the map's question and its measure.
        subtitle: A line under the title; by default the key to the cells.
        measure: "count" or "capacity": only changes the key's wording (cells carry their label).
        crowded_at: The crowding threshold, for the key.
        presenter: Larger type for a projector.
        selectable: Add the click selection (`CELL_SELECTION`) used for drill-down.
    """
    ages = list(dict.fromkeys(cells["age_group"]))
    levels = list(dict.fromkeys(cells["target_level"]))
    outcomes = list(dict.fromkeys(cells["outcome"]))
    font = 16 if presenter else 14
    unit = "families a year" if measure == "capacity" else "services"
    title = title or ("Where is there support, and where are the gaps? "
                      + ("(families a year)" if measure == "capacity" else "(services and interventions)"))
    key = subtitle or (f"Numbers = {unit} in the cell  ·  gap = nothing on offer  ·  "
                       f"{CROWDED_MARK} = crowded ({crowded_at} or more services: possible duplication)")

    # Band keys sort the grid; the text after "|" is what a label shows.
    def col(kind: str, age: str) -> str:
        return f"{kind}|{age}"

    x_domain = [col("service", a) for a in ages] + ["|"] + [col("intervention", a) for a in ages]
    y_domain = ["blocks|", "ages|"] + [f"{lv}|{o}" for lv in levels for o in ["", *outcomes]]
    # Only what the marks and tooltips use: the service names in each cell stay out of the spec
    # (they can run to thousands of strings; the drill-down lists them instead).
    keep = [*CELL_FIELDS, "count", "capacity", "value", "status", "label", "level_label", "kind_label",
            "outcome_label", "age_label"]
    data = cells[keep].copy()
    data["x"] = [col(k, a) for k, a in zip(data["kind"], data["age_group"], strict=True)]
    data["y"] = [f"{lv}|{o}" for lv, o in zip(data["target_level"], data["outcome"], strict=True)]
    data["text"] = [f"{CROWDED_MARK}{lab}" if st == "crowded" else lab
                    for st, lab in zip(data["status"], data["label"], strict=True)]
    row_names = {f"{lv}|{o}": _short_outcome(schema.label("primary_outcome", o)) for lv in levels for o in outcomes}
    mid = ages[len(ages) // 2]
    headings = pd.DataFrame(
        [{"x": col("service", mid), "y": "blocks|", "text": "SERVICE", "kind": "block"},
         {"x": col("intervention", mid), "y": "blocks|", "text": "INTERVENTION", "kind": "block"}]
        + [{"x": col(k, a), "y": "ages|", "text": schema.AGE_SHORT[a], "kind": "age"}
           for k in ("service", "intervention") for a in ages]
        + [{"x": x_domain[0], "y": f"{lv}|", "text": f"{schema.LEVEL_SHORT[lv].upper()} SUPPORT", "kind": "level"}
           for lv in levels])

    x = alt.X("x:N", scale=alt.Scale(domain=x_domain, paddingInner=0, paddingOuter=0), axis=None)
    y = alt.Y("y:N", scale=alt.Scale(domain=y_domain, paddingInner=0, paddingOuter=0), title=None,
              axis=alt.Axis(labelExpr=_lookup(row_names), labelFontSize=font, ticks=False, domain=False,
                            labelPadding=8, labelLimit=360, labelColor=INK))
    covered = data.loc[data["status"] == "covered", "value"]
    top = max(float(covered.max()), 1.0) if len(covered) else 1.0  # every cell may be a gap or crowded
    fill = alt.Color(
        "value:Q", legend=None,
        scale=alt.Scale(scheme={"name": SEQUENTIAL, "extent": [0.12, 0.55]}, domain=[0, top]),
        condition=[{"test": "datum.status === 'gap'", "value": GAP_FILL},
                   {"test": "datum.status === 'crowded'", "value": CROWDED}],
    )
    tooltip = [alt.Tooltip("level_label:N", title="Target level"), alt.Tooltip("kind_label:N", title="Block"),
               alt.Tooltip("outcome_label:N", title="Outcome"), alt.Tooltip("age_label:N", title="Age"),
               alt.Tooltip("count:Q", title="Services"), alt.Tooltip("capacity:Q", title="Capacity", format=",.0f")]
    # Numbers shrink with the columns (never below 9 px), so a narrow window still shows the whole map.
    band = f"(width / {len(x_domain)})"  # the column width in pixels (`width` is the plot's width signal)
    cell_font = alt.expr(f"clamp({band} * 0.4, 9, {font})")
    # The cells are attached once at the end: Altair copies a chart (data included) at every
    # step of building and styling it, which for 576 cells costs more than everything else.
    base = alt.Chart()
    rect = base.mark_rect(stroke="white", strokeWidth=2).encode(x=x, y=y, fill=fill, tooltip=tooltip)
    numbers = base.transform_filter("datum.status !== 'gap'").mark_text(
        fontSize=cell_font, baseline="middle", fontWeight="bold").encode(
        x=x, y=y, text="text:N", tooltip=tooltip,
        color=alt.condition("datum.status === 'crowded'", alt.value("white"), alt.value(INK)))
    # "gap" in regular weight and a quieter colour: the eye finds gaps by their fill and their word.
    gaps = base.transform_filter("datum.status === 'gap'").mark_text(
        fontSize=alt.expr(f"clamp({band} * 0.34, 8, {font - 2})"), baseline="middle", color=MUTED).encode(
        x=x, y=y, text="text:N", tooltip=tooltip)
    head = alt.Chart(headings)
    blocks = head.transform_filter("datum.kind === 'block'").mark_text(
        fontSize=font + 1, fontWeight="bold", color=INK, baseline="middle").encode(
        x=alt.X("x:N", scale=alt.Scale(domain=x_domain), bandPosition=0 if len(ages) % 2 == 0 else 0.5, axis=None),
        y=y, text="text:N")
    age_row = head.transform_filter("datum.kind === 'age'").mark_text(
        fontSize=alt.expr(f"clamp({band} * 0.36, 9, {font - 1})"), color=INK, lineBreak=" ",
        baseline="middle", dy=-5).encode(x=x, y=y, text="text:N")
    level_rows = head.transform_filter("datum.kind === 'level'").mark_text(
        fontSize=font, fontWeight="bold", color=INK, align="left", baseline="bottom", dy=10).encode(
        x=alt.X("x:N", scale=alt.Scale(domain=x_domain), bandPosition=0, axis=None), y=y, text="text:N")
    layers = [rect, numbers, gaps]
    if selectable:
        sel = alt.selection_point(name=CELL_SELECTION, fields=CELL_FIELDS, on="click", clear="dblclick")
        dim = [alt.condition(sel, alt.value(1.0), alt.value(v)) for v in (0.35, 0.45, 0.45)]
        layers = [layer.encode(opacity=d) for layer, d in zip(layers, dim, strict=True)]
        # A clear cell on top of each cell takes the click (and the tooltip), so a click on a
        # number or on the word "gap" selects the cell just as a click on its edge does.
        layers.append(base.mark_rect(fill="transparent", stroke=None).encode(x=x, y=y, tooltip=tooltip)
                      .add_params(sel))
    chart = alt.layer(*layers, blocks, age_row, level_rows).properties(
        width="container", height=alt.Step(33 if presenter else 29),
        title=alt.Title(title, subtitle=key, subtitlePadding=6))
    chart = style(chart, presenter=presenter)
    chart.data = data
    return chart


def _lookup(names: dict[str, str]) -> str:
    """A Vega expression mapping band keys to row names ('' for heading rows)."""
    pairs = ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in names.items())
    return f"({{{pairs}}})[datum.value] || ''"


def _runs(rows: pd.DataFrame, ages: list[str]) -> pd.DataFrame:
    """One row per service and run of consecutive age bands (a non-contiguous answer gives two bars)."""
    index = {a: i for i, a in enumerate(ages)}
    out = []
    for (order, sid), g in rows.groupby(["order", "service_id"], sort=True):
        first = g.iloc[0]
        idx = sorted(index[a] for a in g["age_group"] if a in index)
        start = prev = idx[0]
        for i in [*idx[1:], None]:
            if i is not None and i == prev + 1:
                prev = i
                continue
            out.append({"row": f"{order:05d}|{first['name']}", "name": first["name"], "group": first["group"],
                        "level_label": schema.LEVEL_SHORT[first["target_level"]],
                        "start": schema.AGE_SHORT[ages[start]], "end": schema.AGE_SHORT[ages[prev]],
                        "ages": schema.label("age_groups", ages[start]) + (
                            "" if start == prev else " to " + schema.label("age_groups", ages[prev]))})
            if i is not None:
                start = prev = i
    return pd.DataFrame(out, columns=["row", "name", "group", "level_label", "start", "end", "ages"])


def detailed_map_chart(
    rows: pd.DataFrame,
    *,
    ages: list[str],
    title: str,
    subtitle: str | None = None,
    presenter: bool = False,
) -> alt.FacetChart:
    """The detailed map: one row per service, a bar across the age bands it covers.

    Rows are grouped by target level and by service or intervention (the group name is the
    panel heading, so the grouping does not rest on colour; colour repeats the level).

    Args:
        rows: From `prevalence.detailed_rows` (one row per service and age band).
        ages: The age band codes to draw across (the age focus), in order.
        title: Chart title.
        subtitle: A line under the title.
        presenter: Larger type for a projector.
    """
    data = _runs(rows, ages)
    groups = list(dict.fromkeys(rows["group"]))
    labels = [schema.AGE_SHORT[a] for a in ages]
    font = 16 if presenter else 14
    step_x = max(40, min(90, 760 // max(len(ages), 1)))
    scale = alt.Scale(domain=labels, paddingInner=0, paddingOuter=0)
    # Gridlines sit on the band edges (bandPosition 0), so each bar is read against its columns.
    x = alt.X("start:N", scale=scale, bandPosition=0, title=None,
              axis=alt.Axis(orient="top", labelAngle=0, labelFontSize=font - 1, ticks=False, domain=False,
                            labelExpr="split(datum.label, ' ')", labelLineHeight=font, labelBaseline="bottom",
                            labelPadding=font + 3, grid=True, gridColor=GRID, bandPosition=0, labelBound=False))
    y = alt.Y("row:N", sort="ascending", title=None, scale=alt.Scale(paddingInner=0.28, paddingOuter=0.2),
              axis=alt.Axis(labelExpr="split(datum.label, '|')[1]", labelFontSize=font - 1, ticks=False,
                            domain=False, labelLimit=360, labelPadding=8))
    # A one-row stand-in while the chart is built and styled; the real rows are attached last.
    bars = alt.Chart(data.head(1)).mark_bar(cornerRadius=3).encode(
        x=x, x2=alt.X2("end:N", bandPosition=1), y=y,
        color=alt.Color("level_label:N", legend=None, scale=alt.Scale(
            domain=list(schema.LEVEL_SHORT.values()), range=[LEVEL_COLOURS[c] for c in schema.LEVEL_SHORT])),
        tooltip=[alt.Tooltip("name:N", title="Service"), alt.Tooltip("group:N", title="Level"),
                 alt.Tooltip("ages:N", title="Ages")],
    ).properties(width=step_x * len(ages), height=alt.Step(30 if presenter else 26))
    chart = bars.facet(
        row=alt.Row("group:N", sort=groups, title=None,
                    header=alt.Header(labelAngle=0, labelAlign="left", labelOrient="top", labelAnchor="start",
                                      labelFontSize=font + 1, labelFontWeight="bold", labelColor=INK,
                                      labelPadding=4)),
        spacing=16,
    ).resolve_scale(y="independent").properties(
        title=alt.Title(title, subtitle=subtitle) if subtitle else title)
    chart = style(chart, presenter=presenter)
    chart.data = data  # attached last: Altair copies the data at every building step otherwise
    return chart
