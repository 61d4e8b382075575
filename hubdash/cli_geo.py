"""`python -m hubdash coverage | load-wards | load-needs | load-population | load-postcodes |
lookup-postcodes | load-sites`: geographic coverage and the geography behind it, from a script."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hubdash.cli import add_area, add_db, add_format, emit, open_db


def _print_lines(lines: list[str]) -> None:
    for line in lines:
        print(line)


def _print_table(title: str, df) -> None:  # noqa: ANN001 - a DataFrame
    if df is not None and len(df):
        print(f"\n{title}:", file=sys.stderr)
        print(df.to_string(index=False), file=sys.stderr)


def _cmd_coverage(args: argparse.Namespace) -> int:
    from hubdash.coverage import coverage_rows

    with open_db(args) as store:
        rows = coverage_rows(store, area=args.area, max_km=args.max_km)
    if not rows:
        print("No wards are loaded: run `python -m hubdash load-wards FILE` first.", file=sys.stderr)
        return 1
    emit(rows, args.format)
    return 0


def _cmd_load_wards(args: argparse.Namespace) -> int:
    from hubdash.geoload import load_boundaries

    with open_db(args, demo_if_missing=False) as store:
        rep = load_boundaries(store, args.file, code_field=args.code_field, name_field=args.name_field,
                              locality_field=args.locality_field, repair=not args.no_repair)
    _print_lines(rep.lines() + [f"Display copy: {rep.display_bytes / 1e6:.1f} MB at {rep.display_tolerance:g}° "
                                f"tolerance; took {rep.seconds:.1f} s."])
    return 0


def _cmd_load_needs(args: argparse.Namespace) -> int:
    from hubdash import geoload

    with open_db(args, demo_if_missing=False) as store:
        if args.derive == "table":
            rep = geoload.load_needs(store, args.file, period=args.period, source_label=args.source,
                                     ward_field=args.ward_field, strict=args.strict)
        else:
            if args.derive == "census-age":
                df = geoload.derive_children(args.file, max_age=args.max_age)
            elif args.derive == "census-ethnicity":
                df = geoload.derive_minority_ethnic(args.file)
            else:
                df = geoload.derive_imd(args.file, lookup=args.lookup, ward_field=args.lookup_ward_field,
                                        weight_field=args.weight_field)
            rep = geoload.load_needs(store, df, source_label=args.source or Path(args.file).name, period=args.period,
                                     strict=args.strict)
    _print_lines(rep.lines())
    _print_table("Ward keys that matched no ward (not loaded)", rep.unmatched)
    _print_table("Values that were not numbers (not loaded)", rep.not_numbers)
    return 0


def _cmd_load_population(args: argparse.Namespace) -> int:
    from hubdash import geoload

    with open_db(args, demo_if_missing=False) as store:
        if args.population:
            pts = geoload.population_points_from_areas(args.file, args.population, code_field=args.code_field,
                                                       population_field=args.population_field)
        else:
            pts = geoload.read_population_points(args.file)
        got = geoload.load_population_points(store, pts, source=Path(args.file).name)
    print(f"Loaded {got['points']:,} population points; {got['in_wards']:,} fall inside a ward.")
    return 0


def _cmd_load_postcodes(args: argparse.Namespace) -> int:
    from hubdash import geoload

    with open_db(args, demo_if_missing=False) as store:
        rep = geoload.load_postcode_lookup(store, args.file)
        placed = geoload.place_sites_from_postcodes(store)
    _print_lines(rep.lines() + ([f"Placed {placed} site(s) from their postcodes."] if placed else []))
    return 0


def _cmd_lookup_postcodes(args: argparse.Namespace) -> int:
    from hubdash import geoload

    with open_db(args, demo_if_missing=False) as store:
        found, missing = geoload.place_postcodes_online(store, timeout=args.timeout)
    print(f"Found {found} postcode(s) online." + (f" Not found: {', '.join(missing)}" if missing else ""))
    return 0


def _cmd_load_sites(args: argparse.Namespace) -> int:
    from hubdash.geoload import load_sites

    with open_db(args, demo_if_missing=False) as store:
        rep = load_sites(store, args.file, replace=not args.append)
    _print_lines(rep.lines())
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("coverage", help="one row per ward: services covering it, rates per 1,000 children 0-4, "
                                        "needs, distance to the nearest site")
    add_db(p)
    add_area(p)
    add_format(p)
    p.add_argument("--max-km", type=float, default=None, help="add beyond_km: nearest site further than this")
    p.set_defaults(func=_cmd_coverage)

    p = sub.add_parser("load-wards", help="replace the wards with a GeoJSON, GeoPackage or zipped Shapefile")
    p.add_argument("file", type=Path)
    add_db(p)
    p.add_argument("--code-field", default=None, help="field holding the area code (default: guessed, e.g. WD23CD)")
    p.add_argument("--name-field", default=None, help="field holding the area name (default: guessed, e.g. WD23NM)")
    p.add_argument("--locality-field", default=None, help="optional grouping field, e.g. LAD23NM")
    p.add_argument("--no-repair", action="store_true", help="refuse invalid geometry instead of repairing it")
    p.set_defaults(func=_cmd_load_wards)

    p = sub.add_parser("load-needs", help="load population needs per ward (CSV/XLSX, long or wide)")
    p.add_argument("file", type=Path)
    add_db(p)
    p.add_argument("--derive", choices=["table", "census-age", "census-ethnicity", "imd"], default="table",
                   help="table: a needs table; census-age: children 0-4 from single year of age; census-ethnicity: "
                        "%% minority ethnic; imd: mean LSOA IMD score per ward")
    p.add_argument("--period", default=None, help="period for rows without one, e.g. 2021")
    p.add_argument("--source", default=None, help="source for rows without one")
    p.add_argument("--ward-field", default=None, help="column holding ward codes or names (default: guessed)")
    p.add_argument("--strict", action="store_true", help="refuse the file if any ward key matches no ward")
    p.add_argument("--lookup", type=Path, default=None, help="imd: LSOA-to-ward lookup CSV")
    p.add_argument("--lookup-ward-field", default=None, help="imd: ward code column to group by (e.g. wd23cd_bestfit)")
    p.add_argument("--weight-field", default=None, help="imd: population column to weight the mean by")
    p.add_argument("--max-age", type=int, default=4, help="census-age: oldest age counted (default 4)")
    p.set_defaults(func=_cmd_load_needs)

    p = sub.add_parser("load-population", help="population points for population-weighted ward centres")
    p.add_argument("file", type=Path, help="points CSV (lat/lon or easting/northing, population), or small-area "
                                            "boundaries with --population")
    add_db(p)
    p.add_argument("--population", type=Path, default=None, help="population table keyed by the areas' code")
    p.add_argument("--code-field", default=None, help="area code field of the boundaries")
    p.add_argument("--population-field", default=None, help="population column (default: 0-15 if present, else total)")
    p.set_defaults(func=_cmd_load_population)

    p = sub.add_parser("load-postcodes", help="load a postcode lookup (ONS Postcode Directory extract)")
    p.add_argument("file", type=Path)
    add_db(p)
    p.set_defaults(func=_cmd_load_postcodes)

    p = sub.add_parser("lookup-postcodes", help="look up unplaced survey and site postcodes on postcodes.io (online)")
    add_db(p)
    p.add_argument("--timeout", type=float, default=4.0, help="seconds to wait for the service")
    p.set_defaults(func=_cmd_lookup_postcodes)

    p = sub.add_parser("load-sites", help="load family hubs and delivery sites (name, kind, postcode, lat/lon)")
    p.add_argument("file", type=Path)
    add_db(p)
    p.add_argument("--append", action="store_true", help="add to the current sites instead of replacing them")
    p.set_defaults(func=_cmd_load_sites)
