"""Survey ingestion: load survey returns, check every answer, import in one undoable step.

Steps 1-2 of the guide (collect the information). Upload -> what was read -> problems -> column
and answer mapping -> add or replace, with what will change -> import. Also the import history
with undo, one service by hand, the contacted-agencies list and the blank template. Editing is
hidden in presenter mode and for viewers (`ui.can_edit`).
"""

import streamlit as st

from hubdash import ui

store = ui.get_store()
ui.page_header("Survey ingestion", "Load your providers' survey returns, check every answer, and import them "
               "in one step you can undo.", store=store)
editable = ui.can_edit()

if not editable:
    st.info("Loading and editing data is hidden in presenter mode and for viewers. This is the import history.",
            icon=":material/visibility:")
    ui.ingest_history(store, editable=False)
    st.stop()

load, history, one, agencies, template = st.tabs(
    ["Load survey returns", "Import history", "Add or edit a service", "Contacted agencies", "Blank template"])

with load:
    ui.ingest_last_result()
    upload = st.file_uploader(
        "Drop a survey export here (Microsoft Forms or Excel .xlsx, Google Forms or SmartSurvey .csv, Parquet)",
        type=["xlsx", "xlsm", "csv", "txt", "tsv", "parquet"], key=ui.ingest_uploader_key(),
        help="Nothing is saved until you press Import. Files up to 25 MB.")
    with st.expander("Reuse a saved column and answer mapping (optional)"):
        saved = st.file_uploader("Mapping file (.json) saved from an earlier import", type=["json"],
                                 key="ingest_mapping_file")
    if upload is None:
        st.info("Start with the **Blank template** tab if your survey is not running yet. Any export works: "
                "headings are matched to the survey's questions, and you confirm anything unclear before "
                "anything is saved.", icon=":material/upload_file:")
    else:
        with ui.guard():
            survey = ui.ingest_survey(upload, saved)
            st.subheader("1 · What was read")
            ui.ingest_overview(survey)
            st.subheader("2 · Problems to check")
            ui.ingest_problems(survey)
            st.subheader("3 · Columns")
            ui.ingest_column_step(survey)
            st.subheader("4 · Answers outside the survey's options")
            ui.ingest_answer_step(survey)
            ui.ingest_mapping_download(survey)
            st.subheader("5 · Import")
            ui.ingest_confirm(store, survey)

with history:
    st.markdown("Every import is one step: undo puts back exactly what was there before it (services it "
                "replaced or removed come back, services it added go).")
    ui.ingest_history(store, editable=True)

with one:
    st.markdown("Add a service that is missing from the survey returns, or correct one. The same checks as an "
                "import apply; * marks required answers. Each save can be undone.")
    ui.service_form(store)

with agencies:
    st.markdown("Every organisation you asked to fill in the survey, and whether it did. Data quality and Home "
                "use it for response rates (step 3 of the guide: *how representative is the information?*).")
    ui.agencies_summary(store)
    ui.agencies_editor(store, editable=True)
    ui.agencies_loader(store)

with template:
    st.markdown("A spreadsheet your providers can fill in today: one row per service or intervention, one column "
                "per question, drop-down lists for one-answer questions, a **Guidance** sheet (how to fill it in "
                "and why each question is asked) and an **Options** sheet listing every allowed answer. A filled-in "
                "template loads here without any mapping.")
    st.download_button("Download the blank survey template (.xlsx)", ui.template_bytes(),
                       file_name="family-hub-services-survey.xlsx", type="primary", icon=":material/download:",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       key="ingest_template", on_click="ignore")
