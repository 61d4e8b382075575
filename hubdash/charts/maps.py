"""Ward maps: a pydeck choropleth for the page and an Altair map for PNG export and reports.

No base map tiles: `map_provider=None` makes no outside request, so the map works offline and
the wards themselves are the picture. Colours come from the palette in `hubdash.charts`:

* Sequential measures use one blue hue, light to dark (the palette's sky blue, blue and dark
  blue, plus two lighter tints of them), which reads the same for every common colour-vision
  type and in greyscale. Zero services is a gap: light vermillion, labelled "No service".
* Need vs provision is a 3×3 bivariate scheme: vermillion for need, blue for provision, both
  from the Okabe-Ito palette (safe for protanopia, deuteranopia and tritanopia). High need with
  low provision is the strongest vermillion and gets a thick dark outline, so it never rests
  on colour alone; the legend names every class and counts its wards.

pydeck has no legend, so `legend_chart` / `bivariate_legend` build one in Altair. The deck's
JSON is built once, compactly, with the ward GeoJSON spliced in as pre-serialised text, which
keeps a map of 7,681 wards to a few MB and a few tens of milliseconds.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd
import pydeck as pdk
from pydeck.bindings.json_tools import default_serialize

from hubdash import schema
from hubdash.charts import COVERED, GAP, GAP_FILL, INK, LEVEL_COLOURS, MUTED, NEUTRAL, PALETTE, style

WHITE = "#FFFFFF"
SKY, BLUE, DARK_BLUE = PALETTE[4], COVERED, LEVEL_COLOURS["targeted_indicated"]
HUB_COLOUR = PALETTE[7]      # black discs with a white ring
SITE_COLOUR = WHITE          # white discs with a black ring
NO_DATA = NEUTRAL


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _hex(rgb: Sequence[float]) -> str:
    return "#" + "".join(f"{int(round(max(0, min(255, c)))):02X}" for c in rgb)


def mix(a: str, b: str, t: float) -> str:
    """The colour `t` of the way from `a` to `b` (0 = a, 1 = b)."""
    ra, rb = _rgb(a), _rgb(b)
    return _hex([x + (y - x) * t for x, y in zip(ra, rb, strict=True)])


#: Five light-to-dark blues for sequential classes (tints of the palette's blues).
SEQUENTIAL_RAMP = [mix(WHITE, SKY, 0.2), mix(WHITE, SKY, 0.55), SKY, BLUE, DARK_BLUE]


def _bivariate_colour(need: int, provision: int) -> str:
    """Need against provision as a diverging scheme on their difference, so the message reads
    at a glance on a projector: vermillion where need is ahead of provision (strongest for high
    need with low provision), blue where provision is ahead, greys where they match (darker as
    both rise). Orange-blue-grey stays distinct for every common colour-vision type."""
    gap = need - provision
    if gap >= 2:
        return GAP
    if gap == 1:
        return mix(WHITE, GAP, 0.5)
    if gap == 0:
        return mix(WHITE, MUTED, (0.18, 0.42, 0.68)[need - 1])
    if gap == -1:
        return mix(WHITE, COVERED, 0.45)
    return COVERED


#: (need class, provision class) -> colour; classes 1 = low .. 3 = high.
BIVARIATE_COLOURS = {(n, p): _bivariate_colour(n, p) for n in (1, 2, 3) for p in (1, 2, 3)}
PRIORITY = (3, 1)


# --- classes and legends -------------------------------------------------------------------------


def _nice(v: float, integer: bool) -> float:
    if integer:
        return float(round(v))
    if v == 0:
        return 0.0
    digits = 2 - int(math.floor(math.log10(abs(v)))) - 1
    return round(v, max(digits, 0))


def _fmt(v: float, integer: bool) -> str:
    if integer or float(v).is_integer():
        return f"{v:,.0f}"
    return f"{v:,.{1 if abs(v) >= 10 else 2}f}".rstrip("0").rstrip(".")


def classify(values: pd.Series, *, zero_is_gap: bool = False, higher_is_darker: bool = True,
             unit: str = "", n: int = 5, equal: bool = False) -> tuple[pd.Series, pd.DataFrame]:
    """Sequential classes for a measure: (hex colour per ward, legend table).

    Breaks are quantiles (about the same number of wards in each class), or with `equal`
    equal steps from 0 to the largest value, so 31 and 37 services look alike rather than
    opposite (used for provision, where small differences should not look like gaps); both
    rounded to readable numbers. With `zero_is_gap`, 0 gets its own class, "No service", in
    light vermillion.
    With `higher_is_darker=False` (e.g. deprivation decile, 1 = most deprived) the scale is
    flipped so darker always means more of what the map is about. Missing values are "No data".

    Legend columns: label, colour, wards.
    """
    v = pd.to_numeric(values, errors="coerce").astype(float)
    colours = pd.Series(NO_DATA, index=values.index, dtype=object)
    rows: list[dict] = []
    integer = bool(v.dropna().apply(float.is_integer).all()) if v.notna().any() else True
    gap = (v == 0) if zero_is_gap else pd.Series(False, index=v.index)
    if gap.any():
        colours[gap] = GAP_FILL
        rows.append({"label": "No service (gap)", "colour": GAP_FILL, "wards": int(gap.sum())})
    rest = v[v.notna() & ~gap]
    if len(rest):
        if equal:
            top = float(rest.max())
            step = _nice(top / n, integer) or top / n
            if integer:
                step = max(1.0, float(math.ceil(top / n)))
            qs = [0.0] + [step * i for i in range(1, n)] + [top]
            qs = [q for q in qs if q <= top]
        else:
            qs = list(np.quantile(rest, np.linspace(0, 1, n + 1)))
        edges = sorted({_nice(q, integer) for q in qs})
        edges[0] = min(edges[0], float(rest.min()))
        edges[-1] = max(edges[-1], float(rest.max()))
        if len(edges) == 1:
            edges = [edges[0], edges[0]]
        k = len(edges) - 1
        # Classes are (lo, hi]: a value on a break belongs to the class whose label ends with it.
        idx = np.clip(np.searchsorted(edges[1:-1], rest.to_numpy(), side="left"), 0, k - 1)
        ramp = SEQUENTIAL_RAMP[-k:] if k < len(SEQUENTIAL_RAMP) else SEQUENTIAL_RAMP
        if k < len(SEQUENTIAL_RAMP) and k <= 2:
            ramp = [SEQUENTIAL_RAMP[1], SEQUENTIAL_RAMP[3]][-k:] if k == 2 else [SEQUENTIAL_RAMP[3]]
        if not higher_is_darker:
            ramp = list(reversed(ramp))
        colours[rest.index] = [ramp[i] for i in idx]
        counts = np.bincount(idx, minlength=k)
        suffix = f" {unit}" if unit and unit not in ("services", "people", "score", "decile") else ""
        for i in range(k):
            lo, hi = edges[i], edges[i + 1]
            if integer and i > 0:
                lo = lo + 1 if lo + 1 <= hi else lo
            elif i == 0 and gap.any() and lo == 0:
                lo = 1.0 if integer else float(rest.min())  # zero has its own class
            label = _fmt(lo, integer) if lo == hi else f"{_fmt(lo, integer)} to {_fmt(hi, integer)}"
            rows.append({"label": label + suffix, "colour": ramp[i], "wards": int(counts[i])})
        if not higher_is_darker:
            rows = rows[: int(gap.any())] + list(reversed(rows[int(gap.any()):]))
    if v.isna().any():
        rows.append({"label": "No data", "colour": NO_DATA, "wards": int(v.isna().sum())})
    return colours, pd.DataFrame(rows, columns=["label", "colour", "wards"])


def bivariate_colours(classes: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """(hex colour per ward, 3×3 legend table: need, provision, colour, wards, label)."""
    colours = [BIVARIATE_COLOURS[(int(a), int(b))] if pd.notna(a) and pd.notna(b) else NO_DATA
               for a, b in zip(classes["need_class"], classes["provision_class"], strict=True)]
    cells = []
    for (nc, pc), colour in BIVARIATE_COLOURS.items():
        n = int(((classes["need_class"] == nc) & (classes["provision_class"] == pc)).sum())
        cells.append({"need": nc, "provision": pc, "colour": colour, "wards": n,
                      "label": f"{('Low', 'Medium', 'High')[nc - 1]} need, "
                               f"{('low', 'medium', 'high')[pc - 1]} provision"})
    return pd.Series(colours, index=classes.index, dtype=object), pd.DataFrame(cells)


def legend_chart(legend: pd.DataFrame, *, title: str, subtitle: str | None = None, presenter: bool = False,
                 styled: bool = True) -> alt.Chart:
    """A legend for the map as its own small chart: swatch, label and how many wards.

    With `styled=False` the chart is left unconfigured, to be combined (e.g. beside a static map).
    """
    df = legend.assign(order=range(len(legend)), text=[f"{lab}  ({w} ward{'s' if w != 1 else ''})"
                                                      for lab, w in zip(legend["label"], legend["wards"], strict=True)])
    y = alt.Y("order:O", axis=None)
    fs = 18 if presenter else 15
    sw = df.assign(x=0)
    swatch = alt.Chart(sw).mark_square(size=420 if presenter else 330, stroke=INK, strokeWidth=0.6, opacity=1).encode(
        x=alt.X("x:Q", axis=None, scale=alt.Scale(domain=[0, 10])), y=y, color=alt.Color("colour:N", scale=None),
        tooltip=[alt.Tooltip("label:N", title="Class"), alt.Tooltip("wards:Q", title="Wards")])
    text = alt.Chart(sw).mark_text(align="left", dx=18, fontSize=fs, color=INK).encode(
        x="x:Q", y=y, text="text:N")
    longest = max([len(title), len(subtitle or "")] + [len(t) + 4 for t in df["text"]])
    chart = (swatch + text).properties(
        width=max(320 if presenter else 280, longest * (11 if presenter else 9)), height=alt.Step(34 if presenter else 28),
        title=alt.Title(title, subtitle=subtitle) if subtitle else title)
    return style(chart, presenter=presenter) if styled else chart


def bivariate_legend(legend: pd.DataFrame, *, need_label: str, provision_label: str,
                     presenter: bool = False, styled: bool = True) -> alt.Chart:
    """The 3×3 need-vs-provision key: ward counts in each cell; the priority cell outlined."""
    levels = ["Low", "Medium", "High"]
    df = legend.assign(need_l=legend["need"].map(lambda i: levels[i - 1]),
                       prov_l=legend["provision"].map(lambda i: levels[i - 1]),
                       dark=[abs(n - p) == 2 or (n, p) == (3, 3) for n, p in
                             zip(legend["need"], legend["provision"], strict=True)],
                       priority=[(n, p) == PRIORITY for n, p in zip(legend["need"], legend["provision"], strict=True)])
    x = alt.X("prov_l:O", sort=levels, title=f"Provision → ({provision_label})",
              axis=alt.Axis(labelAngle=0, titleLimit=420))
    y = alt.Y("need_l:O", sort=list(reversed(levels)), title=f"Need → ({need_label})", axis=alt.Axis(titleLimit=300))
    fs = 20 if presenter else 16
    cells = alt.Chart(df).mark_rect(stroke=WHITE, strokeWidth=2).encode(
        x=x, y=y, color=alt.Color("colour:N", scale=None),
        tooltip=[alt.Tooltip("label:N", title="Class"), alt.Tooltip("wards:Q", title="Wards")])
    ring = alt.Chart(df[df["priority"]]).mark_rect(fill=None, stroke=INK, strokeWidth=4).encode(x=x, y=y)
    counts = alt.Chart(df).mark_text(fontSize=fs, fontWeight="bold").encode(
        x=x, y=y, text=alt.Text("wards:Q"),
        color=alt.condition("datum.dark", alt.value(WHITE), alt.value(INK)))
    size = 92 if presenter else 76
    # Step sizes, not pixel totals: Streamlit's "fit" sizing squeezes discrete axes given a total.
    chart = (cells + ring + counts).properties(
        width=alt.Step(size), height=alt.Step(size),
        title=alt.Title("Wards by need and provision", subtitle=["Orange: need ahead of provision · blue: provision "
                                                                 "ahead · grey: in step", "Outlined: high need, low "
                                                                 "provision (look here first)"]))
    return style(chart, presenter=presenter) if styled else chart


# --- the pydeck map -------------------------------------------------------------------------------


class CompactDeck(pdk.Deck):
    """A `pdk.Deck` serialised once, without indentation, with raw GeoJSON spliced in.

    pydeck indents its JSON and re-serialises on every call; at national scale that costs more
    than the rest of the page. `finalise` builds the text once; `to_json` returns it.
    """

    def finalise(self, raw: dict[str, str]) -> CompactDeck:
        text = json.dumps(self, sort_keys=True, default=default_serialize, separators=(",", ":"))
        for placeholder, data in raw.items():
            text = text.replace(json.dumps(placeholder), data, 1)
        self.__dict__["_compact_json"] = text
        return self

    def to_json(self) -> str:  # noqa: D102
        cached = self.__dict__.get("_compact_json")
        return cached if cached is not None else json.dumps(self, sort_keys=True, default=default_serialize,
                                                            separators=(",", ":"))


def _rgba(hex_colour: str, alpha: int = 255) -> list[int]:
    return [*_rgb(hex_colour), alpha]


def view_for(lon_min: float, lat_min: float, lon_max: float, lat_max: float, *,
             width: int = 900, height: int = 620) -> pdk.ViewState:
    """A view showing the whole box in a map about `width` × `height` pixels."""
    def merc(lat: float) -> float:
        lat = max(min(lat, 85.0), -85.0)
        return math.degrees(math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)))

    dlon = max(lon_max - lon_min, 1e-4) * 1.08
    dlat = max(merc(lat_max) - merc(lat_min), 1e-4) * 1.08
    # deck.gl's web-mercator world is 512 px wide at zoom 0.
    zoom = math.log2(min(width * 360 / (512 * dlon), height * 360 / (512 * dlat)))
    return pdk.ViewState(longitude=(lon_min + lon_max) / 2, latitude=(lat_min + lat_max) / 2,
                         zoom=round(max(0.0, min(zoom, 16.0)), 2), pitch=0, bearing=0)


def features_json(geometries: Sequence[str], properties: Sequence[dict]) -> str:
    """A GeoJSON FeatureCollection as text from geometry texts (as stored) and property dicts."""
    parts = ['{"type":"Feature","geometry":' + g + ',"properties":' + json.dumps(p, separators=(",", ":")) + "}"
             for g, p in zip(geometries, properties, strict=True)]
    return '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"


def coverage_deck(geometries: Sequence[str], cov: pd.DataFrame, colours: Sequence[str], tooltips: Sequence[str], *,
                  outline: Sequence[bool] | None = None, sites: pd.DataFrame | None = None,
                  view: pdk.ViewState | None = None, label_hubs: bool = True, height: int = 620) -> CompactDeck:
    """The ward choropleth with family hubs and delivery sites as markers.

    Args:
        geometries: Display GeoJSON geometry text per ward (aligned with `cov`).
        cov: The coverage rows (ward_code, ward_name, point_lon/lat used for the view).
        colours: Hex fill per ward (from `classify` or `bivariate_colours`).
        tooltips: Tooltip text per ward (plain text: never HTML, names are user data).
        outline: Wards to outline thickly (high need, low provision).
        sites: Delivery points: name, kind, lon, lat, services, how.
        view: The initial view; default fits the wards' points.
    """
    outline = list(outline) if outline is not None else [False] * len(cov)
    props = [{"code": c, "tip": t, "fill": _rgba(f, 235), "line": _rgba(INK if o else WHITE, 255),
              "lw": 3.5 if o else 0.6}
             for c, t, f, o in zip(cov["ward_code"], tooltips, colours, outline, strict=True)]
    placeholder = "__hubdash_wards__"
    layers = [pdk.Layer("GeoJsonLayer", data=placeholder, id="wards", pickable=True, stroked=True, filled=True,
                        get_fill_color="properties.fill", get_line_color="properties.line",
                        get_line_width="properties.lw", line_width_units=pdk.types.String("pixels"), line_width_min_pixels=0.5,
                        auto_highlight=True, highlight_color=[255, 255, 255, 90])]
    if sites is not None and len(sites):
        pts = sites.assign(tip=[f"{n}\n{'Family hub' if k == 'family_hub' else 'Delivery site'}"
                                f" · {s} service{'s' if s != 1 else ''} in view give this postcode"
                                for n, k, s in zip(sites["name"], sites["kind"], sites["services"], strict=True)])
        hubs = pts[pts["kind"] == "family_hub"]
        others = pts[pts["kind"] != "family_hub"]
        cols = ["name", "lon", "lat", "tip"]
        if len(others):
            layers.append(pdk.Layer("ScatterplotLayer", data=others[cols].to_dict("records"), id="sites",
                                    get_position="[lon, lat]", get_radius=6, radius_units=pdk.types.String("pixels"),
                                    get_fill_color=_rgba(SITE_COLOUR), get_line_color=_rgba(INK), stroked=True,
                                    line_width_min_pixels=2, pickable=True))
        if len(hubs):
            layers.append(pdk.Layer("ScatterplotLayer", data=hubs[cols].to_dict("records"), id="family-hubs",
                                    get_position="[lon, lat]", get_radius=11, radius_units=pdk.types.String("pixels"),
                                    get_fill_color=_rgba(HUB_COLOUR), get_line_color=_rgba(WHITE), stroked=True,
                                    line_width_min_pixels=3, pickable=True))
            if label_hubs and len(hubs) <= 40:
                layers.append(pdk.Layer("TextLayer", data=hubs[cols].to_dict("records"), id="hub-labels",
                                        get_position="[lon, lat]", get_text="name", get_size=16,
                                        get_color=_rgba(INK), get_pixel_offset=[0, -22],
                                        background=True, get_background_color=[255, 255, 255, 220],
                                        background_padding=[4, 2], font_family=pdk.types.String("Source Sans Pro, Arial, sans-serif"),
                                        font_weight=600))
    if view is None:
        view = view_for(float(cov["point_lon"].min()), float(cov["point_lat"].min()),
                        float(cov["point_lon"].max()), float(cov["point_lat"].max()), height=height)
    deck = CompactDeck(layers=layers, initial_view_state=view, map_provider=None,
                       tooltip={"text": "{tip}", "style": {"backgroundColor": WHITE, "color": INK, "fontSize": "15px",
                                                          "border": f"1px solid {MUTED}", "whiteSpace": "pre-line",
                                                          "maxWidth": "320px"}})
    return deck.finalise({placeholder: features_json(geometries, props)})


def ward_tooltips(cov: pd.DataFrame, *, measure_label: str, values: pd.Series, unit: str = "",
                  classes: pd.Series | None = None) -> list[str]:
    """Plain-text tooltips: ward name, the figure shown, services, distance and top services."""
    out = []
    per = cov["services_per_1000_under5"]
    for i, r in enumerate(cov.itertuples(index=False)):
        v = values.iloc[i]
        shown = "No data" if pd.isna(v) else (f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}")
        lines = [f"{r.ward_name} ({r.ward_code})"]
        if classes is not None:
            lines.append(str(classes.iloc[i]))
        lines.append(f"{measure_label}: {shown}{(' ' + unit) if unit and unit not in ('services',) and shown != 'No data' else ''}")
        if measure_label != "Services covering the ward":
            lines.append(f"Services covering the ward: {r.services}")
        if pd.notna(per.iloc[i]) and "per 1,000" not in measure_label:
            lines.append(f"Services per 1,000 children aged 0-4: {per.iloc[i]:,.1f}")
        if pd.notna(r.nearest_site_km):
            lines.append(f"Nearest site: {r.nearest_site} ({r.nearest_site_km:,.1f} km)")
        lines.append(f"Services: {r.top_services}")
        out.append("\n".join(lines))
    return out


# --- Altair charts: static map, distance, ward gap map ---------------------------------------------


def static_map(geometries: Sequence[str], cov: pd.DataFrame, colours: Sequence[str], legend: alt.TopLevelMixin, *,
               title: str, subtitle: str | None = None, values: Sequence[str] | None = None) -> alt.HConcatChart:
    """The map as an Altair chart (for PNG export and reports), with its legend beside it.

    `legend` is an unstyled legend (`legend_chart(..., styled=False)`, `MapView.legend_raw`).
    """
    import shapely

    geoms = shapely.from_geojson(list(geometries))
    # Nothing finer than about a pixel of a 620-pixel map survives in the image.
    b = shapely.total_bounds(geoms)
    tol = max(b[2] - b[0], b[3] - b[1]) / 1200
    if tol > 0.0005:
        simple = shapely.simplify(geoms, tol, preserve_topology=True)
        geoms = np.where(shapely.is_empty(simple), geoms, simple)
    # Drawn flat in Web Mercator units with Vega's identity projection: d3's spherical maths reads
    # any ring wound the "wrong" way (or degenerate after simplifying) as the whole globe.
    def to_mercator(xy: np.ndarray) -> np.ndarray:
        lat = np.radians(np.clip(xy[:, 1], -85, 85))
        return np.column_stack([xy[:, 0], np.degrees(np.log(np.tan(np.pi / 4 + lat / 2)))])

    geoms = shapely.transform(geoms, to_mercator)
    feats = [{"type": "Feature", "geometry": json.loads(g),
              "properties": {"ward": n, "fill": c, "value": v}}
             for g, n, c, v in zip(shapely.to_geojson(geoms), cov["ward_name"], colours,
                                   values if values is not None else [""] * len(cov), strict=True)]
    base = alt.Chart(alt.Data(values=feats)).mark_geoshape(stroke=WHITE, strokeWidth=0.6).encode(
        color=alt.Color("properties.fill:N", scale=None),
        tooltip=[alt.Tooltip("properties.ward:N", title="Ward"), alt.Tooltip("properties.value:N", title="Value")],
    ).project(type="identity", reflectY=True).properties(width=620, height=620,
                                          title=alt.Title(title, subtitle=subtitle) if subtitle else title)
    return style(alt.hconcat(base, legend, spacing=30))


def distance_chart(cov: pd.DataFrame, *, max_km: float, n: int = 15, presenter: bool = False) -> alt.Chart:
    """The wards furthest from a place offering the services in view, with the chosen limit marked."""
    df = cov.dropna(subset=["nearest_site_km"]).sort_values(["nearest_site_km", "ward_name"], ascending=[False, True])
    df = df.head(n)[["ward_name", "nearest_site_km", "nearest_site"]].copy()
    df["beyond"] = np.where(df["nearest_site_km"] > max_km, f"Over {max_km:g} km", f"Within {max_km:g} km")
    # An explicit order: layered charts cannot share a computed sort.
    y = alt.Y("ward_name:N", sort=list(dict.fromkeys(df["ward_name"])), title=None)
    bars = alt.Chart(df).mark_bar(size=24 if presenter else 20).encode(
        x=alt.X("nearest_site_km:Q", title="Distance to the nearest site (km)",
                axis=alt.Axis(tickCount=6, format=",.1~f")), y=y,
        color=alt.Color("beyond:N", scale=alt.Scale(domain=[f"Over {max_km:g} km", f"Within {max_km:g} km"],
                                                    range=[GAP, COVERED]), legend=alt.Legend(title=None, orient="top")),
        tooltip=[alt.Tooltip("ward_name:N", title="Ward"), alt.Tooltip("nearest_site_km:Q", title="km", format=".1f"),
                 alt.Tooltip("nearest_site:N", title="Nearest site")])
    labels = alt.Chart(df).mark_text(align="left", dx=4, fontSize=18 if presenter else 14, color=INK).encode(
        x="nearest_site_km:Q", y=y, text=alt.Text("nearest_site_km:Q", format=".1f"))
    rule = alt.Chart(pd.DataFrame({"km": [max_km]})).mark_rule(color=INK, strokeDash=[6, 4], size=2).encode(x="km:Q")
    return style((bars + labels + rule).properties(
        title=alt.Title("Wards furthest from support", subtitle=f"Dashed line: your limit of {max_km:g} km"),
        width="container", height=alt.Step(40 if presenter else 30)), presenter=presenter)


def ward_gap_chart(grid: pd.DataFrame, *, title: str, presenter: bool = False) -> alt.Chart:
    """A small gap map for one ward: services per outcome and age group (all levels), gaps marked."""
    g = grid.groupby(["outcome", "age_group"], sort=False)["service_ids"].agg(
        lambda s: len({i for ids in s for i in ids})).reset_index(name="count")
    g["Outcome"] = g["outcome"].map(lambda c: schema.label("primary_outcome", c))
    g["Age"] = g["age_group"].map(schema.AGE_SHORT)
    g["text"] = np.where(g["count"] > 0, g["count"].astype(str), "–")
    top = max(int(g["count"].max()), 1)
    outcomes = [schema.label("primary_outcome", c) for c in dict.fromkeys(g["outcome"])]
    ages = [schema.AGE_SHORT[c] for c in dict.fromkeys(g["age_group"])]
    x = alt.X("Age:N", sort=ages, title=None, axis=alt.Axis(orient="top", labelAngle=0))
    y = alt.Y("Outcome:N", sort=outcomes, title=None)
    cells = alt.Chart(g).mark_rect(stroke=WHITE, strokeWidth=1.5).encode(
        x=x, y=y,
        color=alt.condition("datum.count == 0", alt.value(GAP_FILL),
                            alt.Color("count:Q", scale=alt.Scale(range=[SEQUENTIAL_RAMP[1], DARK_BLUE],
                                                                 domain=[1, top]), legend=None)),
        tooltip=[alt.Tooltip("Outcome:N"), alt.Tooltip("Age:N"), alt.Tooltip("count:Q", title="Services")])
    text = alt.Chart(g).mark_text(fontSize=15 if presenter else 13).encode(
        x=x, y=y, text="text:N",
        color=alt.condition(f"datum.count > {top / 2}", alt.value(WHITE), alt.value(INK)))
    return style((cells + text).properties(title=alt.Title(title, subtitle="Services in each outcome and age group, "
                                                                           "all target levels; – marks a gap"),
                                           width="container", height=alt.Step(34)), presenter=presenter)


# --- the whole map view ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MapView:
    """A map ready to draw: the deck, its legend, a title, a text alternative and the rows shown."""

    deck: CompactDeck
    legend: alt.Chart
    legend_raw: alt.Chart
    legend_table: pd.DataFrame
    title: str
    alt: str
    rows: pd.DataFrame
    colours: list[str]
    geometries: list[str]
    bivariate: pd.DataFrame | None = None


def coverage_map(cov: pd.DataFrame, meta: pd.DataFrame, geometries: dict[str, str], points: pd.DataFrame, *,
                 measure: str, need: str | None = None, presenter: bool = False) -> MapView:
    """The coverage map for one measure (a `coverage.measures` code, or "bivariate").

    Args:
        cov: Coverage rows (`coverage.coverage_table`), possibly one locality's.
        meta: Needs indicator metadata (`coverage.needs_latest`).
        geometries: ward_code -> display GeoJSON text.
        points: Delivery points (`coverage.delivery_points`).
        measure: What colours the wards; unknown codes fall back to services.
        need: The need indicator for the bivariate view (default: IMD score, else the first).
    """
    from hubdash import coverage

    cov = cov[cov["ward_code"].isin(geometries.keys())].reset_index(drop=True)
    geoms = [geometries[c] for c in cov["ward_code"]]
    options = {m.code: m for m in coverage.measures(cov, meta)}
    bivariate = None
    outline = [False] * len(cov)
    needs = [m for m in options.values() if m.kind == "need"]
    if measure == coverage.BIVARIATE and needs:
        nm = options.get(need) if need in options and options[need].kind == "need" else next(
            (m for m in needs if m.code == "imd_score"), needs[0])
        prov = coverage.provision_for_bivariate(cov)
        bivariate = coverage.bivariate_classes(cov, need=nm.code, provision=prov, higher_is_more_need=nm.higher_is_more_need)
        colours, legend_table = bivariate_colours(bivariate)
        prov_label = coverage.PROVISION[prov][0]
        legend_raw = bivariate_legend(legend_table, need_label=nm.label, provision_label=prov_label, styled=False)
        legend = bivariate_legend(legend_table, need_label=nm.label, provision_label=prov_label, presenter=presenter)
        outline = bivariate["priority"].tolist()
        short = {"services_per_1000_under5": "services per 1,000 under-5s", "services": "services in the ward"}
        title = f"Need vs provision: {nm.label} against {short[prov]}"
        tips = ward_tooltips(cov, measure_label=nm.label, values=cov[nm.code], unit=nm.unit,
                             classes=bivariate["bivariate"])
        values = bivariate["bivariate"]
        n_pr = int(bivariate["priority"].sum())
        alt_text = f"Map of {len(cov)} wards by need and provision; {n_pr} combine high need with low provision."
    else:
        m = options.get(measure) or options["services"]
        values = cov[m.code]
        colours, legend_table = classify(values, zero_is_gap=m.kind == "provision", equal=m.kind == "provision",
                                         higher_is_darker=m.higher_is_more_need, unit=m.unit)
        darker = "more need" if m.kind == "need" else "more provision"
        legend = legend_chart(legend_table, title=m.label, subtitle=f"Darker = {darker}", presenter=presenter)
        legend_raw = legend_chart(legend_table, title=m.label, subtitle=f"Darker = {darker}", styled=False)
        title = m.label
        tips = ward_tooltips(cov, measure_label=m.label, values=values, unit=m.unit)
        gaps = int((values == 0).sum()) if m.kind == "provision" else 0
        alt_text = (f"Map of {len(cov)} wards coloured by {m.label.lower()}"
                    + (f"; {gaps} wards have none." if gaps else "."))
    view = None
    if geoms:
        import shapely

        b = shapely.total_bounds(shapely.from_geojson(geoms))
        if len(points):  # keep markers just outside the wards on screen too (not stray far-away ones)
            mx, my = (b[2] - b[0]) * 0.1, (b[3] - b[1]) * 0.1
            near = points[points["lon"].between(b[0] - mx, b[2] + mx) & points["lat"].between(b[1] - my, b[3] + my)]
            if len(near):
                b = [min(b[0], near["lon"].min()), min(b[1], near["lat"].min()),
                     max(b[2], near["lon"].max()), max(b[3], near["lat"].max())]
        view = view_for(*map(float, b), width=760, height=640)
    # Hub names only where they can be read: at county or national scale they pile up.
    label_hubs = view is None or view.zoom >= 9
    deck = coverage_deck(geoms, cov, list(colours), tips, outline=outline, sites=points, view=view,
                         label_hubs=label_hubs)
    rows = cov[["ward_code", "ward_name"]].assign(value=list(values), colour=list(colours))
    return MapView(deck=deck, legend=legend, legend_raw=legend_raw, legend_table=legend_table, title=title, alt=alt_text, rows=rows,
                   colours=list(colours), geometries=geoms, bivariate=bivariate)
