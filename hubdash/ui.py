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


# cache_resource, not cache_data: cache_data unpickles a fresh copy on every hit, which costs
# ~0.08 s at county size and ~1 s at national size on each call. One shared frame per data
# version, handed out as a shallow copy: pandas copy-on-write keeps the cached one unchanged.
@st.cache_resource(show_spinner=False, max_entries=4)
def _frame(_store: Store, path: str, version: int) -> pd.DataFrame:
    return service_frame(_store)


def all_services(store: Store) -> pd.DataFrame:
    """Every service (cached until the next committed write); changing the copy never changes the cache."""
    return _frame(store, store.path, store.data_version()).copy(deep=False)


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


@st.cache_resource(show_spinner=False, max_entries=512)
def _memo(name: str, path: str, version: int, filters: Filters, extra: tuple, _compute):  # noqa: ANN001, ANN202
    return _compute()


def memo(name: str, store: Store, filters: Filters, compute, *extra):  # noqa: ANN001, ANN201
    """`compute()` once per data version, filter and `extra` (hashable: widget values, presenter mode).

    For a page's analyses and chart specs that cost time on every rerun. `name` must be unique to
    what `compute` returns; everything `compute` depends on besides the data and the filter goes in
    `extra`. The result is shared between sessions: callers must not change it.
    """
    return _memo(name, store.path, store.data_version(), filters, tuple(extra), compute)


def chart_spec(name: str, store: Store, filters: Filters, build, *extra) -> dict:  # noqa: ANN001
    """The Vega-Lite spec of `build()` (an Altair chart), built once per data version, filter and `extra`.

    Building and validating Altair charts is most of a chart page's rerun time; the builders are
    tested (and their specs validated) in the unit tests, so the cached spec skips validation.
    """
    def compute() -> dict:
        with alt.data_transformers.enable("default", max_rows=None):
            return build().to_dict(validate=False)

    return memo(f"chart:{name}", store, filters, compute, *extra)


def show_chart(chart: alt.TopLevelMixin | dict, table: pd.DataFrame, *, key: str, caption: str | None = None) -> None:
    """A chart (Altair, or a Vega-Lite spec from `chart_spec`) with its table as a text alternative
    (two tabs: Chart, Table)."""
    tab_chart, tab_table = st.tabs(["Chart", "Table"])
    with tab_chart:
        if isinstance(chart, dict):
            st.vega_lite_chart(chart, theme=None, key=f"{key}_chart", width="stretch")
        else:
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


# --- redie ---


def redie_level_picker(filters: Filters, *, key: str) -> str | None:
    """Target level for the REDIE matrix: all levels or one (only the filtered one if the filter names one)."""
    options = [filters.level] if filters.level else [ALL, *schema.LEVEL_SHORT]
    choice = url_widget(st.radio, "Target level", options, key=key, format_func=_level_label, horizontal=True)
    return None if choice == ALL else choice


def redie_drilldown(frame: pd.DataFrame, options: pd.DataFrame, *, key: str,
                    label: str = "Show the services behind a count") -> None:
    """An expander to pick a count (`options`: label, service_ids) and see the survey rows behind it."""
    with st.expander(label):
        if options.empty:
            st.caption("No services in this view.")
            return
        # Plain label strings as options: session state must stay picklable (no format_func closure).
        labels = list(dict.fromkeys(options["label"]))
        choice = st.selectbox("Pick a count", labels, key=key)
        ids = set(options.loc[options["label"] == choice, "service_ids"].iloc[0])
        services_table(frame[frame["service_id"].isin(ids)], key=f"{key}_rows")


def redie_reflections(items: list) -> None:
    """The guide's reflection prompts (`redie.Reflection`), each with what the data suggests and caveats."""
    for r in items:
        with st.container(border=True):
            st.markdown(f"**{r.prompt}**")
            st.markdown(f"*What the data suggests:* {r.suggests}")
            if r.caveats:
                st.caption("  \n".join(f"Caveat: {c}" for c in r.caveats))


# --- access control ----------------------------------------------------------------------------
# Optional sign-in (hubdash.auth holds the rules). Off by default: everyone is an editor.

_ROLE_KEY = "hubdash_role"
_FAILURES_KEY = "hubdash_sign_in_failures"


def access_config():  # noqa: ANN201 - hubdash.auth.AccessConfig (imported lazily)
    """Access settings from `.streamlit/secrets.toml` `[access]` and the environment."""
    import os

    from hubdash import auth

    try:
        section = st.secrets.get("access")
    except Exception:  # noqa: BLE001 - no secrets.toml at all: access control stays off
        section = None
    return auth.load_config(section if hasattr(section, "keys") else None, os.environ)


def current_role() -> str:
    """"editor" or "viewer". Editor when access control is off; viewer if no one has signed in."""
    from hubdash import auth

    if not access_config().enabled:
        return auth.EDITOR
    role = st.session_state.get(_ROLE_KEY)
    return role if role in (auth.VIEWER, auth.EDITOR) else auth.VIEWER


def can_edit() -> bool:
    """Whether to show write controls (imports, edits, undo): editors only, never in presenter mode."""
    from hubdash import auth

    return auth.can_edit(current_role()) and not is_presenter()


def require_editor(action: str = "make changes") -> None:
    """Raise AccessError unless the session may edit: call at the top of every write action."""
    from hubdash.errors import AccessError

    if not can_edit():
        raise AccessError(f"Only editors can {action}. Sign in with the editor passphrase or account, "
                          "and leave presenter mode.", title="Read-only view")


def _sign_in_with_passphrase(cfg) -> None:  # noqa: ANN001
    import time

    from hubdash import auth

    failures = [t for t in st.session_state.get(_FAILURES_KEY, []) if time.time() - t < auth.LOCKOUT_SECONDS]
    st.title("Sign in to hubdash")
    st.markdown("This dashboard is shared with a passphrase. Ask the workshop host for it.")
    narrow, _ = st.columns([2, 3])
    with narrow, st.form("hubdash_sign_in", clear_on_submit=True):
        phrase = st.text_input("Passphrase", type="password")
        submitted = st.form_submit_button("Sign in", type="primary", icon=":material/login:")
    if submitted:
        if len(failures) >= auth.MAX_FAILURES:
            st.error(f"Too many wrong passphrases. Wait {auth.LOCKOUT_SECONDS:.0f} seconds and try again.",
                     icon=":material/lock_clock:")
        else:
            role = auth.role_for_passphrase(phrase or "", cfg)
            if role is not None:
                st.session_state[_ROLE_KEY] = role
                st.session_state.pop(_FAILURES_KEY, None)
                st.rerun()
            time.sleep(0.5)  # slows guessing; the form cannot be resubmitted faster than this
            st.session_state[_FAILURES_KEY] = [*failures, time.time()]
            st.error("That passphrase is not right. Check it with the workshop host.", icon=":material/key_off:")
    st.stop()


def _sign_in_with_oidc(cfg) -> None:  # noqa: ANN001
    from hubdash import auth

    try:
        has_auth = "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets.toml at all
        has_auth = False
    if not has_auth:  # Streamlit's [auth] section is missing: sign-in cannot work
        st.error("Single sign-on is switched on (`[access] mode = \"oidc\"`) but Streamlit's `[auth]` "
                 "section is missing from `.streamlit/secrets.toml`. See docs/access.md.",
                 icon=":material/error:")
        st.stop()
    if not st.user.get("is_logged_in", False):
        st.title("Sign in to hubdash")
        st.markdown("Use your organisation account.")
        if st.button("Sign in", type="primary", icon=":material/login:"):
            st.login(cfg.provider) if cfg.provider else st.login()
        st.stop()
    email = st.user.get("email") or st.user.get("preferred_username")
    role = auth.role_for_user(str(email) if email else None, cfg)
    if role is None:
        st.title("No access")
        st.error(f"{email or 'This account'} is not allowed to use this dashboard. Ask the Family Hub team "
                 "to add your organisation.", icon=":material/block:")
        if st.button("Sign out"):
            st.logout()
        st.stop()
    st.session_state[_ROLE_KEY] = role


def access_gate() -> None:
    """Call in app.py before navigation: ask for sign-in when access control is on, else nothing.

    Viewers are kept in presenter mode (no personal data, no editing controls) on every run,
    because the pages hide personal fields with `is_presenter()`; a sign-in lasts for the tab's
    session, so a viewer signs out by closing or reloading the tab.
    """
    from hubdash import auth

    cfg = access_config()
    if not cfg.enabled:
        return
    if cfg.mode == "oidc":
        _sign_in_with_oidc(cfg)
    elif st.session_state.get(_ROLE_KEY) not in (auth.VIEWER, auth.EDITOR):
        _sign_in_with_passphrase(cfg)
    role = current_role()
    if role == auth.VIEWER:
        st.session_state["presenter"] = True
    with st.sidebar:
        st.caption(f"Signed in: **{auth.ROLE_LABELS[role]}**")
        if st.button("Sign out", key="hubdash_sign_out", icon=":material/logout:"):
            st.session_state.pop(_ROLE_KEY, None)
            st.session_state.pop("presenter", None)
            if cfg.mode == "oidc":
                st.logout()
            st.rerun()


# --- presenter and sharing ---
#
# Presenter mode is one switch (`st.session_state["presenter"]`, or `?present=1` in a link) read
# by `is_presenter()`. `presenter_controls` runs in app.py before the page: it draws the switch,
# and in presenter mode the fixed projector CSS, the step bar and the view's headline finding.
# `sharing_sidebar` runs after the page: the link to this view, bookmarks, "add to sequence".

from collections.abc import Callable, Sequence  # noqa: E402
from typing import Any  # noqa: E402

from streamlit.errors import StreamlitAPIException  # noqa: E402

from hubdash import presenter as _presenter  # noqa: E402

_BOUND = "_url_keys"  # URL keys the page bound with `url_widget` (kept for links and bookmarks)
_GOTO = "_present_goto"  # the step a Next/Previous click asked for, switched to on the next run

# Fixed CSS (no data in it): bigger type, no sidebar or toolbar chrome, no upload or table tools.
_PRESENTER_CSS = """<style>
html { font-size: clamp(19px, 1.45vw, 26px) !important; }
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
[data-testid="stSidebarNav"], header[data-testid="stHeader"], [data-testid="stToolbar"],
[data-testid="stFileUploader"], [data-testid="stElementToolbar"], [data-testid="stDecoration"]
  { display: none !important; }
[data-testid="stMainBlockContainer"] { max-width: 100% !important; padding: 0.7rem 2.2rem 3rem !important; }
/* The headline finding is the slide title: the page title shrinks to a label and its one-line
   purpose (the element right after it) gives way. */
[data-testid="stMainBlockContainer"] h1 { font-size: 1.25rem !important; padding: 0.1rem 0 0 !important;
  color: #3D3D3D; }
[data-testid="stElementContainer"]:has(h1) + [data-testid="stElementContainer"]:has([data-testid="stMarkdown"])
  { display: none !important; }
[data-testid="stAlertContainer"] { padding: 0.35rem 0.8rem !important; }
[data-testid="stMetricValue"] { font-size: 2.4rem !important; }
.st-key-present_bar button { min-height: 2rem; padding: 0.1rem 0.7rem; }
.st-key-present_headline { background: #EAF2FB; border-left: 0.45rem solid #0B5CAD; border-radius: 0.3rem;
  padding: 0.55rem 1.1rem 0.4rem; gap: 0.2rem; }
.st-key-present_headline p { font-size: 1.5rem !important; line-height: 1.25; font-weight: 600; color: #1A1A1A; }
.st-key-present_headline [data-testid="stCaptionContainer"] p { font-size: 0.95rem !important; font-weight: 400;
  color: #3D3D3D; }
.st-key-present_bar [data-testid="stMarkdown"] p { color: #3D3D3D; }
</style>"""

# Arrow keys and a clicker's Page Up / Page Down press the step buttons; Esc leaves presenter
# mode. Fixed text, attached once per browser tab, inert when the buttons are not on screen and
# while the focus is somewhere that uses those keys itself.
_PRESENTER_KEYS_JS = """<script>
(() => {
  if (window.__hubdashPresenterKeys) return;
  window.__hubdashPresenterKeys = true;
  const keys = {ArrowRight: "present_next", PageDown: "present_next", ArrowLeft: "present_prev",
                PageUp: "present_prev", Escape: "present_exit"};
  document.addEventListener("keydown", (e) => {
    const target = keys[e.key];
    if (!target || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey || e.repeat) return;
    const t = e.target;
    // Keys belong to whatever has focus when it uses them itself (fields, sliders, tabs, tables).
    const own = '[data-testid="stDataFrame"], [role="dialog"], [role="listbox"], [role="slider"], ' +
                '[role="radiogroup"], [role="tablist"], [role="combobox"], [role="menu"]';
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName) ||
              (t.closest && t.closest(own)))) return;
    // Streamlit may keep a hidden copy of a button (for layout) and, during a page switch, the
    // old bar for a moment: press the one on screen that is not stale.
    const button = [...document.querySelectorAll(".st-key-" + target + " button")]
      .find((b) => b.getClientRects().length && !b.closest('[data-stale="true"]'));
    if (!button || button.disabled) return;
    e.preventDefault();
    button.click();
  });
})();
</script>"""


def md_text(text: str) -> str:
    """`text` escaped so Markdown shows it literally (survey, bookmark and report text is untrusted)."""
    out = []
    for ch in str(text):
        out.append("\\" + ch if ch in "\\`*_{}[]()<>#+-.!|~$:" else ch)
    return "".join(out)


_md_escape = md_text  # the name other sections of this module already call


def url_widget(widget: Callable[..., Any], label: str, options: Sequence[str], *, key: str,
               default: str | None = None, **kwargs: Any) -> Any:
    """Draw a single-choice widget whose value also lives in the URL, so a copied link keeps it.

    Use for a page's own selections (a map indicator, a chart option) with option codes as
    `options`, e.g. `ui.url_widget(st.selectbox, "Indicator", codes, key="indicator",
    format_func=labels.get)`. The URL value is read when the session starts (unknown values
    fall back to `default`, else the first option) and rewritten on every run; the key joins
    the view's allowlist for links, bookmarks and the workshop sequence.

    Args:
        widget: `st.selectbox`, `st.radio`, `st.segmented_control` or `st.pills`.
        label: The widget label.
        options: Allowed values (strings: they go into the URL as they are).
        key: Session and URL key: lower case, digits and underscores, not a global filter key.
        default: The value that needs no URL parameter; the first option if None.
        **kwargs: Passed to `widget` (e.g. `format_func`, `help`, `horizontal`).
    """
    _check_url_key(key)
    opts = [str(o) for o in options]
    default = opts[0] if default is None and opts else default
    if key not in st.session_state or st.session_state[key] not in opts:
        v = st.query_params.get(key)
        st.session_state[key] = v if v in opts else default
    value = widget(label, opts, key=key, **kwargs)
    _to_url(key, None if value is None or value == default else value)
    return value


def _check_url_key(key: str) -> None:
    reserved = (*_presenter.GLOBAL_KEYS, *_presenter.MODE_KEYS, "presenter")
    if not _presenter.KEY_PATTERN.fullmatch(key) or key in reserved:
        raise ValueError(f"URL widget key {key!r} must be lower_snake_case and not one of {reserved}")


def _to_url(key: str, text: str | None) -> None:
    """Mirror a widget's value into the URL (None: the default, no parameter) and allowlist its key."""
    if text is None:
        if key in st.query_params:
            del st.query_params[key]
    elif st.query_params.get(key) != text:
        st.query_params[key] = text
    bound = st.session_state.setdefault(_BOUND, [])
    if key not in bound:
        bound.append(key)


def url_multiselect(label: str, options: Sequence[str], *, key: str, **kwargs: Any) -> list[str]:
    """`st.multiselect` whose choice also lives in the URL (codes joined by commas)."""
    _check_url_key(key)
    opts = [str(o) for o in options]
    if key not in st.session_state:
        raw = st.query_params.get(key) or ""
        st.session_state[key] = [v for v in dict.fromkeys(raw.split(",")) if v in opts]
    value = st.multiselect(label, opts, key=key, **kwargs)
    _to_url(key, ",".join(value) or None)
    return value


def url_toggle(label: str, *, key: str, **kwargs: Any) -> bool:
    """`st.toggle` (off by default) whose state also lives in the URL (`key=1` when on)."""
    _check_url_key(key)
    if key not in st.session_state:
        st.session_state[key] = st.query_params.get(key) == "1"
    value = st.toggle(label, key=key, **kwargs)
    _to_url(key, "1" if value else None)
    return bool(value)


def url_int(label: str, *, key: str, default: int, min_value: int, max_value: int, **kwargs: Any) -> int:
    """`st.number_input` for a whole number whose value also lives in the URL (out-of-range values ignored)."""
    _check_url_key(key)
    if key not in st.session_state:
        raw = st.query_params.get(key) or ""
        st.session_state[key] = int(raw) if raw.isdigit() and min_value <= int(raw) <= max_value else default
    value = int(st.number_input(label, min_value=min_value, max_value=max_value, step=1, key=key, **kwargs))
    _to_url(key, None if value == default else str(value))
    return value


def _view_params(page: str) -> dict[str, str]:
    """The current view's allowlisted URL parameters (global filter plus the page's own)."""
    raw = {k: st.query_params.get(k) for k in st.query_params}
    f = current_filters()
    raw.update({"area": f.area, "level": f.level, "kind": f.kind})
    return _presenter.clean_query(raw, page=page, extra=st.session_state.get(_BOUND, []))


def current_view(page: str) -> _presenter.View:
    """The view on screen: `page` (its url_path) and its allowlisted URL state."""
    return _presenter.View.of(page, _view_params(page), extra=st.session_state.get(_BOUND, []))


def _base_url(page: str) -> str:
    """Scheme, host and any path prefix of the app, from the browser's address (or '' in tests)."""
    url = (st.context.url or "").split("?")[0].rstrip("/")
    if page and url.endswith("/" + page):
        url = url[: -len(page) - 1]
    return url


@st.cache_data(show_spinner=False, max_entries=64)
def _headline(_store: Store, path: str, version: int, page: str, filters: Filters,
              params: tuple[tuple[str, str], ...]) -> tuple[str, str] | None:
    from hubdash.findings import view_headline

    h = view_headline(_store, all_services(_store), page=page, filters=filters, params=dict(params))
    return None if h is None else (h.text, h.detail)


def _go_to_step(index: int) -> None:
    """Button callback (runs before the script): load step `index`'s filters, then switch page.

    Widget state can only be set before the widgets are drawn, hence the callback; the page
    switch itself happens in `presenter_controls` on the run this click starts.
    """
    steps = _presenter.sequence(get_store())
    if not 1 <= index <= len(steps):
        return
    params = steps[index - 1].view.params
    for key in _FILTER_OPTIONS:
        st.session_state[key] = params.get(key, ALL)
    for key in st.session_state.get(_BOUND, []):
        if key in params:
            st.session_state[key] = params[key]
        elif key in st.session_state:
            del st.session_state[key]  # the page falls back to its default, as the link would
    st.session_state[_GOTO] = index


def _exit_presenter() -> None:
    st.session_state["presenter"] = False


def presenter_controls(page: str) -> None:
    """The presenter switch (sidebar) and, in presenter mode, the step bar and headline finding.

    Call in app.py after `sidebar_filters()` and before the page runs, so the page sees
    `is_presenter()` and sits under the headline.

    Args:
        page: The url_path of the page about to run ("" for Home).
    """
    store = get_store()
    goto = st.session_state.pop(_GOTO, None)
    if goto is not None:
        steps = _presenter.sequence(store)
        if 1 <= goto <= len(steps):
            view = steps[goto - 1].view
            st.switch_page(view.page_file, query_params={**view.params, "present": "1", "step": str(goto)})
    if "presenter" not in st.session_state:
        st.session_state["presenter"] = st.query_params.get("present") in ("1", "true", "yes")
    from hubdash import auth

    may_leave = auth.can_edit(current_role())  # viewers (access control on) stay in presenter mode
    with st.sidebar:
        st.divider()
        st.toggle("Presenter mode", key="presenter", disabled=not may_leave,
                  help="For a projector: large type; hides the sidebar, editing controls and all personal data. "
                       "Step through the workshop sequence with the arrow keys or Page Up / Page Down; Esc leaves.")
    if not is_presenter():
        for key in _presenter.MODE_KEYS:
            if key in st.query_params:
                del st.query_params[key]
        return
    st.query_params["present"] = "1"
    st.html(_PRESENTER_CSS)
    st.html(_PRESENTER_KEYS_JS, unsafe_allow_javascript=True)
    steps = _presenter.sequence(store)
    params = {k: st.query_params.get(k) for k in st.query_params}
    current = _presenter.current_step(steps, page=page, params=params)
    if current is None and "step" in st.query_params:
        del st.query_params["step"]
    elif current is not None:
        st.query_params["step"] = str(current)
    prev = _presenter.neighbour(steps, current, by=-1)
    nxt = _presenter.neighbour(steps, current, by=1)
    with st.container(horizontal=True, vertical_alignment="center", key="present_bar"):
        st.button("Previous", key="present_prev", icon=":material/arrow_back:", disabled=prev is None,
                  on_click=_go_to_step, args=(prev or 0,), help="Left arrow or Page Up")
        if current is None:
            where = f"Not in the workshop sequence · Next goes to step 1 of {len(steps)}"
        else:
            where = f"Step {current} of {len(steps)} · {steps[current - 1].label}"
        st.markdown(md_text(where), width="stretch")
        st.button("Next", key="present_next", icon=":material/arrow_forward:", disabled=nxt is None,
                  on_click=_go_to_step, args=(nxt or 0,), type="primary", help="Right arrow or Page Down")
        if may_leave:
            st.button("Exit", key="present_exit", icon=":material/close:", type="tertiary",
                      on_click=_exit_presenter, help="Leave presenter mode (Esc)")
    view = current_view(page)
    found = _headline(store, store.path, store.data_version(), page, view.filters, view.query)
    if found:
        text, detail = found
        with st.container(key="present_headline"):
            st.markdown(md_text(text))
            if detail:
                st.caption(md_text(detail))


def sharing_sidebar(page: str) -> None:
    """Sidebar: the link to this view, bookmarks saved in the database, add to the sequence.

    Call in app.py after the page has run, so selections the page bound with `url_widget` are
    part of the link. Hidden (with the rest of the sidebar) in presenter mode.
    """
    if is_presenter():
        return  # the sidebar is hidden on the projector, and presenters make no changes
    store = get_store()
    view = current_view(page)
    editor = can_edit()
    with st.sidebar:
        with st.expander("Share this view", icon=":material/link:"):
            st.caption("Copy the link: opening it shows the same page, filters and selections.")
            st.code(view.url(_base_url(page)) if _base_url(page) else "/" + view.path(), language=None,
                    wrap_lines=True)
            if editor:
                with st.form("bookmark_form", clear_on_submit=True, border=False):
                    name = st.text_input("Bookmark name", max_chars=_presenter.MAX_NAME,
                                         placeholder="e.g. Infant feeding gaps")
                    if st.form_submit_button("Bookmark this view", icon=":material/bookmark_add:"):
                        with guard():
                            require_editor("save bookmarks")
                            _presenter.add_bookmark(store, name=name, view=view)
                            st.toast("Bookmark saved", icon=":material/bookmark:")
                if st.button("Add to the workshop sequence", key="add_step", icon=":material/playlist_add:",
                             help="Presenter mode steps through the sequence; edit it on Reflect and act."):
                    with guard():
                        require_editor("change the workshop sequence")
                        steps = _presenter.add_step(store, view)
                        st.toast(f"Added as step {len(steps)} of the workshop sequence", icon=":material/slideshow:")
        marks = _presenter.list_bookmarks(store)
        with st.expander(f"Bookmarks ({len(marks)})", icon=":material/bookmarks:"):
            if not marks:
                st.caption("No bookmarks yet: use Share this view.")
            for b in marks:
                with st.container(horizontal=True, vertical_alignment="center"):
                    try:
                        st.page_link(b.view.page_file, label=md_text(b.name), query_params=b.view.params,
                                     help=b.view.describe(), width="stretch")
                    except StreamlitAPIException:  # the page is not registered (a page run alone)
                        st.markdown(md_text(b.name), width="stretch")
                    if editor:
                        st.button("", key=f"bookmark_del_{b.bookmark_id}", icon=":material/delete:",
                                  type="tertiary", help=f"Delete the bookmark “{md_text(b.name)}”",
                                  on_click=_presenter.delete_bookmark, args=(store, b.bookmark_id))


@st.cache_data(show_spinner=False, max_entries=4)
def _exports(_store: Store, path: str, version: int, filters: Filters, today: str) -> dict[str, bytes]:
    from hubdash.report import build_report, render
    from hubdash.slides import to_pptx

    rep = build_report(_store, filters=filters)
    out = {fmt: render(rep, fmt) for fmt in ("html", "docx")}
    out["pptx"] = to_pptx(rep)
    try:
        out["pdf"] = render(rep, "pdf")
    except HubdashError as e:  # no Pango on this machine: the other formats still work
        out["pdf_error"] = e.msg.encode("utf-8")
    return out


def workshop_exports(store: Store, filters: Filters) -> dict[str, bytes]:
    """The report (html, pdf, docx) and deck (pptx) for `filters`, cached until the data changes."""
    import datetime as dt

    return _exports(store, store.path, store.data_version(), filters.validated(), dt.date.today().isoformat())


def start_presenting(step: int = 1) -> None:
    """Button callback: turn presenter mode on and go to `step` of the workshop sequence."""
    st.session_state["presenter"] = True
    _go_to_step(step)


# --- gap maps ---
# Widgets and cached analyses for pages/gap_maps.py. Every selection that defines the view (view,
# age focus, measure and the pop-over's options) lives in the URL through the `url_*` widgets, so
# links, bookmarks and the workshop sequence reproduce it; finer options sit in one pop-over on
# the page itself, because presenter mode hides the sidebar.

from collections.abc import Callable as _Callable  # noqa: E402

from hubdash import gapmap as _gapmap  # noqa: E402
from hubdash import geo as _geo  # noqa: E402

GAP_VIEWS = {"map": "Gap map", "overview": "Overview", "detailed": "Detailed map", "prevalence": "Prevalence"}
_GAP_MEASURES = {"count": "Services", "capacity": "Families a year"}
# Labels as dict lookups, not closures: widget state (format_func included) must stay picklable.
GAP_LABELS = {q: {o.code: o.label for o in schema.question(q).options}
              for q in ("sector", "delivery_modes", "evidence", "primary_outcome", "age_groups")}


@st.cache_data(show_spinner=False, max_entries=8)
def _gap_ward_links(_store: Store, path: str, version: int) -> pd.DataFrame:
    return _geo.service_ward_links(_store)


@st.cache_data(show_spinner=False, max_entries=8)
def _gap_wards(_store: Store, path: str, version: int) -> list[tuple[str, str]]:
    return _gapmap.ward_choices(_store)


def gap_controls(store: Store) -> tuple[str, _gapmap.GapOptions]:
    """One row of controls above the view: which view, age focus, what a cell shows (gap map only)
    and an "Options" pop-over (other outcomes, crowding, sector, delivery, evidence, ward).

    All of them live in the URL (`url_widget`, `url_toggle`, `url_int`, `url_multiselect`), so
    links, bookmarks and the workshop sequence reproduce them. Returns the view code and the options.
    """
    # A wrapping row: on a narrow window the controls flow onto a second line instead of clipping.
    row = st.container(horizontal=True, vertical_alignment="bottom", gap="medium", key="gap_controls")
    with row:
        view = url_widget(st.segmented_control, "View", list(GAP_VIEWS), key="gap_view", format_func=GAP_VIEWS.get,
                          label_visibility="collapsed", width="content") or "map"
        focus = url_widget(st.selectbox, "Age focus", list(_gapmap.FOCUS_CODES), key="gap_focus",
                           format_func=_gapmap.FOCUS_CODES.get, label_visibility="collapsed",
                           width=330 if is_presenter() else 250,
                           help="Which age bands to show: Start for Life is conception to age 2")
        measure = "count"
        if view == "map":
            measure = url_widget(st.segmented_control, "Each cell counts", list(_GAP_MEASURES), key="gap_measure",
                                 format_func=_GAP_MEASURES.get, label_visibility="collapsed",
                                 width="content") or "count"
    wards = dict(_gap_wards(store, store.path, store.data_version()))
    # Before the pop-over's widgets run, a value from a shared link is only in the URL.
    active = sum(bool(st.session_state[k] if k in st.session_state else st.query_params.get(k))
                 for k in ("gap_secondary", "gap_sectors", "gap_modes", "gap_evidence", "gap_ward"))
    with row.popover("Options" + (f" ({active} on)" if active else ""), icon=":material/tune:"):
        secondary = url_toggle("Count other outcomes too", key="gap_secondary",
                               help="Also count each service in the rows of its other outcomes (question 9)")
        crowded = url_int("Crowded at (services in a cell)", key="gap_crowded", default=_gapmap.DEFAULT_CROWDED,
                          min_value=2, max_value=99,
                          help="Cells with at least this many services are marked ▲: possible duplication")
        sectors = url_multiselect("Sector", [o.code for o in schema.SECTORS], key="gap_sectors",
                                  format_func=GAP_LABELS["sector"].get, placeholder="All sectors")
        modes = url_multiselect("Where or how delivered", [o.code for o in schema.DELIVERY_MODES], key="gap_modes",
                                format_func=GAP_LABELS["delivery_modes"].get, placeholder="Any way")
        evidence = url_multiselect("Evidence base", [o.code for o in schema.EVIDENCE], key="gap_evidence",
                                   format_func=GAP_LABELS["evidence"].get, placeholder="Any evidence")
        ward_names = {"": "All wards", **wards}
        ward = url_widget(st.selectbox, "Ward", list(ward_names), key="gap_ward", default="",
                          format_func=ward_names.get,
                          help="Services covering this ward (named, or the whole local authority)")
    return view, _gapmap.GapOptions(include_secondary=bool(secondary), focus=_gapmap.FOCUS_CODES[focus],
                                    sectors=tuple(sectors), modes=tuple(modes), evidence=tuple(evidence),
                                    ward=ward or None, measure=measure, crowded_at=int(crowded))


def gap_ward_name(store: Store, code: str | None) -> str | None:
    return dict(_gap_wards(store, store.path, store.data_version())).get(code) if code else None


@st.cache_data(show_spinner=False, max_entries=32)
def _gap_frame(_store: Store, path: str, version: int, filters: Filters, options: _gapmap.GapOptions) -> pd.DataFrame:
    links = _gap_ward_links(_store, path, version) if options.ward else None
    return _gapmap.apply_options(filter_frame(all_services(_store), filters), options, ward_links=links)


def gap_services(store: Store, options: _gapmap.GapOptions, filters: Filters | None = None) -> pd.DataFrame:
    """Services under the global filter and the gap-map options (cached until the next write)."""
    return _gap_frame(store, store.path, store.data_version(), filters or current_filters(), options)


@st.cache_data(show_spinner=False, max_entries=32)
def _gap_cells(_store: Store, path: str, version: int, filters: Filters, options: _gapmap.GapOptions) -> pd.DataFrame:
    return _gapmap.gap_cells(_gap_frame(_store, path, version, filters, options), options)


def gap_cells(store: Store, options: _gapmap.GapOptions, filters: Filters | None = None) -> pd.DataFrame:
    """Every cell of the gap map for the view (cached until the next write)."""
    return _gap_cells(store, store.path, store.data_version(), filters or current_filters(), options)


@st.cache_data(show_spinner=False, max_entries=32)
def _gap_map_spec(_store: Store, path: str, version: int, filters: Filters, options: _gapmap.GapOptions,
                  presenter: bool) -> dict:
    from hubdash.charts.gapmap import gap_map_chart

    cells = _gap_cells(_store, path, version, filters, options)
    # Built by one tested function (its tests validate the spec); skipping validation here halves the cost.
    chart = gap_map_chart(cells, measure=options.measure, crowded_at=options.crowded_at, presenter=presenter)
    return chart.to_dict(validate=False)


def gap_map_spec(store: Store, options: _gapmap.GapOptions, filters: Filters | None = None) -> dict:
    """The gap map's Vega-Lite spec for the view, built once per data version, filter and options."""
    return _gap_map_spec(store, store.path, store.data_version(), filters or current_filters(), options,
                         is_presenter())


@st.cache_data(show_spinner=False, max_entries=32)
def _gap_summary(_store: Store, path: str, version: int, filters: Filters,
                 options: _gapmap.GapOptions) -> _gapmap.GapSummary:
    return _gapmap.gap_summary(_gap_frame(_store, path, version, filters, options), options)


def gap_summary(store: Store, options: _gapmap.GapOptions, filters: Filters | None = None) -> _gapmap.GapSummary:
    """The generated summary under the map (cached until the next write)."""
    return _gap_summary(store, store.path, store.data_version(), filters or current_filters(), options)


def gap_map_with_table(spec: dict, table: pd.DataFrame, *, key: str) -> dict | None:
    """The gap map (clickable) with its table in a second tab; returns the clicked cell's fields or None."""
    from hubdash.charts.gapmap import CELL_SELECTION

    tab_chart, tab_table = st.tabs(["Map", "Table"])
    with tab_chart:
        event = st.vega_lite_chart(spec, theme=None, key=f"{key}_chart", on_select="rerun",
                                   selection_mode=CELL_SELECTION)
    with tab_table:
        st.dataframe(table, hide_index=True, key=f"{key}_table", width="stretch")
    picked = (event.selection.get(CELL_SELECTION) or []) if event else []
    return dict(picked[0]) if picked else None


_CELL_KEYS = ("gap_cell_level", "gap_cell_kind", "gap_cell_outcome", "gap_cell_age")


def gap_cell_picker(ages: list[str], clicked: dict | None) -> tuple[str, str, str, str]:
    """Four selectboxes naming one cell (level, block, outcome, age); a click on the map fills them.

    The boxes also make the drill-down usable from the keyboard. A click is applied once (when
    it changes), so the boxes can still be changed by hand while the click stays on the map.
    """
    options = (list(schema.LEVEL_SHORT), ["service", "intervention"], _gapmap.MAP_OUTCOMES, ages)
    fields = ("target_level", "kind", "outcome", "age_group")
    if clicked and clicked != st.session_state.get("gap_cell_clicked"):
        st.session_state["gap_cell_clicked"] = clicked
        for k, f, opts in zip(_CELL_KEYS, fields, options, strict=True):
            if clicked.get(f) in opts:
                st.session_state[k] = clicked[f]
    if st.session_state.get("gap_cell_age") not in ages:
        st.session_state.pop("gap_cell_age", None)
    c = st.columns([2, 2, 3, 2])
    level = c[0].selectbox("Target level", options[0], key=_CELL_KEYS[0], format_func=schema.LEVEL_SHORT.get)
    kind = c[1].selectbox("Block", options[1], key=_CELL_KEYS[1], format_func=str.capitalize)
    outcome = c[2].selectbox("Outcome", options[2], key=_CELL_KEYS[2], format_func=GAP_LABELS["primary_outcome"].get)
    age = c[3].selectbox("Age group", options[3], key=_CELL_KEYS[3], format_func=GAP_LABELS["age_groups"].get)
    return level, kind, outcome, age


def gap_downloads(items: list[tuple[str, _Callable[[], bytes], str, str]], *, key: str) -> None:
    """A row of download buttons: (label, function making the bytes, file name, MIME type).

    The bytes are made only when a button is pressed (Streamlit calls the function then), so
    rendering PNGs never slows the page down.
    """
    with st.container(horizontal=True, key=f"{key}_downloads"):
        for label, make, name, mime in items:
            st.download_button(label, make, file_name=name, mime=mime, key=f"{key}_{name}", on_click="ignore",
                               icon=":material/download:")


def gap_markdown_table(df: pd.DataFrame) -> None:
    """A static table whose cells are survey text (escaped: shown literally), lines kept apart."""
    shown = df.copy()
    for c in shown.columns:
        shown[c] = ["  \n".join(_md_escape(part) for part in str(v).split("\n")) if v else "" for v in shown[c]]
    st.table(shown, hide_index=True)


def gap_bullets(lines: list[str]) -> None:
    """Generated sentences as a bulleted list, shown literally (names and answers come from the survey)."""
    st.markdown("\n".join(f"- {_md_escape(line)}" for line in lines))


def gap_md(text: str) -> str:
    """Survey text made safe to show inside a Markdown label (expander titles, headings)."""
    return _md_escape(text)


# --- data quality ---
# Helpers for pages/data_quality.py: the cached report, the score panel, the duplicate review
# (merge / keep both), the issues browser and the chase list (never in presenter mode).


@st.cache_data(show_spinner=False, max_entries=16)
def _quality_report(_store: Store, path: str, version: int, filters: Filters):  # noqa: ANN202
    from hubdash.quality import build_report

    everything = all_services(_store)
    return build_report(_store, filter_frame(everything, filters), area=filters.area, all_services=everything)


def quality_report(store: Store, filters: Filters):  # noqa: ANN201 - hubdash.quality.QualityReport
    """The data-quality report for `filters` (cached until the next committed write)."""
    return _quality_report(store, store.path, store.data_version(), filters)


def quality_score_panel(report) -> None:  # noqa: ANN001
    """The 0-100 score, and beside it exactly how it is worked out."""
    left, right = st.columns([1, 3], gap="large", vertical_alignment="center")
    left.metric("Data-quality score", f"{report.score.value} / 100",
                help="The sum of the points in the table: each part's value times its weight.")
    with right:
        st.markdown("**How the score is worked out:** each part's value (0-100%) times its weight gives its "
                    "points; the points add up to the score.")
        st.table(report.score.table().set_index("Part"))
        if report.score.note:
            st.caption(report.score.note)


def _undo_merge_notice(store: Store) -> None:
    from hubdash.history import undo_change

    last = st.session_state.get("dq_last_merge")
    if not last:
        return
    cid, text = last
    with st.container(border=True, horizontal=True, vertical_alignment="center"):
        st.success(_md_escape(text), icon=":material/merge:", width="stretch")
        if can_edit() and st.button("Undo this merge", key="dq_undo_merge", icon=":material/undo:"):
            with guard():
                require_editor("undo a merge")
                undo_change(store, int(cid))
                st.session_state.pop("dq_last_merge", None)
                st.rerun()


def duplicate_review(store: Store, report, everything: pd.DataFrame, *, limit: int = 6) -> None:  # noqa: ANN001
    """Likely duplicate pairs side by side, with Merge and Keep both for editors."""
    from hubdash import duplicates as dup

    _undo_merge_notice(store)
    pairs = report.duplicates
    if pairs.empty:
        st.success("No likely duplicates among these services.", icon=":material/check_circle:")
    for p in pairs.head(limit).to_dict("records"):
        a, b = int(p["a_id"]), int(p["b_id"])
        with st.container(border=True, key=f"dq_pair_{a}_{b}"):
            st.markdown(f"**A:** {_md_escape(p['a_name'])} (#{a}) · **B:** {_md_escape(p['b_name'])} (#{b}) · "
                        f"likeness **{p['score']}/100**")
            st.caption(_md_escape(p["reason"]))
            table = dup.side_by_side(everything, a, b, personal=not is_presenter())
            differ = table[table["Agree?"] == "Different"]
            same = int((table["Agree?"] == "Same").sum())
            st.markdown(f"They agree on **{same}** of {len(table)} questions and differ on **{len(differ)}**:")
            with st.expander("Every answer side by side"):
                st.dataframe(table.drop(columns="Merge keeps"), hide_index=True, width="stretch",
                             key=f"dq_all_{a}_{b}")
            if not can_edit():
                st.dataframe(differ.drop(columns=["Agree?", "Merge keeps"]), hide_index=True, width="stretch",
                             key=f"dq_sbs_{a}_{b}")
                continue
            edited = st.data_editor(
                differ.drop(columns="Agree?"), hide_index=True, width="stretch", key=f"dq_sbs_{a}_{b}",
                disabled=[c for c in differ.columns if c not in ("Merge keeps", "Agree?")],
                column_config={"Merge keeps": st.column_config.SelectboxColumn(
                    "Merge keeps", options=["A", "B"], required=True,
                    help="Whose answer the merged record keeps (default: the fuller answer)")})
            with st.container(horizontal=True, vertical_alignment="bottom"):
                keep = st.radio("Record that stays", ["A", "B"], horizontal=True, key=f"dq_keep_{a}_{b}",
                                format_func={"A": f"A (#{a})", "B": f"B (#{b})"}.get,
                                help="Its id and survey row stay; the other record is deleted (undoable).")
                if st.button("Merge", key=f"dq_merge_{a}_{b}", type="primary", icon=":material/merge:"):
                    with guard():
                        require_editor("merge services")
                        keep_id, drop_id = (a, b) if keep == "A" else (b, a)
                        by_label = {f"{q.number}. {q.short}": q.code for q in schema.QUESTIONS}
                        take = {by_label[label]: ("keep" if v == keep else "other")
                                for label, v in zip(edited["Question"], edited["Merge keeps"], strict=True)}
                        cid = dup.merge_services(store, keep_id, drop_id, take=take)
                        st.session_state["dq_last_merge"] = (
                            cid, f"Merged #{drop_id} into #{keep_id}: one record now holds the answers chosen. "
                                 "Undo puts both records back as they were.")
                        st.rerun()
                if st.button("Keep both", key=f"dq_keepboth_{a}_{b}", icon=":material/call_split:",
                             help="They are different services: stop flagging this pair"):
                    with guard():
                        require_editor("mark services as different")
                        dup.keep_both(store, a, b)
                        st.rerun()
    if len(pairs) > limit:
        st.caption(f"Showing the {limit} most alike of {len(pairs)} pairs; deal with these and the next ones appear.")
    kept = dup.kept_pairs(store)
    if len(kept) and not is_presenter():
        with st.expander(f"Pairs kept as separate services ({len(kept)})", icon=":material/call_split:"):
            for k in kept.to_dict("records"):
                with st.container(horizontal=True, vertical_alignment="center"):
                    st.markdown(f"{_md_escape(k['name_a'])} · {_md_escape(k['name_b'])}", width="stretch")
                    if can_edit() and st.button("Flag again", key=f"dq_forget_{k['key_a']}_{k['key_b']}"):
                        with guard():
                            require_editor("change a duplicate decision")
                            dup.forget_decision(store, k["key_a"], k["key_b"])
                            st.rerun()


def quality_issues(report, frame: pd.DataFrame) -> None:  # noqa: ANN001
    """The issues table, filtered by rule (kept in the URL), with the survey rows behind it."""
    from hubdash.quality import RULE_TITLES

    counts = report.issue_counts().set_index("rule")["Services"].to_dict()
    # format_func must pickle (session state is checked for it): a dict's .get, not a lambda.
    labels = {"all": f"All issues ({report.issues['service_id'].nunique():,} services)",
              **{r: f"{t} ({counts.get(r, 0):,} services)" for r, t in RULE_TITLES.items()}}
    rule = url_widget(st.selectbox, "Show issues of this kind", list(labels), key="dq_rule", format_func=labels.get)
    issues = report.issues if rule == "all" else report.issues[report.issues["rule"] == rule]
    table = pd.DataFrame({
        "Severity": issues["severity"].str.capitalize(), "Service": issues["service"],
        "Question": issues["question"], "Problem": issues["problem"], "What to do": issues["what_to_do"],
        "Service ID": issues["service_id"]})
    st.dataframe(table, hide_index=True, width="stretch", height=360 if len(table) > 8 else "auto",
                 key="dq_issues_table")
    with st.expander(f"The {issues['service_id'].nunique():,} survey rows behind these issues"):
        services_table(frame[frame["service_id"].isin(issues["service_id"])], key="dq_issue_rows", height=320)


@st.cache_data(show_spinner=False, max_entries=4)
def _chase_files(_store: Store, path: str, version: int, filters: Filters) -> tuple[pd.DataFrame, bytes, bytes]:
    # Cached: the Excel file alone takes seconds at 20,000 services and would be rebuilt on every click.
    from hubdash.quality import chase_csv, chase_list, chase_xlsx

    chase = chase_list(quality_report(_store, filters), filter_frame(all_services(_store), filters))
    return chase, chase_csv(chase), chase_xlsx(chase)


def chase_list_panel(store: Store, filters: Filters) -> None:
    """The chase list with contact details and its downloads. Never shown in presenter mode."""
    if is_presenter():
        st.caption("The chase list is hidden in presenter mode because it holds contact details.")
        return
    chase, csv_bytes, xlsx_bytes = _chase_files(store, store.path, store.data_version(), filters)
    if chase.empty:
        st.success("Nobody to chase: every service answered clearly and every agency responded.")
        return
    high = int((chase["Priority"] == "High").sum())
    st.markdown(f"**{len(chase):,}** rows to follow up, **{high:,}** of them high priority (a required answer "
                "missing, an answer that cannot be mapped, or no survey returned).")
    st.dataframe(chase, hide_index=True, width="stretch", height=360, key="dq_chase_table")
    c1, c2, _ = st.columns([1, 1, 3])
    c1.download_button("Download chase list (CSV)", csv_bytes, file_name="chase-list.csv",
                       mime="text/csv", icon=":material/download:", key="dq_chase_csv", on_click="ignore")
    c2.download_button("Download chase list (Excel)", xlsx_bytes, file_name="chase-list.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       icon=":material/download:", key="dq_chase_xlsx", on_click="ignore")
    st.caption("Contact details appear only here and in these downloads: never in charts, exports or presenter mode.")


# --- geographic coverage ---
# Cached analyses, the map and the loaders for pages/geographic_coverage.py. Everything is keyed
# on the data version, so a load refreshes every view; the map (a compact deck JSON) is built
# once per view and shared by every session showing it.

from hubdash import coverage as _coverage  # noqa: E402
from hubdash import geoload as _geoload  # noqa: E402
from hubdash.charts import maps as _maps  # noqa: E402

COVERAGE_KM = "cov_km"


@st.cache_resource(show_spinner=False, max_entries=4)
def _cov_geometries(_store: Store, path: str, version: int) -> dict[str, str]:
    return _geoload.map_geometries(_store)


@st.cache_data(show_spinner=False, max_entries=8)
def _cov_inputs(_store: Store, path: str, version: int):  # noqa: ANN202
    return _coverage.ward_frame(_store), _coverage.needs_latest(_store), _coverage.named_links(_store)


@st.cache_data(show_spinner=False, max_entries=32)
def _cov_table(_store: Store, path: str, version: int, filters: Filters, max_km: float):  # noqa: ANN202
    wards, needs, links = _cov_inputs(_store, path, version)
    frame = filter_frame(all_services(_store), filters)
    cov = _coverage.coverage_table(_store, frame, max_km=max_km, wards=wards, needs=needs, links=links)
    return cov, needs[1], _coverage.delivery_points(_store, frame)


def coverage_data(store: Store, filters: Filters, max_km: float) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(coverage rows, needs indicator metadata, delivery points) for the filter (cached)."""
    return _cov_table(store, store.path, store.data_version(), filters, float(max_km))


def coverage_links(store: Store) -> pd.DataFrame:
    """(service_id, ward_code) for named wards (cached until the next write)."""
    return _cov_inputs(store, store.path, store.data_version())[2]


@st.cache_resource(show_spinner=False, max_entries=24)
def _cov_map(_store: Store, path: str, version: int, filters: Filters, max_km: float, measure: str,
             need: str | None, locality: str | None, presenter: bool) -> _maps.MapView:
    cov, meta, points = _cov_table(_store, path, version, filters, max_km)
    if locality:
        cov = cov[cov["locality"] == locality].reset_index(drop=True)
    return _maps.coverage_map(cov, meta, _cov_geometries(_store, path, version), points, measure=measure,
                              need=need, presenter=presenter)


def coverage_map(store: Store, filters: Filters, max_km: float, *, measure: str, need: str | None,
                 locality: str | None) -> _maps.MapView:
    """The map for this view, built once and shared (its deck JSON is never rebuilt on a rerun)."""
    return _cov_map(store, store.path, store.data_version(), filters, float(max_km), measure, need, locality,
                    is_presenter())


@st.cache_resource(show_spinner=False, max_entries=32)
def _cov_distance(_store: Store, path: str, version: int, filters: Filters, max_km: float, locality: str | None,
                  presenter: bool):  # noqa: ANN202
    cov, _, _ = _cov_table(_store, path, version, filters, max_km)
    shown = cov[cov["locality"] == locality] if locality else cov
    return _maps.distance_chart(shown, max_km=max_km, presenter=presenter), _coverage.distance_table(shown)


def coverage_distance(store: Store, filters: Filters, max_km: float, *, locality: str | None):  # noqa: ANN201
    """(distance chart, its table) for the view, built once per data version and shared."""
    return _cov_distance(store, store.path, store.data_version(), filters, float(max_km), locality, is_presenter())


@st.cache_resource(show_spinner=False, max_entries=64)
def _cov_ward(_store: Store, path: str, version: int, filters: Filters, max_km: float, code: str,
              presenter: bool):  # noqa: ANN202
    cov, meta, _ = _cov_table(_store, path, version, filters, max_km)
    frame = filter_frame(all_services(_store), filters)
    detail = _coverage.ward_detail(cov, meta, frame, _cov_inputs(_store, path, version)[2], code)
    grid = _gapmap.gap_grid(detail.services)
    return detail, _maps.ward_gap_chart(grid, title=f"Gap map for {detail.name}", presenter=presenter), \
        _coverage.gap_table(grid)


def coverage_ward(store: Store, filters: Filters, max_km: float, code: str):  # noqa: ANN201
    """(WardDetail, its gap-map chart, the chart's table) for one ward; shared, do not mutate."""
    return _cov_ward(store, store.path, store.data_version(), filters, float(max_km), code, is_presenter())


@st.cache_data(show_spinner=False, max_entries=8)
def _geo_unplaced(_store: Store, path: str, version: int) -> pd.DataFrame:
    return _geoload.unplaced_postcodes(_store)


@st.cache_data(show_spinner=False, max_entries=8)
def _geo_sites(_store: Store, path: str, version: int) -> pd.DataFrame:
    return _geoload.sites_frame(_store)


def coverage_deck(view: _maps.MapView, *, key: str, height: int = 640) -> None:
    """The pydeck map with its legend and a one-line text alternative."""
    st.pydeck_chart(view.deck, height=height, width="stretch", key=key, alt=view.alt)
    st.altair_chart(view.legend, theme=None, key=f"{key}_legend", width="content")


def _show_lines(lines: list[str], *, ok: bool = True) -> None:
    first, *rest = lines
    (st.success if ok else st.warning)(_md_escape(first), icon=":material/check_circle:" if ok else ":material/warning:")
    for line in rest:
        st.markdown(f"- {_md_escape(line)}")


def _after_load(report_lines: list[str], tables: dict[str, pd.DataFrame] | None = None) -> None:
    """Keep the report for the next run, then rerun so every view above shows the new data."""
    st.session_state["geo_report"] = (report_lines, tables or {})
    st.rerun()


def geo_last_report() -> None:
    """The report of the last load (shown once after the rerun the load started)."""
    got = st.session_state.pop("geo_report", None)
    if got:
        lines, tables = got
        _show_lines(lines)
        for title, df in tables.items():
            if len(df):
                st.markdown(f"**{_md_escape(title)}**")
                st.dataframe(df, hide_index=True, width="stretch")


def _upload(label: str, types: list[str], key: str, help: str | None = None):  # noqa: ANN202, A002
    return st.file_uploader(label, type=types, key=key, help=help)


def geo_boundaries_loader(store: Store) -> None:
    """Upload a boundary file, choose its code/name/locality fields, replace the wards."""
    up = _upload("Ward (or other small-area) boundaries", ["geojson", "json", "gpkg", "zip"], "geo_bnd_file",
                 help="GeoJSON, GeoPackage or a zipped Shapefile, in any coordinate system")
    if up is None:
        st.caption("The stored geometry is your file's own; a simplified copy is kept for drawing.")
        return
    cache_key = ("geo_bnd", up.file_id)
    if st.session_state.get("geo_bnd_read", (None,))[0] != cache_key:
        with guard():
            bf = _geoload.read_boundaries(up.getvalue(), filename=up.name)
            st.session_state["geo_bnd_read"] = (cache_key, bf)
    got = st.session_state.get("geo_bnd_read")
    if not got or got[0] != cache_key:
        return
    bf = got[1]
    s = bf.suggestion
    st.caption(_md_escape(f"{len(bf.frame):,} areas. {bf.crs_note}"))
    fields = s.fields
    c1, c2, c3 = st.columns(3)
    code = c1.selectbox("Code field", fields, index=fields.index(s.code) if s.code in fields else 0, key="geo_bnd_code")
    name = c2.selectbox("Name field", fields, index=fields.index(s.name) if s.name in fields else 0, key="geo_bnd_name")
    loc_opts = ["", *fields]
    loc = c3.selectbox("Locality field (optional)", loc_opts, key="geo_bnd_loc",
                       index=loc_opts.index(s.locality) if s.locality in loc_opts else 0,
                       format_func=lambda f: f or "None")
    st.dataframe(pd.DataFrame(s.samples), hide_index=True, width="stretch", height=150, key="geo_bnd_samples")
    if st.button(f"Replace the wards with these {len(bf.frame):,} areas", type="primary", key="geo_bnd_go"):
        with guard():
            require_editor("load boundaries")
            rep = _geoload.load_boundaries(store, bf, code_field=code, name_field=name, locality_field=loc or None)
            _after_load(rep.lines())


_NEEDS_KINDS = {
    "table": "A needs table (long or wide), keyed by ward code or name",
    "age": "Census 2021 single year of age by ward: children aged 0-4",
    "ethnicity": "Census 2021 ethnic group by ward: % minority ethnic",
    "imd": "Indices of Deprivation by LSOA: mean IMD score per ward",
}


def geo_needs_loader(store: Store) -> None:
    """Upload a needs table (or an ONS file to derive needs from) and load it."""
    kind = st.radio("What is the file?", list(_NEEDS_KINDS), format_func=_NEEDS_KINDS.get, key="geo_needs_kind")
    up = _upload("Needs file", ["csv", "xlsx", "txt"], "geo_needs_file")
    lookup = _upload("LSOA to ward lookup (optional: when the ward codes are not in the IMD file)", ["csv", "xlsx"],
                     "geo_needs_lookup") if kind == "imd" else None
    c1, c2 = st.columns(2)
    period = c1.text_input("Period (if the table has none)", key="geo_needs_period")
    label = c2.text_input("Source (if the table has none)", key="geo_needs_source")
    if up is None or not st.button("Load these figures", type="primary", key="geo_needs_go"):
        return
    with guard():
        require_editor("load needs")
        data = up.getvalue()
        if kind == "table":
            rep = _geoload.load_needs(store, data, filename=up.name, period=period or None, source_label=label or None)
        else:
            if kind == "age":
                df = _geoload.derive_children(data, filename=up.name)
            elif kind == "ethnicity":
                df = _geoload.derive_minority_ethnic(data, filename=up.name)
            else:
                df = _geoload.derive_imd(data, filename=up.name, lookup=lookup.getvalue() if lookup else None,
                                         lookup_filename=lookup.name if lookup else None)
            rep = _geoload.load_needs(store, df, source_label=label or up.name, period=period or None)
        _after_load(rep.lines(), {"Ward keys that matched no ward (not loaded)": rep.unmatched,
                                  "Values that were not numbers (not loaded)": rep.not_numbers})


def geo_population_loader(store: Store) -> None:
    """Population points (e.g. LSOA population-weighted centroids) for population-weighted ward centres."""
    st.caption("Distances are measured from where people live when you load population points: a CSV with lat/lon "
               "(or easting/northing) and population, or small-area boundaries with a population table.")
    pts = _upload("Points (CSV or XLSX)", ["csv", "xlsx"], "geo_pop_points")
    c1, c2 = st.columns(2)
    areas = c1.file_uploader("Or small-area boundaries", type=["geojson", "json", "gpkg", "zip"], key="geo_pop_areas")
    table = c2.file_uploader("with their population table", type=["csv", "xlsx"], key="geo_pop_table")
    if not (pts or (areas and table)) or not st.button("Load population points", key="geo_pop_go"):
        return
    with guard():
        require_editor("load population points")
        if pts:
            df = _geoload.read_population_points(pts.getvalue(), filename=pts.name)
            name = pts.name
        else:
            df = _geoload.population_points_from_areas(areas.getvalue(), table.getvalue(), areas_filename=areas.name,
                                                       population_filename=table.name)
            name = f"{areas.name} + {table.name}"
        got = _geoload.load_population_points(store, df, source=name)
        _after_load([f"Loaded {got['points']:,} population points; {got['in_wards']:,} fall inside a ward."])


def geo_postcodes_loader(store: Store) -> None:
    """The postcode lookup (upload, optional online lookup) and the survey postcodes not yet placed."""
    up = _upload("Postcode lookup (ONS Postcode Directory extract: postcode, lat, long)", ["csv", "zip", "xlsx"],
                 "geo_pc_file")
    if up is not None and st.button("Load postcodes", type="primary", key="geo_pc_go"):
        with guard():
            require_editor("load postcodes")
            rep = _geoload.load_postcode_lookup(store, up.getvalue(), filename=up.name)
            placed = _geoload.place_sites_from_postcodes(store)
            _after_load(rep.lines() + ([f"Placed {placed} site(s) from their postcodes."] if placed else []))
    todo = _geo_unplaced(store, store.path, store.data_version())
    valid = todo[todo["valid"]]
    if todo.empty:
        st.caption("Every survey and site postcode has a place on the map.")
        return
    st.markdown(f"**{len(valid)}** valid postcode(s) from the survey or sites have no point yet"
                + (f"; {len(todo) - len(valid)} answer(s) are not valid postcodes." if len(todo) > len(valid) else "."))
    st.dataframe(todo.rename(columns={"postcode": "Postcode", "services": "Services", "valid": "Valid postcode"}),
                 hide_index=True, width="stretch", height=200, key="geo_pc_todo")
    if len(valid) and st.button(f"Look up {len(valid)} postcode(s) online (postcodes.io)", key="geo_pc_online",
                                help="Optional: needs internet. Nothing else is sent but the postcodes."):
        with guard():
            require_editor("look up postcodes")
            n, missing = _geoload.place_postcodes_online(store)
            _after_load([f"Found {n} postcode(s) online."] + ([f"Not found: {', '.join(missing[:10])}"] if missing else []))


def geo_sites_loader(store: Store) -> None:
    """Family hubs and delivery sites: upload a list, place one by hand, or remove one."""
    up = _upload("Sites list (name, kind, postcode, optional lat/lon)", ["csv", "xlsx"], "geo_sites_file",
                 help="kind: 'Family hub' or anything else for a delivery site")
    if up is not None and st.button("Replace the sites with this list", type="primary", key="geo_sites_go"):
        with guard():
            require_editor("load sites")
            _after_load(_geoload.load_sites(store, up.getvalue(), filename=up.name).lines())
    with st.form("geo_site_form", clear_on_submit=True, border=True):
        st.markdown("**Place a site by hand**")
        c1, c2, c3, c4, c5 = st.columns([3, 2, 2, 2, 2])
        name = c1.text_input("Name", key="geo_site_name")
        kind = c2.selectbox("Kind", list(_geoload.SITE_KINDS), format_func=_geoload.SITE_KINDS.get, key="geo_site_kind")
        pc = c3.text_input("Postcode", key="geo_site_pc")
        lat = c4.number_input("Latitude", value=None, min_value=-90.0, max_value=90.0, format="%.5f", key="geo_site_lat")
        lon = c5.number_input("Longitude", value=None, min_value=-180.0, max_value=180.0, format="%.5f",
                              key="geo_site_lon")
        if st.form_submit_button("Add site"):
            with guard():
                require_editor("place sites")
                _geoload.add_site(store, name=name, kind=kind, lat=lat, lon=lon, postcode=pc or None)
                _after_load([f"Placed {name}."])
    sites = _geo_sites(store, store.path, store.data_version())
    if len(sites):
        st.dataframe(sites.drop(columns=["site_id"]).rename(columns=str.capitalize), hide_index=True, width="stretch",
                     height=220, key="geo_sites_table")
        ids = dict(zip(sites["site_id"], sites["name"], strict=True))
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        sid = c1.selectbox("Remove a site", list(ids), format_func=ids.get, key="geo_site_remove")
        if c2.button("Remove", key="geo_site_remove_go"):
            with guard():
                require_editor("remove sites")
                _geoload.remove_site(store, int(sid))
                _after_load([f"Removed {ids[sid]}."])


def geo_loaders(store: Store) -> None:
    """Every geography loader, in tabs (editors only; never in presenter mode)."""
    if not can_edit():
        return
    with st.expander("Load your own geography: boundaries, needs, population, postcodes, sites",
                     icon=":material/upload:", expanded=st.session_state.get("geo_loader_open", False)):
        tabs = st.tabs(["Boundaries", "Needs", "Population", "Postcodes", "Sites"])
        for tab, fn in zip(tabs, (geo_boundaries_loader, geo_needs_loader, geo_population_loader,
                                  geo_postcodes_loader, geo_sites_loader), strict=True):
            with tab:
                fn(store)


def geo_findings(lines: list[str]) -> None:
    """Findings as bullets (ward names are user data: shown literally)."""
    st.markdown("\n".join(f"- {_md_escape(line)}" for line in lines))


def geo_caption(store: Store, title: str, filters: Filters):  # noqa: ANN201 - exports.Caption
    """The caption printed on a coverage export: what, filters, survey date."""
    from hubdash.exports import Caption

    return Caption(title=title, filters=filters.describe(), data_date=store.meta("data_date"),
                   notes=("Services count in a ward when they name it or cover the whole local authority.",))


def geo_downloads(items: list[tuple[str, Callable[[], bytes], str, str]], *, key: str) -> None:
    """Download buttons whose bytes are made only when pressed (label, maker, file name, MIME)."""
    with st.container(horizontal=True, key=f"{key}_downloads"):
        for label, make, name, mime in items:
            st.download_button(label, make, file_name=name, mime=mime, key=f"{key}_{name}", on_click="ignore",
                               icon=":material/download:")


# --- survey ingestion ---
# Helpers for pages/survey_ingestion.py: upload -> what was read -> problems -> column and answer
# mapping -> append/replace preview -> confirm; import history with undo; one service by hand;
# the contacted-agencies list; the blank template. Every write checks `require_editor` first.

import hashlib as _hashlib  # noqa: E402
from functools import partial as _partial  # noqa: E402

from hubdash import agencies as _agencies  # noqa: E402
from hubdash import imports as _imports  # noqa: E402
from hubdash import ingest as _ingest  # noqa: E402

_ING = "ingest_state"
_ING_DONE = "ingest_done"
_SEVERITY_ICONS = {"error": "Not imported", "warning": "Check", "info": "Note"}


def _ing_state(sha: str) -> dict:
    """Mapping choices for the file being checked (reset when another file is uploaded)."""
    state = st.session_state.get(_ING)
    if not state or state.get("sha") != sha:
        state = {"sha": sha, "columns": {}, "values": {}}
        st.session_state[_ING] = state
    return state


@st.cache_data(show_spinner="Reading the file…", max_entries=6)
def _ing_prepare(_data: bytes, sha: str, name: str, mapping_json: str) -> _ingest.Survey:
    return _ingest.prepare_survey(_data, name, mapping=_ingest.Mapping.from_json(mapping_json),
                                  accept_suggestions=True)


def ingest_survey(upload, saved_mapping=None) -> _ingest.Survey:  # noqa: ANN001
    """Read and check an uploaded export with the choices made so far (cached per file and choices).

    Suggested matches are pre-selected for the person to confirm: unmatched headings that look like
    a question, and unknown answers that look like an option.
    """
    data = upload.getvalue()
    sha = _hashlib.sha256(data).hexdigest()
    state = _ing_state(sha)
    base = _ingest.Mapping()
    if saved_mapping is not None:
        base = _ingest.Mapping.from_json(saved_mapping.getvalue(), name=saved_mapping.name)

    def run() -> _ingest.Survey:
        mapping = base.merged(_ingest.Mapping(dict(state["columns"]), {q: dict(v) for q, v in state["values"].items()}))
        return _ing_prepare(data, sha, upload.name, mapping.to_json())

    survey = run()
    seeded = False
    for r in survey.undecided().itertuples(index=False):
        if r.suggestion and r.answer not in state["values"].get(r.question, {}):
            state["values"].setdefault(r.question, {})[r.answer] = r.suggestion
            state.setdefault("suggested", []).append([r.question, r.answer])
            seeded = True
    return run() if seeded else survey


def ingest_overview(survey: _ingest.Survey) -> None:
    """What was recognised, the counts, and the first rows as the dashboard will read them."""
    how = [f"Recognised as **{survey.format_label}**"]
    if survey.encoding:
        how.append(f"text encoding {survey.encoding}")
    if survey.delimiter:
        how.append({",": "comma", ";": "semicolon", "\t": "tab", "|": "bar"}.get(survey.delimiter, "") + "-separated")
    if survey.sheet:
        how.append(f"sheet '{md_text(survey.sheet)}'")
    how.append(f"headings in row {survey.layout.header_row}")
    st.markdown(" · ".join(how))
    counts = survey.counts()
    c = st.columns(4)
    c[0].metric("Rows read", f"{survey.rows_read:,}")
    c[1].metric("Ready to import", f"{survey.rows_accepted:,}")
    c[2].metric("Not imported", f"{survey.rows_rejected:,}", help="Rows without a service name")
    c[3].metric("Answers to check", f"{counts['warning']:,}", help="Warnings in the problems list")
    if survey.fatal:
        st.error(survey.fatal, icon=":material/error:")
        return
    st.markdown("**The first rows, as the dashboard will read them**")
    head = _ingest.records_frame(survey.records[:8])
    table = labelled(head, personal=False).drop(columns=["service_id"])
    table.insert(0, "File row", head["source_row"].to_numpy())
    st.dataframe(table, hide_index=True, width="stretch", key="ingest_preview")


def ingest_problems(survey: _ingest.Survey) -> None:
    """Every problem by row, column and value (grouped when the same problem repeats), with a download."""
    probs = survey.problems
    if probs.empty:
        st.success("No problems found: every answer matches the survey.", icon=":material/check_circle:")
        return
    grouped = (probs.assign(row=probs["row"].astype("Int64"))
               .groupby(["severity", "column", "value", "problem", "what_to_do"], dropna=False, sort=False)
               .agg(rows=("row", lambda s: _ingest.compact_rows([int(x) for x in s.dropna()])), n=("row", "size"))
               .reset_index())
    table = pd.DataFrame({
        "": grouped["severity"].map(_SEVERITY_ICONS), "Rows": grouped["rows"],
        "Column": [_short(c, 48) for c in grouped["column"]],
        "Value": [_short(v, 48) if isinstance(v, str) else "" for v in grouped["value"]],
        "Problem": grouped["problem"], "What to do": grouped["what_to_do"]})
    main = table[grouped["severity"] != "info"]
    notes = table[grouped["severity"] == "info"]
    if not main.empty:
        if len(main) <= 25:  # a static table wraps long text, readable on a projector
            st.table(main.set_index(""))
        else:
            st.dataframe(main, hide_index=True, width="stretch", key="ingest_problems_main", height=520,
                         column_config={"Problem": st.column_config.TextColumn(width="large"),
                                        "What to do": st.column_config.TextColumn(width="large")})
    else:
        st.success("No errors or warnings; only notes about what was done automatically.",
                   icon=":material/check_circle:")
    if not notes.empty:
        with st.expander(f"{int(grouped.loc[grouped['severity'] == 'info', 'n'].sum())} notes on what was done "
                         "automatically"):
            st.dataframe(notes, hide_index=True, width="stretch", key="ingest_problems_notes")
    st.download_button("Download every problem (CSV)", _ingest.problems_csv(probs),
                       file_name=f"problems-{survey.file_name.rsplit('.', 1)[0]}.csv",
                       mime="text/csv", key="ingest_problems_csv", icon=":material/download:", on_click="ignore")


def _ing_set(kind: str, header_or_q: str, answer: str | None, key: str) -> None:
    state = st.session_state[_ING]
    if kind == "column":
        state["columns"][header_or_q] = st.session_state[key]
    else:
        state["values"].setdefault(header_or_q, {})[str(answer)] = st.session_state[key]


_COLUMN_CHOICES = [_ingest.EXTRA, _ingest.IGNORE] + [q.code for q in schema.QUESTIONS]


def _column_label(code: str) -> str:
    try:
        return _ingest.Target.decode(code).describe()
    except ValueError:
        return code


# Widget format functions are module-level partials, not lambdas: session state must pickle.
def _column_choice(current: str, tag: str, code: str) -> str:
    return _column_label(code) + (tag if code == current else "")


def _answer_choice(qcode: str, keep: str, suggested: bool, current: str, code: str) -> str:
    text = keep if code == _ingest.KEEP_OTHER else schema.label(qcode, code)
    return text + (" (suggested)" if suggested and code == current else "")


def _option_or_dash(qcode: str, code: str | None) -> str:
    return "—" if code is None else schema.label(qcode, code)


def _service_choice(names: dict[int, str], sid: int) -> str:
    return "Add a new service" if sid == 0 else names.get(sid, str(sid))


def ingest_column_step(survey: _ingest.Survey) -> None:
    """For headings that did not match a question exactly: the suggested match, to confirm or change."""
    cols = [c for c in survey.layout.columns if c.how in ("unmatched", "suggested", "duplicate", "mapping")]
    meta = [c.header for c in survey.layout.columns if c.how == "metadata"]
    if not cols:
        st.success("Every column matched a survey question" + (
            f"; {len(meta)} survey-tool column{'s' if len(meta) != 1 else ''} (times, IDs) not stored."
            if meta else "."), icon=":material/check_circle:")
        return
    st.markdown("These headings did not match a survey question exactly. Check the suggested match, or choose "
                "what the column holds. Columns kept aside are stored with the service but not analysed.")
    for c in cols:
        key = f"ingest_col_{survey.sha256[:10]}_{c.index}"
        current = c.target.encode()
        options = _COLUMN_CHOICES if current in _COLUMN_CHOICES else [current, *_COLUMN_CHOICES]
        left, right = st.columns([2, 3], vertical_alignment="center")
        sample = ", ".join(md_text(_short(v)) for v in survey.samples.get(c.header, []))
        left.markdown(f"**{c.letter} · {md_text(c.header)}**" + (f"  \ne.g. {sample}" if sample else ""))
        tag = {"suggested": " (suggested)", "duplicate": " (second column for the same question)"}.get(c.how, "")
        right.selectbox(f"Column {c.letter} holds", options, index=options.index(current), key=key,
                        format_func=_partial(_column_choice, current, tag),
                        label_visibility="collapsed", on_change=_ing_set, args=("column", c.header, None, key))
    if meta:
        st.caption("Not stored (survey-tool details, not about the service): " + ", ".join(md_text(m) for m in meta))


def _short(text: object, n: int = 40) -> str:
    s = " ".join(str(text).split())
    return s if len(s) <= n else s[: n - 1] + "…"


#: Answers offered one by one in the answer-mapping step; the rest stay Other (use a mapping file).
ANSWER_LIMIT = 40


def ingest_answer_step(survey: _ingest.Survey) -> None:
    """Answers outside the survey's options: map each to an option, or keep it as Other."""
    answers = survey.unknown.sort_values("count", ascending=False, kind="stable")
    if answers.empty:
        st.success("Every answer is one of the survey's options.", icon=":material/check_circle:")
        return
    suggested = {tuple(x) for x in st.session_state.get(_ING, {}).get("suggested", [])}
    st.markdown("These answers are not among the survey's options. Choose what each one means, or keep it as "
                "**Other** (its text is kept). Matches marked *suggested* were filled in for you: check them.")
    for qcode, group in answers.head(ANSWER_LIMIT).groupby("question", sort=False):
        q = schema.question(str(qcode))
        st.markdown(f"**{md_text(group['question_text'].iloc[0])}**")
        keep = "Keep as Other" if "other" in q.codes else "Keep as text (not counted)"
        options = [_ingest.KEEP_OTHER] + [c for c in q.codes if c != "other"]
        for r in group.itertuples(index=False):
            key = f"ingest_val_{survey.sha256[:10]}_{qcode}_{_hashlib.md5(r.answer.encode()).hexdigest()[:8]}"
            current = r.decision if r.decision in options else _ingest.KEEP_OTHER
            is_suggested = (qcode, r.answer) in suggested and r.decision == r.suggestion
            left, right = st.columns([2, 3], vertical_alignment="center")
            where = f"row {r.rows}" if r.count == 1 else f"{r.count} rows ({r.rows})"
            left.markdown(f"'{md_text(_short(r.answer, 60))}' · {md_text(where)}")
            right.selectbox(f"'{_short(r.answer)}' means", options, index=options.index(current), key=key,
                            format_func=_partial(_answer_choice, str(qcode), keep, is_suggested, current),
                            label_visibility="collapsed", on_change=_ing_set, args=("value", str(qcode), r.answer, key))
    if len(answers) > ANSWER_LIMIT:
        st.caption(f"{len(answers) - ANSWER_LIMIT} less frequent answers are kept as Other. To map them too, download "
                   "the mapping below, add them under \"values\", and upload it again.")


def ingest_mapping_download(survey: _ingest.Survey) -> None:
    st.download_button("Download this mapping (JSON) to reuse next time", survey.mapping.to_json(),
                       file_name=f"mapping-{survey.file_name.rsplit('.', 1)[0]}.json", mime="application/json",
                       key="ingest_mapping_json", icon=":material/download:", on_click="ignore")


def ingest_confirm(store: Store, survey: _ingest.Survey) -> None:
    """Append or replace, what will change (n new / updated / removed), and the import button."""
    if survey.fatal:
        return
    mode = st.radio("How should these services be added?", list(_imports.MODES), format_func=_imports.MODE_LABELS.get,
                    key="ingest_mode")
    preview = _imports.preview_import(store, survey, mode=mode)
    counts = preview.plan.counts()
    c = st.columns(3)
    c[0].metric("New services", f"{counts['new']:,}")
    c[1].metric("Updated", f"{counts['updated']:,}", help="Same name and organisation as a service already stored")
    c[2].metric("Removed", f"{counts['removed']:,}", help="Only when replacing: services not in this file")
    if mode == "replace" and store.is_demo() and counts["removed"]:
        st.warning("Replacing removes the fictional demo services. Undo brings them back.", icon=":material/info:")
    with st.expander("Which services change"):
        st.dataframe(preview.plan.table(survey.records), hide_index=True, width="stretch", key="ingest_plan")
    if preview.blocked:
        st.error(preview.blocked, icon=":material/block:")
        return
    if st.button(f"Import {survey.rows_accepted:,} services", type="primary", key="ingest_go",
                 icon=":material/upload:"):
        with guard():
            require_editor("import survey returns")
            result = _imports.commit_import(store, survey, mode=mode, expected=preview.plan)
            st.session_state[_ING_DONE] = (f"Import {result.import_id} done: {survey.file_name}, "
                                           f"{result.plan.describe()}. You can undo it under Import history.")
            st.session_state.pop(_ING, None)
            st.session_state["ingest_nonce"] = st.session_state.get("ingest_nonce", 0) + 1
            st.rerun()


def ingest_last_result() -> None:
    msg = st.session_state.get(_ING_DONE)
    if msg:
        st.success(md_text(msg), icon=":material/task_alt:")


def ingest_uploader_key() -> str:
    return f"ingest_file_{st.session_state.get('ingest_nonce', 0)}"


def _undo_import(store: Store, import_id: int) -> None:
    try:
        require_editor("undo an import")
        n = _imports.undo_import(store, import_id)
        st.session_state["ingest_undone"] = ("ok", f"Import {import_id} undone: {n} services put back as they were.")
    except HubdashError as e:
        st.session_state["ingest_undone"] = ("error", f"**{e.title}**\n\n{e.msg}")


def ingest_history(store: Store, *, editable: bool) -> None:
    """Every import, newest first, with an Undo button for those still in force (editors only)."""
    done = st.session_state.pop("ingest_undone", None)
    if done:
        (st.success if done[0] == "ok" else st.error)(done[1], icon=":material/undo:")
    df = _imports.list_imports(store)
    if df.empty:
        st.info("No survey files have been imported into this database yet.", icon=":material/history:")
        return
    for r in df.head(15).itertuples(index=False):
        when = r.imported_at.strftime("%d %b %Y %H:%M") if hasattr(r.imported_at, "strftime") else str(r.imported_at)
        fmt = _ingest.FORMAT_LABELS.get(r.detected_format, r.detected_format)
        with st.container(border=True, key=f"ingest_hist_{r.import_id}"):
            left, right = st.columns([5, 1], vertical_alignment="center")
            left.markdown(f"**Import {r.import_id}** · {md_text(r.file_name)} · {md_text(fmt)} · {when}  \n"
                          f"{r.rows_read} rows read, {r.rows_accepted} imported, {r.rows_rejected} not imported · "
                          f"{'added to' if r.mode == 'append' else 'replaced'} the data: {md_text(r.note or '')}")
            if r.status == "undone":
                right.markdown(":gray[Undone]")
            elif editable and right.button("Undo", key=f"ingest_undo_{r.import_id}", icon=":material/undo:"):
                _undo_import(store, int(r.import_id))
                st.rerun()
    with st.expander("All imports as a table"):
        st.dataframe(df, hide_index=True, width="stretch", key="ingest_history_table")


# The in-app form: one widget per question, checked with exactly the rules a file gets.
def _svc_widget(q: schema.Question, rec: dict, key: str, wards: list[str]) -> object:
    v = rec.get(q.code)
    label = f"{q.number}. {q.text}" + (" *" if q.required else "")
    if q.kind == "single":
        opts = [None, *q.codes]
        return st.selectbox(label, opts, index=opts.index(v) if v in opts else 0, key=key,
                            format_func=_partial(_option_or_dash, q.code))
    if q.kind == "multi":
        return st.multiselect(label, q.codes, default=[c for c in (v or []) if c in q.codes], key=key,
                              format_func=_partial(schema.label, q.code))
    if q.kind == "number":
        return st.number_input(label, min_value=0.0, value=float(v) if v is not None else None, step=1.0,
                               key=key, placeholder="Blank if not known")
    if q.kind == "wards":
        current = list(v or [])
        return st.multiselect(label, list(dict.fromkeys([schema.WHOLE_LA, *wards, *current])), default=current,
                              key=key, accept_new_options=True)
    if q.kind in ("postcodes", "languages"):
        return st.text_input(label, "; ".join(v or []), key=key, help="Separate several with ;")
    if q.code == "eligibility":
        return st.text_area(label, v or "", key=key, height=80)
    return st.text_input(label, v or "", key=key)


_SVC_SECTIONS = [("About the service", 1, 4), ("What it is for and how it is delivered", 5, 12),
                 ("Where", 13, 14), ("Who delivers it, capacity and cost", 15, 20),
                 ("Access and inclusion", 21, 23), ("Contact (personal data: never shown in charts or exports)", 24, 25)]


def service_form(store: Store) -> None:
    """Add a service, or edit one, through the same checks as an import (undoable)."""
    from hubdash.services import service_record

    frame = all_services(store)
    names = {int(i): f"{n} · {o}" if isinstance(o, str) else str(n)
             for i, n, o in zip(frame["service_id"], frame["name"], frame["organisation"], strict=True)}
    ids = [0, *sorted(names, key=lambda i: names[i].lower())]
    sid = st.selectbox("Service", ids, format_func=_partial(_service_choice, names), key="svc_pick")
    rec = (service_record(store, sid) or {}) if sid else {}
    wards = _imports.known_wards(store)
    others: dict[str, str] = {}
    values: dict[str, object] = {}
    with st.form(f"svc_form_{sid}", border=True):
        for title, first, last in _SVC_SECTIONS:
            st.markdown(f"**{title}**")
            for q in schema.QUESTIONS[first - 1:last]:
                left, right = st.columns([3, 2], vertical_alignment="bottom")
                with left:
                    values[q.code] = _svc_widget(q, rec, f"svc_{sid}_{q.code}", wards)
                if "other" in q.codes:
                    others[q.code] = right.text_input(f"Q{q.number} Other: please specify",
                                                      (rec.get("other_answers") or {}).get(q.code, ""),
                                                      key=f"svc_{sid}_{q.code}_other")
        saved = st.form_submit_button("Save this service" if sid else "Add this service", type="primary",
                                      icon=":material/save:")
    if saved:
        _svc_save(store, sid, rec, values, others)
    _svc_undo_notice(store)


def _svc_save(store: Store, sid: int, rec: dict, values: dict, others: dict) -> None:
    from hubdash.history import edit_service

    with guard():
        require_editor("add or edit services")
        for code in ("postcodes", "languages"):
            values[code] = [p.strip() for p in str(values.get(code) or "").replace("\n", ";").split(";") if p.strip()]
        record, problems = _ingest.prepare_record(values, other={k: v for k, v in others.items() if v})
        shown = problems[problems["severity"] != "info"]
        if record is None:
            st.error("Not saved: " + "; ".join(shown["problem"]) + ".", icon=":material/error:")
            return
        record["extra"] = rec.get("extra") or {}
        new_id = edit_service(store, sid or None, record)
        changes = history_changes(store)
        mine = changes[changes["kind"].isin(["add", "edit"]) & changes["description"].str.endswith(f"'{record['name']}'")]
        if not mine.empty:  # newest first: this session's save
            st.session_state["svc_last_change"] = [int(mine.iloc[0]["change_id"]),
                                                   f"Saved '{record['name']}' (service {new_id})."]
        if not shown.empty:
            st.warning("Saved, but check: " + "; ".join(
                f"{p} ({md_text(_short(v))})" if isinstance(v, str) else p
                for p, v in zip(shown["problem"], shown["value"], strict=True)), icon=":material/warning:")


def history_changes(store: Store) -> pd.DataFrame:
    from hubdash.history import list_changes

    return list_changes(store)


def _svc_undo_notice(store: Store) -> None:
    """After a save: what was saved, and a button to undo it."""
    from hubdash.history import undo_change

    last = st.session_state.get("svc_last_change")
    if not last:
        return
    cid, text = last
    with st.container(border=True, horizontal=True, vertical_alignment="center", key="svc_saved"):
        st.success(md_text(text), icon=":material/task_alt:", width="stretch")
        if st.button("Undo this change", key="svc_undo", icon=":material/undo:"):
            with guard():
                require_editor("undo a change")
                undo_change(store, int(cid))
                st.session_state.pop("svc_last_change", None)
                st.rerun()


def agencies_summary(store: Store) -> None:
    table = _agencies.agencies_frame(store)
    if table.empty:
        st.info("No contacted-agencies list yet. Add one to see response rates on Home and Data quality.",
                icon=":material/groups:")
        return
    responded = int(table["responded"].fillna(False).astype(bool).sum())
    st.metric("Agencies that responded", f"{responded} of {len(table)}", f"{responded / len(table):.0%}",
              delta_color="off", delta_arrow="off", help="Agencies on the list below marked Responded")


def agencies_editor(store: Store, *, editable: bool) -> None:
    """The list as an editable table (editors) or a plain one, with a CSV download."""
    table = _agencies.agencies_table(store)
    areas = [o.label for o in schema.SERVICE_AREAS_ALL]
    config = {
        "Organisation": st.column_config.TextColumn(required=True, width="medium"),
        "Sector": st.column_config.SelectboxColumn(options=schema.question("sector").labels, width="medium"),
        "Service areas": st.column_config.MultiselectColumn(options=areas, width="medium"),
        "Date contacted": st.column_config.DateColumn(format="DD/MM/YYYY"),
        "Responded": st.column_config.CheckboxColumn(),
        "Notes": st.column_config.TextColumn(width="medium"),
    }
    if not editable:
        st.dataframe(table, hide_index=True, width="stretch", column_config=config, key="agencies_view")
        return
    edited = st.data_editor(table, hide_index=True, width="stretch", num_rows="dynamic", column_config=config,
                            key="agencies_editor")
    row = st.container(horizontal=True)
    if row.button("Save the list", type="primary", key="agencies_save", icon=":material/save:"):
        with guard():
            require_editor("change the contacted-agencies list")
            _agencies_save(store, _agencies.validate_table(edited, store=store))
    row.download_button("Download the list (CSV)", _agencies.agencies_csv(store), file_name="contacted-agencies.csv",
                          mime="text/csv", key="agencies_csv", icon=":material/download:", on_click="ignore")


def _agencies_save(store: Store, checked: _agencies.AgencyList) -> None:
    shown = checked.problems[checked.problems["severity"] != "info"]
    if checked.errors:
        st.error("Not saved: fix the rows marked 'error' below.", icon=":material/error:")
        st.dataframe(shown, hide_index=True, width="stretch", key="agencies_problems")
        return
    n = _agencies.replace_agencies(store, checked.frame)
    st.success(f"Saved the contacted-agencies list: {n} agencies.", icon=":material/task_alt:")
    if not shown.empty:
        st.dataframe(shown, hide_index=True, width="stretch", key="agencies_warnings")


def agencies_loader(store: Store) -> None:
    """Replace the list from a CSV or Excel file, after showing what was read."""
    up = st.file_uploader("Load a list from CSV or Excel", type=["csv", "xlsx", "txt"], key="agencies_file",
                          help="Columns: Organisation, Sector, Service areas, Date contacted, Responded, Notes")
    if up is None:
        return
    with guard():
        checked = _agencies.read_agencies(up.getvalue(), up.name, store=store)
        st.markdown(f"Read **{len(checked.frame)}** agencies from {md_text(up.name)}.")
        st.dataframe(checked.frame, hide_index=True, width="stretch", key="agencies_upload_preview")
        if not checked.problems.empty:
            st.dataframe(checked.problems, hide_index=True, width="stretch", key="agencies_upload_problems")
        if st.button(f"Replace the list with these {len(checked.frame)} agencies", type="primary",
                     key="agencies_replace", icon=":material/published_with_changes:"):
            require_editor("change the contacted-agencies list")
            _agencies_save(store, checked)


@st.cache_data(show_spinner=False)
def template_bytes() -> bytes:
    """The blank survey template (.xlsx), built once per process."""
    from hubdash.template import build_template

    return build_template()


# --- server launcher ---


def serve(streamlit_args: Sequence[str] = ()) -> int:
    """Start the app (`python -m hubdash serve`), as `streamlit run app.py` would.

    Streamlit decides per process, on the first session, whether the app uses the old
    `pages/` directory convention; until app.py has run `st.navigation` once, a deep link such
    as `/gaps` opened by the very first visitor shows a spurious "Page not found" dialog
    (streamlit#8860). app.py always declares its pages explicitly, so we say so up front.
    """
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli as stcli

    PagesManager.uses_pages_directory = False
    app = Path(__file__).resolve().parent.parent / "app.py"
    try:
        stcli.main.main(args=["run", str(app), *streamlit_args], prog_name="streamlit", standalone_mode=False)
    except SystemExit as e:  # click exits on --help and errors
        return int(e.code or 0)
    return 0
