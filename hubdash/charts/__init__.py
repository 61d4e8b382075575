"""Pure chart builders: DataFrame in, `alt.Chart` (or `pdk.Deck`) out. No Streamlit here.

The palette is declared once (`PALETTE`, mirrored in `.streamlit/config.toml`) and is
colour-blind safe (Okabe-Ito). Semantic colours are named so the same meaning always has the
same colour. Every builder sizes its text for a projector and carries a title, axis titles and
tooltips; meaning never rests on colour alone (labels or patterns carry it too).
"""

from __future__ import annotations

import altair as alt
import pandas as pd

# Okabe & Ito (2008), safe for the common forms of colour blindness.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]

INK = "#1A1A1A"          # text: 16:1 on white
MUTED = "#595959"         # secondary text: 7:1 on white
GRID = "#D9D9D9"
COVERED = "#0072B2"       # provision present
GAP = "#D55E00"           # no provision (always paired with a text label)
GAP_FILL = "#FBE3D6"      # light vermillion background for empty cells
CROWDED = "#4B2C83"       # many services in one cell: possible duplication
NEUTRAL = "#BFBFBF"
#: Sequential scheme for counts and rates (single hue, ordered light to dark).
SEQUENTIAL = "blues"
#: Colours for the four Start for Life service areas (codes from the schema).
AREA_COLOURS = {
    "infant_feeding": "#0072B2",
    "parenting": "#E69F00",
    "hle": "#009E73",
    "perinatal_mh": "#CC79A7",
    "other": "#7F7F7F",
}
LEVEL_COLOURS = {"universal": "#56B4E9", "targeted_selective": "#0072B2", "targeted_indicated": "#00366B"}

FONT = "Source Sans Pro, Segoe UI, Helvetica, Arial, sans-serif"


def style(chart: alt.TopLevelMixin, *, presenter: bool = False) -> alt.TopLevelMixin:
    """Projector-friendly type sizes and a quiet frame, applied to any Altair chart.

    One `configure` call (one copy of the chart): chaining `configure_axis`, `configure_title` and
    so on copies the whole chart, data included, once per call.
    """
    k = 1.35 if presenter else 1.0
    return chart.configure(
        font=FONT,
        axis=alt.AxisConfig(labelFontSize=round(14 * k), titleFontSize=round(15 * k), labelColor=INK,
                            titleColor=INK, gridColor=GRID, domainColor=MUTED, labelLimit=round(380 * k)),
        title=alt.TitleConfig(fontSize=round(20 * k), color=INK, anchor="start", subtitleFontSize=round(14 * k),
                              subtitleColor=MUTED),
        legend=alt.LegendConfig(labelFontSize=round(14 * k), titleFontSize=round(14 * k), labelLimit=360),
        header=alt.HeaderConfig(labelFontSize=round(15 * k), titleFontSize=round(16 * k), labelColor=INK),
        view=alt.ViewConfig(stroke=None),
    )


def bar_chart(
    df: pd.DataFrame,
    *,
    category: str,
    value: str,
    title: str,
    value_title: str = "Services",
    category_title: str = "",
    sort: str | list[str] = "-x",
    colour: str = COVERED,
    subtitle: str | None = None,
    presenter: bool = False,
    tooltip: list[str] | None = None,
) -> alt.Chart:
    """A horizontal bar chart with the value printed at the end of each bar.

    Horizontal so long survey labels stay readable; the printed value means the chart reads
    without relying on colour or gridlines.
    """
    base = alt.Chart(df)
    y = alt.Y(f"{category}:N", sort=sort, title=category_title or None)
    bars = base.mark_bar(color=colour, size=26 if presenter else 22).encode(
        x=alt.X(f"{value}:Q", title=value_title), y=y,
        tooltip=tooltip or [alt.Tooltip(f"{category}:N", title=category_title or category),
                            alt.Tooltip(f"{value}:Q", title=value_title)],
    )
    labels = base.mark_text(align="left", dx=4, fontSize=14 if not presenter else 18, color=INK).encode(
        x=f"{value}:Q", y=y, text=alt.Text(f"{value}:Q", format=",.0f"),
    )
    props = {"title": alt.Title(title, subtitle=subtitle) if subtitle else title,
             "height": alt.Step(46 if presenter else 38), "width": "container"}
    return style((bars + labels).properties(**props), presenter=presenter)
