"""REDIE access: which families the local offer is designed or adapted for, and who it leaves out.

The guide asks teams to build race equality, diversity, inclusion and equity (REDIE) into every
step. This module answers its questions from survey question 21 ("Which groups is it
specifically designed or adapted for?"), 22 (languages), 23 (interpreter), 6 and 7 (format and
mode), 13 (wards), 16 and 17 (capacity and families supported) and the needs table.

Counting rules
    * A service counts once for each group in `schema.GROUPS` it ticks, in every cell it
      occupies (a service in two service areas counts once in each area column).
    * "None - not specifically adapted" counts for NO group. A service that ticks None *and* a
      group counts for that group only (reported as contradictory in `answer_summary`).
    * A blank question 21 also counts for no group, but is reported separately as "not
      answered": a blank is not a "no".
    * Every figure is for the services passed in, i.e. after the global `Filters`.

Language needs convention
    The needs table holds ward indicators. Languages spoken locally are rows whose indicator is
    ``language:<Name>``, value = the percentage of the ward's residents whose main language is
    <Name> (unit "%"), e.g. ``("E05001234", "language:Polish", 3.2, "%", "2021", "Census 2021
    TS058")``. ``language:English`` rows are allowed; English itself is never compared (question
    22 asks about languages *other than* English) but it gives the EAL share (100 - English).
    Without any such rows the comparison is reported as unavailable, never guessed.

Borough-wide shares
    A borough figure from ward percentages is the mean over wards weighted by children aged 0-4
    (`pop_0_4`) when every ward with the figure has a child count; otherwise the simple mean,
    and the result says so. If several periods exist the latest (largest `period`) is used.

Ward equity ranking (see `ward_equity`)
    1. For each need indicator - % minority ethnic residents, deprivation (IMD score) and % births
       to mothers under 25 - a ward's percentile is the share of wards (with that figure) whose
       value is the same or lower, times 100 (so the neediest ward scores 100).
    2. Need score = the mean of the ward's available percentiles.
    3. Adapted provision = distinct services covering the ward (question 13, "Whole local
       authority" covers every ward) that are adapted for the matching groups: minority ethnic
       families or families with English as an additional language, low-income families, young
       parents.
    4. A ward is a *priority* ("high need, low provision") when its need score is in the top
       third (>= 200/3) and its adapted provision is at or below the median across wards.
    5. Wards are ranked by need score (highest first), then fewest adapted services, then name.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hubdash import schema
from hubdash.schema import Filters, normalise
from hubdash.store import Store

NONE = "none"
#: The groups a service can be adapted for (question 21 without "None").
GROUP_CODES: list[str] = [o.code for o in schema.GROUPS if o.code != NONE]
GROUP_LABELS: dict[str, str] = {o.code: o.label for o in schema.GROUPS if o.code != NONE}
AREA_CODES: list[str] = [o.code for o in schema.SERVICE_AREAS]
#: Short column headings for the four service areas (the full label is in tooltips and tables).
AREA_SHORT = {
    "infant_feeding": "Infant feeding",
    "parenting": "Parenting support",
    "hle": "Home learning",
    "perinatal_mh": "Perinatal mental health",
}
ALL_AREAS = "all"
ALL_AREAS_LABEL = "All areas"
LEVEL_CODES: list[str] = [o.code for o in schema.TARGET_LEVELS]
AGE_CODES: list[str] = [o.code for o in schema.AGE_GROUPS]
#: Start for Life: conception to age 2, the ages the guide's examples focus on.
CONCEPTION_TO_2 = ["prebirth", "m0_12", "m12_18", "m18_24"]
#: Age ranges to look at in the group x age view (label -> age codes).
AGE_FOCUS: dict[str, list[str]] = {
    "Conception to age 2": CONCEPTION_TO_2,
    "Pre-birth to 5": AGE_CODES[:6],
    "All ages (pre-birth to 25)": AGE_CODES,
}
LANGUAGE_PREFIX = "language:"
HIGH_NEED = 200 / 3

#: Access options per group: (code, heading). Formats from question 6,
#: modes from question 7, languages from 22 and interpreter from 23.
_GROUP_FORMATS = {"small_group", "medium_group", "large_group"}
ACCESS_OPTIONS: tuple[tuple[str, str], ...] = (
    ("online", "Online"),
    ("telephone", "Telephone"),
    ("home", "Home visits"),
    ("family_hub", "Family Hub"),
    ("community_venue", "Community venue"),
    ("one_to_one", "One-to-one"),
    ("group", "Group sessions"),
    ("drop_in", "Drop-in"),
    ("self_help", "Self-help"),
    ("language", "Other language"),
    ("interpreter", "Interpreter"),
)
ACCESS_HELP = {
    "online": "Question 7: Online",
    "telephone": "Question 7: By telephone",
    "home": "Question 7: In the family's home",
    "family_hub": "Question 7: At a Family Hub",
    "community_venue": "Question 7: At another community venue",
    "one_to_one": "Question 6: Individual (one-to-one) format",
    "group": "Question 6: small, medium or large groups",
    "drop_in": "Question 6: Drop-in sessions",
    "self_help": "Question 6: Information or self-help",
    "language": "Question 22: offered in at least one language other than English",
    "interpreter": "Question 23: interpreter Yes or On request",
}

#: Need indicators for the equity ranking and the groups whose adapted services answer them.
EQUITY_NEEDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("pct_minority_ethnic", ("minority_ethnic", "eal")),
    ("imd_score", ("low_income",)),
    ("young_parent_births", ("young_parents",)),
)
EQUITY_GROUPS: tuple[str, ...] = tuple(dict.fromkeys(g for _, gs in EQUITY_NEEDS for g in gs))

#: The needs indicator giving each group's share of the local population, where one exists.
POPULATION_INDICATORS: dict[str, str] = {
    "minority_ethnic": "pct_minority_ethnic",
    "low_income": "children_low_income",
    "young_parents": "young_parent_births",
}


# --- question 21 answers ------------------------------------------------------------------------


def adapted_groups(groups: Iterable[str]) -> tuple[str, ...]:
    """The groups an answer to question 21 counts for: every ticked group except None."""
    return tuple(g for g in groups if g in GROUP_LABELS)


@dataclass(frozen=True)
class AnswerSummary:
    """How services answered question 21 (after the filter)."""

    total: int
    adapted: int
    none_only: int
    not_answered: int
    none_and_group: int
    groups_without: tuple[str, ...]
    none_only_ids: tuple[int, ...] = ()
    not_answered_ids: tuple[int, ...] = ()


def with_groups(frame: pd.DataFrame, groups: Iterable[str]) -> pd.DataFrame:
    """The services adapted for any of `groups` (None never matches)."""
    wanted = set(groups)
    mask = np.fromiter((bool(wanted & set(adapted_groups(v))) for v in frame["groups"]), bool, len(frame))
    return frame[mask]


def answer_summary(frame: pd.DataFrame) -> AnswerSummary:
    """Counts of adapted, None-only, blank and contradictory answers to question 21."""
    adapted = both = 0
    none_only: list[int] = []
    blank: list[int] = []
    seen: set[str] = set()
    for sid, groups in zip(frame["service_id"], frame["groups"], strict=True):
        real = adapted_groups(groups)
        seen.update(real)
        if real:
            adapted += 1
            both += NONE in groups
        elif NONE in groups:
            none_only.append(int(sid))
        else:
            blank.append(int(sid))
    return AnswerSummary(total=len(frame), adapted=adapted, none_only=len(none_only), not_answered=len(blank),
                         none_and_group=both, groups_without=tuple(g for g in GROUP_CODES if g not in seen),
                         none_only_ids=tuple(none_only), not_answered_ids=tuple(blank))


def _pairs(frame: pd.DataFrame, column: str | None = None) -> Iterator[tuple[int, str, str | None]]:
    """(service_id, group, value) for every adapted group of a service and every value in `column`."""
    values = frame[column] if column else [(None,)] * len(frame)
    for sid, groups, vals in zip(frame["service_id"], frame["groups"], values, strict=True):
        for g in adapted_groups(groups):
            for v in vals:
                yield int(sid), g, v


def _cells(pairs: Iterable[tuple[int, str, str | None]], *, column: str, order: list[str],
           labels: dict[str, str]) -> pd.DataFrame:
    """Every group x `order` cell (empty ones too) with distinct-service counts and sorted ids."""
    found: dict[tuple[str, str | None], set[int]] = {}
    for sid, g, v in pairs:
        found.setdefault((g, v), set()).add(sid)
    rows = [(g, v, sorted(found.get((g, v), ()))) for g in GROUP_CODES for v in order]
    out = pd.DataFrame(rows, columns=["group", column, "service_ids"])
    out["services"] = [len(v) for v in out["service_ids"]]
    out["empty"] = out["services"] == 0
    out["group_label"] = out["group"].map(GROUP_LABELS)
    out["column_label"] = out[column].map(labels)
    return out


# --- group x service area, group x age, access options ------------------------------------------


def areas_for(filters: Filters) -> list[str]:
    """The service-area columns to show: only the filtered area when the filter names one."""
    f = filters.validated()
    return [f.area] if f.area else list(AREA_CODES)


def group_area_matrix(frame: pd.DataFrame, *, areas: list[str] | None = None,
                      level: str | None = None) -> pd.DataFrame:
    """Services adapted for each group in each service area, at one target level or all.

    Args:
        frame: Services (already filtered).
        areas: Area codes to show (default the four Start for Life areas).
        level: A target-level code, or None for every level.

    Returns:
        One row per group x area, empty cells included, plus an "all" area row per group
        (`is_total`): group, area, services, service_ids, empty, group_label, column_label,
        area_name (full survey label), is_total, cell (text shown in the chart).
    """
    areas = areas or list(AREA_CODES)
    if level is not None:
        frame = frame[frame["target_level"] == level]
    cells = _cells(_pairs(frame, "service_areas"), column="area", order=areas, labels=AREA_SHORT)
    cells["area_name"] = cells["area"].map(schema.area_label)
    totals = _cells(((sid, g, ALL_AREAS) for sid, g, _ in _pairs(frame)), column="area", order=[ALL_AREAS],
                    labels={ALL_AREAS: ALL_AREAS_LABEL})
    totals["area_name"] = "Any service area (a service in two areas counts once)"
    out = pd.concat([cells.assign(is_total=False), totals.assign(is_total=True)], ignore_index=True)
    out["cell"] = [str(n) if n else "none" for n in out["services"]]
    return out


def group_age_matrix(frame: pd.DataFrame, *, ages: list[str] | None = None) -> pd.DataFrame:
    """Services adapted for each group covering each age band (question 10), empty cells included.

    Returns:
        group, age_group, services, service_ids, empty, group_label, column_label (short age
        heading), age_name (survey label), cell.
    """
    ages = ages or list(AGE_CODES)
    out = _cells(_pairs(frame, "age_groups"), column="age_group", order=ages, labels=schema.AGE_SHORT)
    out["age_name"] = out["age_group"].map(lambda c: schema.label("age_groups", c))
    out["cell"] = [str(n) if n else "none" for n in out["services"]]
    return out


def _access_codes(modes: Iterable[str], fmt: str | None, languages: Iterable[str],
                  interpreter: str | None) -> list[str]:
    modes = set(modes)
    have = [m for m in ("online", "telephone", "home", "family_hub", "community_venue") if m in modes]
    if fmt in ("one_to_one", "drop_in", "self_help"):
        have.append(fmt)
    if fmt in _GROUP_FORMATS:
        have.append("group")
    if _offered_languages(languages):
        have.append("language")
    if interpreter in ("yes", "on_request"):
        have.append("interpreter")
    return have


def access_matrix(frame: pd.DataFrame) -> pd.DataFrame:
    """For each group, how many adapted services offer each access option (see `ACCESS_OPTIONS`).

    Answers "is there any online or home-visiting option for parents with mental-health
    difficulties?" and "group or one-to-one?" per group. Columns as `group_age_matrix`, with
    `option` and `option_help` (the survey question behind the option).
    """
    options = [_access_codes(modes, fmt, langs, interp) for modes, fmt, langs, interp in zip(
        frame["delivery_modes"], frame["format"], frame["languages"], frame["interpreter"], strict=True)]
    df = pd.DataFrame({"service_id": frame["service_id"].to_numpy(), "groups": list(frame["groups"]),
                       "option": options})
    order = [c for c, _ in ACCESS_OPTIONS]
    out = _cells(_pairs(df, "option"), column="option", order=order, labels=dict(ACCESS_OPTIONS))
    out["option_help"] = out["option"].map(ACCESS_HELP)
    out["cell"] = [str(n) if n else "none" for n in out["services"]]
    return out


def interpreter_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Answers to question 23 across the services: answer, services, service_ids (blank included)."""
    rows = []
    for o in [*schema.INTERPRETER, schema.Option("", "Not answered")]:
        mask = frame["interpreter"].isna() if not o.code else frame["interpreter"] == o.code
        ids = frame.loc[mask.to_numpy(), "service_id"].astype(int).tolist()
        rows.append({"answer": o.label, "services": len(ids), "service_ids": ids})
    return pd.DataFrame(rows)


# --- languages -------------------------------------------------------------------------------


def _offered_languages(values: Iterable[str]) -> list[str]:
    return [v for v in values if isinstance(v, str) and normalise(v) and normalise(v) != "english"]


def _display_name(spellings: Counter) -> str:
    name = spellings.most_common(1)[0][0].strip()
    return name.title() if name == name.lower() else name


def needs_latest(store: Store) -> pd.DataFrame:
    """Needs rows (ward_code, indicator, value), the latest period per ward and indicator."""
    return store.read(
        """SELECT ward_code, indicator, value FROM (
               SELECT ward_code, indicator, value, row_number() OVER (
                   PARTITION BY ward_code, indicator ORDER BY period DESC NULLS LAST) AS rn
               FROM needs WHERE value IS NOT NULL) WHERE rn = 1""")


@dataclass(frozen=True)
class Share:
    """A borough-wide percentage made from ward figures, with how it was made."""

    value: float | None
    wards: int = 0
    weighted: bool = False
    note: str = ""


def borough_share(needs: pd.DataFrame, indicator: str) -> Share:
    """The borough-wide value of a ward percentage indicator (see the module notes)."""
    vals = needs.loc[needs["indicator"] == indicator, ["ward_code", "value"]].dropna()
    if vals.empty:
        return Share(None, note=f"no '{indicator}' rows in the needs table")
    return _weighted(needs, vals)


def _weighted(needs: pd.DataFrame, vals: pd.DataFrame) -> Share:
    pop = needs.loc[needs["indicator"] == "pop_0_4"].drop_duplicates("ward_code").set_index("ward_code")["value"]
    w = vals["ward_code"].map(pop)
    if w.notna().all() and float(w.sum()) > 0:
        value = float((vals["value"].to_numpy() * w.to_numpy()).sum() / float(w.sum()))
        return Share(value, len(vals), True, f"{len(vals)} wards, weighted by children aged 0-4")
    return Share(float(vals["value"].mean()), len(vals), False,
                 f"simple average of {len(vals)} wards (children aged 0-4 not known for every ward)")


def language_needs(needs: pd.DataFrame) -> pd.DataFrame:
    """Languages spoken locally from `language:<Name>` needs rows: language, key, residents_pct, note."""
    rows = needs[needs["indicator"].str.lower().str.startswith(LANGUAGE_PREFIX)]
    out = []
    for ind, grp in rows.groupby("indicator", sort=True):
        name = ind[len(LANGUAGE_PREFIX):].strip()
        share = _weighted(needs, grp[["ward_code", "value"]])
        out.append({"language": name, "key": normalise(name), "residents_pct": share.value, "note": share.note})
    return pd.DataFrame(out, columns=["language", "key", "residents_pct", "note"])


def eal_share(needs: pd.DataFrame) -> Share:
    """% of residents whose main language is not English, from the language needs rows."""
    langs = needs[needs["indicator"].str.lower().str.startswith(LANGUAGE_PREFIX)]
    if langs.empty:
        return Share(None, note="no 'language:<Name>' rows in the needs table")
    english = langs[langs["indicator"].map(lambda i: normalise(i[len(LANGUAGE_PREFIX):]) == "english")]
    if not english.empty and set(english["ward_code"]) == set(langs["ward_code"]):
        vals = english.assign(value=100 - english["value"])[["ward_code", "value"]]
        share = _weighted(needs, vals)
        return Share(share.value, share.wards, share.weighted, "100 minus main language English; " + share.note)
    others = langs.drop(english.index).groupby("ward_code", as_index=False)["value"].sum()
    share = _weighted(needs, others)
    return Share(share.value, share.wards, share.weighted,
                 "sum of the languages listed (no English figure), so an undercount; " + share.note)


@dataclass(frozen=True)
class LanguageComparison:
    """Languages offered (question 22) against languages spoken locally (needs table)."""

    table: pd.DataFrame
    has_population: bool
    note: str


def languages_vs_population(frame: pd.DataFrame, needs: pd.DataFrame) -> LanguageComparison:
    """Every language offered or spoken locally: language, residents_pct, services, service_ids, status.

    Spellings are matched case- and punctuation-insensitively ("polish " is Polish). English
    is left out (question 22 asks about other languages). Sorted by share of residents, then
    by services offering it.
    """
    spellings: dict[str, Counter] = {}
    ids: dict[str, list[int]] = {}
    for sid, langs in zip(frame["service_id"], frame["languages"], strict=True):
        seen: set[str] = set()
        for lang in _offered_languages(langs):
            key = normalise(lang)
            spellings.setdefault(key, Counter())[lang] += 1
            if key not in seen:  # "Polish" and "polish " in one answer are one language
                seen.add(key)
                ids.setdefault(key, []).append(int(sid))
    offered = pd.DataFrame({"key": list(ids), "offered_as": [_display_name(spellings[k]) for k in ids],
                            "service_ids": list(ids.values())})
    spoken = language_needs(needs)
    spoken = spoken[spoken["key"] != "english"]
    has_pop = not spoken.empty
    merged = spoken.merge(offered, on="key", how="outer") if has_pop else offered.assign(
        language=offered["offered_as"], residents_pct=np.nan, note="")
    merged["language"] = merged["language"].fillna(merged.get("offered_as"))
    merged["service_ids"] = [v if isinstance(v, list) else [] for v in merged["service_ids"]]
    merged["services"] = [len(v) for v in merged["service_ids"]]

    def status(r: pd.Series) -> str:
        if not has_pop:
            return "Offered (no local language data)"
        if pd.isna(r["residents_pct"]):
            return "Offered; not in the local language data"
        return "Spoken locally and offered" if r["services"] else "Spoken locally, offered by no service"

    merged["status"] = [status(r) for _, r in merged.iterrows()] if len(merged) else []
    merged = merged.sort_values(["residents_pct", "services", "language"], ascending=[False, False, True],
                                na_position="last", kind="stable")
    cols = ["language", "residents_pct", "services", "service_ids", "status"]
    if has_pop:
        note = "Share of residents whose main language it is: " + spoken["note"].iloc[0] + "."
    else:
        note = ("The needs table has no language rows, so languages offered cannot be compared with "
                "languages spoken. Add rows with indicator 'language:<Name>' (the % of residents whose main "
                "language it is) to compare.")
    return LanguageComparison(merged[cols].reset_index(drop=True), has_pop, note)


# --- geography of equity ------------------------------------------------------------------------


def _percentile(s: pd.Series) -> pd.Series:
    """Share of wards with the same or a lower value, x 100 (NaN stays NaN)."""
    return s.rank(method="max", pct=True) * 100


@dataclass(frozen=True)
class Equity:
    """The ward equity ranking and what it could use."""

    table: pd.DataFrame
    indicators: tuple[str, ...]
    missing: tuple[str, ...]
    median_provision: float | None
    unmatched_services: int = 0
    note: str = ""
    wards_known: bool = True


def ward_equity(store: Store, frame: pd.DataFrame) -> Equity:
    """Wards ranked by need for adapted support against adapted provision (see the module notes).

    Returns an `Equity` whose table has, per ward: rank, ward_code, ward_name, locality, the three
    need figures and their percentiles (`<indicator>_pct`), need_score, adapted_services,
    service_ids, one count per matching group pair (`services_for_<indicator>`), high_need,
    low_provision, priority.
    """
    from hubdash.geo import service_ward_links  # local import: geo pulls in geopandas

    wards = store.read("SELECT ward_code, ward_name, locality FROM wards ORDER BY ward_code")
    needs = needs_latest(store)
    if wards.empty:
        return Equity(pd.DataFrame(), (), tuple(i for i, _ in EQUITY_NEEDS), None, wards_known=False,
                      note="No ward boundaries are loaded, so provision cannot be placed in wards.")
    links = service_ward_links(store)
    adapted = with_groups(frame, EQUITY_GROUPS)
    links = links[links["service_id"].isin(adapted["service_id"])]
    groups_of = dict(zip(adapted["service_id"], (set(adapted_groups(g)) for g in adapted["groups"]), strict=True))
    unmatched = int((~adapted["service_id"].isin(links["service_id"])).sum())

    table = wards.copy()
    present, missing = [], []
    for ind, groups in EQUITY_NEEDS:
        vals = needs[needs["indicator"] == ind].drop_duplicates("ward_code").set_index("ward_code")["value"]
        table[ind] = table["ward_code"].map(vals).astype("float64")
        (present if table[ind].notna().any() else missing).append(ind)
        table[f"{ind}_pct"] = _percentile(table[ind])
        hits = links[np.fromiter((bool(groups_of[s] & set(groups)) for s in links["service_id"]), bool, len(links))]
        table[f"services_for_{ind}"] = table["ward_code"].map(hits.groupby("ward_code")["service_id"].nunique()) \
            .fillna(0).astype(int)
    table["need_score"] = table[[f"{i}_pct" for i in present]].mean(axis=1) if present else np.nan
    by_ward = links.groupby("ward_code")["service_id"].agg(lambda s: sorted({int(i) for i in s}))
    table["service_ids"] = [by_ward.get(w, []) for w in table["ward_code"]]
    table["adapted_services"] = [len(v) for v in table["service_ids"]]
    median = float(table["adapted_services"].median())
    table["high_need"] = table["need_score"].fillna(-1) >= HIGH_NEED - 1e-9
    table["low_provision"] = table["adapted_services"] <= median
    table["priority"] = table["high_need"] & table["low_provision"]
    table = table.sort_values(["need_score", "adapted_services", "ward_name"], ascending=[False, True, True],
                              na_position="last", kind="stable").reset_index(drop=True)
    table.insert(0, "rank", range(1, len(table) + 1))
    note = "" if present else ("The needs table has none of the three need figures (pct_minority_ethnic, "
                               "imd_score, young_parent_births), so wards cannot be ranked by need.")
    return Equity(table, tuple(present), tuple(missing), median, unmatched, note)


# --- reach --------------------------------------------------------------------------------------


def reach(frame: pd.DataFrame, needs: pd.DataFrame) -> pd.DataFrame:
    """Each group's share of capacity and of families supported, against its share of the population.

    Shares of capacity (question 16) and families supported (question 17) are the totals in
    services adapted for the group over the totals in every service in `frame`, each counting
    only services that gave the figure. A service adapted for two groups counts fully in both,
    so shares across groups can add up to more than 100%.

    Returns:
        One row per group: group, group_label, services, capacity, capacity_known,
        families_supported, reached_known, capacity_share, reached_share, population_share,
        population_measure, ratio (reached_share / population_share), indicative, caveat.
    """
    cap_all = frame["capacity"].sum(skipna=True)
    reach_all = frame["families_supported"].sum(skipna=True)
    cap_missing_all = int(frame["capacity"].isna().sum())
    reach_missing_all = int(frame["families_supported"].isna().sum())
    eal = eal_share(needs)
    rows = []
    for g in GROUP_CODES:
        sub = with_groups(frame, [g])
        n = len(sub)
        cap, cap_known = float(sub["capacity"].sum(skipna=True)), int(sub["capacity"].notna().sum())
        fam, fam_known = float(sub["families_supported"].sum(skipna=True)), int(sub["families_supported"].notna().sum())
        if g == "eal":
            share, measure = eal, "Residents whose main language is not English"
        elif g in POPULATION_INDICATORS:
            ind = POPULATION_INDICATORS[g]
            share, measure = borough_share(needs, ind), schema.INDICATOR_BY_CODE[ind].label
        else:
            share, measure = Share(None, note="the needs table has no figure for this group"), ""
        reasons = []
        if not reach_all:
            reasons.append("no service in view gave a families-supported figure")
        if n and fam_known < n:
            reasons.append(f"families supported known for {fam_known} of {n} adapted services")
        if reach_missing_all:
            reasons.append(f"{reach_missing_all} of {len(frame)} services in the total gave no figure")
        if share.value is None:
            reasons.append("no local population figure")
        elif not share.weighted:
            reasons.append("population share is an unweighted ward average")
        reached_share = fam / reach_all * 100 if reach_all and n else (0.0 if reach_all else None)
        cap_share = cap / cap_all * 100 if cap_all and n else (0.0 if cap_all else None)
        ratio = reached_share / share.value if reached_share is not None and share.value else None
        rows.append({
            "group": g, "group_label": GROUP_LABELS[g], "services": n, "capacity": cap, "capacity_known": cap_known,
            "families_supported": fam, "reached_known": fam_known, "capacity_share": cap_share,
            "reached_share": reached_share, "population_share": share.value, "population_measure": measure,
            "population_note": share.note, "ratio": ratio, "indicative": bool(reasons),
            "caveat": "; ".join(reasons) if reasons else "inputs complete",
        })
    out = pd.DataFrame(rows)
    out.attrs["capacity_missing"] = cap_missing_all
    return out


# --- drill-down and tables ---------------------------------------------------------------------------


def drill_options(cells: pd.DataFrame, *, column_name: str = "column_label") -> pd.DataFrame:
    """Picker entries for the non-empty cells of a matrix: label, service_ids."""
    hit = cells[cells["services"] > 0]
    labels = [f"{g} · {c}: {n} service{'s' if n != 1 else ''}"
              for g, c, n in zip(hit["group_label"], hit[column_name], hit["services"], strict=True)]
    return pd.DataFrame({"label": labels, "service_ids": list(hit["service_ids"])})


def drill_list(labels: Iterable[str], service_ids: Iterable[list[int]]) -> pd.DataFrame:
    """Picker entries from parallel labels and id lists, leaving out empty ones."""
    rows = [(lab, ids) for lab, ids in zip(labels, service_ids, strict=True) if ids]
    return pd.DataFrame(rows, columns=["label", "service_ids"])


def answer_drill(a: AnswerSummary) -> pd.DataFrame:
    """Picker entries for the services that count for no group (None only, or question 21 blank)."""
    return drill_list([f"Answered only 'None' (counts for no group): {a.none_only}",
                       f"Question 21 left blank (counts for no group): {a.not_answered}"],
                      [list(a.none_only_ids), list(a.not_answered_ids)])


def matrix_drill(matrix: pd.DataFrame, answers: AnswerSummary) -> pd.DataFrame:
    """Picker entries for the group x area matrix plus the services that count for no group."""
    return pd.concat([drill_options(matrix), answer_drill(answers)], ignore_index=True)


def access_drill(access: pd.DataFrame, languages: LanguageComparison, interpreter: pd.DataFrame) -> pd.DataFrame:
    """Picker entries for the access matrix, each language and each interpreter answer."""
    cells = drill_options(access)
    langs = drill_list((f"Offered in {x}: {n} service{'s' if n != 1 else ''}" for x, n in
                        zip(languages.table["language"], languages.table["services"], strict=True)),
                       languages.table["service_ids"])
    interp = drill_list((f"Interpreter '{x}': {n} service{'s' if n != 1 else ''}" for x, n in
                         zip(interpreter["answer"], interpreter["services"], strict=True)), interpreter["service_ids"])
    return pd.concat([cells, langs, interp], ignore_index=True)


def equity_drill(eq: Equity) -> pd.DataFrame:
    """Picker entries for the adapted services covering each ranked ward."""
    t = eq.table
    if t.empty:
        return drill_list([], [])
    labels = [f"{w} (rank {r}{', priority' if p else ''}): {n} adapted service{'s' if n != 1 else ''}"
              for w, r, p, n in zip(t["ward_name"], t["rank"], t["priority"], t["adapted_services"], strict=True)]
    return drill_list(labels, t["service_ids"])


def wide_table(cells: pd.DataFrame, *, columns: str = "column_label", order: list[str] | None = None) -> pd.DataFrame:
    """A matrix as a readable table: one row per group, one column per cell heading."""
    t = cells.pivot_table(index="group_label", columns=columns, values="services", aggfunc="sum", sort=False)
    t = t.reindex(index=[GROUP_LABELS[g] for g in GROUP_CODES], columns=order or list(dict.fromkeys(cells[columns])))
    t = t.fillna(0).astype(int).reset_index().rename(columns={"group_label": "Group"})
    t.columns.name = None
    return t


def _fmt_pct(v: float | None) -> str:
    return "no figure" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.1f}%"


def reach_table(r: pd.DataFrame) -> pd.DataFrame:
    """The reach figures as a readable table."""
    return pd.DataFrame({
        "Group": r["group_label"], "Adapted services": r["services"],
        "Families supported (12 months)": r["families_supported"].round(0).astype(int),
        "Services giving that figure": r["reached_known"],
        "Share of all families supported": r["reached_share"].map(_fmt_pct),
        "Share of capacity": r["capacity_share"].map(_fmt_pct),
        "Share of local population": r["population_share"].map(_fmt_pct),
        "Population figure used": r["population_measure"].replace("", "none"),
        "Indicative?": np.where(r["indicative"], "Indicative", "Complete inputs"),
        "Why": r["caveat"],
    })


def languages_table(lc: LanguageComparison) -> pd.DataFrame:
    """The language comparison as a readable table."""
    t = lc.table
    return pd.DataFrame({"Language": t["language"], "% of residents (main language)": t["residents_pct"].round(1),
                         "Services offering it": t["services"], "Status": t["status"]})


def interpreter_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Question 23 answers as a readable table."""
    return pd.DataFrame({"Interpreter available?": summary["answer"], "Services": summary["services"]})


def equity_table(eq: Equity) -> pd.DataFrame:
    """The ward ranking as a readable table."""
    t = eq.table
    if t.empty:
        return pd.DataFrame()
    out = pd.DataFrame({"Rank": t["rank"], "Ward": t["ward_name"], "Locality": t["locality"]})
    for ind, _ in EQUITY_NEEDS:
        out[schema.INDICATOR_BY_CODE[ind].label] = t[ind].round(1)
    out["Need score (0-100)"] = t["need_score"].round(0)
    out["Adapted services covering it"] = t["adapted_services"]
    out["High need, low provision"] = np.where(t["priority"], "Yes", "")
    return out


# --- the CLI rows ------------------------------------------------------------------------------------


def redie_rows(frame: pd.DataFrame, *, filters: Filters) -> list[dict]:
    """One row per group (None excluded): group label, services, per-area and per-level counts.

    `frame` is every service; the filter is applied here.

    Keys: `group` (the label exactly as in question 21), `services` (distinct services adapted for
    the group), one key per area code shown (`areas_for(filters)`), one key per target level, and
    `service_ids`.
    """
    from hubdash.services import filter_frame

    frame = filter_frame(frame, filters)
    areas = areas_for(filters)
    matrix = group_area_matrix(frame, areas=areas)
    rows = []
    for g in GROUP_CODES:
        cells = matrix[matrix["group"] == g].set_index("area")
        row: dict = {"group": GROUP_LABELS[g], "services": int(cells.loc[ALL_AREAS, "services"])}
        row.update({a: int(cells.loc[a, "services"]) for a in areas})
        sub = with_groups(frame, [g])
        row.update({lv: int((sub["target_level"] == lv).sum()) for lv in LEVEL_CODES})
        row["service_ids"] = list(cells.loc[ALL_AREAS, "service_ids"])
        rows.append(row)
    return rows


# --- reflection prompts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reflection:
    """One of the guide's reflection prompts with what the data suggests and its caveats."""

    section: str
    prompt: str
    suggests: str
    caveats: tuple[str, ...] = field(default=())


def _names(codes: Iterable[str], *, limit: int = 4) -> str:
    labels = [GROUP_LABELS.get(c, c) for c in codes]
    if len(labels) > limit:
        return ", ".join(labels[:limit]) + f" and {len(labels) - limit} more"
    return ", ".join(labels[:-1]) + (" and " if len(labels) > 1 else "") + (labels[-1] if labels else "")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def reflections(store: Store, frame: pd.DataFrame, *, filters: Filters) -> list[Reflection]:
    """The guide's REDIE reflection prompts, each answered from the figures for `frame`.

    Sections: "matrix", "ages", "access", "where", "reach" (the page shows each beside its chart).
    """
    a = answer_summary(frame)
    scope = f"Figures are for {filters.validated().describe()}." if filters.validated() != Filters() else ""
    # The first prompt states the basis of the counts once; every prompt carries the scope when filtered.
    basis = "Counts show what providers say a service is designed or adapted for, not who uses it."
    tail = (scope,) if scope else ()
    blank = (f"{_plural(a.not_answered, 'service')} left question 21 blank; they may be adapted without saying so.",) \
        if a.not_answered else ()
    matrix = group_area_matrix(frame, areas=areas_for(filters))
    area_cells = matrix[~matrix["is_total"]]
    totals = matrix[matrix["is_total"]].set_index("group")["services"]
    out: list[Reflection] = []

    # 1. Are all families included?
    parts = [f"{a.adapted} of {_plural(a.total, 'service')} are designed or adapted for at least one group."]
    if a.groups_without:
        parts.append(f"None is adapted for {_names(a.groups_without)}.")
    few = totals[totals > 0].sort_values(kind="stable")
    if len(few):
        parts.append(f"Fewest: {GROUP_LABELS[few.index[0]]} ({_plural(int(few.iloc[0]), 'service')}).")
    empty = int(area_cells["empty"].sum())
    parts.append(f"{empty} of {len(area_cells)} group × service-area cells are empty.")
    cav = list(blank)
    if a.none_and_group:
        cav.append(f"{_plural(a.none_and_group, 'service')} ticked 'None' as well as a group; they count for the group.")
    cav.extend((basis, *tail))
    out.append(Reflection("matrix", "Are all families included in services and interventions?",
                          " ".join(parts), tuple(cav)))

    # 2. SEND
    send = area_cells[area_cells["group"] == "send"]
    gaps = [AREA_SHORT[x] for x in send.loc[send["empty"], "area"]]
    n_send = int(totals.get("send", 0))
    sub = with_groups(frame, ["send"])
    lv = ", ".join(f"{int((sub['target_level'] == c).sum())} {schema.LEVEL_SHORT[c].lower()}" for c in LEVEL_CODES)
    text = f"{_plural(n_send, 'service')} are adapted for families of children with SEND ({lv})."
    text += f" No adapted support in: {', '.join(gaps)}." if gaps else " Every service area shown has some."
    out.append(Reflection(
        "matrix", "Are there enough services and interventions available for families of children with special "
        "educational needs and disabilities?", text,
        ("The needs table has no count of children with SEND, so 'enough' needs local SEND data beside this.",
         *tail)))

    # 3. Ages
    ages = group_age_matrix(frame, ages=CONCEPTION_TO_2)
    full, partial = [], []
    for g in GROUP_CODES:
        cells = ages[ages["group"] == g]
        miss = list(cells.loc[cells["empty"], "column_label"])
        (partial if miss else full).append((g, miss))
    text = (f"Adapted support covers every band from pre-birth to 24 months for {len(full)} of "
            f"{len(GROUP_CODES)} groups.")
    worst = sorted(partial, key=lambda t: -len(t[1]))[:3]
    if worst:
        text += " Largest gaps: " + "; ".join(
            f"{GROUP_LABELS[g]} ({'nothing' if len(m) == len(CONCEPTION_TO_2) else ', '.join(m)})" for g, m in worst) + "."
    out.append(Reflection("ages", "Are services and interventions available across all relevant age groups?", text,
                          ("A service counts in every age band it says it covers, so one broad service can fill "
                           "a whole row.", *tail)))

    # 4. Minority ethnic families and languages
    needs = needs_latest(store)
    langs = languages_vs_population(frame, needs)
    offered = langs.table[langs.table["services"] > 0]
    interp = interpreter_summary(frame).set_index("answer")["services"]
    answered = int(interp.drop("Not answered").sum())
    yes = int(interp.get("Yes", 0) + interp.get("On request", 0))
    text = (f"{_plural(int(totals.get('minority_ethnic', 0)), 'service')} are adapted for minority ethnic families and "
            f"{int(totals.get('eal', 0))} for families with English as an additional language. Services are offered "
            f"in {_plural(len(offered), 'language')} other than English"
            + (f" ({', '.join(offered['language'].head(5))})." if len(offered) else "."))
    if langs.has_population:
        unmet = langs.table[(langs.table["services"] == 0) & langs.table["residents_pct"].notna()]
        text += (" Spoken locally but offered by no service: " + ", ".join(
            f"{r.language} ({r.residents_pct:.1f}% of residents)" for r in unmet.head(4).itertuples()) + "."
                 if len(unmet) else " Every language in the local language data is offered by some service.")
    text += f" An interpreter is available (yes or on request) for {yes} of {answered} services that answered."
    cav = [langs.note]
    if interp.get("Not answered", 0):
        cav.append(f"{int(interp['Not answered'])} services did not say whether an interpreter is available.")
    out.append(Reflection("access", "Are services designed to support the needs of minority ethnic families in the "
                          "local area?", text, (*cav, *tail)))

    # 5. Parents' mental health and formats/modes
    acc = access_matrix(frame)
    mh = acc[acc["group"] == "parent_mh"].set_index("option")["services"]
    text = (f"{_plural(int(totals.get('parent_mh', 0)), 'service')} are adapted for parents with mental health "
            f"difficulties: {mh['online']} online, {mh['telephone']} by telephone, {mh['home']} in the family's home; "
            f"{mh['one_to_one']} one-to-one and {mh['group']} in groups.")
    out.append(Reflection("access", "Considering what you know about mental health among parents in the local area, "
                          "are there enough services and interventions to support parents' mental health?", text,
                          ("The needs table has no parental mental health figure to compare against.",
                           *tail)))
    lines = []
    for opt, what in (("online", "online"), ("home", "home-visiting"), ("one_to_one", "one-to-one"),
                      ("group", "group")):
        lacking = [g for g in GROUP_CODES if int(totals.get(g, 0)) and
                   int(acc[(acc["group"] == g) & (acc["option"] == opt)]["services"].iloc[0]) == 0]
        if lacking:
            lines.append(f"no {what} option for {_names(lacking, limit=3)}")
    if not a.adapted:
        text = "No service in view is adapted for any group, so there are no formats or modes to compare."
    elif lines:
        text = "Among groups with adapted services: " + "; ".join(lines) + "."
    else:
        text = "Every group with adapted services has online, home-visiting, one-to-one and group options."
    out.append(Reflection("access", "Is there a good combination of delivery methods and formats?", text,
                          ("Format (question 6) is one answer per service: a service offering both group and "
                           "one-to-one sessions shows only its main format.", *tail)))

    # 6. Geography
    eq = ward_equity(store, frame)
    if not eq.wards_known or not eq.indicators:
        text = eq.note or "Wards cannot be ranked."
        cav = []
    else:
        pri = eq.table[eq.table["priority"]]
        text = (f"{_plural(len(pri), 'ward')} of {len(eq.table)} combine high need for adapted support (top third on "
                "the need score) with adapted provision at or below the borough median "
                f"({eq.median_provision:g} services)" + (": " + ", ".join(pri["ward_name"].head(6)) + "." if len(pri)
                                                         else "."))
        cav = ["A service answering 'Whole local authority' counts in every ward, which can overstate local "
               "reach for venue-based services."]
        if eq.unmatched_services:
            cav.append(f"{_plural(eq.unmatched_services, 'adapted service')} named no ward we could match (or "
                       "left question 13 blank) and count in no ward.")
        if eq.missing:
            cav.append("Missing from the needs table: " + ", ".join(eq.missing) + "; the need score uses the rest.")
    out.append(Reflection("where", "Are families across the whole geographical area able to access services and "
                          "interventions?", text, (*cav, *tail)))

    # 7. Reach
    r = reach(frame, needs)
    comparable = r[r["ratio"].notna()]
    low = comparable[comparable["ratio"] < 1]
    if comparable.empty:
        text = "No group has both families-supported figures and a local population figure to compare."
    else:
        text = " ".join(
            f"Services adapted for {x.group_label[0].lower() + x.group_label[1:]} supported {x.reached_share:.0f}% of all "
            f"families supported, against a population share of {x.population_share:.0f}% "
            f"({x.population_measure[0].lower()}{x.population_measure[1:]})." for x in comparable.itertuples())
        text += (f" Below their population share: {', '.join(low['group_label'])}." if len(low) else
                 " Each compared group's share of families supported is at or above its population share.")
    no_pop = list(r.loc[r["population_share"].isna(), "group"])
    cav = []
    if r["indicative"].any():
        why = []
        short = r[(r["services"] > 0) & (r["reached_known"] < r["services"])]
        if len(short):
            why.append(f"families supported is missing for some adapted services of {_plural(len(short), 'group')}")
        missing_all = int(frame["families_supported"].isna().sum())
        if missing_all:
            why.append(f"{missing_all} of {len(frame)} services gave no families-supported figure")
        if no_pop:
            why.append(f"there is no local population figure for {_names(no_pop)}")
        if r["population_note"].str.contains("simple average").any():
            why.append("some population shares are unweighted ward averages")
        if not frame["families_supported"].notna().any():
            why.insert(0, "no service in view gave a families-supported figure")
        cav.append(f"Indicative for {int(r['indicative'].sum())} of {len(r)} groups: " + "; ".join(why) + ".")
    cav.append("A service adapted for a group also serves other families, so these shares are upper bounds.")
    cav.extend(tail)
    out.append(Reflection("reach", "Have you been able to identify groups whose needs are not currently met?", text,
                          tuple(cav)))

    # 8. REDIE in every step: whose voices are in the survey
    ag = store.rows("SELECT count(*) FILTER (WHERE sector = 'vcs'), count(*) FILTER (WHERE sector = 'vcs' AND "
                    "responded), count(*), count(*) FILTER (WHERE responded) FROM agencies")[0]
    if ag[2]:
        text = (f"{ag[1]} of {ag[0]} voluntary and community organisations contacted responded "
                f"({ag[3]} of {ag[2]} organisations overall). {a.adapted + a.none_only} of {a.total} services "
                "answered question 21.")
        cav = ["The contacted-agencies list is for the whole survey, not the filter in force."]
    else:
        text = (f"No contacted-agencies list is loaded, so who did not respond is unknown. "
                f"{a.adapted + a.none_only} of {a.total} services answered question 21.")
        cav = []
    out.append(Reflection("reach", "Were you able to build REDIE into each step in the mapping process?", text,
                          (*cav, "The guide suggests sending the survey to organisations that work with particular "
                                 "communities; missing returns hide adapted services.")))
    return out
