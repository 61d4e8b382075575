"""Geographic coverage: for each ward, the services covering it, provision against need, and
the distance to the nearest place offering the services in view.

Counting rules (the guide's question "are families across the whole geographical area able to
access services?"):

* A service covers a ward if it answered "Whole local authority" to question 13 (it then covers
  every ward) or named the ward by name or code (case-, space- and punctuation-insensitive).
  Each service counts once per ward, whatever it answered.
* `services_per_1000_under5` = services covering the ward / children aged 0-4 in it × 1,000.
* `capacity_per_1000_under5` shares each service's yearly capacity (question 16) over the
  children aged 0-4 in all the wards it covers: a whole-authority service for 500 families adds
  500 / (all children 0-4) × 1,000 to every ward. Services that gave no capacity add nothing;
  `services_with_capacity` says how many did.
* `nearest_site_km`: great-circle distance from the ward's population-weighted centre (when
  population points are loaded) or its inner point, to the nearest delivery point of the
  services in view: a site whose postcode a service gave (question 14), otherwise that
  postcode's own point, and every family hub when any service in view is delivered "At a Family
  Hub" (question 7).

Everything is vectorised over wards and links, so all 7,681 wards of England take a fraction of
a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hubdash import schema
from hubdash.geo import EARTH_RADIUS_KM, nearest_points  # noqa: F401 - EARTH_RADIUS_KM re-exported
from hubdash.geoload import indicator_label, normalise_postcode
from hubdash.schema import Filters
from hubdash.services import filter_frame, service_frame
from hubdash.store import Store

PROVISION = {
    "services": ("Services covering the ward", "services"),
    "services_per_1000_under5": ("Services per 1,000 children aged 0-4", "per 1,000"),
    "capacity_per_1000_under5": ("Capacity per 1,000 children aged 0-4 (families a year)", "per 1,000"),
}
BIVARIATE = "bivariate"
LEVEL_WORDS = {1: "Low", 2: "Medium", 3: "High"}


@dataclass(frozen=True)
class Measure:
    """Something a ward can be coloured by."""

    code: str
    label: str
    unit: str
    kind: str  # "provision" or "need"
    higher_is_more_need: bool = True


# --- inputs ----------------------------------------------------------------------------------------


def ward_count(store: Store) -> int:
    """How many wards (areas) are loaded."""
    return int(store.scalar("SELECT count(*) FROM wards") or 0)


def ward_frame(store: Store) -> pd.DataFrame:
    """Wards without geometry, with the point distances are measured from.

    `point_lon/point_lat` is the population-weighted centre when population points fall in the
    ward, else the ward's inner point (`centroid_lon/lat`); `distance_from` says which.
    """
    w = store.read("""SELECT ward_code, ward_name, locality, area_km2, centroid_lon, centroid_lat
                      FROM wards ORDER BY ward_name, ward_code""")
    p = store.read("""SELECT ward_code, sum(population) AS population_points,
                             sum(lon * population) / sum(population) AS pw_lon,
                             sum(lat * population) / sum(population) AS pw_lat
                      FROM population_points WHERE ward_code IS NOT NULL AND population > 0
                      GROUP BY ward_code""")
    w = w.merge(p, on="ward_code", how="left")
    has = w["pw_lon"].notna()
    w["point_lon"] = w["pw_lon"].where(has, w["centroid_lon"])
    w["point_lat"] = w["pw_lat"].where(has, w["centroid_lat"])
    w["distance_from"] = np.where(has, "population-weighted centre", "ward centre")
    return w.drop(columns=["pw_lon", "pw_lat"])


def needs_latest(store: Store) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(wide table: ward_code + one column per indicator, latest period; indicator metadata).

    Only figures for the wards now loaded count: needs keyed on another ward set (e.g. Census
    2021 on the 2022 codes after loading the May 2023 wards) stay stored but are not offered.
    Metadata columns: indicator, label, unit, period, source, higher_is_more_need, wards.
    """
    long = store.read("""SELECT ward_code, indicator, value, unit, period, source FROM needs
                         WHERE value IS NOT NULL AND ward_code IN (SELECT ward_code FROM wards)
                         QUALIFY row_number() OVER (PARTITION BY ward_code, indicator
                                                    ORDER BY period DESC NULLS LAST) = 1""")
    if long.empty:
        return pd.DataFrame({"ward_code": pd.Series(dtype=object)}), pd.DataFrame(
            columns=["indicator", "label", "unit", "period", "source", "higher_is_more_need", "wards"])
    wide = long.pivot(index="ward_code", columns="indicator", values="value").reset_index()
    wide.columns.name = None
    meta = long.groupby("indicator", sort=False).agg(
        unit=("unit", "first"), period=("period", lambda s: ", ".join(sorted({str(p) for p in s if p}))),
        source=("source", "first"), wards=("ward_code", "nunique")).reset_index()
    meta["label"] = meta["indicator"].map(indicator_label)
    meta["higher_is_more_need"] = meta["indicator"].map(
        lambda c: schema.INDICATOR_BY_CODE[c].higher_is_more_need if c in schema.INDICATOR_BY_CODE else True)
    order = {ind.code: i for i, ind in enumerate(schema.INDICATORS)}
    meta = meta.sort_values("indicator", key=lambda s: s.map(lambda c: (order.get(c, 99), c))).reset_index(drop=True)
    return wide, meta[["indicator", "label", "unit", "period", "source", "higher_is_more_need", "wards"]]


def named_links(store: Store) -> pd.DataFrame:
    """(service_id, ward_code) for every ward a service names (by name or code), without duplicates."""
    return store.read("""SELECT sw.service_id, w.ward_code FROM service_wards sw JOIN wards w ON sw.ward_key = w.name_key
                         UNION
                         SELECT sw.service_id, w.ward_code FROM service_wards sw
                         JOIN wards w ON sw.ward_key = lower(w.ward_code)""")


def delivery_points(store: Store, frame: pd.DataFrame) -> pd.DataFrame:
    """Where the services in `frame` are delivered: name, kind, lon, lat, postcode, services, how.

    `how` is "site" (a named site whose postcode a service gave), "family hub" (every hub, when a
    service in view is delivered at a family hub) or "postcode" (a survey postcode with no named
    site, placed by the postcode lookup).
    """
    cols = ["name", "kind", "lon", "lat", "postcode", "services", "how"]
    ids = frame["service_id"].to_numpy() if len(frame) else np.array([], dtype=int)
    sp = store.read("SELECT service_id, postcode FROM service_postcodes")
    sp = sp[sp["service_id"].isin(ids)]
    sp = sp.assign(pc=sp["postcode"].map(normalise_postcode)).dropna(subset=["pc"])
    per_pc = sp.groupby("pc")["service_id"].nunique()
    sites = store.read("SELECT name, kind, postcode, lat, lon FROM sites WHERE lat IS NOT NULL AND lon IS NOT NULL")
    sites["pc"] = sites["postcode"].map(normalise_postcode)
    at_hub = frame["delivery_modes"].map(lambda m: "family_hub" in m) if len(frame) else pd.Series(dtype=bool)
    n_hub = int(at_hub.sum())
    by_pc = sites["pc"].isin(per_pc.index)
    is_hub = sites["kind"].eq("family_hub") & (n_hub > 0)
    chosen = sites[by_pc | is_hub].copy()
    chosen["services"] = chosen["pc"].map(per_pc).fillna(0).astype(int)
    chosen["how"] = np.where(chosen["kind"].eq("family_hub") & (n_hub > 0), "family hub", "site")
    rest = per_pc[~per_pc.index.isin(sites["pc"].dropna())]
    pts = pd.DataFrame(columns=cols)
    if len(rest):
        look = store.read("SELECT postcode, lat, lon FROM postcode_lookup WHERE postcode IN (SELECT unnest(?::VARCHAR[]))",
                          [list(rest.index)])
        if len(look):
            pts = pd.DataFrame({"name": "Postcode " + look["postcode"], "kind": "site", "lon": look["lon"],
                                "lat": look["lat"], "postcode": look["postcode"],
                                "services": look["postcode"].map(rest).astype(int), "how": "postcode"})
    out = pd.concat([chosen[cols], pts[cols]], ignore_index=True) if len(pts) else chosen[cols].reset_index(drop=True)
    return out.astype({"lon": float, "lat": float})


# --- the coverage table ------------------------------------------------------------------------------


def coverage_table(store: Store, frame: pd.DataFrame, *, max_km: float | None = None,
                   wards: pd.DataFrame | None = None, needs: tuple[pd.DataFrame, pd.DataFrame] | None = None,
                   links: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per ward: services covering it, rates per 1,000 children 0-4, needs, distance.

    Args:
        store: The store (wards, needs, sites, postcodes).
        frame: The services in view (`services.filter_frame` for the global filter).
        max_km: Flag wards whose nearest delivery point is further than this (`beyond_km`).
        wards, needs, links: Pre-read inputs (the page caches them); read from the store if None.

    Columns: ward_code, ward_name, locality, services, services_named, services_whole_la,
    services_per_1000_under5, capacity_per_1000_under5, services_with_capacity,
    nearest_site_km, nearest_site, distance_from, beyond_km, top_services, then one column per
    needs indicator (e.g. pop_0_4, imd_score).
    """
    w = (wards if wards is not None else ward_frame(store)).copy()
    wide, _meta = needs if needs is not None else needs_latest(store)
    links = links if links is not None else named_links(store)
    codes = w["ward_code"]
    whole = frame[frame["whole_la"].astype(bool)] if len(frame) else frame
    whole_ids = set(whole["service_id"]) if len(frame) else set()
    in_view = links[links["service_id"].isin(frame["service_id"]) & ~links["service_id"].isin(whole_ids)]
    named_n = in_view.groupby("ward_code")["service_id"].nunique()
    w["services_whole_la"] = len(whole_ids)
    w["services_named"] = codes.map(named_n).fillna(0).astype(int).to_numpy()
    w["services"] = w["services_whole_la"] + w["services_named"]
    w = w.merge(wide, on="ward_code", how="left")

    pop = w["pop_0_4"] if "pop_0_4" in w else pd.Series(np.nan, index=w.index)
    pop = pop.where(pop > 0)
    w["services_per_1000_under5"] = (w["services"] / pop * 1000).round(2)
    cap = frame.set_index("service_id")["capacity"].astype(float) if len(frame) else pd.Series(dtype=float)
    total_pop = pop.sum(min_count=1)
    whole_cap = cap[cap.index.isin(whole_ids)].dropna()
    whole_rate = float(whole_cap.sum() * 1000 / total_pop) if len(whole_cap) and total_pop > 0 else 0.0
    lk = in_view.assign(pop=in_view["ward_code"].map(dict(zip(codes, pop, strict=True))),
                        cap=in_view["service_id"].map(cap))
    cover_pop = lk.groupby("service_id")["pop"].sum(min_count=1)
    lk = lk.assign(rate=lk["cap"] * 1000 / lk["service_id"].map(cover_pop).where(lambda s: s > 0))
    named_rate = lk.groupby("ward_code")["rate"].sum(min_count=1)
    w["capacity_per_1000_under5"] = (whole_rate + codes.map(named_rate).fillna(0).to_numpy()).round(1)
    w.loc[pop.isna(), "capacity_per_1000_under5"] = np.nan
    named_cap = lk[lk["cap"].notna()].groupby("ward_code")["service_id"].nunique()
    w["services_with_capacity"] = len(whole_cap) + codes.map(named_cap).fillna(0).astype(int).to_numpy()

    pts = delivery_points(store, frame)
    dist, idx = nearest_points(w["point_lon"].to_numpy(float), w["point_lat"].to_numpy(float),
                               pts["lon"].to_numpy(float), pts["lat"].to_numpy(float))
    w["nearest_site_km"] = np.round(dist, 2)
    w["nearest_site"] = np.where(idx >= 0, pts["name"].to_numpy(object)[np.clip(idx, 0, None)] if len(pts) else None,
                                 None)
    w["beyond_km"] = (w["nearest_site_km"] > max_km) if max_km is not None and len(pts) else False

    names = frame.set_index("service_id")["name"] if len(frame) else pd.Series(dtype=object)
    # Biggest first (capacity, question 16), so the tooltip names the services that reach most families.
    top = in_view.assign(name=in_view["service_id"].map(names), cap=in_view["service_id"].map(cap).fillna(-1))
    top = top.sort_values(["ward_code", "cap", "name"], ascending=[True, False, True])
    top_names = top.groupby("ward_code")["name"].agg(lambda s: ", ".join(s.head(3)) + (
        f" and {len(s) - 3} more" if len(s) > 3 else ""))
    local = codes.map(top_names)
    extra = f"{len(whole_ids)} whole-area service{'s' if len(whole_ids) != 1 else ''}" if whole_ids else ""
    w["top_services"] = [("; ".join(p for p in (t if isinstance(t, str) else "", extra) if p)) or "None"
                         for t in local]
    lead = ["ward_code", "ward_name", "locality", "services", "services_named", "services_whole_la",
            "services_per_1000_under5", "capacity_per_1000_under5", "services_with_capacity", "nearest_site_km",
            "nearest_site", "distance_from", "beyond_km", "top_services"]
    need_cols = [c for c in _meta["indicator"] if c in w.columns]
    geo_cols = ["area_km2", "point_lon", "point_lat", "population_points"]
    return w[lead + need_cols + geo_cols].reset_index(drop=True)


def coverage_report(store: Store, frame: pd.DataFrame) -> pd.DataFrame:
    """The coverage table for the services in `frame`, every input read fresh from the store
    (the whole analysis, as `python -m hubdash bench` times it)."""
    return coverage_table(store, frame)


def measures(cov: pd.DataFrame, meta: pd.DataFrame) -> list[Measure]:
    """What the map can show here: provision measures with data, then every needs indicator."""
    out = [Measure("services", PROVISION["services"][0], "services", "provision")]
    for code in ("services_per_1000_under5", "capacity_per_1000_under5"):
        if code in cov and cov[code].notna().any():
            out.append(Measure(code, PROVISION[code][0], "per 1,000", "provision"))
    for r in meta.itertuples(index=False):
        if r.indicator in cov:
            out.append(Measure(r.indicator, r.label, r.unit or "", "need", bool(r.higher_is_more_need)))
    return out


def tertile(values: pd.Series) -> pd.Series:
    """1 (lowest third) to 3 (highest third) by rank; ties share a class; missing stays NA."""
    r = values.rank(pct=True, method="average")
    cls = 1 + (r > 1 / 3).astype(int) + (r > 2 / 3).astype(int)
    return cls.where(values.notna()).astype("Int64")


def bivariate_classes(cov: pd.DataFrame, *, need: str, provision: str, higher_is_more_need: bool = True) -> pd.DataFrame:
    """Need and provision tertiles per ward, the 3×3 class label and the priority flag.

    Returns ward_code, need_class, provision_class (1 low .. 3 high), bivariate ("High need, low
    provision" ...) and priority (high need and low provision: where to look first).
    """
    nv = cov[need] if higher_is_more_need else -cov[need]
    n_cls, p_cls = tertile(nv), tertile(cov[provision])
    label = [f"{LEVEL_WORDS[int(a)]} need, {LEVEL_WORDS[int(b)].lower()} provision"
             if pd.notna(a) and pd.notna(b) else "No data" for a, b in zip(n_cls, p_cls, strict=True)]
    return pd.DataFrame({"ward_code": cov["ward_code"], "need_class": n_cls, "provision_class": p_cls,
                         "bivariate": label, "priority": (n_cls == 3).fillna(False) & (p_cls == 1).fillna(False)})


def provision_for_bivariate(cov: pd.DataFrame) -> str:
    """Services per 1,000 children 0-4 when population is known, else the count of services."""
    return "services_per_1000_under5" if cov["services_per_1000_under5"].notna().any() else "services"


# --- summaries for the page ---------------------------------------------------------------------


def _names(df: pd.DataFrame, n: int = 5) -> str:
    names = df["ward_name"].tolist()
    return ", ".join(names[:n]) + (f" and {len(names) - n} more" if len(names) > n else "")


def findings(cov: pd.DataFrame, *, max_km: float | None = None, bivariate: pd.DataFrame | None = None) -> list[str]:
    """Plain-English findings (each names the wards behind it)."""
    out = []
    n = len(cov)
    none = cov[cov["services"] == 0]
    if len(none):
        out.append(f"{len(none)} of {n} wards have no service covering them: {_names(none)}.")
    else:
        out.append(f"Every one of the {n} wards has at least one service covering it.")
    if max_km is not None and cov["nearest_site_km"].notna().any():
        far = cov[cov["beyond_km"].astype(bool)].sort_values("nearest_site_km", ascending=False)
        out.append(("No ward is" if not len(far) else "1 ward is" if len(far) == 1 else f"{len(far)} wards are")
                   + f" more than {max_km:g} km from the nearest place offering these services"
                   + (f": {_names(far)}." if len(far) else "."))
    if bivariate is not None:
        pr = cov[cov["ward_code"].isin(bivariate.loc[bivariate["priority"], "ward_code"])]
        if len(pr):
            out.append(("1 ward combines" if len(pr) == 1 else f"{len(pr)} wards combine")
                       + f" high need with low provision: {_names(pr)}.")
    return out


def ward_labels(cov: pd.DataFrame) -> pd.Series:
    """Ward names for tables and pickers, with the code added where a name repeats (England has
    many an 'Abbey'), so every label points at one ward."""
    dup = cov["ward_name"].duplicated(keep=False)
    return cov["ward_name"].where(~dup, cov["ward_name"] + " (" + cov["ward_code"] + ")")


def ward_table(cov: pd.DataFrame, meta: pd.DataFrame, *, measure: str, bivariate: pd.DataFrame | None = None
               ) -> pd.DataFrame:
    """The table beside the map: the ward and at most four short columns, so it reads at a glance.

    Provision views: services, per 1,000 children 0-4 (or capacity), km to the nearest site.
    A needs view adds that indicator first. The bivariate view: need and provision levels
    (Low / Medium / High) and the provision figure they come from.
    """
    labels = dict(zip(meta["indicator"], meta["label"], strict=True))
    has_pop = bool(cov["services_per_1000_under5"].notna().any())
    t = pd.DataFrame({"Ward": ward_labels(cov).to_numpy()})
    if bivariate is not None:
        words = {1: "Low", 2: "Medium", 3: "High"}
        t["Need"] = [words.get(int(v), "") if pd.notna(v) else "No data" for v in bivariate["need_class"]]
        t["Provision"] = [words.get(int(v), "") if pd.notna(v) else "No data" for v in bivariate["provision_class"]]
        if has_pop:
            t["Per 1,000 aged 0-4"] = cov["services_per_1000_under5"].round(1).to_numpy()
        else:
            t["Services"] = cov["services"].to_numpy()
        return t
    if measure in labels and measure in cov:
        t[labels[measure]] = cov[measure].to_numpy()
    t["Services"] = cov["services"].to_numpy()
    if measure == "capacity_per_1000_under5":
        t["Capacity per 1,000"] = cov["capacity_per_1000_under5"].round(0).to_numpy()
    elif has_pop:
        t["Per 1,000 aged 0-4"] = cov["services_per_1000_under5"].round(1).to_numpy()
    if measure not in labels:
        t["Km to site"] = cov["nearest_site_km"].round(1).to_numpy()
    return t


# --- ward detail -----------------------------------------------------------------------------------


@dataclass
class WardDetail:
    """Everything about one ward: its figures, needs (ranked), and the services covering it."""

    code: str
    name: str
    row: pd.Series
    needs: pd.DataFrame
    services: pd.DataFrame
    by_area_level: pd.DataFrame


def services_covering(frame: pd.DataFrame, links: pd.DataFrame, ward_code: str) -> pd.DataFrame:
    """The services in `frame` covering one ward (whole-authority services and those naming it)."""
    named = set(links.loc[links["ward_code"] == ward_code, "service_id"])
    mask = frame["whole_la"].astype(bool) | frame["service_id"].isin(named)
    return frame[mask.to_numpy()]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def ward_needs(cov: pd.DataFrame, meta: pd.DataFrame, ward_code: str) -> pd.DataFrame:
    """One row per needs indicator for a ward: value, all-ward median and its rank (1 = most need)."""
    rows = []
    i = cov.index[cov["ward_code"] == ward_code]
    if len(i) == 0:
        return pd.DataFrame(columns=["Indicator", "Value", "Unit", "Median of all wards", "Rank", "Period", "Source"])
    i = i[0]
    for m in meta.itertuples(index=False):
        col = cov[m.indicator]
        v = col.loc[i]
        ranked = (col if m.higher_is_more_need else -col).rank(ascending=False, method="min")
        rank = f"{_ordinal(int(ranked.loc[i]))} of {int(col.notna().sum())}" if pd.notna(v) else "No figure"
        rows.append({"Indicator": m.label, "Value": None if pd.isna(v) else float(v), "Unit": m.unit or "",
                     "Median of all wards": float(col.median()) if col.notna().any() else None,
                     "Rank": rank, "Period": m.period, "Source": m.source})
    return pd.DataFrame(rows)


def area_level_table(services: pd.DataFrame) -> pd.DataFrame:
    """Services by service area (rows) and target level (columns), with totals; a service in two
    areas counts in both rows, so rows can add up to more than the total."""
    levels = list(schema.LEVEL_SHORT)
    area_codes = [o.code for o in schema.SERVICE_AREAS_ALL]
    if services.empty:
        return pd.DataFrame({"Service area": [schema.area_label(a) for a in area_codes],
                             **{schema.LEVEL_SHORT[lv]: 0 for lv in levels}, "All levels": 0})
    long = services[["service_id", "service_areas", "target_level"]].explode("service_areas")
    long["service_areas"] = long["service_areas"].fillna("none")
    long["target_level"] = long["target_level"].fillna("none")
    t = pd.crosstab(long["service_areas"], long["target_level"])
    t = t.reindex(index=area_codes + (["none"] if "none" in t.index else []),
                  columns=levels + (["none"] if "none" in t.columns else []), fill_value=0)
    totals = long.groupby("service_areas")["service_id"].nunique().reindex(t.index, fill_value=0)
    t.columns = [schema.LEVEL_SHORT.get(c, "Level not given") for c in t.columns]
    t["All levels"] = totals.to_numpy()
    t.index = [schema.area_label(a) if a != "none" else "Area not given" for a in t.index]
    return t.rename_axis("Service area").reset_index()


def class_words(cls: pd.Series) -> str:
    """'High / low' from a row of `bivariate_classes` (need / provision), or 'No data'."""
    if pd.isna(cls["need_class"]) or pd.isna(cls["provision_class"]):
        return "No data"
    return f"{LEVEL_WORDS[int(cls['need_class'])]} / {LEVEL_WORDS[int(cls['provision_class'])].lower()}"


def needs_sources(needs: pd.DataFrame) -> str:
    """'Census 2021 (2021); ...': the distinct sources and periods behind a ward's needs table."""
    pairs = dict.fromkeys(f"{s} ({p})" if p else str(s) for s, p in zip(needs["Source"], needs["Period"], strict=True))
    return "; ".join(pairs) + "."


def ward_detail(cov: pd.DataFrame, meta: pd.DataFrame, frame: pd.DataFrame, links: pd.DataFrame,
                ward_code: str) -> WardDetail:
    """The detail view for one ward (`frame` = services in view, `links` = `named_links`)."""
    row = cov.loc[cov["ward_code"] == ward_code]
    if row.empty:
        raise KeyError(ward_code)
    row = row.iloc[0]
    svc = services_covering(frame, links, ward_code)
    return WardDetail(code=ward_code, name=str(row["ward_name"]), row=row, needs=ward_needs(cov, meta, ward_code),
                      services=svc, by_area_level=area_level_table(svc))


# --- command line rows ---------------------------------------------------------------------------


def coverage_rows(store: Store, *, area: str | None = None, max_km: float | None = None) -> list[dict]:
    """The coverage table as plain rows for the CLI (NaN as None, booleans kept)."""
    frame = filter_frame(service_frame(store), Filters(area=area))
    cov = coverage_table(store, frame, max_km=max_km)
    cov = cov.drop(columns=["point_lon", "point_lat", "population_points"])
    if max_km is None:
        cov = cov.drop(columns=["beyond_km"])
    out = []
    for rec in cov.to_dict(orient="records"):
        out.append({k: (None if isinstance(v, float) and np.isnan(v) else
                        int(v) if isinstance(v, np.integer) else
                        float(v) if isinstance(v, np.floating) else
                        bool(v) if isinstance(v, np.bool_) else v) for k, v in rec.items()})
    return out


# --- tables for display and export -------------------------------------------------------------------


def fmt(value: object, pattern: str = "{:,.1f}", missing: str = "No figure") -> str:
    """A number formatted for a metric, or `missing` when it is blank."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return missing
    return pattern.format(value)


def distance_table(cov: pd.DataFrame) -> pd.DataFrame:
    """Wards by distance to the nearest place offering the services in view, furthest first."""
    t = cov[["ward_name", "ward_code", "nearest_site_km", "nearest_site", "distance_from", "beyond_km", "services"]]
    return t.sort_values("nearest_site_km", ascending=False).rename(columns={
        "ward_name": "Ward", "ward_code": "Code", "nearest_site_km": "Distance (km)", "nearest_site": "Nearest site",
        "distance_from": "Measured from", "beyond_km": "Beyond your limit", "services": "Services covering"})


def export_table(cov: pd.DataFrame, meta: pd.DataFrame) -> pd.DataFrame:
    """The coverage table with plain headings, for CSV export (needs indicators by their labels)."""
    labels = dict(zip(meta["indicator"], meta["label"], strict=True))
    out = cov.drop(columns=["point_lon", "point_lat", "population_points", "area_km2"])
    return out.rename(columns={c: labels.get(c, c) for c in out.columns})


def gap_table(grid: pd.DataFrame) -> pd.DataFrame:
    """A ward's gap grid as a readable table: outcome, age group, services (all levels)."""
    g = grid.groupby(["outcome", "age_group"], sort=False)["service_ids"].agg(
        lambda s: sorted({i for ids in s for i in ids})).reset_index()
    return pd.DataFrame({"Outcome": g["outcome"].map(lambda c: schema.label("primary_outcome", c)),
                         "Age group": g["age_group"].map(lambda c: schema.label("age_groups", c)),
                         "Services": g["service_ids"].map(len)})
