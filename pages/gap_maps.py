"""Gap maps: steps 4 and 5 of the guide. Where is there support, for whom, and where are the gaps?

Four views of the same filtered services: the gap map (template 6, Figure 1) with its drill-down
and generated summary, the overview (template 4, Figure 8), the detailed map (template 5) and
prevalence and distribution (template 2). Every view exports with its filters and data date.
"""

import streamlit as st

from hubdash import exports, gapmap, prevalence, schema, ui
from hubdash.charts.gapmap import detailed_map_chart
from hubdash.charts.prevalence import distribution_chart

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

store = ui.get_store()
ui.page_header("Gap maps", "Which outcomes and ages have support at each target level, and where are the gaps?",
               store=store)
presenter = ui.is_presenter()
view, options = ui.gap_controls(store)
frame = ui.gap_services(store, options)
scope = f"{ui.current_filters().describe()}; {options.describe(ward_name=ui.gap_ward_name(store, options.ward))}"
place = store.meta("la_name", "your area")


def caption(what: str, *notes: str) -> exports.Caption:
    return exports.Caption(f"{what}: {place}", scope, store.meta("data_date"), notes)


def chart_downloads(chart, table, name: str, cap: exports.Caption) -> None:  # noqa: ANN001
    ui.gap_downloads([
        ("PNG", lambda: exports.chart_png(chart, caption=cap), f"{name}.png", "image/png"),
        ("SVG", lambda: exports.chart_svg(chart, caption=cap), f"{name}.svg", "image/svg+xml"),
        ("Excel", lambda: exports.table_xlsx(table, caption=cap), f"{name}.xlsx", XLSX),
        ("CSV", lambda: exports.table_csv(table, caption=cap), f"{name}.csv", "text/csv"),
    ], key=name)


if frame.empty:
    st.info("No services or interventions match these filters, so every cell would be a gap. Widen the filter "
            "in the sidebar or under **Options**.", icon=":material/filter_alt_off:")
    st.stop()

# --- the gap map (template 6) ----------------------------------------------------------------------
if view == "map":
    cells = ui.gap_cells(store, options)
    chart = ui.gap_map_spec(store, options)  # gap_map_chart's spec, cached: validating it costs time
    table = gapmap.gap_table(cells)
    clicked = ui.gap_map_with_table(chart, table, key="gap_map")
    st.caption("Rows: the outcome each service aims to improve, by target level. Click a cell to list the services "
               "behind it (double-click clears)." + (" Capacity is each service's families a year (question 16), "
               "counted in every cell it covers; ? = no capacity given." if options.measure == "capacity" else ""))

    summary = ui.gap_summary(store, options)
    st.subheader("What the map shows")
    ui.gap_bullets(summary.lines() or ["Every cell has some support."])
    other = int((frame["primary_outcome"] == "other").sum())
    st.caption(f"{summary.empty_cells} of {summary.cells} level × outcome × age cells have no service or "
               "intervention at all." + (f" Not on the map: {other} with the outcome “Other”." if other else ""))
    cap = caption("Gap map", f"Crowded = {options.crowded_at} or more services in a cell.")
    ui.gap_downloads([
        ("PNG", lambda: exports.chart_png(chart, caption=cap), "gap-map.png", "image/png"),
        ("SVG", lambda: exports.chart_svg(chart, caption=cap), "gap-map.svg", "image/svg+xml"),
        ("Excel (template 6)", lambda: exports.gap_map_xlsx(cells, caption=cap, measure=options.measure,
                                                            crowded_at=options.crowded_at), "gap-map.xlsx", XLSX),
        ("CSV", lambda: exports.table_csv(table, caption=cap), "gap-map.csv", "text/csv"),
    ], key="gap_map")

    st.subheader("What is behind a cell")
    level, kind, outcome, age = ui.gap_cell_picker(options.ages, clicked)
    behind = gapmap.cell_services(frame, level=level, kind=kind, outcome=outcome, age=age,
                                  include_secondary=options.include_secondary)
    where = (f"{schema.LEVEL_SHORT[level].lower()} {kind}s for {gapmap.outcome_phrase(outcome)} at "
             f"{schema.label('age_groups', age)}")
    if behind.empty:
        st.warning(f"Gap: there are no {where}.", icon=":material/block:")
    else:
        st.markdown(f"**{len(behind)} {where}**")
        st.dataframe(gapmap.drilldown_table(behind), hide_index=True, key="gap_behind", width="stretch")
        names = dict(zip(behind["service_id"], behind["name"], strict=True))
        pick = st.selectbox("Open a full record", list(names), format_func=names.get, key="gap_record")
        with st.expander(f"Survey answers for {ui.gap_md(names[pick])}", expanded=True):
            ui.gap_markdown_table(gapmap.service_sheet(behind, pick))

# --- the overview (template 4) ---------------------------------------------------------------------
elif view == "overview":
    st.subheader("Overview: which support is there at each stage, for whom?")
    ui.gap_markdown_table(prevalence.overview_table(frame, ages=options.ages, repeat_levels=False))
    st.caption("As in the guide's Figure 8. Local copies of the same offer are folded together (×3 = three places); "
               "a service appears under every stage its age groups reach. Online information = self-help format or "
               "delivered only online or by telephone.")
    long = prevalence.overview_long(frame, ages=options.ages)
    full = prevalence.overview_table(frame, ages=options.ages, limit=None, sep="; ")
    cap = caption("Overview of support for families (template 4)")
    ui.gap_downloads([
        ("Excel", lambda: exports.table_xlsx(full, caption=cap, sheet="Overview"), "overview.xlsx", XLSX),
        ("CSV", lambda: exports.table_csv(full, caption=cap), "overview.csv", "text/csv"),
    ], key="overview")
    with st.expander(f"The {long['service_id'].nunique():,} services and interventions behind the overview"):
        ui.services_table(frame[frame["service_id"].isin(long["service_id"])], key="overview_rows", height=360)

# --- the detailed map (template 5) -----------------------------------------------------------------
elif view == "detailed":
    have = [o for o in gapmap.MAP_OUTCOMES if (frame["primary_outcome"] == o).any()] or gapmap.MAP_OUTCOMES
    outcome = ui.url_widget(st.columns([2, 3])[0].selectbox, "Outcome", have, key="gap_outcome",
                            format_func=ui.GAP_LABELS["primary_outcome"].get)
    rows = prevalence.detailed_rows(frame, ages=options.ages, outcome=outcome,
                                    include_secondary=options.include_secondary)
    table = prevalence.detailed_table(rows)
    if rows.empty:
        st.info("No service or intervention aims at this outcome in the ages shown.", icon=":material/info:")
    else:
        title = f"{schema.label('primary_outcome', outcome)}: each bar is a service or intervention"
        drawn = prevalence.first_services(rows)
        chart = detailed_map_chart(drawn, ages=options.ages, title=title, presenter=presenter,
                                   subtitle="Grouped by target level; the bar spans the age groups it is for")
        more = len(table) - drawn["service_id"].nunique()
        ui.show_chart(chart, table, key="detailed", caption=(
            f"The chart draws the first {drawn['service_id'].nunique()} of {len(table)}; the table lists all. "
            "Narrow the view with Options (sector, ward, …) to see the rest drawn." if more else None))
        chart_downloads(chart, table, "detailed-map", caption("Detailed map (template 5)"))
        with st.expander(f"The {len(table):,} survey rows behind this map"):
            ui.services_table(frame[frame["service_id"].isin(rows["service_id"])], key="detailed_rows")

# --- prevalence and distribution (template 2) ------------------------------------------------------
else:
    dims = prevalence.DIMENSIONS
    question = ui.url_widget(st.segmented_control, "Count services and interventions by", list(dims),
                             key="gap_count_by", format_func=prevalence.HEADINGS.get) or "age_groups"
    focused = gapmap.in_ages(frame, options.ages) if options.ages != gapmap.AGE_CODES else frame
    dist = prevalence.distribution(focused, question=question, include_secondary=options.include_secondary,
                                   ages=options.ages)
    findings = prevalence.distribution_findings(dist, question=question, services=len(focused))
    chart = distribution_chart(dist, question=question, subtitle=findings[0], presenter=presenter)
    shown = dist.assign(Share=[f"{s:.0%}" for s in dist["Share"]])
    ui.show_chart(chart, shown, key="prevalence")
    ui.gap_bullets(findings)
    if schema.question(question).is_multi or options.include_secondary:
        st.caption("A service counts once under each answer it gave, so the bars can add up to more than "
                   f"the {len(focused):,} services and interventions shown.")
    chart_downloads(chart, shown, f"prevalence-{question.replace('_', '-')}", caption(dims[question].title))
    with st.expander("The services behind a bar"):
        answer = st.selectbox("Bar", list(dist[dims[question].heading]), key="gap_bar")
        ui.services_table(prevalence.with_answer(focused, question=question, answer=answer, ages=options.ages,
                                                 include_secondary=options.include_secondary), key="gap_bar_rows")
