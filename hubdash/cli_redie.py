"""`python -m hubdash redie`: services designed or adapted for each group, as rows.

One row per group of survey question 21, labelled exactly as in the survey. "None - not
specifically adapted" counts for no group, so it has no row; how many services answered only
None, or left the question blank, is printed to stderr so a script's output stays clean rows.
"""

from __future__ import annotations

import argparse
import sys

from hubdash import schema
from hubdash.cli import add_area, add_db, add_format, emit, open_db
from hubdash.schema import Filters


def _cmd_redie(args: argparse.Namespace) -> int:
    from hubdash.redie import answer_summary, redie_rows
    from hubdash.services import filter_frame, service_frame

    filters = Filters(area=args.area, level=args.level, kind=args.kind)
    with open_db(args) as store:
        frame = service_frame(store)
    rows = redie_rows(frame, filters=filters)
    emit(rows, args.format)
    a = answer_summary(filter_frame(frame, filters))
    print(f"{a.total} services ({filters.describe()}): {a.adapted} adapted for at least one group, "
          f"{a.none_only} answered only 'None - not specifically adapted', {a.not_answered} left question 21 "
          "blank. A service adapted for several groups counts in each.", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "redie", help="services designed or adapted for each group (question 21), by service area and level",
        description="One row per group (question 21 label): 'services' (distinct services adapted for it), one "
                    "count per service area code, one per target level code, and the service ids.")
    add_db(p)
    add_area(p)
    p.add_argument("--level", choices=list(schema.LEVEL_SHORT), default=None, help="one target level")
    p.add_argument("--kind", choices=["service", "intervention"], default=None,
                   help="services only or interventions only")
    add_format(p)
    p.set_defaults(func=_cmd_redie)
