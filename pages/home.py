"""Home: the headline figures and the biggest gaps, for the filter in force."""

import streamlit as st

from hubdash import charts, overview, ui
from hubdash.summary import headline, largest_gaps

store = ui.get_store()
frame = ui.filtered_services(store)
h = headline(frame, store)

ui.page_header(f"Support for families in {store.meta('la_name', 'your area')}",
               "What is on offer, for whom, and where the gaps are: the six steps of the Foundations "
               "service-mapping guide.", store=store)

c1, c2, c3, c4 = st.columns(4)
c1.metric("Services", f"{h.services:,}", help="Question 2 answered 'Service'")
c2.metric("Interventions", f"{h.interventions:,}", help="Question 2 answered 'Intervention'")
c3.metric("Organisations", f"{h.organisations:,}", help="Distinct answers to question 3")
if h.response_rate is None:
    c4.metric("Response rate", "No list yet", help="Add the contacted-agencies list on Survey ingestion")
else:
    c4.metric("Response rate", f"{h.response_rate:.0%}", f"{h.responded} of {h.contacted} agencies",
              delta_color="off", delta_arrow="off", help="Agencies on the contacted list that returned the survey")

left, right = st.columns([3, 2], gap="large")
with left:
    table = overview.services_by_area(frame)
    ui.show_chart(charts.bar_chart(table, category="Service area", value="Services",
                                   title="Services and interventions by service area", sort="-x",
                                   presenter=ui.is_presenter()),
                  table, key="home_areas")
with right:
    st.subheader("Biggest gaps, pre-birth to 5")
    gaps = largest_gaps(frame, n=5)
    if not gaps:
        st.success("Every outcome has some support at every level from pre-birth to 5.")
    for g in gaps:
        st.markdown(f"- {g['sentence']}")
    st.caption(f"{h.empty_cells} of {h.cells} outcome × age cells (pre-birth to 5, all levels) have no "
               "service or intervention. See **Gap maps** for the whole picture.")

with st.expander(f"The {len(frame):,} survey rows behind these figures"):
    ui.services_table(frame, key="home_rows", height=360)

st.subheader("The six steps")
s = st.columns(3)
ui.nav_link(s[0], "pages/survey_ingestion.py", "1-2 · Collect: load survey returns", icon=":material/upload_file:")
ui.nav_link(s[1], "pages/data_quality.py", "3 · Check your information", icon=":material/fact_check:")
ui.nav_link(s[2], "pages/gap_maps.py", "4-5 · Make sense of it: gap maps", icon=":material/grid_on:")
ui.nav_link(s[0], "pages/geographic_coverage.py", "Geographic coverage", icon=":material/map:")
ui.nav_link(s[1], "pages/redie_access.py", "REDIE: are all families included?", icon=":material/diversity_3:")
