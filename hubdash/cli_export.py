"""`python -m hubdash export report|slides`: the workshop report and deck from the command line.

    python -m hubdash export report --db data/hubdash.duckdb --out report.pdf   (.html, .pdf, .docx)
    python -m hubdash export slides --db data/hubdash.duckdb --out workshop.pptx --area infant_feeding
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from hubdash.cli import add_area, add_db, open_db
from hubdash.schema import Filters


def _build(args: argparse.Namespace):  # noqa: ANN202
    from hubdash.report import build_report

    with open_db(args) as store:
        return build_report(store, filters=Filters(area=args.area))


def _cmd_report(args: argparse.Namespace) -> int:
    from hubdash.report import FORMATS, ReportError, write_report

    if args.out.suffix.lower().lstrip(".") not in FORMATS:
        raise ReportError(f"{args.out.name}: the report can be written as .html, .pdf or .docx, "
                          f"not '{args.out.suffix or 'no extension'}'.")
    t = time.perf_counter()
    path = write_report(_build(args), args.out)
    print(f"Wrote {path} ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return 0


def _cmd_slides(args: argparse.Namespace) -> int:
    from hubdash.report import ReportError
    from hubdash.slides import write_slides

    if args.out.suffix.lower() != ".pptx":
        raise ReportError(f"{args.out.name}: slides are written as .pptx, not '{args.out.suffix or 'no extension'}'.")
    t = time.perf_counter()
    path = write_slides(_build(args), args.out)
    print(f"Wrote {path} ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="the workshop report (HTML, PDF, Word) or slide deck (PowerPoint)")
    what = p.add_subparsers(dest="what", required=True, metavar="WHAT")

    r = what.add_parser("report", help="the mapping report (template 3): --out FILE.html, .pdf or .docx")
    add_db(r)
    add_area(r)
    r.add_argument("--out", type=Path, required=True, help="output file; the format follows its extension")
    r.set_defaults(func=_cmd_report)

    s = what.add_parser("slides", help="the workshop deck (template 7): --out FILE.pptx")
    add_db(s)
    add_area(s)
    s.add_argument("--out", type=Path, required=True, help="output .pptx file")
    s.set_defaults(func=_cmd_slides)
