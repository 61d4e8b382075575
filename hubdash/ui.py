"""Streamlit glue: the only module in the package that imports streamlit.

Pages call these helpers for the shared frame (store, filters, header, errors, chart + table)
and call the rest of `hubdash` for data and charts. Library code never touches session state.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from hubdash import schema
from hubdash.demo import DEMO_LABEL
from hubdash.errors import HubdashError
from hubdash.schema import Filters
from hubdash.services import filter_frame, labelled, service_frame
from hubdash.store import Store, default_db_path, open_store

# --- store and cached data ------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _store(path: str) -> Store:
    return open_store(path, build_demo_if_missing=True)


def get_store() -> Store:
    """The process-wide store for `$HUBDASH_DB` (built as the demo on first start)."""
    return _store(str(Path(default_db_path()).resolve()))


@st.cache_data(show_spinner=False, max_entries=16)
def _frame(_store: Store, path: str, version: int) -> pd.DataFrame:
    return service_frame(_store)


def all_services(store: Store) -> pd.DataFrame:
    """Every service (cached until the next committed write). Do not mutate the result."""
    return _frame(store, store.path, store.data_version())


def filtered_services(store: Store, filters: Filters | None = None) -> pd.DataFrame:
    return filter_frame(all_services(store), filters or current_filters())


# --- the global filter ----------------------------------------------------------------------

ALL = "all"
AREA_OPTIONS = [ALL, *[o.code for o in schema.SERVICE_AREAS]]
LEVEL_OPTIONS = [ALL, *schema.LEVEL_SHORT]
KIND_OPTIONS = [ALL, "service", "intervention"]
_KIND_LABELS = {ALL: "Services and interventions", "service": "Services only", "intervention": "Interventions only"}


def _area_label(code: str) -> str:
    return "All service areas" if code == ALL else schema.area_label(code)


def _level_label(code: str) -> str:
    return "All target levels" if code == ALL else schema.LEVEL_SHORT[code]


_FILTER_OPTIONS = {"area": AREA_OPTIONS, "level": LEVEL_OPTIONS, "kind": KIND_OPTIONS}


def sidebar_filters() -> Filters:
    """The service-area, level and kind filter: in the sidebar, kept across pages, in the URL.

    The URL carries option codes (`?area=infant_feeding&level=universal`), so a copied link
    reproduces the view; unknown values in a link are ignored.
    """
    for key, options in _FILTER_OPTIONS.items():
        if key not in st.session_state:
            v = st.query_params.get(key)
            st.session_state[key] = v if v in options else ALL
    with st.sidebar:
        st.markdown("**Filter every view**")
        st.selectbox("Service area", AREA_OPTIONS, format_func=_area_label, key="area",
                     help="The four Start for Life service areas")
        st.selectbox("Target level", LEVEL_OPTIONS, format_func=_level_label, key="level")
        st.selectbox("Services or interventions", KIND_OPTIONS, format_func=_KIND_LABELS.get, key="kind")
    # Mirror into the URL on every run: page switches start from a clean query string.
    for key in _FILTER_OPTIONS:
        v = st.session_state[key]
        if v == ALL:
            if key in st.query_params:
                del st.query_params[key]
        elif st.query_params.get(key) != v:
            st.query_params[key] = v
    return current_filters()


def current_filters() -> Filters:
    """The filter in force: the sidebar widgets if drawn, else the URL (a page opened alone)."""

    def pick(key: str) -> str | None:
        v = st.session_state.get(key)
        if v is None:
            v = st.query_params.get(key)
        return None if v in (None, "", ALL) else str(v)

    return Filters(area=pick("area"), level=pick("level"), kind=pick("kind")).validated()


# --- presenter mode ---------------------------------------------------------------------------


def is_presenter() -> bool:
    """Presenter mode hides personal data and editing controls (set by `?present=1`)."""
    if "presenter" in st.session_state:
        return bool(st.session_state["presenter"])
    return st.query_params.get("present") in ("1", "true", "yes")


# --- page frame -------------------------------------------------------------------------------


def page_header(title: str, intro: str | None = None, *, store: Store | None = None) -> None:
    """Title, one line of purpose, the demo-data label and the filter in force."""
    store = store or get_store()
    st.title(title)
    if intro:
        st.markdown(intro)
    if store.is_demo():
        st.info(DEMO_LABEL, icon=":material/science:")
    date = store.meta("data_date")
    st.caption(f"Showing **{current_filters().describe()}**" + (f" · survey data as of {date}" if date else ""))


def coming_next(feature: str) -> None:
    st.warning(f"{feature} is coming next. Nothing on this page is a placeholder number: it is simply not "
               "built yet.", icon=":material/construction:")


@contextmanager
def guard() -> Iterator[None]:
    """Show a `HubdashError` as a clear message instead of a traceback; other errors propagate."""
    try:
        yield
    except HubdashError as e:
        st.error(f"**{e.title}**\n\n{e.msg}", icon=":material/error:")


def show_chart(chart: alt.TopLevelMixin, table: pd.DataFrame, *, key: str, caption: str | None = None) -> None:
    """A chart with its table as a text alternative (two tabs: Chart, Table)."""
    tab_chart, tab_table = st.tabs(["Chart", "Table"])
    with tab_chart:
        st.altair_chart(chart, theme=None, key=f"{key}_chart", width="stretch")
    with tab_table:
        st.dataframe(table, hide_index=True, key=f"{key}_table", width="stretch")
    if caption:
        st.caption(caption)


def services_table(frame: pd.DataFrame, *, key: str, height: int | str = "auto") -> None:
    """The survey rows behind a figure: labelled, with file and row, never personal data."""
    table = labelled(frame, personal=False)
    if "source_row" in frame.columns:
        table.insert(1, "Survey row", frame["source_row"].to_numpy())
    st.dataframe(table, hide_index=True, key=key, height=height, width="stretch")


def nav_link(container, page: str, label: str, icon: str | None = None) -> None:  # noqa: ANN001
    """A link to another page; plain text when the page runs outside the app's navigation (tests)."""
    from streamlit.errors import StreamlitAPIException

    try:
        container.page_link(page, label=label, icon=icon)
    except StreamlitAPIException:
        container.markdown(label)
