"""REDIE access charts: group matrices, languages, the ward equity ranking and reach.

Pure builders: the frames come from `hubdash.redie`; colours only from `hubdash.charts`.
Empty cells are written "none" as well as tinted, and every bar carries its figure as text,
so nothing rests on colour alone.
"""

from __future__ import annotations

import textwrap

import altair as alt
import pandas as pd

from hubdash.charts import COVERED, GAP, GAP_FILL, INK, MUTED, NEUTRAL, PALETTE, SEQUENTIAL, style
from hubdash.redie import GROUP_CODES, GROUP_LABELS, HIGH_NEED, Equity

#: Light grey behind the "All areas" total column: it is a sum, not a cell to compare.
TOTAL_FILL = "#F2F2F2"
REACHED = PALETTE[0]
POPULATION = PALETTE[1]
_GROUP_ORDER = [GROUP_LABELS[g] for g in GROUP_CODES]


def _title(title: str, subtitle: str | None) -> alt.Title | str:
    return alt.Title(title, subtitle=subtitle) if subtitle else title


def _wrap(label: str, width: int, lines: int = 1) -> str:
    """A heading on several lines ('|' is split by the axis labelExpr), top-padded to `lines` lines."""
    parts = textwrap.wrap(str(label), width=width, break_long_words=False)[:3] or [""]
    return "|".join([" "] * (lines - len(parts)) + parts)


def _heatmap(cells: pd.DataFrame, *, column_order: list[str], title: str, subtitle: str | None,
             column_title: str | None, tooltip: list[alt.Tooltip], presenter: bool,
             wrap: int = 12, text_size: int = 15, label_size: int = 14) -> alt.TopLevelMixin:
    df = cells.drop(columns=[c for c in ("service_ids",) if c in cells.columns]).copy()
    if "is_total" not in df.columns:
        df["is_total"] = False
    lines = max(len(_wrap(c, wrap).split("|")) for c in column_order)
    df["heading"] = [_wrap(c, wrap, lines) for c in df["column_label"]]
    peak = max(int(df.loc[~df["is_total"], "services"].max() or 0), 1)
    # Text turns white on the darker half of the scale to keep 4.5:1 contrast.
    df["dark"] = (~df["is_total"]) & (df["services"] >= max(2, peak * 0.55))
    k = 1.3 if presenter else 1.0
    # Extra heading lines grow downwards from the first one, so lift the first line clear of the cells;
    # shorter headings are top-padded so every heading's last line sits just above its column.
    padding = 6 + (lines - 1) * round(label_size * k * 1.15)
    base = alt.Chart(df).encode(
        x=alt.X("heading:N", sort=[_wrap(c, wrap, lines) for c in column_order], title=column_title,
                axis=alt.Axis(orient="top", labelAngle=0, labelExpr="split(datum.label, '|')", ticks=False,
                              domain=False, labelPadding=padding, labelFontSize=round(label_size * k),
                              labelLimit=0, labelLineHeight=round(label_size * k * 1.15))),
        y=alt.Y("group_label:N", sort=_GROUP_ORDER, title=None, axis=alt.Axis(ticks=False, domain=False)),
        tooltip=tooltip,
    )
    filled = base.transform_filter("!datum.is_total && datum.services > 0").mark_rect(
        stroke="white", strokeWidth=3).encode(
        color=alt.Color("services:Q", legend=None,
                        scale=alt.Scale(scheme={"name": SEQUENTIAL, "extent": [0.15, 1]}, domain=[0, peak],
                                        clamp=True)))
    empty = base.transform_filter("!datum.is_total && datum.services == 0").mark_rect(
        stroke="white", strokeWidth=3, color=GAP_FILL)
    total = base.transform_filter("datum.is_total").mark_rect(stroke="white", strokeWidth=3, color=TOTAL_FILL)
    text = base.mark_text(fontSize=round(text_size * k)).encode(
        text="cell:N",
        color=alt.when("datum.dark").then(alt.value("white")).otherwise(alt.value(INK)),
    )
    chart = (total + empty + filled + text).properties(
        title=_title(title, subtitle), height=alt.Step(round(44 * k)), width="container")
    return style(chart, presenter=presenter)


def group_area_chart(cells: pd.DataFrame, *, title: str, subtitle: str | None = None,
                     presenter: bool = False) -> alt.TopLevelMixin:
    """Group x service-area heatmap from `redie.group_area_matrix`: counts as text, "none" when empty.

    With a single area shown (the area filter) the "All areas" column would repeat it, so it is left out.
    """
    if cells.loc[~cells["is_total"], "area"].nunique() == 1:
        cells = cells[~cells["is_total"]]
    order = list(dict.fromkeys(cells.loc[~cells["is_total"], "column_label"])) + \
        list(dict.fromkeys(cells.loc[cells["is_total"], "column_label"]))
    tooltip = [alt.Tooltip("group_label:N", title="Group"), alt.Tooltip("area_name:N", title="Service area"),
               alt.Tooltip("services:Q", title="Adapted services")]
    return _heatmap(cells, column_order=order, title=title, subtitle=subtitle, column_title=None,
                    tooltip=tooltip, presenter=presenter, wrap=11)


def group_age_chart(cells: pd.DataFrame, *, title: str, subtitle: str | None = None,
                    presenter: bool = False) -> alt.TopLevelMixin:
    """Group x age-band heatmap from `redie.group_age_matrix`."""
    tooltip = [alt.Tooltip("group_label:N", title="Group"), alt.Tooltip("age_name:N", title="Age group"),
               alt.Tooltip("services:Q", title="Adapted services")]
    return _heatmap(cells, column_order=list(dict.fromkeys(cells["column_label"])), title=title,
                    subtitle=subtitle, column_title=None, tooltip=tooltip, presenter=presenter,
                    wrap=8)


def access_chart(cells: pd.DataFrame, *, title: str, subtitle: str | None = None,
                 presenter: bool = False) -> alt.TopLevelMixin:
    """Group x access-option heatmap from `redie.access_matrix` (formats, modes, language, interpreter)."""
    tooltip = [alt.Tooltip("group_label:N", title="Group"), alt.Tooltip("column_label:N", title="Option"),
               alt.Tooltip("option_help:N", title="From"), alt.Tooltip("services:Q", title="Adapted services")]
    return _heatmap(cells, column_order=list(dict.fromkeys(cells["column_label"])), title=title,
                    subtitle=subtitle, column_title=None, tooltip=tooltip, presenter=presenter, wrap=9,
                    text_size=14, label_size=13)


def languages_chart(table: pd.DataFrame, *, has_population: bool, title: str, subtitle: str | None = None,
                    presenter: bool = False) -> alt.TopLevelMixin:
    """Languages spoken locally (bars, % of residents) and whether any service offers them (text, colour).

    Without local language data the bars are the number of services offering each language.
    """
    df = table.drop(columns=["service_ids"]).copy()
    size = 18 if presenter else 14
    if has_population:
        df["x"] = df["residents_pct"].fillna(0.0)
        df["label"] = [
            (f"{p:.1f}% · " if pd.notna(p) else "not in local data · ")
            + (f"{n} service{'s' if n != 1 else ''}" if n else "NO service")
            for p, n in zip(df["residents_pct"], df["services"], strict=True)]
        df["offered"] = ["Offered by a service" if n else "Offered by no service" for n in df["services"]]
        x = alt.X("x:Q", title="% of residents whose main language it is")
        colour = alt.Color("offered:N", title=None, legend=alt.Legend(orient="top"),
                           scale=alt.Scale(domain=["Offered by a service", "Offered by no service"],
                                           range=[COVERED, GAP]))
    else:
        df["x"] = df["services"]
        df["label"] = [f"{n} service{'s' if n != 1 else ''}" for n in df["services"]]
        x = alt.X("x:Q", title="Services offering it")
        colour = alt.value(COVERED)
    y = alt.Y("language:N", sort=list(df["language"]), title=None)
    tooltip = [alt.Tooltip("language:N", title="Language"), alt.Tooltip("services:Q", title="Services"),
               alt.Tooltip("status:N", title="Status")]
    base = alt.Chart(df)
    bars = base.mark_bar(size=26 if presenter else 22).encode(x=x, y=y, color=colour, tooltip=tooltip)
    text = base.mark_text(align="left", dx=5, fontSize=size, color=INK).encode(x="x:Q", y=y, text="label:N")
    chart = (bars + text).properties(title=_title(title, subtitle), height=alt.Step(44 if presenter else 36),
                                     width="container")
    return style(chart, presenter=presenter)


def equity_chart(eq: Equity, *, title: str, subtitle: str | None = None, presenter: bool = False,
                 limit: int | None = None) -> alt.TopLevelMixin:
    """Wards ranked by need score (bars, 0-100) with the adapted services covering each (text column).

    Priority wards (high need, low provision) are drawn in the gap colour and named "(priority)" on
    the axis; a dashed rule marks the high-need threshold.
    """
    t = eq.table.head(limit) if limit else eq.table
    df = pd.DataFrame({
        "ward": [f"{n} (priority)" if p else n for n, p in zip(t["ward_name"], t["priority"], strict=True)],
        "need": t["need_score"].round(0),
        "need_label": ["no data" if pd.isna(v) else f"{v:.0f}" for v in t["need_score"]],
        "adapted": t["adapted_services"],
        "adapted_label": [str(n) for n in t["adapted_services"]],
        "status": ["High need, low provision" if p else "Other wards" for p in t["priority"]],
        "locality": t["locality"].fillna(""), "rank": t["rank"],
    })
    df["need_x"] = df["need"].fillna(0.0)
    size = 17 if presenter else 14
    provision_x = 116  # the provision column sits right of the 0-100 need scale
    y = alt.Y("ward:N", sort=list(df["ward"]), title=None)
    colour = alt.Color("status:N", title=None, legend=alt.Legend(orient="bottom", direction="horizontal"),
                       scale=alt.Scale(domain=["High need, low provision", "Other wards"], range=[GAP, NEUTRAL]))
    tooltip = [alt.Tooltip("rank:Q", title="Rank"), alt.Tooltip("ward:N", title="Ward"),
               alt.Tooltip("locality:N", title="Locality"), alt.Tooltip("need_label:N", title="Need score"),
               alt.Tooltip("adapted:Q", title="Adapted services covering it")]
    x = alt.X("need_x:Q", title="Need score (0-100): higher = more need for adapted support",
              scale=alt.Scale(domain=[0, 150]), axis=alt.Axis(values=[0, 25, 50, 75, 100]))
    base = alt.Chart(df)
    bars = base.mark_bar(size=22 if presenter else 17).encode(x=x, y=y, color=colour, tooltip=tooltip)
    need_text = base.mark_text(align="left", dx=4, fontSize=size, color=INK).encode(x="need_x:Q", y=y,
                                                                                    text="need_label:N")
    prov_text = base.mark_text(align="left", fontSize=size, color=INK).encode(
        x=alt.datum(provision_x), y=y, text="adapted_label:N", tooltip=tooltip)
    head = (alt.Chart(pd.DataFrame({"x": [HIGH_NEED], "t": ["high need"]}))
            .mark_text(baseline="bottom", dy=-6, fontSize=size, color=MUTED, y=0).encode(x="x:Q", text="t:N")
            + alt.Chart(pd.DataFrame({"x": [provision_x], "t": ["Adapted services"]}))
            .mark_text(baseline="bottom", align="left", dy=-6, fontSize=size, color=MUTED, y=0)
            .encode(x="x:Q", text="t:N"))
    rule = alt.Chart(pd.DataFrame({"x": [HIGH_NEED]})).mark_rule(color=MUTED, strokeDash=[5, 4]).encode(x="x:Q")
    chart = (bars + need_text + prov_text + rule + head).properties(
        title=_title(title, subtitle), height=alt.Step(32 if presenter else 26), width="container")
    return style(chart, presenter=presenter).configure_axisY(grid=False)


def reach_chart(r: pd.DataFrame, *, title: str, subtitle: str | None = None,
                presenter: bool = False) -> alt.TopLevelMixin:
    """Per group: share of families supported in adapted services beside its share of the population."""
    reached, population = "Share of all families supported", "Share of the local population"
    rows = []
    for x in r.itertuples():
        rows.append({"group": x.group_label, "measure": reached, "value": x.reached_share,
                     "label": "no figures" if pd.isna(x.reached_share) else f"{x.reached_share:.0f}%"})
        rows.append({"group": x.group_label, "measure": population, "value": x.population_share,
                     "label": "no local figure" if pd.isna(x.population_share) else f"{x.population_share:.0f}%"})
    df = pd.DataFrame(rows)
    df["x"] = df["value"].fillna(0.0)
    y = alt.Y("group:N", sort=_GROUP_ORDER, title=None)
    y_off = alt.YOffset("measure:N", sort=[reached, population])
    colour = alt.Color("measure:N", title=None, legend=alt.Legend(orient="top", direction="vertical"),
                       scale=alt.Scale(domain=[reached, population], range=[REACHED, POPULATION]))
    base = alt.Chart(df)
    bars = base.mark_bar().encode(x=alt.X("x:Q", title="% (indicative)"), y=y, yOffset=y_off, color=colour,
                                  tooltip=[alt.Tooltip("group:N", title="Group"),
                                           alt.Tooltip("measure:N", title="Measure"),
                                           alt.Tooltip("label:N", title="Value")])
    text = base.mark_text(align="left", dx=4, fontSize=16 if presenter else 13, color=INK).encode(
        x="x:Q", y=y, yOffset=y_off, text="label:N")
    chart = (bars + text).properties(title=_title(title, subtitle), height=alt.Step(24 if presenter else 19),
                                     width="container")
    return style(chart, presenter=presenter)
