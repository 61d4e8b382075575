"""Geographic coverage: can families across the whole area reach support, and is there enough
where need is highest? Layout only: figures come from hubdash.coverage, maps and charts from
hubdash.charts.maps, cached views and the geography loaders from hubdash.ui."""

import streamlit as st

from hubdash import coverage, exports, ui
from hubdash.charts import maps

store = ui.get_store()
ui.page_header("Geographic coverage", "Can families across the whole area reach support, and is there enough "
               "where need is highest?", store=store)
ui.geo_last_report()

if coverage.ward_count(store) == 0:
    st.info("No ward boundaries are loaded yet. Load your wards (GeoJSON, GeoPackage or a zipped Shapefile) below, "
            "then needs figures and the places services are delivered.", icon=":material/map:")
    st.session_state["geo_loader_open"] = True
    ui.geo_loaders(store)
    st.stop()

filters = ui.current_filters()
c1, c2, c3, c4 = st.columns([4, 3, 2, 3])
max_km = c4.slider("Flag wards further than this from support (km)", 0.5, 15.0, 2.0, 0.5, key=ui.COVERAGE_KM,
                   help="Distance from the ward's population-weighted centre (or its centre) to the nearest place "
                        "offering the services in view")
cov, meta, points = ui.coverage_data(store, filters, max_km)
measures = coverage.measures(cov, meta)
labels = {m.code: m.label for m in measures} | {coverage.BIVARIATE: "Need vs provision (bivariate)"}
measure = ui.url_widget(c1.selectbox, "Colour the wards by", list(labels), key="cov_measure",
                        format_func=labels.get)
need = None
need_codes = [m.code for m in measures if m.kind == "need"]
if measure == coverage.BIVARIATE and need_codes:
    need = ui.url_widget(c2.selectbox, "Need indicator", need_codes, key="cov_need", format_func=labels.get,
                         default="imd_score" if "imd_score" in need_codes else need_codes[0])
elif measure == coverage.BIVARIATE:
    c2.warning("Load needs figures to compare need with provision.")
localities = sorted(cov["locality"].dropna().unique())
locality = None
if len(localities) > 1:
    names = {"": "All wards", **{x: x for x in localities}}
    locality = c3.selectbox("Show", list(names), format_func=names.get, key="cov_locality") or None
shown = cov[cov["locality"] == locality].reset_index(drop=True) if locality else cov

view = ui.coverage_map(store, filters, max_km, measure=measure, need=need, locality=locality)
st.subheader(view.title)
left, right = st.columns([5, 4], gap="large")
with left:
    ui.coverage_deck(view, key="cov_map")
with right:
    table = coverage.ward_table(shown, meta, measure=measure, bivariate=view.bivariate)
    st.dataframe(table, hide_index=True, width="stretch", height=720, key="cov_table")
    st.caption("Click a column heading to sort. Hover a ward on the map for its figures and services.")
ui.geo_findings(coverage.findings(shown, max_km=max_km, bivariate=view.bivariate))

ui.geo_downloads([
    ("Coverage table (CSV)", lambda: exports.table_csv(coverage.export_table(shown, meta), caption=ui.geo_caption(
        store, f"Ward coverage: {view.title}", filters)), "coverage.csv", "text/csv"),
    ("Map (PNG)", lambda: exports.chart_png(maps.static_map(view.geometries, view.rows, view.colours, view.legend_raw,
                                                            title=view.title), caption=ui.geo_caption(
        store, f"Map: {view.title}", filters)), "coverage-map.png", "image/png"),
], key="cov")

st.header("Distance to support")
if points.empty:
    st.info("None of the services in view has a placed delivery site yet. Load a postcode lookup or a sites list "
            "(below), or place sites by hand.", icon=":material/location_off:")
else:
    source = "population-weighted centre" if shown["population_points"].notna().any() else "centre"
    chart, dist = ui.coverage_distance(store, filters, max_km, locality=locality)
    ui.show_chart(chart, dist, key="cov_dist",
                  caption=f"Straight-line distance from each ward's {source} to the nearest of {len(points)} places "
                          "offering the services in view (their postcodes, and family hubs when services are "
                          "delivered there). Travel by road or bus is longer.")

st.header("Ward detail")
ward_names = dict(zip(shown["ward_code"], coverage.ward_labels(shown), strict=True))
order = shown.sort_values(["services", "ward_name"])["ward_code"].tolist()
code = ui.url_widget(st.selectbox, "Ward", order, key="cov_ward", format_func=ward_names.get,
                     help="Listed from the fewest services covering the ward to the most")
detail, gap_chart, gap_table = ui.coverage_ward(store, filters, max_km, code)
m = st.columns(4)
m[0].metric("Services covering the ward", f"{int(detail.row['services']):,}",
            help=f"{int(detail.row['services_named'])} name the ward; {int(detail.row['services_whole_la'])} cover "
                 "the whole local authority")
m[1].metric("Per 1,000 children aged 0-4", coverage.fmt(detail.row["services_per_1000_under5"]))
m[2].metric("Nearest site", coverage.fmt(detail.row["nearest_site_km"], "{:,.1f} km", "None placed"),
            help=detail.row["nearest_site"] if isinstance(detail.row["nearest_site"], str) else None)
if view.bivariate is not None:
    cls = view.bivariate.set_index("ward_code").loc[code]
    m[3].metric("Need / provision", coverage.class_words(cls), help=cls["bivariate"])
elif "imd_score" in cov:
    m[3].metric("Deprivation score (IMD)", coverage.fmt(detail.row["imd_score"]))
name = ui.md_text(detail.name)  # survey and boundary text is shown literally
st.markdown(f"**Needs in {name}**")
if detail.needs.empty:
    st.caption("No needs figures are loaded for this ward.")
else:
    st.dataframe(detail.needs.drop(columns=["Period", "Source"]), hide_index=True, width="stretch",
                 key="cov_ward_needs")
    st.caption("Rank 1 = most need among the wards. Sources: " + ui.md_text(coverage.needs_sources(detail.needs)))
st.markdown(f"**Services covering {name}, by service area and target level**")
st.dataframe(detail.by_area_level, hide_index=True, width="stretch", key="cov_ward_levels")
st.caption("A service in two areas counts in both rows; 'All levels' counts each service once.")
ui.show_chart(gap_chart, gap_table, key="cov_ward_gap")
with st.expander(f"The {len(detail.services):,} survey rows behind {name}'s figures"):
    ui.services_table(detail.services, key="cov_ward_rows", height=360)

ui.geo_loaders(store)
