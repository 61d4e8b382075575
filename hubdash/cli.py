"""`python -m hubdash ...`: every number on screen, reproducible from a script.

Each feature module that adds commands exposes `register(subparsers)`, which adds its parsers
with `set_defaults(func=handler)`; handlers take the parsed args and return an exit code. Add a
module to `COMMAND_MODULES` to plug its commands in.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import io
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hubdash import schema
from hubdash.errors import HubdashError

#: Modules that contribute subcommands (each has `register(subparsers)`).
COMMAND_MODULES: list[str] = [
    "hubdash.cli",
    "hubdash.backup",
    "hubdash.auth",
    "hubdash.cli_bench",
    "hubdash.cli_quality",
    "hubdash.cli_export",
    "hubdash.cli_redie",
    "hubdash.cli_ingest",
    "hubdash.cli_geo",
]

AREA_CODES = [o.code for o in schema.SERVICE_AREAS]


def add_db(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", type=Path, default=None,
                   help="database file (default: $HUBDASH_DB or data/hubdash.duckdb)")


def add_area(p: argparse.ArgumentParser) -> None:
    p.add_argument("--area", choices=AREA_CODES, default=None, help="one Start for Life service area")


def add_format(p: argparse.ArgumentParser, default: str = "csv") -> None:
    p.add_argument("--format", choices=["csv", "json"], default=default)


def open_db(args: argparse.Namespace, *, demo_if_missing: bool = True):  # noqa: ANN201
    from hubdash.store import open_store

    return open_store(args.db, build_demo_if_missing=demo_if_missing)


def emit(rows: list[dict[str, Any]] | Any, fmt: str, *, out: io.TextIOBase | None = None) -> None:
    """Print rows as JSON, or as CSV (lists joined with '; ', formula-like text neutralised)."""
    out = out or sys.stdout
    if fmt == "json":
        json.dump(rows, out, ensure_ascii=False, indent=2, default=str)
        out.write("\n")
        return
    from hubdash.safety import csv_safe

    if not rows:
        return
    fields = list(rows[0].keys())
    w = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: csv_safe("; ".join(map(str, v)) if isinstance(v, list | tuple) else v)
                    for k, v in r.items()})


# --- core commands -------------------------------------------------------------------------


def _cmd_demo(args: argparse.Namespace) -> int:
    from hubdash.demo import build_demo
    from hubdash.store import Store, default_db_path

    with Store(args.db or default_db_path()) as store:
        counts = build_demo(store)
    print("Built the fictional demo borough: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    return 0


def _cmd_gapmap(args: argparse.Namespace) -> int:
    from hubdash.gapmap import gap_rows

    with open_db(args) as store:
        rows = gap_rows(store, area=args.area, include_secondary=args.secondary)
    emit(rows, args.format)
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    with open_db(args) as store:
        info = {"db": store.path, "schema_version": store.schema_version(), "data_version": store.data_version(),
                "demo": store.is_demo(), **store.counts()}
    emit(info, "json")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    import os

    from hubdash.ui import serve

    if args.db:
        os.environ["HUBDASH_DB"] = str(args.db.resolve())
    return serve(args.extra)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="start the dashboard (extra options go to streamlit, e.g. --server.port 8502)")
    add_db(p)
    p.set_defaults(func=_cmd_serve)

    p = sub.add_parser("demo", help="(re)build the fictional demo database")
    add_db(p)
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("gapmap", help="the gap map as rows (outcome x age group, by level and kind)")
    add_db(p)
    add_area(p)
    add_format(p)
    p.add_argument("--secondary", action="store_true", help="also count services in their other outcomes")
    p.set_defaults(func=_cmd_gapmap)

    p = sub.add_parser("info", help="what the database holds")
    add_db(p)
    p.set_defaults(func=_cmd_info)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m hubdash", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "serve":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    try:
        return int(args.func(args) or 0)
    except HubdashError as e:
        print(f"error: {e.one_line()}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head`: not an error
        sys.stderr.close()
        return 0
