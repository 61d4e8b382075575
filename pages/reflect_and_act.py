"""Reflect and act (guide step 6): the workshop's questions, the report text, exports and the sequence."""

import streamlit as st

from hubdash import presenter, report, ui

store = ui.get_store()
filters = ui.current_filters()
ui.page_header("Reflect and act", "Step 6 of the guide: agree what the map means for families and what to do "
               "about it, then share the report and the workshop slides.", store=store)

rows = ui.memo("reflection_rows", store, filters, lambda: report.reflection_rows(store, filters=filters))

if ui.is_presenter():
    # The workshop view: the questions, large, with what the data suggests; nothing to edit.
    for r in rows:
        with st.container(border=True):
            st.markdown(f"#### {r.question.number}. {ui.md_text(r.question.text)}")
            if r.suggests:
                st.caption(ui.md_text(f"What the data suggests: {r.suggests}"))
            if r.actions:
                st.markdown(ui.md_text(f"Actions: {r.actions}"))
    st.stop()

tab_q, tab_text, tab_export, tab_seq = st.tabs(["Questions and actions", "Report text", "Report and slides",
                                                "Workshop sequence"])
text = report.load_text(store)

with tab_q:
    st.markdown("The guide's questions for the stakeholder workshop. Record what the group thinks and the "
                "actions agreed: they go into the report and the last slide.")
    with st.form("reflect_form", border=False):
        values = {}
        for r in rows:
            st.markdown(f"**{r.question.number}. {ui.md_text(r.question.text)}**")
            for ex in r.question.examples:
                st.caption(ui.md_text(f"For example: {ex}"))
            if r.suggests:
                st.info(ui.md_text(r.suggests), icon=":material/insights:")
            a, b = st.columns(2)
            n = r.question.number
            values[f"reflect_{n}_notes"] = a.text_area("What we think", text[f"reflect_{n}_notes"], height=90,
                                                       max_chars=report.MAX_TEXT, key=f"rq_{n}_notes")
            values[f"reflect_{n}_actions"] = b.text_area("Actions (who, what, by when)", text[f"reflect_{n}_actions"],
                                                         height=90, max_chars=report.MAX_TEXT, key=f"rq_{n}_actions")
        if st.form_submit_button("Save answers and actions", type="primary", icon=":material/save:"):
            with ui.guard():
                ui.require_editor("save the report text")
                report.save_text(store, values)
                st.toast("Saved", icon=":material/check:")

with tab_text:
    st.markdown("The title, scope and purpose open the report and the slides; the commentary appears under the "
                "figures for strengths, gaps and duplications.")
    with st.form("report_text_form", border=False):
        values = {}
        for key in ("title", "scope", "purpose", "strengths_note", "gaps_note", "duplications_note"):
            label, help_text = report.TEXT_FIELDS[key]
            widget = st.text_input if key == "title" else st.text_area
            values[key] = widget(label, text[key], help=help_text, max_chars=report.MAX_TEXT, key=f"rt_{key}")
        if st.form_submit_button("Save report text", type="primary", icon=":material/save:"):
            with ui.guard():
                ui.require_editor("save the report text")
                report.save_text(store, values)
                st.toast("Saved", icon=":material/check:")

with tab_export:
    st.markdown(f"The report (the guide's template 3) and the workshop slides (template 7) for "
                f"**{filters.describe()}**. Every file states the data date and the filters, and contains no "
                "personal data: contact names and emails are never included.")
    st.caption("Change the filter in the sidebar to make a report for one service area. The same files come from "
               "`python -m hubdash export report|slides`.")
    key = (store.data_version(), filters)
    if st.button("Prepare the report and slides", type="primary", icon=":material/description:") \
            or st.session_state.get("exports_for") == key:
        st.session_state["exports_for"] = key
        with ui.guard(), st.spinner("Drawing the charts and writing the files (about half a minute)..."):
            files = ui.workshop_exports(store, filters)
            stem = "hubdash-report" + (f"-{filters.area}" if filters.area else "")
            c = st.columns(4)
            c[0].download_button("Report (web page)", files["html"], f"{stem}.html", "text/html",
                                 icon=":material/html:", on_click="ignore")
            if "pdf" in files:
                c[1].download_button("Report (PDF)", files["pdf"], f"{stem}.pdf", "application/pdf",
                                     icon=":material/picture_as_pdf:", on_click="ignore")
            else:
                c[1].warning(files["pdf_error"].decode("utf-8"))
            c[2].download_button("Report (Word)", files["docx"], f"{stem}.docx",
                                 "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                                 icon=":material/article:", on_click="ignore")
            c[3].download_button("Slides (PowerPoint)", files["pptx"], stem.replace("report", "slides") + ".pptx",
                                 "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                                 icon=":material/slideshow:", on_click="ignore")

with tab_seq:
    st.markdown("Presenter mode steps through these views with **Next** and **Previous** (or the arrow keys, or a "
                "clicker's Page Up and Page Down). Add the view on screen with **Share this view → Add to the "
                "workshop sequence** in the sidebar.")
    steps = presenter.sequence(store)
    if not presenter.saved_sequence(store):
        st.caption("No sequence saved yet: this is the suggested one. Editing it saves your own.")
    for i, s in enumerate(steps, start=1):
        with st.container(border=True, horizontal=True, vertical_alignment="center"):
            st.markdown(f"**{i}.** {ui.md_text(s.label)}  \n{ui.md_text(s.view.describe())}", width="stretch")
            st.button("", key=f"seq_up_{i}", icon=":material/arrow_upward:", help="Move up", disabled=i == 1,
                      on_click=presenter.move_step, args=(store, i), kwargs={"by": -1})
            st.button("", key=f"seq_down_{i}", icon=":material/arrow_downward:", help="Move down",
                      disabled=i == len(steps), on_click=presenter.move_step, args=(store, i), kwargs={"by": 1})
            st.button("", key=f"seq_del_{i}", icon=":material/delete:", help="Remove from the sequence",
                      on_click=presenter.remove_step, args=(store, i))
    a, b = st.columns(2)
    a.button("Start presenting", type="primary", icon=":material/slideshow:", disabled=not steps,
             on_click=ui.start_presenting, key="seq_start")
    if presenter.saved_sequence(store):
        b.button("Go back to the suggested sequence", icon=":material/restart_alt:", key="seq_reset",
                 on_click=presenter.clear_sequence, args=(store,))
