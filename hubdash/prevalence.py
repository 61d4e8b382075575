"""Prevalence and distribution (the guide's template 2), the overview (template 4) and the
detailed map (template 5).

Counting rules:

* Distributions count services and interventions. For a multi-select question (age groups,
  delivery modes, other outcomes) a service counts once under each answer it gave, so the
  column can add up to more than the number of services; "Not answered" counts those that gave
  no answer at all.
* The overview places a service in every age stage its age groups touch, under its target
  level and its type (family hub and community services, online information, interventions).
* The detailed map draws one row per service and one block per age group it covers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hubdash import schema
from hubdash.gapmap import AGE_CODES, LEVEL_CODES, MAP_OUTCOMES, age_span_text

NOT_ANSWERED = "Not answered"


@dataclass(frozen=True)
class Dimension:
    """One way to count the offer: a survey question and how to present it."""

    question: str
    heading: str
    title: str
    #: Keep the survey's order (age bands, levels) instead of sorting by size.
    ordered: bool = False


#: The template 2 distributions, in the order the page offers them.
DIMENSIONS: dict[str, Dimension] = {d.question: d for d in (
    Dimension("age_groups", "Age group", "Services and interventions for each age group", ordered=True),
    Dimension("primary_outcome", "Outcome", "Services and interventions by outcome"),
    Dimension("target_level", "Target level", "Services and interventions by target level", ordered=True),
    Dimension("format", "Format", "How services and interventions are delivered (format)"),
    Dimension("delivery_modes", "Where or how delivered", "Where or how services and interventions are delivered"),
    Dimension("sector", "Sector", "Services and interventions by sector"),
    Dimension("evidence", "Evidence base", "Evidence base of services and interventions"),
)}
#: Question code -> heading, e.g. for a picker's labels.
HEADINGS: dict[str, str] = {q: d.heading for q, d in DIMENSIONS.items()}


def _answers(frame: pd.DataFrame, question: str, include_secondary: bool) -> list[tuple[str, ...]]:
    """Each service's answers to `question` as a tuple of codes (empty = not answered)."""
    col = frame[question]
    if question == "primary_outcome" and include_secondary:
        return [tuple(dict.fromkeys(([p] if isinstance(p, str) else []) + list(s)))
                for p, s in zip(col, frame["secondary_outcomes"], strict=True)]
    if schema.question(question).is_multi:
        return [tuple(dict.fromkeys(v)) for v in col]
    return [(v,) if isinstance(v, str) and v else () for v in col]


def distribution(
    frame: pd.DataFrame,
    *,
    question: str,
    include_secondary: bool = False,
    ages: Sequence[str] | None = None,
) -> pd.DataFrame:
    """How many services and interventions gave each answer to `question`.

    Args:
        frame: Services as `service_frame` returns them (already filtered).
        question: A key of `DIMENSIONS`, e.g. `"format"`.
        include_secondary: For outcomes, also count each service under its other outcomes.
        ages: For age groups, the bands to show (an age focus); other bands are left out.

    Returns:
        One row per answer in survey order, zeros included, plus "Not answered" when any
        service left it blank. Columns: the dimension's heading (labels), `Services`,
        `Interventions`, `Total`, `Share` (Total as a fraction of all services in `frame`).
        Target levels use their short names.
    """
    dim = DIMENSIONS[question]
    q = schema.question(question)
    raw = _answers(frame, question, include_secondary)
    codes, answers = q.codes, raw
    if question == "age_groups" and ages is not None:
        # Bands outside the focus are not shown; a service with none inside is simply not counted.
        keep = set(ages)
        codes = [c for c in codes if c in keep]
        answers = [tuple(c for c in a if c in keep) for a in raw]
    counts = {c: [0, 0] for c in codes}
    blank = [0, 0]
    for kind, given, codes_in in zip(frame["kind"].to_numpy(), raw, answers, strict=True):
        slot = 1 if kind == "intervention" else 0
        if not given:
            blank[slot] += 1
        for c in codes_in:
            counts.setdefault(c, [0, 0])[slot] += 1
    label = (lambda c: schema.LEVEL_SHORT.get(c, c)) if question == "target_level" else q.label_of
    rows = [(label(c), s, i) for c, (s, i) in counts.items()]
    if sum(blank):
        rows.append((NOT_ANSWERED, blank[0], blank[1]))
    out = pd.DataFrame(rows, columns=[dim.heading, "Services", "Interventions"])
    out["Total"] = out["Services"] + out["Interventions"]
    out["Share"] = out["Total"] / len(frame) if len(frame) else 0.0
    return out


def with_answer(
    frame: pd.DataFrame,
    *,
    question: str,
    answer: str,
    include_secondary: bool = False,
    ages: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The services counted in one bar of `distribution` (`answer` is the label it shows)."""
    raw = answers = _answers(frame, question, include_secondary)
    if question == "age_groups" and ages is not None:
        keep = set(ages)
        answers = [tuple(c for c in a if c in keep) for a in raw]
    if answer == NOT_ANSWERED:
        mask = [not a for a in raw]
    else:
        q = schema.question(question)
        code = next((c for c in q.codes if (schema.LEVEL_SHORT.get(c) if question == "target_level"
                                             else q.label_of(c)) == answer), answer)
        mask = [code in a for a in answers]
    return frame[np.array(mask, dtype=bool)]


def _names(labels: Sequence[str]) -> str:
    items = list(labels)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def distribution_findings(dist: pd.DataFrame, *, question: str, services: int) -> list[str]:
    """Plain-language answers to template 2's questions for one distribution.

    Says which answer has the most and the least, which answers have none, and how many did not
    answer; for format (question 6) also whether the mix leans on one format.
    """
    dim = DIMENSIONS[question]
    answered = dist[dist[dim.heading] != NOT_ANSWERED]
    if answered.empty or services == 0 or answered["Total"].max() == 0:
        return ["Nothing to count for this view."]
    col = dim.heading
    top, low = answered["Total"].max(), answered["Total"].min()
    most = answered.loc[answered["Total"] == top, col].tolist()
    out = [f"Most on offer: {_names(most)} ({top:,} of {services:,}, {top / services:.0%})."]
    non_zero = answered[answered["Total"] > 0]
    least_val = non_zero["Total"].min()
    least = non_zero.loc[non_zero["Total"] == least_val, col].tolist()
    if least_val != top:
        out.append(f"Least on offer: {_names(least)} ({least_val:,}).")
    if low == 0:
        out.append(f"Nothing at all for: {_names(answered.loc[answered['Total'] == 0, col].tolist())}.")
    if question == "format":
        used = int((answered["Total"] > 0).sum())
        share = top / max(int(answered["Total"].sum()), 1)
        lean = ("more than half the offer uses one format: a narrow mix" if share > 0.5
                else "no single format is more than half the offer: a mixed offer")
        out.append(f"{used} of {len(answered)} formats are in use; {lean}.")
    blank = dist.loc[dist[col] == NOT_ANSWERED, "Total"]
    if len(blank) and int(blank.iloc[0]):
        out.append(f"{int(blank.iloc[0]):,} did not answer this question.")
    return out


# --- the overview (template 4) -----------------------------------------------------------------

#: Age stages of the overview (Figure 8 shows the first three; older stages follow the survey).
STAGES: dict[str, list[str]] = {
    "Antenatal": ["prebirth"],
    "0-24 months": ["m0_12", "m12_18", "m18_24"],
    "2-5 years": ["y2_3", "y3_5"],
    "5-11 years": ["ks1", "ks2"],
    "11-16 years": ["ks3", "ks4"],
    "16-25 years": ["y16_18", "y18_25"],
}
#: Support types of the overview, as in Figure 8.
TYPES: dict[str, str] = {
    "hub": "Family hub and community services",
    "online": "Online information, advice and support",
    "intervention": "Interventions",
}
_REMOTE = {"online", "telephone"}


def support_type(frame: pd.DataFrame) -> pd.Series:
    """Each service's overview type: `hub`, `online` or `intervention`.

    Interventions (question 2) are their own type. A service is "online information, advice and
    support" when its format is information or self-help, or it is delivered only online or by
    telephone; every other service is a family hub or community service.
    """
    out = []
    for kind, fmt, modes in zip(frame["kind"], frame["format"], frame["delivery_modes"], strict=True):
        if kind == "intervention":
            out.append("intervention")
        elif fmt == "self_help" or (modes and set(modes) <= _REMOTE):
            out.append("online")
        else:
            out.append("hub")
    return pd.Series(out, index=frame.index, dtype="object")


def stages_for(ages: Sequence[str] | None) -> dict[str, list[str]]:
    """The overview stages that meet `ages` (all stages when None), each cut to those ages."""
    keep = set(ages or AGE_CODES)
    return {s: [a for a in codes if a in keep] for s, codes in STAGES.items() if keep.intersection(codes)}


def overview_long(frame: pd.DataFrame, *, ages: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per (service, age stage) it reaches: target_level, type, stage, service_id, name."""
    stages = stages_for(ages)
    types = support_type(frame)
    rows = []
    for sid, name, level, typ, bands in zip(frame["service_id"], frame["name"], frame["target_level"], types,
                                            frame["age_groups"], strict=True):
        if level not in LEVEL_CODES:
            continue
        for stage, codes in stages.items():
            if set(bands).intersection(codes):
                rows.append((level, typ, stage, int(sid), name))
    return pd.DataFrame(rows, columns=["target_level", "type", "stage", "service_id", "name"])


# A bracketed place ("(North)") or a venue ("at Fernhill village hall") after the name of an offer.
_SUFFIX = re.compile(r"\s*(\([^()]*\)|\bat\s+[A-Z0-9][^()]*)\s*$")


def collapse_names(names: Sequence[str], *, limit: int | None = None) -> list[str]:
    """Service names for a crowded cell: local copies folded together, most common first.

    "Stay and Play (North)", "Stay and Play (South)" become "Stay and Play ×2", as do "Toddler
    group at Fernhill village hall" and "Toddler group at Quayside chapel" (a name that differs
    only by a bracketed place or an "at <Venue>" ending is the same offer in another place); a
    lone name keeps its ending. With `limit`, the rest are summed up as "and N more".
    """
    groups: dict[str, list[str]] = {}
    for n in names:
        groups.setdefault(_SUFFIX.sub("", n) or n, []).append(n)
    items = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0].lower()))
    out = [base if len(v) > 1 and len(set(v)) > 1 else v[0] for base, v in items]
    out = [f"{o} ×{len(v)}" if len(v) > 1 else o for o, (_, v) in zip(out, items, strict=True)]
    if limit is not None and len(out) > limit:
        rest = sum(len(v) for _, v in items[limit:])
        out = [*out[:limit], f"and {rest} more"]
    return out


def overview_table(frame: pd.DataFrame, *, ages: Sequence[str] | None = None, limit: int | None = 6,
                   sep: str = "\n", repeat_levels: bool = True) -> pd.DataFrame:
    """Template 4: target level and type down the side, age stages across, service names in the cells.

    Every level and type appears (empty cells stay empty, so gaps show). Names are folded and
    capped by `collapse_names`; `sep` joins them within a cell. With `repeat_levels=False` the
    level is written on the first row of its group only, as the merged cells of Figure 8 read.
    """
    long = overview_long(frame, ages=ages)
    stages = list(stages_for(ages))
    cells = {k: list(g["name"]) for k, g in long.groupby(["target_level", "type", "stage"])}
    rows = []
    for level in LEVEL_CODES:
        for typ, typ_label in TYPES.items():
            first = typ == next(iter(TYPES))
            row = {"Target level": schema.LEVEL_SHORT[level] if repeat_levels or first else "", "Type": typ_label}
            for stage in stages:
                row[stage] = sep.join(collapse_names(cells.get((level, typ, stage), []), limit=limit))
            rows.append(row)
    return pd.DataFrame(rows)


# --- the detailed map (template 5) -------------------------------------------------------------


def detailed_rows(
    frame: pd.DataFrame,
    *,
    ages: Sequence[str] | None = None,
    outcome: str | None = None,
    include_secondary: bool = False,
) -> pd.DataFrame:
    """One row per (service, age band) for the detailed map, grouped by outcome and level.

    Args:
        frame: Services (already filtered).
        ages: Age bands to draw (default all twelve); services outside them are left out.
        outcome: Keep one outcome's services (primary outcome, and other outcomes with
            `include_secondary`); None keeps every mapped outcome, each service under its primary.
        include_secondary: See `outcome`.

    Returns:
        Columns service_id, name, kind, target_level, outcome, age_group, group (e.g.
        "Universal · services"), order (sort key: level, kind, first age band, name).
    """
    ages = list(ages or AGE_CODES)
    keep = set(ages)
    rows = []
    for r in frame.itertuples(index=False):
        if r.target_level not in LEVEL_CODES or r.kind not in ("service", "intervention"):
            continue
        if outcome is None:
            if r.primary_outcome not in MAP_OUTCOMES:
                continue
            row_outcome = r.primary_outcome
        elif r.primary_outcome == outcome or (include_secondary and outcome in r.secondary_outcomes):
            row_outcome = outcome
        else:
            continue
        bands = [a for a in r.age_groups if a in keep]
        if not bands:
            continue
        first = AGE_CODES.index(bands[0])
        group = f"{schema.LEVEL_SHORT[r.target_level]} · {'interventions' if r.kind == 'intervention' else 'services'}"
        order = (LEVEL_CODES.index(r.target_level), r.kind != "service", first, len(bands) * -1, r.name.lower())
        for a in bands:
            rows.append((int(r.service_id), r.name, r.kind, r.target_level, row_outcome, a, group, order))
    out = pd.DataFrame(rows, columns=["service_id", "name", "kind", "target_level", "outcome", "age_group", "group",
                                      "order"])
    if out.empty:
        return out.assign(order=pd.Series(dtype=int))
    ranks = {o: i for i, o in enumerate(sorted(set(out["order"])))}
    out["order"] = out["order"].map(ranks).astype(int)
    age_index = out["age_group"].map({a: i for i, a in enumerate(AGE_CODES)})
    return out.assign(_a=age_index).sort_values(["order", "_a"]).drop(columns="_a").reset_index(drop=True)


#: The detailed map draws at most this many services (bars); the table beside it lists them all.
DETAILED_LIMIT = 120


def first_services(rows: pd.DataFrame, *, limit: int = DETAILED_LIMIT) -> pd.DataFrame:
    """The rows of the first `limit` services of `detailed_rows` (in map order): a readable chart."""
    return rows[rows["order"] < limit] if not rows.empty else rows


def detailed_table(rows: pd.DataFrame) -> pd.DataFrame:
    """The detailed map as a table: one row per service with its level, kind and age span."""
    if rows.empty:
        return pd.DataFrame(columns=["Name", "Target level", "Service or intervention", "Outcome", "Ages"])
    out = []
    for (_, sid), g in rows.groupby(["order", "service_id"], sort=True):
        first = g.iloc[0]
        bands = list(g["age_group"])
        out.append({"Name": first["name"], "Target level": schema.LEVEL_SHORT[first["target_level"]],
                    "Service or intervention": first["kind"].capitalize(),
                    "Outcome": schema.label("primary_outcome", first["outcome"]),
                    "Ages": age_span_text(bands) if _contiguous(bands) else "; ".join(
                        schema.label("age_groups", a) for a in bands)})
    return pd.DataFrame(out)


def _contiguous(bands: Sequence[str]) -> bool:
    idx = np.array([AGE_CODES.index(a) for a in bands])
    return bool(len(idx) < 2 or np.all(np.diff(idx) == 1))
