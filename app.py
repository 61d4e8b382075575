"""hubdash: the Streamlit entry point. Declares the pages and the shared sidebar filter."""

import streamlit as st

from hubdash import ui

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/survey_ingestion.py", title="Survey ingestion", icon=":material/upload_file:",
            url_path="ingestion"),
    st.Page("pages/data_quality.py", title="Data quality", icon=":material/fact_check:", url_path="quality"),
    st.Page("pages/gap_maps.py", title="Gap maps", icon=":material/grid_on:", url_path="gaps"),
    st.Page("pages/geographic_coverage.py", title="Geographic coverage", icon=":material/map:",
            url_path="coverage"),
    st.Page("pages/redie_access.py", title="REDIE access", icon=":material/diversity_3:", url_path="redie"),
    st.Page("pages/reflect_and_act.py", title="Reflect and act", icon=":material/forum:", url_path="reflect"),
]


def run() -> None:
    st.set_page_config(page_title="hubdash: support for families", page_icon=":material/family_restroom:",
                       layout="wide", initial_sidebar_state="expanded")
    ui.access_gate()  # sign-in when access control is configured; does nothing for the local demo
    page = st.navigation(PAGES)
    ui.sidebar_filters()
    ui.presenter_controls(page.url_path)  # before the page: presenter mode, step bar, headline finding
    page.run()
    ui.sharing_sidebar(page.url_path)  # after the page: its own URL selections are known by then


run()
