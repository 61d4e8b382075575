"""`python -m hubdash quality`: the Data quality page's figures, for scripts and checks.

JSON (the default) gives everything: services, completeness (question code -> share 0..1),
response_rate (null without a contacted list), duplicates, issues and the score with its parts.
CSV gives one table, chosen with `--table` (issues by default). Contact names and emails are
never printed: the chase list with contacts is only downloadable from the app.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from hubdash.cli import add_area, add_db, emit, open_db

TABLES = ("issues", "completeness", "duplicates", "response", "organisations")


def _num(v: float) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), 4)


def quality_summary(store, *, area: str | None = None) -> dict[str, Any]:  # noqa: ANN001
    """The quality report as plain JSON-ready data (no personal data)."""
    from hubdash import quality
    from hubdash.schema import Filters
    from hubdash.services import filter_frame, service_frame

    everything = service_frame(store)
    frame = filter_frame(everything, Filters(area=area))
    rep = quality.build_report(store, frame, area=area, all_services=everything)
    r = rep.representativeness
    response = None
    if r is not None:
        response = {
            "overall": _num(r.rate), "contacted": r.contacted, "responded": r.responded,
            "by_sector": {(row["sector"] or "not_recorded"): _num(row["rate"])
                          for row in r.by_sector.to_dict("records")},
            "by_area": {row["area"]: _num(row["rate"]) for row in r.by_area.to_dict("records")},
            "reading": r.reading,
            "not_responded": r.non_responders["Organisation"].tolist(),
        }
    return {
        "filter": {"area": area},
        "services": rep.services,
        "completeness": {row["code"]: _num(row["share"]) for row in rep.completeness.to_dict("records")},
        "required_missing": {row["code"]: int(row["missing"]) for row in rep.completeness.to_dict("records")
                             if row["required"]},
        "response_rate": response,
        "duplicates": [
            {"a_id": int(p["a_id"]), "b_id": int(p["b_id"]), "a_name": p["a_name"], "b_name": p["b_name"],
             "a_organisation": p["a_org"], "b_organisation": p["b_org"], "score": int(p["score"]),
             "reason": p["reason"]}
            for p in rep.duplicates.to_dict("records")],
        "issues": [
            {"service_id": int(i["service_id"]), "service": i["service"], "question": i["question"],
             "problem": i["problem"], "severity": i["severity"], "rule": i["rule"], "what_to_do": i["what_to_do"]}
            for i in rep.issues.to_dict("records")],
        "issue_counts": {row["rule"]: int(row["Services"]) for row in rep.issue_counts().to_dict("records")},
        "score": {"value": rep.score.value, "note": rep.score.note,
                  "parts": [{"name": p.name, "value": round(p.value, 4), "weight": round(p.weight, 2),
                             "points": round(p.points, 2), "how": p.how} for p in rep.score.parts]},
        "notes": rep.notes,
    }


def _table(summary: dict[str, Any], name: str) -> list[dict[str, Any]]:
    if name == "issues":
        return summary["issues"]
    if name == "completeness":
        return [{"question": k, "share": v} for k, v in summary["completeness"].items()]
    if name == "duplicates":
        return summary["duplicates"]
    if name == "response":
        rr = summary["response_rate"]
        if rr is None:
            return []
        return ([{"group": "overall", "key": "all", "rate": rr["overall"]}]
                + [{"group": "sector", "key": k, "rate": v} for k, v in rr["by_sector"].items()]
                + [{"group": "area", "key": k, "rate": v} for k, v in rr["by_area"].items()])
    raise ValueError(name)


def _organisations(store, area: str | None) -> list[dict[str, Any]]:  # noqa: ANN001
    from hubdash import quality
    from hubdash.schema import Filters
    from hubdash.services import filter_frame, service_frame

    frame = filter_frame(service_frame(store), Filters(area=area))
    return quality.blanks_by(frame, "organisation").to_dict("records")


def _cmd_quality(args: argparse.Namespace) -> int:
    import sys

    with open_db(args) as store:
        if args.format == "csv" and args.table == "organisations":
            rows = _organisations(store, args.area)
        else:
            summary = quality_summary(store, area=args.area)
            rows = summary if args.format == "json" else _table(summary, args.table)
    if args.format == "csv" and args.table == "response" and not rows:
        print("No contacted-agencies list: there is no response rate to report.", file=sys.stderr)
        return 0
    emit(rows, args.format)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("quality", help="data quality: completeness, response rate, duplicates, issues, score")
    add_db(p)
    add_area(p)
    p.add_argument("--format", choices=["json", "csv"], default="json",
                   help="json: everything; csv: one table (see --table)")
    p.add_argument("--table", choices=TABLES, default="issues", help="the table printed with --format csv")
    p.set_defaults(func=_cmd_quality)
