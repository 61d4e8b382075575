"""One headline finding per view, generated from the data: what presenter mode shows on top.

Each page of the dashboard answers one question; in a workshop the presenter wants that answer
in one sentence, large, above the chart that backs it. The sentences are computed live from the
same functions the pages use, for the filter in force, so they can never go stale. None of them
uses personal data (contact names and emails are never read here).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd

from hubdash import schema
from hubdash.schema import Filters
from hubdash.services import filter_frame
from hubdash.store import Store


@dataclass(frozen=True)
class Headline:
    """A one-sentence finding and the numbers behind it (for the caption or speaker notes)."""

    text: str
    detail: str = ""


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def _home(store: Store, frame: pd.DataFrame, all_services: pd.DataFrame, filters: Filters,
          params: Mapping[str, str]) -> Headline:
    from hubdash.summary import headline

    h = headline(frame, store)
    total = h.services + h.interventions
    if total == 0:
        return Headline(f"No services or interventions match {filters.describe()}.")
    text = (f"{_plural(total, 'service or intervention', 'services and interventions')} from "
            f"{_plural(h.organisations, 'organisation')}; {h.empty_cells} of {h.cells} early-years outcome × age "
            "cells have nothing at any level.")
    detail = f"{h.services:,} services, {h.interventions:,} interventions"
    if h.response_rate is not None:
        detail += f"; {h.responded} of {h.contacted} agencies returned the survey ({h.response_rate:.0%})"
    return Headline(text, detail)


def _gaps(store: Store, frame: pd.DataFrame, all_services: pd.DataFrame, filters: Filters,
          params: Mapping[str, str]) -> Headline:
    from hubdash.gapmap import DEFAULT_FOCUS, FOCUS_CODES, GapOptions, gap_summary
    from hubdash.summary import largest_gaps

    if frame.empty:
        return Headline(f"No services or interventions match {filters.describe()}: the whole map is a gap.")
    options = GapOptions(focus=FOCUS_CODES.get(params.get("gap_focus", ""), DEFAULT_FOCUS))
    s = gap_summary(frame, options, n=1)
    gaps = largest_gaps(frame, n=len(schema.OUTCOMES) * 3 * len(options.ages), ages=options.ages)
    # With a service area chosen, lead with the gap in that area's own outcome when there is one.
    own = [g for g in gaps if g["outcome"] == filters.area]
    lead = (own or gaps)[0]["sentence"] if gaps else "Every outcome has some support at every age and level shown"
    return Headline(f"{lead}.", f"{s.empty_cells} of {s.cells} outcome × age × level cells are empty "
                                f"({filters.describe()}).")


def _quality(store: Store, frame: pd.DataFrame, all_services: pd.DataFrame, filters: Filters,
             params: Mapping[str, str]) -> Headline:
    from hubdash.quality import build_report

    if frame.empty:
        return Headline("No survey returns to check for this filter.")
    r = build_report(store, frame, area=filters.area, all_services=all_services)
    flagged = int(r.issues["service_id"].nunique()) if not r.issues.empty else 0
    text = (f"Data-quality score {r.score.value} out of 100: {flagged} of {_plural(r.services, 'service')} "
            f"{'has' if flagged == 1 else 'have'} an answer to check (a blank or an unclear answer).")
    detail = _plural(len(r.duplicates), "possible duplicate pair")
    rep = r.representativeness
    if rep is not None and rep.contacted:
        detail += f"; {rep.responded} of {rep.contacted} agencies responded ({rep.rate:.0%})"
    return Headline(text, detail)


def _coverage(store: Store, frame: pd.DataFrame, all_services: pd.DataFrame, filters: Filters,
              params: Mapping[str, str]) -> Headline:
    from hubdash import coverage

    if coverage.ward_count(store) == 0:
        return Headline("No ward boundaries are loaded yet, so coverage cannot be mapped.")
    counts = coverage.coverage_table(store, frame)
    least = counts.sort_values(["services", "ward_name"], kind="stable")
    low = int(least["services"].iloc[0])
    names = least.loc[least["services"] == low, "ward_name"].tolist()
    shown = names[:4] + ([f"{len(names) - 4} more"] if len(names) > 4 else [])
    who = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"
    reach = f"{_plural(low, 'service')} {'reaches' if low == 1 else 'reach'} {'it' if len(names) == 1 else 'each'}"
    text = (f"{who} {'has' if len(names) == 1 else 'have'} the least coverage: {reach}, against a median of "
            f"{counts['services'].median():g} per ward.")
    return Headline(text, f"{len(counts)} wards; a service counts in the wards it names (question 13), and in "
                          "every ward if it covers the whole local authority.")


def _redie(store: Store, frame: pd.DataFrame, all_services: pd.DataFrame, filters: Filters,
           params: Mapping[str, str]) -> Headline:
    from hubdash.redie import GROUP_CODES, GROUP_LABELS, answer_summary, with_groups

    if frame.empty:
        return Headline("No services match this filter, so no group is served.")
    a = answer_summary(frame)
    counts = {g: len(with_groups(frame, [g])) for g in GROUP_CODES}
    least = min(counts.values())
    groups = [GROUP_LABELS[g] for g, n in counts.items() if n == least]
    shown = groups[:3] + ([f"{len(groups) - 3} more groups"] if len(groups) > 3 else [])
    who = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"
    if least == 0:
        text = f"Nothing is designed or adapted for {who}."
    else:
        text = f"Fewest adapted services: {who} ({least} each)." if len(groups) > 1 else \
            f"Fewest adapted services: {who} ({least})."
    return Headline(text, f"{a.adapted} of {_plural(a.total, 'service')} are adapted for at least one group "
                          "(question 21).")


def _ingestion(store: Store, frame: pd.DataFrame, all_services: pd.DataFrame, filters: Filters,
               params: Mapping[str, str]) -> Headline:
    files, accepted, rejected = store.rows(
        "SELECT count(*), coalesce(sum(rows_accepted), 0), coalesce(sum(rows_rejected), 0) FROM imports "
        "WHERE status = 'committed'")[0]
    n = len(all_services)
    if not files:
        return Headline(f"{_plural(n, 'survey return')} loaded; no files imported through the app yet.")
    return Headline(f"{_plural(n, 'survey return')} loaded from {_plural(int(files), 'file')}.",
                    f"{int(accepted):,} rows accepted, {int(rejected):,} rejected across all imports.")


def _reflect(store: Store, frame: pd.DataFrame, all_services: pd.DataFrame, filters: Filters,
             params: Mapping[str, str]) -> Headline:
    from hubdash.summary import largest_gaps

    gaps = largest_gaps(frame, n=50)
    own = [g for g in gaps if g["outcome"] == filters.area]
    g = (own or gaps)[0] if gaps else None
    lead = f" The biggest gap: {g['sentence'][0].lower()}{g['sentence'][1:]}." if g else ""
    return Headline("What should we do about what the map shows?" + lead)


_BUILDERS: dict[str, Callable[..., Headline]] = {
    "": _home, "ingestion": _ingestion, "quality": _quality, "gaps": _gaps, "coverage": _coverage,
    "redie": _redie, "reflect": _reflect,
}


def view_headline(store: Store, all_services: pd.DataFrame, *, page: str, filters: Filters,
                  params: Mapping[str, str] | None = None) -> Headline | None:
    """The headline finding for `page` under `filters`, or None for a page without one.

    Args:
        store: The database (for the ward, agency and import tables).
        all_services: Every service, as `services.service_frame` returns it.
        page: The page's url_path ("" for Home).
        filters: The global filter in force.
        params: The page's own URL selections (allowlisted), for pages whose finding uses them.
    """
    build = _BUILDERS.get(page)
    if build is None:
        return None
    frame = filter_frame(all_services, filters)
    return build(store, frame, all_services, filters.validated(), params or {})
