"""Synthetic databases for scale tests: N services across W wards, deterministic from a seed.

The services are shaped like the demo borough's catalogue (`hubdash.demo.CATALOGUE`): the same
mix of kinds, sectors, outcomes, age spans, target levels and REDIE answers, with names,
organisations, wards, ages and about 9% missing answers varied per copy, so every analysis does
realistic work. Wards are either generated (Voronoi cells over an invented rectangle, named from
syllables) or read from a real boundary file such as England's 7,681 wards of 2013
(`../shared/data/england_wards_2013.geojson`, fields WD13CD, WD13NM, LAD13CD).

Nothing here is real: every generated database is labelled synthetic in its metadata, and the
people in it are "Example" contacts at example.org.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPoint, Point, box
from shapely.geometry.base import BaseGeometry

from hubdash import schema
from hubdash.demo import CATALOGUE, _ages
from hubdash.services import delete_services, insert_frame, insert_services
from hubdash.store import Store, ident

SEED = 8080
SYNTH_LABEL = "Synthetic test data: generated for benchmarks. No real services or people."

#: name -> (services, wards). National uses the real English wards when the file is present.
SIZES: dict[str, tuple[int, int]] = {
    "small": (200, 20),
    "county": (2_000, 500),
    "national": (20_000, 7_681),
}
#: Generated wards stand in for the real national file when it is absent.
NATIONAL_FALLBACK_WARDS = 7_000
#: Above this many wards a database spans many authorities (no real one has 1,000 wards).
WHOLE_LA_MAX_WARDS = 1_000
ENGLAND_WARDS = Path(__file__).resolve().parents[2] / "shared" / "data" / "england_wards_2013.geojson"

_PREFIX = ["Ash", "Bram", "Cal", "Dun", "Elm", "Fair", "Glen", "Hart", "Ivy", "King", "Lang", "Marsh", "Nor",
           "Oak", "Pen", "Queen", "Ros", "Stan", "Thorn", "Up", "Wal", "Wick", "Yar", "Brook", "Cross"]
_SUFFIX = ["field", "ton", "moor", "bridge", "ley", "wood", "ham", "gate", "well", "bury", "dale", "hill",
           "stead", "worth", "ford", "side"]
_QUAL = ["", " North", " South", " East", " West", " Central", " Park", " Green", " Vale", " Village"]
_ORG_PLACES = ["Riverside", "Hillcrest", "Meadow", "Harbour", "Castle", "Forest", "Valley", "Bay", "Moor", "Chapel"]
_FIRST = ["Sam", "Priya", "Jo", "Aisha", "Tom", "Kasia", "Lee", "Mo", "Ruth", "Dev", "Ana", "Ifeoma"]
_OPTIONAL = ["organisation", "sector", "format", "delivery_modes", "secondary_outcomes", "eligibility",
             "postcodes", "workforce", "capacity", "families_supported", "annual_cost", "funding",
             "evidence", "groups", "languages", "interpreter"]


@dataclass(frozen=True)
class Ward:
    """One ward: code, name, locality (local authority or district) and lon/lat polygon."""

    code: str
    name: str
    locality: str
    geometry: BaseGeometry


# --- wards ----------------------------------------------------------------------------------------


def _ward_names(n: int, rng: np.random.Generator) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n:
        base = f"{_PREFIX[rng.integers(len(_PREFIX))]}{_SUFFIX[rng.integers(len(_SUFFIX))]}"
        name = base + _QUAL[rng.integers(len(_QUAL))]
        if name in seen:
            name = f"{name} {len(names) + 1}"  # still unique: the number is the ward's position
        seen.add(name)
        names.append(name)
    return names


def generated_wards(n: int, *, seed: int = SEED) -> list[Ward]:
    """`n` Voronoi wards over an invented area (about 2 km² each), grouped into localities of ~25.

    Seeds lie on a jittered grid, so cells have realistic, similar sizes; wards are numbered
    row by row from the north-west, and localities are blocks of neighbouring wards.
    """
    rng = np.random.default_rng(seed)
    cols = max(1, math.ceil(math.sqrt(n * 1.4)))
    rows = math.ceil(n / cols)
    step = 0.02  # degrees: ~1.3 km east-west, ~2.2 km north-south at this latitude
    x0, y0 = -1.5, 52.0
    pts = []
    for i in range(n):
        r, c = divmod(i, cols)
        pts.append(Point(x0 + (c + 0.5 + rng.uniform(-0.3, 0.3)) * step,
                         y0 + (rows - r - 0.5 + rng.uniform(-0.3, 0.3)) * step))
    frame = box(x0, y0, x0 + cols * step, y0 + rows * step)
    cells = shapely.voronoi_polygons(MultiPoint(pts), extend_to=frame)
    # voronoi_polygons returns cells in no particular order: match each to its seed point.
    tree = shapely.STRtree(list(cells.geoms))
    names = _ward_names(n, rng)
    out = []
    block = max(1, round(math.sqrt(25)))  # localities are ~5 x 5 blocks of wards
    for i, p in enumerate(pts):
        cell = next(cells.geoms[j] for j in tree.query(p) if cells.geoms[j].contains(p))
        r, c = divmod(i, cols)
        loc = f"Synthetic district {(r // block) * math.ceil(cols / block) + c // block + 1:03d}"
        out.append(Ward(f"SYN{i + 1:05d}", names[i], loc, cell.intersection(frame)))
    return out


def real_wards(path: str | Path, *, limit: int | None = None) -> list[Ward]:
    """Wards from a GeoJSON/GeoPackage file with WD..CD / WD..NM fields (e.g. England 2013).

    The local authority code (LAD..CD) becomes the locality, so services cluster within one
    authority as they do in real surveys.
    """
    import geopandas as gpd

    gdf = gpd.read_file(path)
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326)
    code = next(c for c in gdf.columns if c.upper().startswith("WD") and c.upper().endswith("CD"))
    name = next(c for c in gdf.columns if c.upper().startswith("WD") and c.upper().endswith("NM"))
    lad = next((c for c in gdf.columns if c.upper().startswith("LAD") and c.upper().endswith("CD")), None)
    gdf = gdf.sort_values([lad, code] if lad else [code])
    if limit:
        gdf = gdf.head(limit)
    return [Ward(str(r[code]), str(r[name]), str(r[lad]) if lad else "", r.geometry)
            for _, r in gdf.iterrows() if r.geometry is not None and not r.geometry.is_empty]


def wards_for(size: str, *, geojson: str | Path | None = None, seed: int = SEED) -> list[Ward]:
    """The wards for a named size: national reads the real English wards when present."""
    _, n = SIZES[size]
    if size == "national":
        path = Path(geojson) if geojson else ENGLAND_WARDS
        if path.is_file():
            return real_wards(path)
        return generated_wards(NATIONAL_FALLBACK_WARDS, seed=seed)
    return generated_wards(n, seed=seed)


# --- services -------------------------------------------------------------------------------------


def _local_wards(wards: Sequence[Ward]) -> dict[str, list[Ward]]:
    by_loc: dict[str, list[Ward]] = {}
    for w in wards:
        by_loc.setdefault(w.locality, []).append(w)
    return by_loc


def _ward_answer(w: Ward, unique_names: set[str]) -> str:
    # Real returns name wards; where a name is shared by two wards (England has many "Abbey"
    # wards) a careful respondent would give the code, and so do we.
    return w.name if w.name in unique_names else w.code


def synthetic_services(n: int, wards: Sequence[Ward], *, seed: int = SEED) -> list[dict]:
    """`n` service records shaped like the demo catalogue, spread over `wards`.

    Each record picks a catalogue entry, a home locality and 1-8 of its wards (or, for about
    one in eight, the whole local authority), and varies its name, organisation and ages.
    About 9% of optional answers are blank, as in real returns.
    """
    rng = np.random.default_rng(seed + 1)
    by_loc = _local_wards(wards)
    localities = sorted(by_loc)
    counts = pd.Series([w.name for w in wards]).value_counts()
    unique = set(counts[counts == 1].index)
    postcodes = {loc: f"ZZ{i % 99 + 1} {i % 9 + 1}AA" for i, loc in enumerate(localities)}
    ages = [o.code for o in schema.AGE_GROUPS]
    one_authority = len(wards) <= WHOLE_LA_MAX_WARDS
    records: list[dict] = []
    for i in range(n):
        (name, kind, org, sector, areas, fmt, modes, outcome, secondary, age_spec, level, elig, work, ev,
         groups, langs, _) = CATALOGUE[i % len(CATALOGUE)]
        loc = localities[int(rng.integers(len(localities)))]
        local = by_loc[loc]
        place = local[int(rng.integers(len(local)))]
        if rng.random() < 0.12:
            # "Whole local authority" means every ward in the database, so in a national
            # database (many authorities) an authority-wide service lists its authority's wards.
            ward_answers = ([schema.WHOLE_LA] if one_authority
                            else [_ward_answer(w, unique) for w in local])
        else:
            k = min(len(local), int(rng.integers(1, 9)))
            picks = rng.choice(len(local), size=k, replace=False)
            ward_answers = [_ward_answer(local[j], unique) for j in sorted(picks)]
        age_list = [a for spec in age_spec.split(";") for a in _ages(spec)]
        if rng.random() < 0.2 and age_list:  # stretch the age span by a band now and then
            last = ages.index(age_list[-1])
            age_list = age_list + ages[last + 1: last + 2]
        if sector in ("vcs", "other"):
            org = f"{_ORG_PLACES[int(rng.integers(len(_ORG_PLACES)))]} {org.split(' ', 1)[-1]}"
        contact = _FIRST[int(rng.integers(len(_FIRST)))]
        cap = float(int(rng.integers(2, 40)) * 10)
        rec = {
            "name": f"{name} ({place.name})", "kind": kind, "organisation": f"{org} - {loc}",
            "sector": sector, "service_areas": areas.split(";"), "format": fmt,
            "delivery_modes": modes.split(";"), "primary_outcome": outcome,
            "secondary_outcomes": [s for s in secondary.split(";") if s], "age_groups": age_list,
            "target_level": level, "eligibility": elig or None, "wards": ward_answers,
            "postcodes": [postcodes[loc]], "workforce": work.split(";"), "capacity": cap,
            "families_supported": float(int(cap * rng.uniform(0.4, 1.05))),
            "annual_cost": float(int(rng.integers(5, 120)) * 1000),
            "funding": ["nhs_icb"] if sector == "nhs" else ["la_core"] if sector == "la" else ["charitable"],
            "evidence": ev, "groups": groups.split(";") if groups else ["none"],
            "languages": langs.split(";") if langs else [],
            "interpreter": ("yes", "no", "on_request")[int(rng.integers(3))],
            "contact_name": f"{contact} Example", "contact_email": f"{contact.lower()}.{i}@example.org",
            "source_file": "synthetic", "source_row": i + 2,
        }
        for f in _OPTIONAL:
            if rng.random() < 0.09:
                rec[f] = [] if isinstance(rec.get(f), list) else None
        records.append(rec)
    return records


def _needs(wards: Sequence[Ward], *, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed + 2)
    n = len(wards)
    imd = np.clip(rng.gamma(4.0, 6.0, n), 2, 75).round(1)
    pop04 = rng.integers(200, 1100, n)
    values = {
        "pop_0_4": pop04.astype(float),
        "pop_0_19": (pop04 * rng.uniform(3.8, 4.4, n)).round(),
        "births": (pop04 / 5 * rng.uniform(0.9, 1.1, n)).round(),
        "imd_score": imd,
        "imd_decile": np.clip(11 - np.ceil(imd / 6.5), 1, 10),
        "pct_minority_ethnic": np.clip(rng.gamma(1.5, 8.0, n), 0.5, 80).round(1),
        "breastfeeding_6_8wk": np.clip(62 - 0.6 * imd + rng.normal(0, 4, n), 15, 80).round(1),
        "smoking_at_delivery": np.clip(3 + 0.3 * imd + rng.normal(0, 2, n), 1, 30).round(1),
        "children_low_income": np.clip(5 + 0.6 * imd + rng.normal(0, 3, n), 2, 55).round(1),
        "young_parent_births": np.clip(4 + 0.25 * imd + rng.normal(0, 2, n), 1, 25).round(1),
    }
    codes = [w.code for w in wards]
    parts = [pd.DataFrame({"ward_code": codes, "indicator": ind, "value": v.astype(float),
                           "unit": schema.INDICATOR_BY_CODE[ind].unit, "period": "2025",
                           "source": "Synthetic test data"}) for ind, v in values.items()]
    return pd.concat(parts, ignore_index=True)


def build_synthetic(store: Store, *, services: int, wards: Sequence[Ward] | int, seed: int = SEED,
                    label: str | None = None) -> dict[str, int]:
    """Replace the store's contents with a synthetic area; returns row counts.

    Args:
        store: The store to fill (everything in it is replaced).
        services: How many service records to generate.
        wards: The wards, or how many to generate.
        seed: Everything is a pure function of the seed.
        label: The area name shown in the app (default "Synthetic area (N services)").
    """
    from hubdash.geo import ward_rows  # geopandas is heavy: only when building

    ward_list = generated_wards(wards, seed=seed) if isinstance(wards, int) else list(wards)
    records = synthetic_services(services, ward_list, seed=seed)
    table = pd.DataFrame(
        ward_rows([(w.code, w.name, w.locality, w.geometry) for w in ward_list], source="Synthetic test data"),
        columns=["ward_code", "ward_name", "name_key", "locality", "geometry", "geometry_display", "area_km2",
                 "centroid_lon", "centroid_lat", "source"])
    # One family hub per locality and a site for every fifth ward, at the ward's inner point.
    by_loc = _local_wards(ward_list)
    cent = dict(zip(table["ward_code"], zip(table["centroid_lon"], table["centroid_lat"], strict=True),
                    strict=True))
    site_rows = []
    for i, loc in enumerate(sorted(by_loc)):
        w = by_loc[loc][0]
        lon, lat = cent[w.code]
        site_rows.append((f"{loc} Family Hub", "family_hub", f"ZZ{i % 99 + 1} {i % 9 + 1}AA", lat, lon, w.code))
    for j, w in enumerate(ward_list[::5]):
        lon, lat = cent[w.code]
        site_rows.append((f"{w.name} community centre", "site", f"ZY{j % 99 + 1} {j % 9 + 1}BB", lat, lon, w.code))
    sites = pd.DataFrame(site_rows, columns=["name", "kind", "postcode", "lat", "lon", "ward_code"])
    sites["source"] = "Synthetic test data"
    orgs = sorted({r["organisation"] for r in records if r.get("organisation")})
    sector_of: dict[str, str] = {}
    areas_of: dict[str, set[str]] = {o: set() for o in orgs}
    for r in records:
        if r.get("organisation"):
            sector_of.setdefault(r["organisation"], r.get("sector") or "other")
            areas_of[r["organisation"]] |= {a for a in r["service_areas"] if a != "other"}
    for o, areas in areas_of.items():
        if not areas:  # the contacted list names a Start for Life area for every agency, as the demo's does
            areas.add("parenting")
    rng = np.random.default_rng(seed + 3)
    with store.write() as cur:
        for t in ("needs", "sites", "postcode_lookup", "agency_areas", "agencies", "wards"):
            cur.execute("DELETE FROM " + ident(t))
        delete_services(cur, [r[0] for r in cur.execute("SELECT service_id FROM services").fetchall()])
        cur.execute("DELETE FROM imports")
        insert_frame(cur, "wards", table)
        insert_frame(cur, "needs", _needs(ward_list, seed=seed))
        insert_frame(cur, "sites", sites)
        insert_frame(cur, "postcode_lookup",
                      sites.drop_duplicates("postcode")[["postcode", "lat", "lon"]].reset_index(drop=True))
        insert_services(cur, records)
        agencies = pd.DataFrame({"agency_id": range(1, len(orgs) + 1), "organisation": orgs,
                                 "sector": [sector_of.get(o) for o in orgs],
                                 "responded": rng.random(len(orgs)) < 0.8})
        insert_frame(cur, "agencies", agencies)
        insert_frame(cur, "agency_areas", pd.DataFrame(
            [(i, a) for i, o in enumerate(orgs, start=1) for a in sorted(areas_of[o])], columns=["agency_id", "area"]))
        for k, v in (("demo", "0"), ("synthetic", "1"),
                     ("la_name", label or f"Synthetic area ({services:,} services)"), ("data_date", "2025-10-15")):
            cur.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [k, v])
    store.checkpoint()
    return store.counts()


def build_size(store: Store, size: str, *, geojson: str | Path | None = None, seed: int = SEED) -> dict[str, int]:
    """Fill `store` with one of the named sizes in `SIZES`."""
    n_services, _ = SIZES[size]
    wards = wards_for(size, geojson=geojson, seed=seed)
    return build_synthetic(store, services=n_services, wards=wards, seed=seed,
                           label=f"Synthetic {size} area ({n_services:,} services, {len(wards):,} wards)")


# --- survey export ---------------------------------------------------------------------------------


def export_rows(records: Sequence[dict]) -> tuple[list[str], list[list[object]]]:
    """(headers, rows) of a survey export: question texts as headers, answers as survey labels.

    Multi-select answers are joined with "; " as online-form exports do; numbers stay numbers.
    """
    headers = [q.text for q in schema.QUESTIONS]
    rows = []
    for r in records:
        row: list[object] = []
        for q in schema.QUESTIONS:
            v = r.get(q.code)
            if q.kind == "single":
                row.append(q.label_of(v) if v else "")
            elif q.kind == "multi":
                row.append("; ".join(q.label_of(c) for c in (v or [])))
            elif q.is_multi:
                row.append("; ".join(str(x) for x in (v or [])))
            elif q.kind == "number":
                if v is None:
                    row.append("")
                elif isinstance(v, int | float):
                    row.append(int(v) if float(v).is_integer() else v)
                else:  # text where a number belongs, as real returns have ("about 40")
                    row.append(v)
            else:
                row.append("" if v is None else v)
        rows.append(row)
    return headers, rows


def write_export(path: str | Path, records: Sequence[dict]) -> Path:
    """Write `records` as a survey export CSV (UTF-8) in the canonical layout; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    headers, rows = export_rows(records)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(headers)
        w.writerows(rows)
    return path


def export_for(n: int, wards: Sequence[Ward] | int, path: str | Path, *, seed: int = SEED) -> Path:
    """An export file of `n` synthetic survey returns naming `wards` (or `wards` generated ones)."""
    ward_list = generated_wards(wards, seed=seed) if isinstance(wards, int) else list(wards)
    return write_export(path, synthetic_services(n, ward_list, seed=seed + 11))
