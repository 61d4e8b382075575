"""The gap map (the guide's template 6 and Figure 1): outcome x age band, by kind and level.

Counting rule: a service counts once in each age group it covers, in the row of its primary
outcome (and, with `include_secondary`, also in the rows of its other outcomes, still once per
row), at its target level, in the SERVICE or INTERVENTION block. Counts are of distinct
services, so a service never inflates a cell twice.

Beyond the counts, this module holds the gap-map options (`GapOptions`: age focus, sector,
delivery mode, evidence, ward, measure, crowding), the cells as drawn (`gap_cells`), the
services behind a cell (`cell_services`) and the plain-language summary (`gap_summary`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from hubdash import schema
from hubdash.schema import AGE_GROUPS, OUTCOMES, TARGET_LEVELS, Filters
from hubdash.services import filter_frame, labelled, service_frame
from hubdash.store import Store

Measure = Literal["count", "capacity"]

LEVEL_CODES = [o.code for o in TARGET_LEVELS]
KIND_CODES = ["service", "intervention"]
OUTCOME_CODES = [o.code for o in OUTCOMES]
AGE_CODES = [o.code for o in AGE_GROUPS]

#: Age focus presets for the gap map (label -> age codes).
AGE_FOCUS: dict[str, list[str]] = {
    "All ages (pre-birth to 25)": AGE_CODES,
    "Start for Life (conception to age 2)": ["prebirth", "m0_12", "m12_18", "m18_24"],
    "Early years (pre-birth to 5)": AGE_CODES[:6],
    "Family hubs (0-19)": AGE_CODES[:11],
    "SEND (0-25)": AGE_CODES[1:],
}
#: Short, stable codes for the age focus presets (used in links): code -> `AGE_FOCUS` key.
FOCUS_CODES: dict[str, str] = dict(zip(["all", "sfl", "early", "fh", "send"], AGE_FOCUS, strict=True))


def _cells(frame: pd.DataFrame, *, include_secondary: bool) -> pd.DataFrame:
    """One row per (service, outcome row, age band) the service occupies, deduplicated."""
    cols = ["service_id", "name", "kind", "target_level", "primary_outcome", "age_groups", "capacity"]
    base = frame[cols + (["secondary_outcomes"] if include_secondary else [])]
    base = base[base["kind"].isin(KIND_CODES) & base["target_level"].isin(LEVEL_CODES)]
    if include_secondary:
        outcomes = [
            tuple(dict.fromkeys(([p] if isinstance(p, str) else []) + list(s)))
            for p, s in zip(base["primary_outcome"], base["secondary_outcomes"], strict=True)
        ]
    else:
        outcomes = [(p,) if isinstance(p, str) else () for p in base["primary_outcome"]]
    long = base.drop(columns=["primary_outcome"] + (["secondary_outcomes"] if include_secondary else []))
    long = long.assign(outcome=outcomes).explode("outcome").explode("age_groups")
    long = long.rename(columns={"age_groups": "age_group"}).dropna(subset=["outcome", "age_group"])
    return long.drop_duplicates(["service_id", "outcome", "age_group"])


def gap_counts(
    frame: pd.DataFrame,
    *,
    include_secondary: bool = False,
) -> pd.DataFrame:
    """Non-empty cells: target_level, kind, outcome, age_group (codes), count, capacity, ids, names.

    `capacity` sums question 16 (families a year) over the services in the cell, ignoring blanks;
    `capacity_known` counts how many of them gave a figure.
    """
    long = _cells(frame, include_secondary=include_secondary)
    if long.empty:
        return pd.DataFrame(columns=["target_level", "kind", "outcome", "age_group", "count", "capacity",
                                     "capacity_known", "service_ids", "services"])
    long = long.sort_values(["name", "service_id"])
    g = long.groupby(["target_level", "kind", "outcome", "age_group"], sort=False)
    out = g.agg(
        count=("service_id", "nunique"),
        capacity=("capacity", "sum"),
        capacity_known=("capacity", "count"),
        service_ids=("service_id", list),
        services=("name", list),
    ).reset_index()
    return _sort(out)


def _sort(df: pd.DataFrame) -> pd.DataFrame:
    key = {
        "target_level": {c: i for i, c in enumerate(LEVEL_CODES)},
        "kind": {c: i for i, c in enumerate(KIND_CODES)},
        "outcome": {c: i for i, c in enumerate(OUTCOME_CODES)},
        "age_group": {c: i for i, c in enumerate(AGE_CODES)},
    }
    return df.sort_values(list(key), key=lambda s: s.map(key[s.name])).reset_index(drop=True)


def gap_grid(
    frame: pd.DataFrame,
    *,
    include_secondary: bool = False,
    ages: list[str] | None = None,
    outcomes: list[str] | None = None,
) -> pd.DataFrame:
    """Every cell of the map, including empty ones (count 0): the shape of the guide's Figure 1."""
    ages = ages or AGE_CODES
    outcomes = outcomes or OUTCOME_CODES
    idx = pd.MultiIndex.from_product([LEVEL_CODES, KIND_CODES, outcomes, ages],
                                     names=["target_level", "kind", "outcome", "age_group"])
    counts = gap_counts(frame, include_secondary=include_secondary)
    full = pd.DataFrame(index=idx).reset_index().merge(
        counts, on=["target_level", "kind", "outcome", "age_group"], how="left")
    full["count"] = full["count"].fillna(0).astype(int)
    full["capacity"] = full["capacity"].fillna(0.0)
    full["capacity_known"] = full["capacity_known"].fillna(0).astype(int)
    full["service_ids"] = [v if isinstance(v, list) else [] for v in full["service_ids"]]
    full["services"] = [v if isinstance(v, list) else [] for v in full["services"]]
    return full


def gap_rows(store: Store, *, area: str | None = None, include_secondary: bool = False) -> list[dict]:
    """The gap map as the CLI's JSON rows (labels as in the survey; cells with 0 omitted)."""
    frame = filter_frame(service_frame(store), Filters(area=area))
    counts = gap_counts(frame, include_secondary=include_secondary)
    return [
        {
            "target_level": r.target_level,
            "kind": r.kind,
            "outcome": schema.label("primary_outcome", r.outcome),
            "age_group": schema.label("age_groups", r.age_group),
            "count": int(r.count),
            "services": list(r.services),
        }
        for r in counts.itertuples(index=False)
    ]


# --- options beyond the global filter ---------------------------------------------------------

#: Outcome rows drawn on the map: "Other" is left off because an empty "Other" row is not a gap.
MAP_OUTCOMES = [o for o in OUTCOME_CODES if o != "other"]
#: A cell with at least this many services is flagged as crowded (possible duplication).
DEFAULT_CROWDED = 10
DEFAULT_FOCUS = "All ages (pre-birth to 25)"

# Age band bounds in months (pre-birth has none), for plain-language spans like "12-24 months".
_BOUNDS: dict[str, tuple[int, int] | None] = {
    "prebirth": None, "m0_12": (0, 12), "m12_18": (12, 18), "m18_24": (18, 24), "y2_3": (24, 36),
    "y3_5": (36, 60), "ks1": (60, 84), "ks2": (84, 132), "ks3": (132, 168), "ks4": (168, 192),
    "y16_18": (192, 216), "y18_25": (216, 300),
}


@dataclass(frozen=True)
class GapOptions:
    """The gap-map options a person can set on top of the global filter.

    Attributes:
        include_secondary: Also count each service in the rows of its other outcomes (question 9).
        focus: A key of `AGE_FOCUS`: which age bands the map shows.
        sectors: Keep services whose sector (question 4) is one of these codes; empty = all.
        modes: Keep services delivered in any of these ways (question 7); empty = all.
        evidence: Keep services with one of these evidence answers (question 20); empty = all.
        ward: Keep services covering this ward code (question 13, "Whole local authority" counts).
        measure: What a cell shows: the number of services, or their capacity (families a year).
        crowded_at: A cell with at least this many services is flagged as crowded.
    """

    include_secondary: bool = False
    focus: str = DEFAULT_FOCUS
    sectors: tuple[str, ...] = ()
    modes: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    ward: str | None = None
    measure: Measure = "count"
    crowded_at: int = DEFAULT_CROWDED

    @property
    def ages(self) -> list[str]:
        return AGE_FOCUS.get(self.focus, AGE_CODES)

    def describe(self, *, ward_name: str | None = None) -> str:
        """The options in words, for captions and exports. E.g. `"Start for Life ..., sector: NHS"`."""
        parts = [self.focus]
        if self.sectors:
            parts.append("sector: " + ", ".join(schema.label("sector", c) for c in self.sectors))
        if self.modes:
            parts.append("delivered: " + ", ".join(schema.label("delivery_modes", c) for c in self.modes))
        if self.evidence:
            parts.append("evidence: " + ", ".join(schema.label("evidence", c) for c in self.evidence))
        if self.ward:
            parts.append(f"ward: {ward_name or self.ward}")
        if self.include_secondary:
            parts.append("primary and other outcomes")
        return "; ".join(parts)


def narrow_services(
    frame: pd.DataFrame,
    *,
    sectors: Sequence[str] = (),
    modes: Sequence[str] = (),
    evidence: Sequence[str] = (),
    service_ids: Collection[int] | None = None,
) -> pd.DataFrame:
    """Services matching the gap-map filters (each empty filter keeps everything).

    Args:
        frame: Services as `service_frame` returns them.
        sectors: Sector codes (question 4); a service with no answer is dropped when set.
        modes: Delivery-mode codes (question 7): a service delivered in ANY of them is kept.
        evidence: Evidence codes (question 20).
        service_ids: Keep only these services (e.g. those covering a ward); None keeps all.
    """
    mask = np.ones(len(frame), dtype=bool)
    if sectors:
        mask &= frame["sector"].isin(list(sectors)).to_numpy()
    if modes:
        wanted = set(modes)
        mask &= np.fromiter((bool(wanted.intersection(v)) for v in frame["delivery_modes"]), bool, len(frame))
    if evidence:
        mask &= frame["evidence"].isin(list(evidence)).to_numpy()
    if service_ids is not None:
        mask &= frame["service_id"].isin(list(service_ids)).to_numpy()
    return frame[mask]


def in_ages(frame: pd.DataFrame, ages: Collection[str]) -> pd.DataFrame:
    """Services that cover at least one of `ages` (question 10)."""
    wanted = set(ages)
    return frame[np.fromiter((bool(wanted.intersection(v)) for v in frame["age_groups"]), bool, len(frame))]


def ward_choices(store: Store) -> list[tuple[str, str]]:
    """(ward code, ward name) for every ward in the store, by name."""
    return [(str(c), str(n)) for c, n in store.rows("SELECT ward_code, ward_name FROM wards ORDER BY ward_name")]


def services_in_ward(links: pd.DataFrame, ward_code: str) -> set[int]:
    """Ids of services covering `ward_code`, from `geo.service_ward_links(store)`."""
    return {int(i) for i in links.loc[links["ward_code"] == ward_code, "service_id"]}


def apply_options(frame: pd.DataFrame, options: GapOptions, *, ward_links: pd.DataFrame | None = None) -> pd.DataFrame:
    """`narrow_services` driven by a `GapOptions` (the ward needs `ward_links` from `geo`)."""
    ids = None
    if options.ward:
        if ward_links is None:
            raise ValueError("a ward filter needs the service-ward links (geo.service_ward_links)")
        ids = services_in_ward(ward_links, options.ward)
    return narrow_services(frame, sectors=options.sectors, modes=options.modes, evidence=options.evidence,
                           service_ids=ids)


# --- cells as drawn ------------------------------------------------------------------------------


def _short_number(v: float) -> str:
    if v >= 10_000:
        return f"{v / 1000:.0f}k"
    if v >= 1000:
        return f"{v / 1000:.1f}k"
    return f"{v:.0f}"


def mark_cells(grid: pd.DataFrame, *, measure: Measure = "count", crowded_at: int = DEFAULT_CROWDED) -> pd.DataFrame:
    """The grid with what each cell shows: `value`, `status` (gap, crowded, covered) and `label`.

    A gap is a cell no service covers. Crowding is judged on the number of services whatever the
    measure, because it flags possible duplication. With the capacity measure a cell whose
    services gave no capacity shows "?" (covered, size unknown) rather than a misleading 0.
    """
    out = grid.copy()
    count = out["count"].to_numpy()
    status = np.where(count == 0, "gap", np.where(count >= crowded_at, "crowded", "covered"))
    if measure == "capacity":
        value = out["capacity"].to_numpy(dtype=float)
        labels = ["gap" if c == 0 else ("?" if k == 0 else _short_number(v))
                  for c, k, v in zip(count, out["capacity_known"], value, strict=True)]
    else:
        value = count.astype(float)
        labels = ["gap" if c == 0 else str(int(c)) for c in count]
    out["value"] = value
    out["status"] = status
    out["label"] = labels
    return out


def gap_cells(frame: pd.DataFrame, options: GapOptions, *, outcomes: list[str] | None = None) -> pd.DataFrame:
    """Every cell of the map for `options` (focus ages, measure, crowding), labelled for drawing.

    Adds `level_label`, `kind_label`, `outcome_label` and `age_label` for charts and tables.
    """
    grid = gap_grid(frame, include_secondary=options.include_secondary, ages=options.ages,
                    outcomes=outcomes or MAP_OUTCOMES)
    cells = mark_cells(grid, measure=options.measure, crowded_at=options.crowded_at)
    cells["level_label"] = cells["target_level"].map(schema.LEVEL_SHORT)
    cells["kind_label"] = cells["kind"].map({"service": "SERVICE", "intervention": "INTERVENTION"})
    cells["outcome_label"] = [schema.label("primary_outcome", o) for o in cells["outcome"]]
    cells["age_label"] = cells["age_group"].map(schema.AGE_SHORT)
    return cells


def gap_table(cells: pd.DataFrame) -> pd.DataFrame:
    """The map as a wide table (template 6): one row per level and outcome, one column per kind and age.

    Cells hold what the map shows: a number ("▲" before it when crowded), "gap" or "?".
    """
    cols = [(k, a) for k in KIND_CODES for a in dict.fromkeys(cells["age_group"])]
    rows = []
    for (level, outcome), g in cells.groupby(["target_level", "outcome"], sort=False):
        by = {(k, a): ("▲" + lab if st == "crowded" else lab)
              for k, a, lab, st in zip(g["kind"], g["age_group"], g["label"], g["status"], strict=True)}
        row = {"Target level": schema.LEVEL_SHORT[level], "Primary outcome": schema.label("primary_outcome", outcome)}
        for k, a in cols:
            row[f"{k.capitalize()}: {schema.AGE_SHORT[a]}"] = by.get((k, a), "gap")
        rows.append(row)
    return pd.DataFrame(rows)


def cell_services(
    frame: pd.DataFrame,
    *,
    level: str,
    kind: str,
    outcome: str,
    age: str,
    include_secondary: bool = False,
) -> pd.DataFrame:
    """The services behind one cell of the map: the rows of `frame` it counts, by name.

    Applies the counting rule directly (not through `gap_counts`), so a test can check one
    against the other.
    """
    if include_secondary:
        pairs = zip(frame["primary_outcome"], frame["secondary_outcomes"], strict=True)
        in_row = np.fromiter(((p == outcome) or (outcome in s) for p, s in pairs), bool, len(frame))
    else:
        in_row = (frame["primary_outcome"] == outcome).to_numpy()
    mask = (in_row & (frame["target_level"] == level).to_numpy() & (frame["kind"] == kind).to_numpy()
            & np.fromiter((age in v for v in frame["age_groups"]), bool, len(frame)))
    return frame[mask].sort_values(["name", "service_id"])


def drilldown_table(services: pd.DataFrame) -> pd.DataFrame:
    """Survey row, name, organisation, format, where delivered and eligibility of `services` (no personal data)."""
    lab = labelled(services)
    cols = ["Name", "Organisation", "Format", "Where or how delivered", "Eligibility"]
    out = lab[cols].rename(columns={"Where or how delivered": "Delivered"})
    if "source_row" in services.columns:  # the row of the survey return: how a person finds the answer
        out.insert(0, "Survey row", services["source_row"].to_numpy())
    for c in cols[1:]:
        c = "Delivered" if c == "Where or how delivered" else c
        out[c] = [v if isinstance(v, str) and v else "Not answered" for v in out[c]]
    return out.reset_index(drop=True)


def service_sheet(services: pd.DataFrame, service_id: int) -> pd.DataFrame:
    """One service's full survey answers as Question / Answer rows, labelled, without personal data."""
    row = services[services["service_id"] == service_id]
    if row.empty:
        return pd.DataFrame(columns=["Question", "Answer"])
    lab = labelled(row).iloc[0]
    numbered = {q.short: q.number for q in schema.QUESTIONS}
    out = []
    for col, value in lab.items():
        if col == "service_id":
            continue
        text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else value
        if isinstance(text, float):
            text = f"{text:,.0f}"
        out.append({"Question": f"{numbered[col]}. {col}", "Answer": str(text) if text != "" else "Not answered"})
    return pd.DataFrame(out)


# --- plain-language summary ----------------------------------------------------------------------


def age_span_text(codes: Sequence[str]) -> str:
    """A run of consecutive age bands in words.

    E.g. `["m12_18", "m18_24"]` -> `"12-24 months"`; `["prebirth", "m0_12"]` -> `"pre-birth to 12 months"`;
    `["ks1", "ks2"]` -> `"5-11 years"`.
    """
    if not codes:
        return ""
    bands = [_BOUNDS[c] for c in codes if _BOUNDS[c] is not None]
    if not bands:
        return "pre-birth"
    lo, hi = bands[0][0], bands[-1][1]
    in_years = hi > 24

    def fmt(m: int) -> str:
        return str(m // 12) if in_years else str(m)

    unit = "years" if in_years else "months"
    if codes[0] == "prebirth":
        return f"pre-birth to {fmt(hi)} {unit}"
    if in_years and 0 < lo < 24:
        return f"{lo} months to {fmt(hi)} years"
    return f"{fmt(lo)}-{fmt(hi)} {unit}"


def crowded_cells(cells: pd.DataFrame, *, n: int = 5) -> list[dict]:
    """The most crowded cells (status "crowded"), fullest first, with a sentence each."""
    crowded = cells[cells["status"] == "crowded"].sort_values("count", ascending=False, kind="stable").head(n)
    out = []
    for r in crowded.itertuples(index=False):
        what = outcome_phrase(r.outcome)
        noun = "services" if r.kind == "service" else "interventions"
        out.append({"level": r.target_level, "kind": r.kind, "outcome": r.outcome, "age_group": r.age_group,
                    "count": int(r.count),
                    "sentence": f"{int(r.count)} {schema.LEVEL_SHORT[r.target_level].lower()} {noun} for {what} "
                                f"at {schema.label('age_groups', r.age_group)}: check for duplication"})
    return out


def outcome_phrase(outcome: str) -> str:
    """An outcome as it reads inside a sentence. E.g. `"perinatal_mh"` -> `"perinatal mental health"`."""
    text = schema.label("primary_outcome", outcome)
    if text.startswith("Improve "):
        return text.removeprefix("Improve ")
    if text.startswith("Reduce "):
        return "reducing " + text.removeprefix("Reduce ")
    return text.lower()


@dataclass(frozen=True)
class GapSummary:
    """Sentences generated from the map: gaps, crowded cells, outcomes without interventions."""

    gaps: list[str]
    crowded: list[str]
    no_intervention: list[str]
    empty_cells: int
    cells: int

    def lines(self) -> list[str]:
        return [*self.gaps, *self.crowded, *self.no_intervention]


def gap_summary(frame: pd.DataFrame, options: GapOptions, *, n: int = 3) -> GapSummary:
    """The plain-language summary under the map, for `frame` already narrowed by `options`.

    Gaps come first: one sentence per target level naming the outcomes with nothing at any age
    shown (whole empty rows), then the `n` longest runs of empty age bands within rows that do
    have some support. Then the `n` most crowded cells, then the outcomes no intervention aims at.
    """
    from hubdash.summary import largest_gaps, outcomes_without_interventions

    ages = options.ages
    found = largest_gaps(frame, n=len(LEVEL_CODES) * len(MAP_OUTCOMES) * len(ages), ages=ages,
                         include_secondary=options.include_secondary)
    whole = [g for g in found if len(g["ages"]) == len(ages)]
    gaps = []
    for level in LEVEL_CODES:
        rows = [outcome_phrase(g["outcome"]) for g in whole if g["level"] == level]
        if rows:
            gaps.append(f"No {schema.LEVEL_SHORT[level].lower()} support for {_join(rows)} at any age "
                        f"({age_span_text(ages)})")
    gaps += [g["sentence"] for g in found if len(g["ages"]) < len(ages)][:n]
    cells = gap_cells(frame, options)
    crowded = [c["sentence"] for c in crowded_cells(cells, n=n)]
    missing = outcomes_without_interventions(in_ages(frame, ages))
    no_int = []
    if missing:
        names = [schema.label("primary_outcome", o) for o in missing]
        no_int = ["No intervention at all aims to " + _join([m[0].lower() + m[1:] for m in names])]
    per_cell = cells.groupby(["target_level", "outcome", "age_group"])["count"].sum()
    return GapSummary(gaps=gaps, crowded=crowded, no_intervention=no_int,
                      empty_cells=int((per_cell == 0).sum()), cells=int(len(per_cell)))


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]
