"""REDIE access: who the offer is designed or adapted for, and who it leaves out (survey questions 21-23)."""

import streamlit as st

from hubdash import redie, schema, ui
from hubdash.charts import bar_chart
from hubdash.charts import redie as rc

store = ui.get_store()
filters = ui.current_filters()
frame = ui.filtered_services(store, filters)
presenter = ui.is_presenter()

ui.page_header("REDIE access: are all families included?",
               "Which families the local offer is designed or adapted for (survey question 21), through which "
               "languages, formats and places, and who it may leave out.", store=store)
if frame.empty:
    st.info("No services match the filter in force. Widen the filter in the sidebar, or load survey returns on "
            "Survey ingestion.", icon=":material/filter_alt_off:")
    st.stop()

answers = ui.memo("redie_answers", store, filters, lambda: redie.answer_summary(frame))
m = st.columns(4)
m[0].metric("Adapted for at least one group", f"{answers.adapted:,}", f"of {answers.total:,} services",
            delta_color="off", delta_arrow="off", help="Question 21 names at least one group")
m[1].metric("Answered only 'None'", f"{answers.none_only:,}", help="'None - not specifically adapted': no group")
m[2].metric("Question 21 left blank", f"{answers.not_answered:,}", help="Not the same as 'None': chase these")
m[3].metric("Groups with no adapted service", f"{len(answers.groups_without)}", f"of {len(redie.GROUP_CODES)} groups",
            delta_color="off", delta_arrow="off")
st.caption("A service counts once for each group it is designed or adapted for. 'None - not specifically adapted' "
           "and a blank answer count for no group.")

notes: dict[str, list] = {}
# Store-wide (reads the ward and needs tables): cached per data version and filter like the rest.
reflections = ui.memo("redie_reflections", store, filters,
                      lambda: tuple(redie.reflections(store, frame, filters=filters)))
for item in reflections:
    notes.setdefault(item.section, []).append(item)

# --- 1. who --------------------------------------------------------------------------------------
st.header("Who has adapted support?", divider="gray")
level = ui.redie_level_picker(filters, key="redie_level")
matrix = ui.memo("redie_matrix", store, filters,
                 lambda: redie.group_area_matrix(frame, areas=redie.areas_for(filters), level=level), level)
cells = matrix[~matrix["is_total"]]
left, right = st.columns([3, 2], gap="large")
with left:
    ui.show_chart(ui.chart_spec("redie_matrix", store, filters, lambda: rc.group_area_chart(
        matrix, title="Services designed or adapted for each group, by service area",
        subtitle=f"{int(cells['empty'].sum())} of {len(cells)} cells empty ('none') · "
                 f"{'all target levels' if level is None else schema.LEVEL_SHORT[level]}",
        presenter=presenter), presenter, level), redie.wide_table(matrix), key="redie_matrix")
    ui.redie_drilldown(frame, redie.matrix_drill(matrix, answers), key="redie_matrix_drill")
with right:
    ui.redie_reflections(notes["matrix"])

# --- 2. ages --------------------------------------------------------------------------------------
st.header("Across which ages?", divider="gray")
focus = ui.url_widget(st.radio, "Ages", list(redie.AGE_FOCUS), key="redie_ages", horizontal=True)
ages = ui.memo("redie_ages", store, filters, lambda: redie.group_age_matrix(frame, ages=redie.AGE_FOCUS[focus]), focus)
left, right = st.columns([3, 2], gap="large")
with left:
    ui.show_chart(ui.chart_spec("redie_ages", store, filters, lambda: rc.group_age_chart(
        ages, title=f"Adapted services by age of child: {focus.lower()}",
        subtitle=f"Columns are the age of the child · {int(ages['empty'].sum())} of {len(ages)} cells empty ('none')",
        presenter=presenter), presenter, focus), redie.wide_table(ages), key="redie_ages")
    ui.redie_drilldown(frame, redie.drill_options(ages), key="redie_ages_drill")
with right:
    ui.redie_reflections(notes["ages"])

# --- 3. how ---------------------------------------------------------------------------------------
st.header("Through which languages, formats and places?", divider="gray")
access = ui.memo("redie_access", store, filters, lambda: redie.access_matrix(frame))
needs = ui.memo("redie_needs", store, filters, lambda: redie.needs_latest(store))
langs = ui.memo("redie_langs", store, filters, lambda: redie.languages_vs_population(frame, needs))
interp = ui.memo("redie_interp", store, filters, lambda: redie.interpreter_summary(frame))
ui.show_chart(ui.chart_spec("redie_access", store, filters, lambda: rc.access_chart(
    access, title="How each group's adapted services are offered",
    subtitle="Where or how (question 7), format (6), languages (22), interpreter (23)", presenter=presenter),
    presenter), redie.wide_table(access), key="redie_access")
left, right = st.columns([3, 2], gap="large")
with left:
    lang_chart = ui.chart_spec("redie_langs", store, filters, lambda: rc.languages_chart(
        langs.table, has_population=langs.has_population, presenter=presenter,
        title="Languages spoken locally and offered" if langs.has_population else "Languages services are offered in",
        subtitle="Question 22 (languages other than English) against local language data" if langs.has_population
        else "No local language data to compare with"), presenter)
    ui.show_chart(lang_chart, redie.languages_table(langs), key="redie_langs", caption=langs.note)
    ui.show_chart(ui.chart_spec("redie_interp", store, filters, lambda: bar_chart(
                      interp, category="answer", value="services", title="Is an interpreter available?",
                      subtitle="Question 23, every service in view", sort=list(interp["answer"]), presenter=presenter),
                      presenter),
                  redie.interpreter_table(interp), key="redie_interp")
    ui.redie_drilldown(frame, redie.access_drill(access, langs, interp), key="redie_access_drill")
with right:
    ui.redie_reflections(notes["access"])

# --- 4. where -------------------------------------------------------------------------------------
st.header("Where is need high and adapted support low?", divider="gray")
eq = ui.memo("redie_equity", store, filters, lambda: redie.ward_equity(store, frame))
left, right = st.columns([3, 2], gap="large")
with left:
    if not eq.wards_known or not eq.indicators:
        st.info(eq.note + " Load wards and needs data on Survey ingestion.", icon=":material/map:")
    else:
        priority = int(eq.table["priority"].sum())
        shown = min(len(eq.table), 25)
        ui.show_chart(ui.chart_spec("redie_equity", store, filters, lambda: rc.equity_chart(
                          eq, title="Wards ranked by need for adapted support", limit=shown,
                          subtitle=f"{priority} ward{'s' if priority != 1 else ''} with high need and adapted "
                                   "provision at or below the median"
                                   + (f" · top {shown} of {len(eq.table)} shown" if shown < len(eq.table) else ""),
                          presenter=presenter), presenter),
                      redie.equity_table(eq), key="redie_equity")
        with st.expander("How the ranking works"):
            st.markdown(
                "- **Need score (0-100)**: for each of % minority ethnic residents, deprivation (IMD score) and "
                "% births to mothers under 25, the share of wards with the same or a lower value; then the average.\n"
                "- **Adapted provision**: services covering the ward (question 13) adapted for minority ethnic "
                "families, families with English as an additional language, low-income families or young parents.\n"
                "- **High need, low provision**: need score in the top third (67 or more) and adapted provision at or "
                f"below the median across wards ({eq.median_provision:g}).")
        ui.redie_drilldown(frame, redie.equity_drill(eq), key="redie_equity_drill")
with right:
    ui.redie_reflections(notes["where"])

# --- 5. reach -------------------------------------------------------------------------------------
st.header("Does adapted support reach each group in proportion?", divider="gray")
reach = ui.memo("redie_reach", store, filters, lambda: redie.reach(frame, needs))
left, right = st.columns([3, 2], gap="large")
with left:
    indicative = bool(reach["indicative"].any())
    ui.show_chart(ui.chart_spec("redie_reach", store, filters, lambda: rc.reach_chart(
                      reach, title="Share of families supported, against share of the population",
                      subtitle=("Indicative: some inputs are missing (see the table)" if indicative
                                else "All inputs present"), presenter=presenter), presenter),
                  redie.reach_table(reach), key="redie_reach",
                  caption="Families supported in the last 12 months (question 17) in services adapted for the group, "
                          "as a share of all families supported; population share from the needs table.")
    totals = ui.memo("redie_totals", store, filters, lambda: redie.group_area_matrix(frame))
    ui.redie_drilldown(frame, redie.drill_options(totals[totals["is_total"]]), key="redie_reach_drill")
with right:
    ui.redie_reflections(notes["reach"])
