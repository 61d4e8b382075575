"""Headline figures and plain-language findings, computed live from the store."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from hubdash import schema
from hubdash.gapmap import AGE_CODES, LEVEL_CODES, OUTCOME_CODES, age_span_text, gap_grid, outcome_phrase
from hubdash.store import Store

#: The ages the Start for Life offer is about (pre-birth to 5), used for headline gaps.
EARLY_YEARS = AGE_CODES[:6]


@dataclass(frozen=True)
class Headline:
    services: int
    interventions: int
    organisations: int
    contacted: int | None
    responded: int | None
    empty_cells: int
    cells: int

    @property
    def response_rate(self) -> float | None:
        if not self.contacted:
            return None
        return (self.responded or 0) / self.contacted


def response_counts(store: Store) -> tuple[int | None, int | None]:
    """(contacted, responded) from the contacted-agencies list, or (None, None) without one."""
    contacted, responded = store.rows("SELECT count(*), count(*) FILTER (WHERE responded) FROM agencies")[0]
    return (int(contacted), int(responded)) if contacted else (None, None)


def headline(frame: pd.DataFrame, store: Store) -> Headline:
    """Headline figures for the filtered services `frame`."""
    grid = gap_grid(frame, ages=EARLY_YEARS, outcomes=[o for o in OUTCOME_CODES if o != "other"])
    per_cell = grid.groupby(["target_level", "outcome", "age_group"])["count"].sum()
    contacted, responded = response_counts(store)
    orgs = frame["organisation"].dropna().str.strip().str.lower()
    return Headline(
        services=int((frame["kind"] == "service").sum()),
        interventions=int((frame["kind"] == "intervention").sum()),
        organisations=int(orgs[orgs != ""].nunique()),
        contacted=contacted,
        responded=responded,
        empty_cells=int((per_cell == 0).sum()),
        cells=int(len(per_cell)),
    )


def largest_gaps(
    frame: pd.DataFrame,
    *,
    n: int = 5,
    ages: list[str] | None = None,
    include_secondary: bool = False,
) -> list[dict]:
    """The longest runs of consecutive age bands with no service or intervention at all.

    Looks at each (target level, primary outcome) row, combining the SERVICE and INTERVENTION
    blocks. Returns dicts with `level`, `outcome`, `ages` (codes) and a `sentence` such as
    "No targeted indicated support for perinatal mental health for 12-24 months", longest first;
    ties keep the map's order (universal first, outcomes in survey order).
    """
    ages = ages or EARLY_YEARS
    outcomes = [o for o in OUTCOME_CODES if o != "other"]
    grid = gap_grid(frame, ages=ages, outcomes=outcomes, include_secondary=include_secondary)
    counts = grid.groupby(["target_level", "outcome", "age_group"])["count"].sum()
    found = []
    for li, level in enumerate(LEVEL_CODES):
        for oi, outcome in enumerate(outcomes):
            run: list[str] = []
            for age in [*ages, None]:
                if age is not None and counts.get((level, outcome, age), 0) == 0:
                    run.append(age)
                    continue
                if run:
                    found.append((len(run), li, oi, level, outcome, run))
                run = []
    found.sort(key=lambda t: (-t[0], t[1], t[2]))
    out = []
    for _, _, _, level, outcome, run in found[:n]:
        span = age_span_text(run)
        when = "before birth" if span == "pre-birth" else (f"from {span}" if " to " in span else f"for {span}")
        if len(run) == len(ages) > 1:
            when = f"at any age ({span})"
        sentence = f"No {schema.LEVEL_SHORT[level].lower()} support for {outcome_phrase(outcome)} {when}"
        out.append({"level": level, "outcome": outcome, "ages": run, "sentence": sentence})
    return out


def outcomes_without_interventions(frame: pd.DataFrame) -> list[str]:
    """Primary outcomes (codes) that no intervention in `frame` aims at."""
    have = set(frame.loc[frame["kind"] == "intervention", "primary_outcome"].dropna())
    return [o for o in OUTCOME_CODES if o != "other" and o not in have]
