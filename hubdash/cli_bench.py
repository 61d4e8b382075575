"""`python -m hubdash bench`: the speed and scale benchmark (the heavy code lives in bench/)."""

from __future__ import annotations

import argparse
from pathlib import Path


def _cmd_bench(args: argparse.Namespace) -> int:
    import sys

    root = Path(__file__).resolve().parent.parent
    if str(root) not in sys.path:  # bench/ sits beside the package, not inside it
        sys.path.insert(0, str(root))
    from bench.run import main as bench_main

    return bench_main(sizes=[s.strip() for s in args.sizes.split(",") if s.strip()], json_path=args.json,
                      browser=not args.no_browser, runs=args.runs, workdir=args.workdir,
                      geojson=args.wards_geojson, rebuild=args.rebuild,
                      profile=args.profile)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="benchmark ingestion, analyses and every page at three sizes")
    p.add_argument("--sizes", default="small,county,national",
                   help="comma-separated: small (200 services, 20 wards), county (2,000, 500), "
                        "national (20,000, England's 7,681 wards)")
    p.add_argument("--json", type=Path, default=None, help="also write the results as JSON to this file")
    p.add_argument("--no-browser", action="store_true", help="skip the real-browser timings (null in JSON)")
    p.add_argument("--runs", type=int, default=5, help="timed runs per measurement (the median is reported)")
    p.add_argument("--workdir", type=Path, default=None,
                   help="where generated databases and exports go (default artifacts/bench)")
    p.add_argument("--wards-geojson", type=Path, default=None,
                   help="real ward boundaries for the national size (default ../shared/data/england_wards_2013.geojson)")
    p.add_argument("--rebuild", action="store_true", help="regenerate the databases even if cached")
    p.add_argument("--profile", action="store_true",
                   help="also write a pyinstrument profile of one rerun of each page (artifacts/bench/profile-*)")
    p.set_defaults(func=_cmd_bench)
