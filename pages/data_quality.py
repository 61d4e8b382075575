"""Data quality: step 3 of the guide. How complete? How representative? Is it clear? Whom to chase?"""

import streamlit as st

from hubdash import quality, schema, ui
from hubdash.charts import quality as qc

store = ui.get_store()
filters = ui.current_filters()
presenter = ui.is_presenter()
everything = ui.all_services(store)
frame = ui.filtered_services(store, filters)

ui.page_header("Data quality", "Step 3 of the guide, *check your information*: how complete, how representative "
               "and how clear are the survey returns, and whom should we chase?", store=store)

if frame.empty:
    st.warning("No survey returns match this filter, so there is nothing to check. Choose another service area "
               "or level, or load returns on Survey ingestion.", icon=":material/filter_alt_off:")
    st.stop()

report = ui.quality_report(store, filters)
ui.quality_score_panel(report)
for note in report.notes:
    st.caption(note)

# --- 1. How complete? ---------------------------------------------------------------------------
st.header("How complete is it?", anchor="complete")
comp = report.completeness
blanks = ui.memo("dq_blanks", store, filters, lambda: quality.blank_summary(frame))
req_missing = int(comp.loc[comp["required"], "missing"].sum())
c1, c2, c3 = st.columns(3)
c1.metric("Required answers missing", f"{req_missing:,}", help="Errors: blank answers to the 5 required questions")
c2.metric("Blank optional answers", f"{int((blanks['Blank answers'] - blanks['Required blank']).sum()):,}",
          help="Warnings: blank answers to the optional questions (languages and eligibility not counted: "
               "a blank can mean none)")
c3.metric("Services with every answer", f"{int((blanks['Blank answers'] == 0).sum()):,} of {len(frame):,}")

comp_table = comp.assign(share=(comp["share"] * 100).round(1))[
    ["number", "question", "required", "answered", "missing", "share", "note"]].rename(columns={
        "number": "No.", "question": "Question", "required": "Required", "answered": "Answered",
        "missing": "Blank", "share": "% answered", "note": "Note"})
ui.show_chart(ui.chart_spec("dq_completeness", store, filters,
                            lambda: qc.completeness_chart(comp, presenter=presenter), presenter),
              comp_table, key="dq_completeness",
              caption="Languages and eligibility often stay blank for a good reason (English only; open to all), "
                      "so they are not chased or counted in the score.")

gaps = comp[comp["missing"] > 0]
if len(gaps):
    labels = {c: f"{n}. {q} ({m:,} services)" for c, n, q, m in
              zip(gaps["code"], gaps["number"], gaps["question"], gaps["missing"], strict=True)}
    pick = st.selectbox("Show the services with a blank answer to", list(labels), key="dq_blank_q",
                        format_func=labels.get)
    missing_rows = frame[~quality.answered(frame, schema.question(pick))]
    with st.expander(f"The {len(missing_rows):,} survey rows with this answer blank"):
        ui.services_table(missing_rows, key="dq_blank_rows", height=320)

st.subheader("Which returns have most blanks?")
order = ui.url_widget(st.segmented_control, "Order the rows", ["most_missing", "survey"], key="dq_order",
                      format_func={"most_missing": "Most blanks first", "survey": "Survey order"}.get)
order = order or "most_missing"
grid, grid_note = ui.memo("dq_grid", store, filters, lambda: quality.missingness_grid(frame, order=order), order)
ui.show_chart(ui.chart_spec("dq_grid", store, filters,
                            lambda: qc.missingness_chart(grid, presenter=presenter, note=grid_note), presenter, order),
              blanks, key="dq_grid")

by_org, by_sector = st.tabs(["Blanks by organisation", "Blanks by sector"])
with by_org:
    st.dataframe(report.by_organisation, hide_index=True, width="stretch", key="dq_by_org")
    org = st.selectbox("Show the survey rows from", report.by_organisation["Organisation"].tolist(), key="dq_org")
    given = frame["organisation"].fillna("").str.strip()
    org_rows = frame[given == ("" if org == quality.NO_ORGANISATION else org)]
    ui.services_table(org_rows, key="dq_org_rows", height=240 if len(org_rows) > 5 else "auto")
with by_sector:
    st.dataframe(report.by_sector, hide_index=True, width="stretch", key="dq_by_sector")
st.caption("Blanks are counted over 23 questions (not languages or eligibility). Sorted by blanks per service.")

# --- 2. How representative? -------------------------------------------------------------------
st.header("How representative is it?", anchor="representative")
rep = report.representativeness
if rep is None:
    st.info("**No contacted-agencies list has been loaded**, so there is no response rate: without knowing who "
            "was asked, any rate would be invented. Add the list on **Survey ingestion** (one row per "
            "organisation contacted, with its sector, the service areas it was asked about and whether it "
            "responded).", icon=":material/group_off:")
else:
    about = f" about {schema.area_label(rep.area)}" if rep.area else ""
    if filters.level or filters.kind:
        st.caption("The contacted-agencies list records no target level or kind, so these figures cover every "
                   f"agency contacted{about}.")
    c1, c2, c3 = st.columns(3)
    c1.metric(f"Agencies contacted{about}", f"{rep.contacted:,}")
    c2.metric("Returned the survey", f"{rep.responded:,}")
    c3.metric("Response rate", "No agencies" if not rep.contacted else f"{rep.rate:.0%}",
              help="Agencies that returned the survey, of those contacted (from the contacted-agencies list)")
    if rep.contacted:
        with st.container(border=True):
            st.markdown(f"**What it may mean for the gap map:** {rep.reading}")  # built from schema labels
        sector_table = rep.by_sector.assign(rate=(rep.by_sector["rate"] * 100).round(0))[
            ["Sector", "contacted", "responded", "rate"]].rename(columns={
                "contacted": "Contacted", "responded": "Responded", "rate": "% responded"})
        area_table = rep.by_area.assign(rate=(rep.by_area["rate"] * 100).round(0))[
            ["Service area", "contacted", "responded", "rate"]].rename(columns={
                "contacted": "Contacted", "responded": "Responded", "rate": "% responded"})
        ui.show_chart(ui.chart_spec("dq_rate_sector", store, filters, lambda: qc.response_rate_chart(
                          rep.by_sector, category="Sector", overall=rep.rate, presenter=presenter,
                          title="Response rate by sector"), presenter),
                      sector_table, key="dq_rate_sector")
        ui.show_chart(ui.chart_spec("dq_rate_area", store, filters, lambda: qc.response_rate_chart(
                          rep.by_area, category="Service area", presenter=presenter,
                          title="Response rate by service area"), presenter),
                      area_table, key="dq_rate_area", caption="An agency asked about several areas counts in each.")
        mix_table = rep.by_sector.assign(
            share_contacted=(rep.by_sector["share_contacted"] * 100).round(0),
            share_responses=(rep.by_sector["share_responses"] * 100).round(0))[
            ["Sector", "share_contacted", "share_responses", "gap_points"]].rename(columns={
                "share_contacted": "% of contacted", "share_responses": "% of responses",
                "gap_points": "Difference (points)"})
        ui.show_chart(ui.chart_spec("dq_mix", store, filters, lambda: qc.mix_chart(rep.by_sector, presenter=presenter),
                                    presenter), mix_table, key="dq_mix")
        st.subheader(f"Not yet responded ({len(rep.non_responders):,})")
        if rep.non_responders.empty:
            st.success("Every agency contacted has responded.")
        else:
            st.dataframe(rep.non_responders, hide_index=True, width="stretch", key="dq_non_responders")

# --- 3. Is it clear? ----------------------------------------------------------------------------
st.header("Is it clear?", anchor="clear")
counts = report.issue_counts()
rule_counts = counts[counts["rule"] != "missing_answers"]
ui.show_chart(ui.chart_spec("dq_rules", store, filters,
                            lambda: qc.issue_counts_chart(rule_counts, presenter=presenter), presenter),
              rule_counts.drop(columns="rule"), key="dq_rules")

st.subheader(f"Likely duplicates ({len(report.duplicates):,})")
st.caption("Same or similar name from the same organisation. Services named for different places, such as "
           "\u201cStay and Play (North)\u201d and \u201c(South)\u201d, are treated as separate.")
ui.duplicate_review(store, report, everything)

st.subheader("Every issue")
ui.quality_issues(report, frame)

# --- Whom to chase -------------------------------------------------------------------------------
st.header("Whom to chase", anchor="chase")
ui.chase_list_panel(store, filters)
