"""Command-line survey ingestion: `ingest`, `imports`, `undo`, `template`, `agencies`.

    python -m hubdash ingest FILE --db PATH [--mapping FILE.json] [--replace|--append] [--dry-run]
    python -m hubdash imports --db PATH
    python -m hubdash undo IMPORT_ID --db PATH
    python -m hubdash template --out FILE.xlsx
    python -m hubdash agencies FILE --db PATH [--dry-run]

The file is read and checked before the database is opened, so a file that cannot be imported
leaves the database untouched (not even created); the reason is one line naming the file, and
the exit code is non-zero.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hubdash.cli import add_db, add_format, emit, open_db
from hubdash.errors import IngestError

#: Problems printed in full before "... and N more" (all go to --problems FILE.csv).
SHOW_PROBLEMS = 15


def _open(args: argparse.Namespace):  # noqa: ANN202
    return open_db(args, demo_if_missing=False)


def _problem_line(r: dict) -> str:
    where = f"row {r['row']}" if r["row"] is not None else "file"
    if r["cell"]:
        where += f", column {r['cell'].rstrip('0123456789')} ({_short(r['column'])})"
    value = f" '{_short(str(r['value']), 50)}'" if r["value"] not in (None, "") else ""
    return f"  {r['severity']:<7} {where}:{value} {r['problem']}. {r['what_to_do']}"


def _short(text: str, n: int = 40) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def write_problems_csv(problems, path: str | Path) -> Path:  # noqa: ANN001
    """The full problems table as CSV, formula-like text neutralised (`safety.csv_safe`)."""
    from hubdash.ingest import problems_csv

    p = Path(path)
    p.write_bytes(problems_csv(problems))
    return p


def suggested_mapping(survey):  # noqa: ANN001, ANN201
    """A mapping file to start from: suggested columns, and unknown answers (suggested option or Other)."""
    from hubdash.ingest import KEEP_OTHER, Mapping

    columns = dict(survey.mapping.columns)
    for c in survey.layout.columns:
        if c.how == "unmatched" and c.suggestion is not None:
            columns[c.header] = c.suggestion.encode()
    values: dict[str, dict[str, str]] = {}
    for r in survey.undecided().itertuples(index=False):
        values.setdefault(r.question, {})[r.answer] = r.suggestion or KEEP_OTHER
    return Mapping(columns, values).merged(Mapping({}, survey.mapping.values))


def _cmd_ingest(args: argparse.Namespace) -> int:
    from hubdash.imports import commit_import, preview_import
    from hubdash.ingest import Mapping, load_survey

    mapping = Mapping.load(args.mapping) if args.mapping else None
    survey = load_survey(args.file, mapping=mapping)  # before the database is opened: a bad file changes nothing
    mode = "replace" if args.replace else "append"
    out = sys.stdout
    print(f"Read {survey.rows_read} rows from {survey.file_name} ({survey.format_label}): "
          f"{survey.rows_accepted} accepted, {survey.rows_rejected} rejected.", file=out)
    counts = survey.counts()
    print(f"Problems: {counts['error']} errors, {counts['warning']} warnings, {counts['info']} notes.", file=out)
    shown = survey.problems[survey.problems["severity"] != "info"]
    for r in shown.head(SHOW_PROBLEMS).to_dict("records"):
        print(_problem_line(r), file=out)
    if len(shown) > SHOW_PROBLEMS:
        print(f"  ... and {len(shown) - SHOW_PROBLEMS} more (write them all with --problems FILE.csv)", file=out)
    if len(survey.undecided()):
        print(f"{len(survey.undecided())} answers are not in the survey's options; they are kept as Other (or as text). "
              "To map them, write a mapping with --save-mapping FILE.json, edit it, and use --mapping.", file=out)
    if args.problems:
        write_problems_csv(survey.problems, args.problems)
        print(f"Wrote every problem to {args.problems}.", file=out)
    if args.save_mapping:
        suggested_mapping(survey).save(args.save_mapping)
        print(f"Wrote a mapping to review to {args.save_mapping}.", file=out)
    from hubdash.store import Store

    # A dry run against a database that does not exist yet must not create it.
    fresh = args.dry_run and args.db is not None and not Path(args.db).exists()
    with (Store(":memory:") if fresh else _open(args)) as store:
        preview = preview_import(store, survey, mode=mode)
        if preview.blocked:
            raise IngestError(preview.blocked, title="Already imported")
        if args.dry_run:
            print(f"Dry run ({mode}): would make {preview.plan.describe()}. Nothing was written.", file=out)
            return 0
        result = commit_import(store, survey, mode=mode, expected=preview.plan)
    db = f" --db {args.db}" if args.db else ""
    print(f"Import {result.import_id} ({mode}): {result.plan.describe()}. "
          f"Undo it with: python -m hubdash undo {result.import_id}{db}", file=out)
    return 0


def _cmd_imports(args: argparse.Namespace) -> int:
    from hubdash.imports import list_imports

    with _open(args) as store:
        df = list_imports(store)
    rows = [{"import_id": int(r.import_id), "file": r.file_name, "format": r.detected_format,
             "imported_at": str(r.imported_at)[:19], "rows_read": int(r.rows_read or 0),
             "accepted": int(r.rows_accepted or 0), "rejected": int(r.rows_rejected or 0), "mode": r.mode,
             "status": r.status, "changes": r.note} for r in df.itertuples(index=False)]
    if not rows and args.format == "csv":
        print("No imports yet.", file=sys.stderr)
        return 0
    emit(rows, args.format)
    return 0


def _cmd_undo(args: argparse.Namespace) -> int:
    from hubdash.imports import undo_import

    with _open(args) as store:
        n = undo_import(store, args.import_id)
        name = store.scalar("SELECT file_name FROM imports WHERE import_id = ?", [args.import_id])
    print(f"Undid import {args.import_id} ({name}): {n} services put back as they were.")
    return 0


def _cmd_template(args: argparse.Namespace) -> int:
    from hubdash.template import write_template

    path = write_template(args.out)
    print(f"Wrote the blank survey template to {path}.")
    return 0


def _cmd_agencies(args: argparse.Namespace) -> int:
    from hubdash.agencies import read_agencies, replace_agencies
    from hubdash.ingest.read import check_size

    p = Path(args.file)
    if not p.is_file():
        raise IngestError(f"Cannot read {p}: no such file.", title="File not found")
    check_size(p.stat().st_size, p.name)
    data = p.read_bytes()
    with _open(args) as store:
        checked = read_agencies(data, p.name, store=store)
        print(f"Read {len(checked.frame)} agencies from {p.name}; {checked.errors} rows not loaded.")
        for r in checked.problems[checked.problems["severity"] != "info"].head(SHOW_PROBLEMS).to_dict("records"):
            print(f"  {r['severity']:<7} row {r['row']}, {r['column']}: {r['problem']}. {r['what_to_do']}")
        if args.dry_run:
            print("Dry run: nothing was written.")
            return 0
        n = replace_agencies(store, checked.frame)
    print(f"Replaced the contacted-agencies list: {n} agencies.")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ingest", help="import a survey export (MS Forms, Google Forms, SmartSurvey, template, Parquet)")
    p.add_argument("file", type=Path, help="the survey export (.xlsx, .csv or .parquet)")
    add_db(p)
    p.add_argument("--mapping", type=Path, default=None, help="column and answer mapping (JSON) to apply")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--replace", action="store_true",
                      help="a new survey round: services not in this file are removed")
    mode.add_argument("--append", action="store_true",
                      help="add to what is there (the default): matching services are updated")
    p.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    p.add_argument("--problems", type=Path, default=None, help="write every problem to this CSV file")
    p.add_argument("--save-mapping", type=Path, default=None,
                   help="write a mapping of suggested columns and unknown answers, to edit and reuse")
    p.set_defaults(func=_cmd_ingest)

    p = sub.add_parser("imports", help="list survey imports, newest first")
    add_db(p)
    add_format(p)
    p.set_defaults(func=_cmd_imports)

    p = sub.add_parser("undo", help="undo one survey import, restoring what it replaced or removed")
    p.add_argument("import_id", type=int, metavar="IMPORT_ID")
    add_db(p)
    p.set_defaults(func=_cmd_undo)

    p = sub.add_parser("template", help="write the blank survey template (.xlsx)")
    p.add_argument("--out", type=Path, required=True, help="where to write it, e.g. survey-template.xlsx")
    p.set_defaults(func=_cmd_template)

    p = sub.add_parser("agencies", help="replace the contacted-agencies list from a CSV or Excel file")
    p.add_argument("file", type=Path)
    add_db(p)
    p.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    p.set_defaults(func=_cmd_agencies)
