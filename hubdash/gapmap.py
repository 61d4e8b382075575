"""The gap map (the guide's template 6 and Figure 1): outcome x age band, by kind and level.

Counting rule: a service counts once in each age group it covers, in the row of its primary
outcome (and, with `include_secondary`, also in the rows of its other outcomes, still once per
row), at its target level, in the SERVICE or INTERVENTION block. Counts are of distinct
services, so a service never inflates a cell twice.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd

from hubdash import schema
from hubdash.schema import AGE_GROUPS, OUTCOMES, TARGET_LEVELS, Filters
from hubdash.services import filter_frame, service_frame
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
    "SEND (0-25)": AGE_CODES,
}


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
