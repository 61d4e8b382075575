"""Workshop mode without Streamlit: shareable views, bookmarks and the presenter's sequence.

A *view* is a page (its `url_path`) plus the URL query that reproduces it: the global filter
(`area`, `level`, `kind`) and any selection a page binds to the URL (a map indicator, say).
Views come back from untrusted places (a pasted link, the database), so every query passes
`clean_query`: keys from an allowlist, short plain-text values, JSON on disk (never pickle).

The *sequence* is the short list of views a presenter steps through in a workshop ("gap map
for infant feeding -> wards with least coverage -> REDIE gaps"). It lives in the
`presenter_steps` table; until someone saves one, `DEFAULT_SEQUENCE` is offered.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pandas as pd

from hubdash.errors import HubdashError
from hubdash.schema import Filters
from hubdash.store import Store

#: Every page a view may point at: url_path -> (page file for `st.switch_page`, plain title).
PAGES: dict[str, tuple[str, str]] = {
    "": ("pages/home.py", "Home"),
    "ingestion": ("pages/survey_ingestion.py", "Survey ingestion"),
    "quality": ("pages/data_quality.py", "Data quality"),
    "gaps": ("pages/gap_maps.py", "Gap maps"),
    "coverage": ("pages/geographic_coverage.py", "Geographic coverage"),
    "redie": ("pages/redie_access.py", "REDIE access"),
    "reflect": ("pages/reflect_and_act.py", "Reflect and act"),
}

#: The global filter, shared by every page.
GLOBAL_KEYS: tuple[str, ...] = ("area", "level", "kind")
#: Selections pages keep in the URL with `ui.url_widget`, per page (read from their code; keys a
#: page binds at run time are allowed on top of these, so a new one works before it is listed).
PAGE_KEYS: dict[str, tuple[str, ...]] = {
    "quality": ("dq_order",),
    "gaps": ("gap_view", "gap_focus", "gap_measure", "gap_outcome", "gap_count_by"),
    "coverage": ("cov_measure", "cov_need"),
}
#: Keys that describe the presentation, not the view: never saved in a bookmark or a step.
MODE_KEYS: tuple[str, ...] = ("present", "step")

KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,31}")
#: Values are option codes or short labels: letters, digits and a little punctuation.
VALUE_PATTERN = re.compile(r"[\w .,:;()'&/+-]{1,100}")
MAX_NAME = 80
MAX_STEPS = 20
MAX_BOOKMARKS = 200


class ViewError(HubdashError):
    title = "This view could not be saved"


def allowed_keys(page: str, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The URL keys a view of `page` may carry: the global filter, the page's own, `extra`."""
    keys = [*GLOBAL_KEYS, *PAGE_KEYS.get(page, ())]
    keys += [k for k in extra if KEY_PATTERN.fullmatch(k) and k not in MODE_KEYS]
    return tuple(dict.fromkeys(keys))


def clean_query(params: Mapping[str, object], *, page: str, extra: Iterable[str] = ()) -> dict[str, str]:
    """The allowlisted part of a URL query, values checked, in a stable order.

    Unknown keys, presentation keys (`present`, `step`), lists, over-long or odd values are
    dropped rather than refused: a pasted link with junk in it still opens the view.
    E.g. `clean_query({"area": "parenting", "x": "1"}, page="gaps")` == `{"area": "parenting"}`.
    """
    out: dict[str, str] = {}
    for key in allowed_keys(page, extra):
        v = params.get(key)
        if isinstance(v, list | tuple):
            v = v[-1] if v else None
        if isinstance(v, bool) or v is None:
            continue
        text = str(v).strip()
        if VALUE_PATTERN.fullmatch(text):
            out[key] = text
    # The global filter is validated against the schema too, so a bookmark never stores junk.
    f = Filters(area=out.get("area"), level=out.get("level"), kind=out.get("kind")).validated()
    for key, value in (("area", f.area), ("level", f.level), ("kind", f.kind)):
        if value is None:
            out.pop(key, None)
    return out


def _check_page(page: str) -> str:
    if page not in PAGES:
        raise ViewError(f"'{page}' is not a page of this dashboard. Choose one of: "
                        + ", ".join(repr(p) for p in PAGES) + ".")
    return page


@dataclass(frozen=True)
class View:
    """A page and the URL query that reproduces it (allowlisted keys only)."""

    page: str
    query: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, page: str, query: Mapping[str, object] | None = None, *, extra: Iterable[str] = ()) -> View:
        """A view from raw (untrusted) parts; unknown pages raise `ViewError`."""
        _check_page(page)
        return cls(page, tuple(clean_query(query or {}, page=page, extra=extra).items()))

    @property
    def params(self) -> dict[str, str]:
        return dict(self.query)

    @property
    def page_file(self) -> str:
        return PAGES[self.page][0]

    @property
    def page_title(self) -> str:
        return PAGES[self.page][1]

    @property
    def filters(self) -> Filters:
        p = self.params
        return Filters(area=p.get("area"), level=p.get("level"), kind=p.get("kind")).validated()

    def path(self, *, present: bool = False, step: int | None = None) -> str:
        """The relative link, e.g. `gaps?area=infant_feeding&present=1&step=1`."""
        q = dict(self.query)
        if present:
            q["present"] = "1"
        if step is not None:
            q["step"] = str(step)
        return self.page + (f"?{urlencode(q)}" if q else "")

    def url(self, base: str, **kw: object) -> str:
        """The absolute link on the app at `base` (scheme, host and any path prefix)."""
        return base.rstrip("/") + "/" + self.path(**kw)  # type: ignore[arg-type]

    def describe(self) -> str:
        """Plain words: the page and the filter, e.g. 'Gap maps: Infant feeding, all target levels, ...'."""
        extra = [f"{k} {v}" for k, v in self.query if k not in GLOBAL_KEYS]
        return f"{self.page_title}: {self.filters.describe()}" + (f" ({', '.join(extra)})" if extra else "")


def _query_json(view: View) -> str:
    return json.dumps(view.params, ensure_ascii=False, sort_keys=False)


def _view_from_row(page: str, query: str | None) -> View | None:
    """A stored view, re-checked on the way out; None if the page no longer exists."""
    if page not in PAGES:
        return None
    try:
        raw = json.loads(query) if query else {}
    except ValueError:
        raw = {}
    return View.of(page, raw if isinstance(raw, dict) else {}, extra=raw.keys() if isinstance(raw, dict) else ())


def _clean_name(name: str) -> str:
    text = " ".join(str(name or "").split())
    if not text:
        raise ViewError("Give the bookmark a short name, e.g. 'Infant feeding gaps'.")
    if len(text) > MAX_NAME:
        raise ViewError(f"Keep the name under {MAX_NAME} characters (it has {len(text)}).")
    return text


# --- bookmarks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bookmark:
    bookmark_id: int
    name: str
    view: View


def add_bookmark(store: Store, *, name: str, view: View) -> int:
    """Save a named view; returns its id."""
    name = _clean_name(name)
    _check_page(view.page)
    with store.write() as cur:
        n = cur.execute("SELECT count(*) FROM bookmarks").fetchall()[0][0]
        if n >= MAX_BOOKMARKS:
            raise ViewError(f"There are already {n} bookmarks. Delete some you no longer use first.")
        rows = cur.execute("INSERT INTO bookmarks (name, page, query) VALUES (?, ?, ?) RETURNING bookmark_id",
                           [name, view.page, _query_json(view)]).fetchall()
    return int(rows[0][0])


def list_bookmarks(store: Store) -> list[Bookmark]:
    """Saved views, newest first (views of pages that no longer exist are skipped)."""
    out = []
    for bid, name, page, query in store.rows(
            "SELECT bookmark_id, name, page, query FROM bookmarks ORDER BY created_at DESC, bookmark_id DESC"):
        view = _view_from_row(page or "", query)
        if view is not None:
            out.append(Bookmark(int(bid), str(name), view))
    return out


def delete_bookmark(store: Store, bookmark_id: int) -> None:
    with store.write() as cur:
        cur.execute("DELETE FROM bookmarks WHERE bookmark_id = ?", [int(bookmark_id)])


# --- the presenter's sequence -------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One stop in the sequence. `title` is the presenter's own label (optional)."""

    view: View
    title: str | None = None
    step_id: int | None = field(default=None, compare=False)

    @property
    def label(self) -> str:
        return self.title or self.view.describe()


#: Offered until a sequence is saved: the story the issue describes, for infant feeding.
DEFAULT_SEQUENCE: tuple[Step, ...] = (
    Step(View("gaps", (("area", "infant_feeding"), ("gap_focus", "early"))),
         "Gap map for infant feeding, pre-birth to 5"),
    Step(View("coverage", (("area", "infant_feeding"),)), "Wards with the least coverage"),
    Step(View("redie", (("area", "infant_feeding"),)), "REDIE: which families miss out"),
)


def saved_sequence(store: Store) -> list[Step]:
    """The stored sequence in order (empty if none was saved)."""
    out = []
    for sid, page, query, title in store.rows(
            "SELECT step_id, page, query, title FROM presenter_steps ORDER BY position, step_id"):
        view = _view_from_row(page, query)
        if view is not None:
            out.append(Step(view, title or None, int(sid)))
    return out


def sequence(store: Store) -> list[Step]:
    """The sequence to present: the saved one, or `DEFAULT_SEQUENCE` if none was saved."""
    return saved_sequence(store) or list(DEFAULT_SEQUENCE)


def save_sequence(store: Store, steps: Sequence[Step]) -> None:
    """Replace the stored sequence with `steps` (in one transaction)."""
    if len(steps) > MAX_STEPS:
        raise ViewError(f"A workshop sequence holds at most {MAX_STEPS} views; this one has {len(steps)}.")
    rows = []
    for i, s in enumerate(steps, start=1):
        _check_page(s.view.page)
        title = " ".join((s.title or "").split()) or None
        if title and len(title) > MAX_NAME:
            raise ViewError(f"Step {i}: keep the title under {MAX_NAME} characters.")
        rows.append((i, s.view.page, _query_json(s.view), title))
    with store.write() as cur:
        cur.execute("DELETE FROM presenter_steps")
        for row in rows:
            cur.execute("INSERT INTO presenter_steps (position, page, query, title) VALUES (?, ?, ?, ?)", list(row))


def clear_sequence(store: Store) -> None:
    """Forget the saved sequence, so `DEFAULT_SEQUENCE` is offered again."""
    with store.write() as cur:
        cur.execute("DELETE FROM presenter_steps")


def add_step(store: Store, view: View, *, title: str | None = None) -> list[Step]:
    """Append a view to the sequence (starting from the default if none was saved)."""
    steps = [*sequence(store), Step(view, title)]
    save_sequence(store, steps)
    return saved_sequence(store)


def remove_step(store: Store, position: int) -> list[Step]:
    """Drop the step at 1-based `position`."""
    steps = sequence(store)
    if not 1 <= position <= len(steps):
        raise ViewError(f"There is no step {position}; the sequence has {len(steps)}.")
    save_sequence(store, steps[: position - 1] + steps[position:])
    return saved_sequence(store)


def move_step(store: Store, position: int, *, by: int) -> list[Step]:
    """Move the step at 1-based `position` up (`by=-1`) or down (`by=1`)."""
    steps = sequence(store)
    if not 1 <= position <= len(steps):
        raise ViewError(f"There is no step {position}; the sequence has {len(steps)}.")
    target = min(max(position - 1 + by, 0), len(steps) - 1)
    step = steps.pop(position - 1)
    steps.insert(target, step)
    save_sequence(store, steps)
    return saved_sequence(store)


def sequence_frame(steps: Sequence[Step]) -> pd.DataFrame:
    """The sequence as a table for the app: step, title, page, filter."""
    return pd.DataFrame({
        "Step": list(range(1, len(steps) + 1)),
        "Title": [s.label for s in steps],
        "Page": [s.view.page_title for s in steps],
        "Filter": [s.view.filters.describe() for s in steps],
    })


def current_step(steps: Sequence[Step], *, page: str, params: Mapping[str, object]) -> int | None:
    """The 1-based step being shown, or None when the view is not in the sequence.

    The URL's `step` wins when it names a step of this page; otherwise the first step whose
    view equals the current one.
    """
    raw = params.get("step")
    if isinstance(raw, str) and raw.isdigit() and 1 <= int(raw) <= len(steps) and steps[int(raw) - 1].view.page == page:
        return int(raw)
    here = View.of(page, params, extra=(k for s in steps for k, _ in s.view.query))
    for i, s in enumerate(steps, start=1):
        if s.view == here:
            return i
    return None


def neighbour(steps: Sequence[Step], current: int | None, *, by: int) -> int | None:
    """The step `by` away from `current` (1-based), or None past either end.

    From outside the sequence, "next" starts at step 1 and "previous" at the last step.
    """
    if not steps:
        return None
    if current is None:
        return 1 if by > 0 else len(steps)
    target = current + by
    return target if 1 <= target <= len(steps) else None
