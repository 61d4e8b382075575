"""Step 3 of the guide, "Check your information": how complete, representative and clear is it?

Everything here is pure pandas over `services.service_frame` (plus two small reads for the ward
table and the contacted-agencies list), so the page, the command line and the tests compute the
same figures. Three parts:

* **Completeness**: the share of services answering each of the 25 questions. A missing
  required answer is an error, a missing optional one a warning. Personal questions (contact
  name and email) count, but only whether they were answered ever leaves this module.
* **Representativeness**: response rates from the `agencies` list (overall, by sector, by
  service area), who has not replied, and how the mix of responses differs from the mix
  contacted. Without a contacted list there is no denominator, and we return None rather than
  invent one.
* **Clarity**: small named rules, each returning issue rows
  `{service_id, service, organisation, question, question_code, problem, severity, what_to_do, rule}`.

Then one data-quality score (0-100) whose parts are all shown, and a chase list per service.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hubdash import schema
from hubdash.safety import csv_safe
from hubdash.schema import QUESTIONS, Question, normalise
from hubdash.store import Store

ERROR = "error"
WARNING = "warning"

#: Optional questions where a blank is itself a valid answer, so it is neither chased nor held
#: against the score: "languages other than English" (blank = English only) and "eligibility
#: criteria, if any" (blank = open to all; the clarity rules catch the cases where criteria are
#: expected). Their answered share is still shown.
BLANK_MEANS_NONE: dict[str, str] = {
    "languages": "a blank can mean English only",
    "eligibility": "a blank can mean open to all (checked by the rules for targeted support)",
}
#: Questions whose blanks count towards completeness in the score, blank counts and chasing.
COUNTED_QUESTIONS: tuple[Question, ...] = tuple(q for q in QUESTIONS if q.code not in BLANK_MEANS_NONE)
REQUIRED_QUESTIONS: tuple[Question, ...] = tuple(q for q in QUESTIONS if q.required)

NO_ORGANISATION = "(organisation not given)"

ISSUE_COLUMNS = ["service_id", "service", "organisation", "question", "question_code", "problem", "severity",
                 "what_to_do", "rule"]

#: Plain names for each rule (shown as a filter and in the CLI output).
RULE_TITLES: dict[str, str] = {
    "missing_answers": "Missing answer",
    "intervention_without_eligibility": "Intervention without eligibility criteria",
    "targeted_indicated_without_eligibility": "Targeted indicated without eligibility criteria",
    "capacity_below_families_supported": "Supported more families than its capacity",
    "age_groups_not_contiguous": "Age groups with a gap",
    "invalid_postcodes": "Not a valid UK postcode",
    "unknown_wards": "Ward not in the ward table",
    "placeholder_answers": "Placeholder or very short answer",
    "possible_duplicate": "Possible duplicate",
}


# --- answers --------------------------------------------------------------------------------


def _is_blank(v: object) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        return not v.strip()
    if isinstance(v, (tuple, list)):
        return len(v) == 0
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def answered(frame: pd.DataFrame, q: Question) -> np.ndarray:
    """Boolean per service: did it answer question `q`? ("Whole local authority" answers 13.)"""
    col = frame[q.code] if q.code in frame.columns else pd.Series([None] * len(frame), index=frame.index)
    out = np.fromiter((not _is_blank(v) for v in col), bool, len(frame))
    if q.code == "wards" and "whole_la" in frame.columns:
        out |= frame["whole_la"].fillna(False).astype(bool).to_numpy()
    return out


def answered_matrix(frame: pd.DataFrame) -> pd.DataFrame:
    """services x question codes: True where answered (index = service_id)."""
    return pd.DataFrame({q.code: answered(frame, q) for q in QUESTIONS},
                        index=pd.Index(frame["service_id"].to_numpy(), name="service_id"))


def service_label(frame: pd.DataFrame) -> pd.Series:
    """'Name (#id)': names repeat (per-locality services), ids do not."""
    names = frame["name"].fillna("(no name)").astype(str)
    return names + " (#" + frame["service_id"].astype(str) + ")"


# --- completeness ---------------------------------------------------------------------------


def completeness(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per survey question: how many services answered it, sorted by survey number.

    Columns: number, code, question (short label), text, required, personal, answered,
    services, share (0..1, NaN without services), missing, severity (of a blank), note.
    """
    n = len(frame)
    rows = []
    for q in QUESTIONS:
        k = int(answered(frame, q).sum()) if n else 0
        rows.append({
            "number": q.number, "code": q.code, "question": q.short, "text": q.text,
            "required": q.required, "personal": q.personal, "answered": k, "services": n,
            "share": k / n if n else float("nan"), "missing": n - k,
            "severity": ERROR if q.required else WARNING, "note": BLANK_MEANS_NONE.get(q.code, ""),
        })
    return pd.DataFrame(rows)


def blanks_by(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """Blank answers per organisation (`by="organisation"`) or per sector (`by="sector"`).

    Counts blanks over `COUNTED_QUESTIONS` (23 questions: languages and eligibility are left
    out because a blank can mean "none"). Sorted by blanks per service, most first.
    """
    if by not in ("organisation", "sector"):
        raise ValueError(f"blanks_by: unknown grouping {by!r}")
    cols = ["Organisation" if by == "organisation" else "Sector", "Services", "Blank answers",
            "Blanks per service", "Required answers missing", "Services with every answer"]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    counted = pd.DataFrame({q.code: answered(frame, q) for q in COUNTED_QUESTIONS})
    blanks = (~counted).sum(axis=1).to_numpy()
    req = (~counted[[q.code for q in REQUIRED_QUESTIONS]]).sum(axis=1).to_numpy()
    if by == "organisation":
        keys = [o.strip() if isinstance(o, str) and o.strip() else NO_ORGANISATION for o in frame["organisation"]]
    else:
        keys = [schema.label("sector", s) if isinstance(s, str) and s else "(sector not given)"
                for s in frame["sector"]]
    df = pd.DataFrame({"key": keys, "blanks": blanks, "req": req, "full": blanks == 0})
    g = df.groupby("key", sort=False).agg(services=("blanks", "size"), blanks=("blanks", "sum"),
                                          req=("req", "sum"), full=("full", "sum")).reset_index()
    g["per"] = (g["blanks"] / g["services"]).round(1)
    g = g.sort_values(["per", "blanks", "key"], ascending=[False, False, True])
    g.columns = [cols[0], cols[1], cols[2], cols[4], cols[5], cols[3]]
    return g[cols].reset_index(drop=True)


def missingness_grid(frame: pd.DataFrame, *, order: str = "most_missing", limit: int = 300
                     ) -> tuple[pd.DataFrame, str | None]:
    """Long table for the services x questions grid, and a note when rows were cut.

    Args:
        frame: services.
        order: "most_missing" (services with most blanks first) or "survey" (survey row order).
        limit: at most this many services; above it the services with most blanks are kept.

    Returns:
        (rows with service_id, service, row_order, number, question, required, can_mean_none,
        status, blanks), note or None.
    """
    if frame.empty:
        return pd.DataFrame(columns=["service_id", "service", "row_order", "number", "question", "required",
                                     "can_mean_none", "status", "blanks"]), None
    m = answered_matrix(frame)
    counted_codes = [q.code for q in COUNTED_QUESTIONS]
    blanks = (~m[counted_codes]).sum(axis=1)
    info = pd.DataFrame({"service_id": m.index, "service": service_label(frame).to_numpy(),
                         "blanks": blanks.to_numpy(),
                         "source_row": frame["source_row"].to_numpy() if "source_row" in frame else m.index})
    note = None
    if len(info) > limit:
        info = info.sort_values(["blanks", "service_id"], ascending=[False, True]).head(limit)
        note = (f"Showing the {limit} services with most blank answers out of {len(frame):,}; "
                "use the table or the chase list for the rest.")
    if order == "most_missing":
        info = info.sort_values(["blanks", "service_id"], ascending=[False, True])
    else:
        info = info.sort_values(["source_row", "service_id"])
    info["row_order"] = np.arange(len(info))
    long = m.loc[info["service_id"]].reset_index().melt(id_vars="service_id", var_name="code", value_name="ok")
    long = long.merge(info, on="service_id")
    by_code = {q.code: q for q in QUESTIONS}
    long["number"] = [by_code[c].number for c in long["code"]]
    long["question"] = [f"{by_code[c].number}. {by_code[c].short}" for c in long["code"]]
    long["required"] = [by_code[c].required for c in long["code"]]
    long["can_mean_none"] = long["code"].isin(list(BLANK_MEANS_NONE))
    long["status"] = np.where(long["ok"], "Answered",
                              np.where(long["required"], "Missing (required)", "Missing"))
    cols = ["service_id", "service", "row_order", "number", "question", "required", "can_mean_none", "status",
            "blanks"]
    return long[cols].sort_values(["row_order", "number"]).reset_index(drop=True), note


def blank_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per service: how many of the counted questions are blank, and which (most blanks first)."""
    cols = ["Service ID", "Service", "Survey row", "Blank answers", "Required blank", "Blank questions"]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    m = pd.DataFrame({q.code: answered(frame, q) for q in COUNTED_QUESTIONS})
    shorts = {q.code: q.short for q in COUNTED_QUESTIONS}
    req = [q.code for q in REQUIRED_QUESTIONS]
    blank_lists = [[shorts[c] for c in m.columns if not row[c]] for row in m.to_dict("records")]
    out = pd.DataFrame({
        "Service ID": frame["service_id"].to_numpy(),
        "Service": frame["name"].fillna("(no name)").to_numpy(),
        "Survey row": frame["source_row"].to_numpy() if "source_row" in frame else None,
        "Blank answers": (~m).sum(axis=1).to_numpy(),
        "Required blank": (~m[req]).sum(axis=1).to_numpy(),
        "Blank questions": ["; ".join(b) for b in blank_lists],
    })
    return out.sort_values(["Required blank", "Blank answers", "Service ID"], ascending=[False, False, True]
                           ).reset_index(drop=True)


# --- issues: helpers ------------------------------------------------------------------------


def _issue(row: Mapping, q: Question | None, problem: str, severity: str, what_to_do: str, rule: str) -> dict:
    org = row.get("organisation")
    return {
        "service_id": int(row["service_id"]),
        "service": str(row.get("name") or "(no name)"),
        "organisation": org if isinstance(org, str) and org.strip() else None,
        "question": q.short if q else "",
        "question_code": q.code if q else "",
        "problem": problem,
        "severity": severity,
        "what_to_do": what_to_do,
        "rule": rule,
    }


def _records(frame: pd.DataFrame, cols: Iterable[str]) -> Iterable[dict]:
    cols = ["service_id", "name", "organisation", *[c for c in cols if c in frame.columns]]
    cols = list(dict.fromkeys(cols))
    return frame[cols].to_dict("records")


def issues_frame(rows: Iterable[dict]) -> pd.DataFrame:
    """Issue rows as a DataFrame (errors first, then by service), with the standard columns."""
    df = pd.DataFrame(list(rows), columns=ISSUE_COLUMNS)
    if df.empty:
        return df
    df["_sev"] = (df["severity"] != ERROR).astype(int)
    df = df.sort_values(["_sev", "service_id", "question_code"], kind="stable").drop(columns="_sev")
    return df.reset_index(drop=True)


# --- issues: the rules ------------------------------------------------------------------------


def missing_answers(frame: pd.DataFrame) -> list[dict]:
    """Blank answers: required questions are errors, optional ones warnings.

    Questions in `BLANK_MEANS_NONE` are skipped (a blank is a valid answer there).
    """
    out = []
    for q in COUNTED_QUESTIONS:
        ok = answered(frame, q)
        if ok.all():
            continue
        for row in frame.loc[~ok, ["service_id", "name", "organisation"]].to_dict("records"):
            if q.required:
                out.append(_issue(row, q, "No answer to a required question", ERROR,
                                  f"Ask for question {q.number}: \u201c{q.text}\u201d", "missing_answers"))
            else:
                out.append(_issue(row, q, "No answer", WARNING,
                                  f"Ask for question {q.number}: \u201c{q.text}\u201d", "missing_answers"))
    return out


def _no_criteria(v: object) -> bool:
    return _is_blank(v)


def intervention_without_eligibility(frame: pd.DataFrame) -> list[dict]:
    """An intervention (question 2) with no eligibility criteria (question 12).

    Interventions are structured programmes with defined entry criteria; without them the
    gap map cannot say who they are for.
    """
    q = schema.question("eligibility")
    return [
        _issue(r, q, "An intervention with no eligibility criteria", WARNING,
               "Ask who the intervention is for and how families are referred", "intervention_without_eligibility")
        for r in _records(frame, ["kind", "eligibility"])
        if r.get("kind") == "intervention" and _no_criteria(r.get("eligibility"))
    ]


def targeted_indicated_without_eligibility(frame: pd.DataFrame) -> list[dict]:
    """Targeted indicated (question 11: families with an identified need) but no criteria."""
    q = schema.question("eligibility")
    return [
        _issue(r, q, "Targeted indicated (for an identified need) but no eligibility criteria", WARNING,
               "Ask what need qualifies a family and who can refer",
               "targeted_indicated_without_eligibility")
        for r in _records(frame, ["target_level", "eligibility"])
        if r.get("target_level") == "targeted_indicated" and _no_criteria(r.get("eligibility"))
    ]


def capacity_below_families_supported(frame: pd.DataFrame) -> list[dict]:
    """More families supported in the last 12 months (17) than the yearly capacity (16)."""
    q = schema.question("capacity")
    out = []
    for r in _records(frame, ["capacity", "families_supported"]):
        cap, got = r.get("capacity"), r.get("families_supported")
        if _is_blank(cap) or _is_blank(got):
            continue
        if float(cap) < float(got):
            out.append(_issue(
                r, q, f"Capacity {float(cap):,.0f} families a year, but supported {float(got):,.0f} "
                      "in the last 12 months", WARNING,
                "Check both numbers: capacity may be per session, or the count may include repeat visits",
                "capacity_below_families_supported"))
    return out


_AGE_INDEX = {o.code: i for i, o in enumerate(schema.AGE_GROUPS)}


def age_groups_not_contiguous(frame: pd.DataFrame) -> list[dict]:
    """Age groups (question 10) that skip a band, e.g. 0-12 months and 3-5 years only."""
    q = schema.question("age_groups")
    out = []
    for r in _records(frame, ["age_groups"]):
        idx = sorted(_AGE_INDEX[c] for c in (r.get("age_groups") or ()) if c in _AGE_INDEX)
        if len(idx) < 2 or idx[-1] - idx[0] + 1 == len(idx):
            continue
        missing = [schema.AGE_GROUPS[i].label for i in range(idx[0], idx[-1] + 1) if i not in idx]
        out.append(_issue(
            r, q, "Age groups skip " + ", ".join(missing), WARNING,
            "Check whether the service really excludes the skipped ages, or a tick was missed",
            "age_groups_not_contiguous"))
    return out


# The UK postcode shape (BS 7666 / the Government Data Standards Catalogue pattern): outward code
# A9, A99, AA9, AA99, A9A or AA9A (second letter never I, J or Z), inward code 9AA, plus the
# special GIR 0AA. Spacing and case are normalised before matching.
_POSTCODE = re.compile(
    r"^(?:GIR0AA|(?:[A-Z][0-9]{1,2}|[A-Z][A-HK-Y][0-9]{1,2}|[A-Z][0-9][A-Z]|[A-Z][A-HK-Y][0-9][A-Z])[0-9][A-Z]{2})$"
)


def normalise_postcode(text: object) -> str:
    """Upper case with all whitespace removed: ' km1  2ab ' -> 'KM12AB'."""
    return re.sub(r"\s+", "", str(text or "")).upper()


def is_uk_postcode(text: object) -> bool:
    """True for a full UK postcode in any spacing or case (including GIR 0AA)."""
    return bool(_POSTCODE.match(normalise_postcode(text)))


def invalid_postcodes(frame: pd.DataFrame) -> list[dict]:
    """Postcodes (question 14) that are not the shape of a full UK postcode (e.g. "KM99")."""
    q = schema.question("postcodes")
    out = []
    for r in _records(frame, ["postcodes"]):
        for pc in r.get("postcodes") or ():
            if not is_uk_postcode(pc):
                out.append(_issue(
                    r, q, f"\u201c{pc}\u201d is not a full UK postcode", ERROR,
                    "Ask for the full postcode of each venue (e.g. KM1 2AB); the service cannot be placed "
                    "on the map without it", "invalid_postcodes"))
    return out


def ward_lookup(store: Store) -> dict[str, str] | None:
    """Normalised ward name and lower-case ward code -> ward name, or None without a ward table.

    Matches the way `geo.service_ward_links` joins answers to wards.
    """
    rows = store.rows("SELECT ward_code, ward_name, name_key FROM wards")
    if not rows:
        return None
    out: dict[str, str] = {}
    for code, name, key in rows:
        out[key or normalise(name)] = name
        out[str(code).lower()] = name
    return out


def unknown_wards(frame: pd.DataFrame, *, wards: Mapping[str, str]) -> list[dict]:
    """Ward answers (question 13) that match no ward's name or code in the ward table.

    Matching is case-, space- and punctuation-insensitive, as on the coverage map; the
    closest ward name is suggested when one is close.
    """
    from rapidfuzz import process
    from rapidfuzz.fuzz import WRatio

    q = schema.question("wards")
    names = sorted(set(wards.values()))
    out = []
    for r in _records(frame, ["wards"]):
        for w in r.get("wards") or ():
            key = normalise(w)
            if key in wards or key == normalise(schema.WHOLE_LA):
                continue
            best = (process.extractOne(str(w), names, scorer=WRatio, processor=normalise, score_cutoff=80)
                    if names else None)
            hint = (f"Did they mean \u201c{best[0]}\u201d? Correct the answer, or load a ward table that "
                    "includes it." if best else "Correct the ward name, or load a ward table that includes it.")
            out.append(_issue(r, q, f"\u201c{w}\u201d is not a ward in the ward table", ERROR,
                              hint + " Until then the service is missing from that ward on the coverage map.",
                              "unknown_wards"))
    return out


#: Answers that say nothing: compared after lower-casing and dropping punctuation and spaces.
PLACEHOLDERS = frozenset({
    "na", "nk", "tbc", "tba", "tbd", "none", "nil", "null", "xxx", "xx", "x", "unknown", "notknown", "dontknow",
    "notsure", "notapplicable", "various", "asabove", "same", "sameasabove", "test", "todo", "pending", "blank",
})
#: Free-text questions checked for placeholders (single-choice answers are codes already).
_TEXT_CODES = ("name", "organisation", "eligibility", "contact_name", "contact_email")
#: Shorter than this many letters or digits is too short to be an answer.
MIN_TEXT_CHARS = 3


def placeholder_kind(text: object) -> str | None:
    """'placeholder' for "n/a", "tbc", "-", "?", "xxx"...; 'short' for 1-2 characters; else None."""
    if not isinstance(text, str) or not text.strip():
        return None
    key = normalise(text)
    if not key or key in PLACEHOLDERS or set(key) == {"x"}:
        return "placeholder"
    if len(key) < MIN_TEXT_CHARS:
        return "short"
    return None


def placeholder_answers(frame: pd.DataFrame) -> list[dict]:
    """Placeholder ("n/a", "tbc", "-", "none", "?", "xxx"...) or very short answers.

    Checks the free-text questions, languages and any "Other" text. "None" as the eligibility
    of a universal service is a real answer (no criteria) and is not flagged. Personal answers
    are checked too, but their values are never repeated in the problem text.
    """
    out = []
    for r in _records(frame, [*_TEXT_CODES, "target_level", "languages", "other_answers"]):
        checks: list[tuple[Question, object, str]] = [
            (schema.question(c), r.get(c), "") for c in _TEXT_CODES]
        checks += [(schema.question("languages"), lang, "") for lang in r.get("languages") or ()]
        other = r.get("other_answers")
        if isinstance(other, str) and other:
            try:
                parsed = json.loads(other)
            except ValueError:
                parsed = {}
            for code, text in (parsed.items() if isinstance(parsed, dict) else ()):
                if code in schema.QUESTION_BY_CODE:
                    checks.append((schema.question(code), text, " (the \u201cOther\u201d text)"))
        for q, value, where in checks:
            kind = placeholder_kind(value)
            if kind is None:
                continue
            if q.code == "eligibility" and normalise(value) == "none" and r.get("target_level") == "universal":
                continue
            shown = "The answer" if q.personal else f"\u201c{str(value).strip()}\u201d"
            if kind == "placeholder":
                problem = f"{shown}{where} is a placeholder, not an answer"
            else:
                problem = f"{shown}{where} is too short to be clear"
            severity = ERROR if q.required else WARNING
            out.append(_issue(r, q, problem, severity,
                              f"Ask for a full answer to question {q.number}: \u201c{q.text}\u201d",
                              "placeholder_answers"))
    return out


def clarity_issues(frame: pd.DataFrame, *, wards: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Every clarity and consistency rule over `frame` (not missing answers, not duplicates).

    `wards` is `ward_lookup(store)`; without a ward table the ward rule is skipped.
    """
    rows: list[dict] = []
    rows += intervention_without_eligibility(frame)
    rows += targeted_indicated_without_eligibility(frame)
    rows += capacity_below_families_supported(frame)
    rows += age_groups_not_contiguous(frame)
    rows += invalid_postcodes(frame)
    if wards:
        rows += unknown_wards(frame, wards=wards)
    rows += placeholder_answers(frame)
    return issues_frame(rows)


def duplicate_issues(pairs: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """One issue row per service in a likely-duplicate pair (both sides), for the chase list."""
    q = schema.question("name")
    rows = []
    # Plain dict lookups: a pandas .loc per pair costs seconds at 20,000 services.
    info = {int(r["service_id"]): r for r in frame[["service_id", "name", "organisation"]].to_dict("records")}
    for a, b, a_name, b_name in zip(pairs["a_id"], pairs["b_id"], pairs["a_name"], pairs["b_name"], strict=True):
        for me, other, other_name in ((int(a), int(b), b_name), (int(b), int(a), a_name)):
            if me not in info:
                continue
            rows.append(_issue(info[me], q, f"May be the same as \u201c{other_name}\u201d (#{other})", WARNING,
                               "Ask whether these are one service entered twice; merge or keep both on the "
                               "Data quality page", "possible_duplicate"))
    return issues_frame(rows)


# --- representativeness ---------------------------------------------------------------------


@dataclass(frozen=True)
class Representativeness:
    """Response to the survey, from the contacted-agencies list.

    Attributes:
        contacted: Agencies contacted (about `area` if set).
        responded: Of those, how many returned the survey.
        by_sector: sector, Sector, contacted, responded, rate, share_contacted,
            share_responses, gap_points (share of responses minus share contacted, in points).
        by_area: area, Service area, contacted, responded, rate (all four areas, always).
        non_responders: Organisation, Sector, Service areas, Contacted on, Notes.
        reading: One plain sentence on what the mix may mean for the gap map.
        area: The service area the overall figures are restricted to, or None.
    """

    contacted: int
    responded: int
    by_sector: pd.DataFrame
    by_area: pd.DataFrame
    non_responders: pd.DataFrame
    reading: str
    area: str | None = None

    @property
    def rate(self) -> float:
        return self.responded / self.contacted if self.contacted else float("nan")


_SECTOR_ORDER = [o.code for o in schema.SECTORS]


def _sector_label(code: object) -> str:
    return schema.label("sector", code) if isinstance(code, str) and code else "Sector not recorded"


def representativeness(store: Store, *, area: str | None = None) -> Representativeness | None:
    """Response rates from the contacted-agencies list, or None if no list has been loaded.

    Args:
        store: The database.
        area: Restrict overall, sector and non-responder figures to agencies contacted about
            this service area (code). The by-area table always shows every area.
    """
    agencies = store.read(
        """SELECT a.agency_id, a.organisation, a.sector, a.contacted_on, coalesce(a.responded, FALSE) AS responded,
                  a.notes, list(aa.area ORDER BY aa.area) FILTER (WHERE aa.area IS NOT NULL) AS areas
           FROM agencies a LEFT JOIN agency_areas aa USING (agency_id)
           GROUP BY ALL ORDER BY a.organisation""")
    if agencies.empty:
        return None
    agencies["areas"] = [tuple(a) if isinstance(a, (list, tuple, np.ndarray)) else () for a in agencies["areas"]]
    agencies["responded"] = agencies["responded"].astype(bool)
    by_area = []
    for o in schema.SERVICE_AREAS:
        sel = agencies[[o.code in a for a in agencies["areas"]]]
        c, r = len(sel), int(sel["responded"].sum())
        by_area.append({"area": o.code, "Service area": o.label, "contacted": c, "responded": r,
                        "rate": r / c if c else float("nan")})
    if area:
        agencies = agencies[[area in a for a in agencies["areas"]]]
    contacted, responded = len(agencies), int(agencies["responded"].sum())
    sectors = agencies["sector"].where(agencies["sector"].isin(_SECTOR_ORDER), None)
    rows = []
    for code in [*_SECTOR_ORDER, None]:
        sel = agencies[sectors.isna()] if code is None else agencies[sectors == code]
        c, r = len(sel), int(sel["responded"].sum())
        if code is None and c == 0:
            continue
        rows.append({"sector": code or "", "Sector": _sector_label(code), "contacted": c, "responded": r,
                     "rate": r / c if c else float("nan"),
                     "share_contacted": c / contacted if contacted else float("nan"),
                     "share_responses": r / responded if responded else float("nan")})
    by_sector = pd.DataFrame(rows)
    by_sector["gap_points"] = ((by_sector["share_responses"] - by_sector["share_contacted"]) * 100).round(1)
    silent = agencies[~agencies["responded"]]
    non = pd.DataFrame({
        "Organisation": silent["organisation"].to_numpy(),
        "Sector": [_sector_label(s) for s in silent["sector"]],
        "Service areas": ["; ".join(schema.area_label(a) for a in areas) for areas in silent["areas"]],
        "Contacted on": silent["contacted_on"].astype(str).replace({"NaT": "", "None": ""}).to_numpy(),
        "Notes": silent["notes"].fillna("").to_numpy(),
    })
    return Representativeness(contacted=contacted, responded=responded, by_sector=by_sector,
                              by_area=pd.DataFrame(by_area), non_responders=non,
                              reading=mix_reading(by_sector, responded=responded), area=area)


def mix_reading(by_sector: pd.DataFrame, *, responded: int) -> str:
    """One plain line on the sector mix: which sector is most under-represented among responses."""
    if responded == 0:
        return "Nobody has returned the survey yet, so the gap map would show gaps everywhere: chase responses first."
    live = by_sector[by_sector["contacted"] > 0]
    worst = live.sort_values(["gap_points", "contacted"], ascending=[True, False]).iloc[0]
    gap = -float(worst["gap_points"])
    name = worst["Sector"]
    facts = (f"{name} is {worst['share_contacted']:.0%} of the agencies contacted but "
             f"{worst['share_responses']:.0%} of the responses ({int(worst['responded'])} of "
             f"{int(worst['contacted'])} replied).")
    if gap < 3:
        return ("Responses mirror who was contacted: no sector is more than 3 percentage points under-represented, "
                "so who replied is unlikely to skew the gap map.")
    lower = name[0].lower() + name[1:] if name[:2] != "NH" else name
    strength = "may well" if gap >= 10 else "may"
    return (f"{facts} The gap map {strength} under-count support from {lower} organisations: chase them "
            "before treating gaps in their areas as real.")


# --- the score --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScorePart:
    name: str
    value: float
    weight: float
    how: str

    @property
    def points(self) -> float:
        return self.value * self.weight


def honest_percent(share: float) -> str:
    """A share as a whole percentage that never rounds to 100% or 0% when it is not exactly that
    (one missing answer in 790 reads "99.9%", not "100%" beside "1 missing")."""
    text = f"{share:.0%}"
    if text == "100%" and share < 1:
        return f"{min(share, 0.999):.1%}"
    if text == "0%" and share > 0:
        return f"{max(share, 0.001):.1%}"
    return text


@dataclass(frozen=True)
class Score:
    """A 0-100 data-quality score: the sum of its parts' points (value x weight)."""

    parts: tuple[ScorePart, ...]
    note: str = ""

    @property
    def value(self) -> int:
        return int(round(sum(p.points for p in self.parts)))

    def table(self) -> pd.DataFrame:
        return pd.DataFrame({
            "Part": [p.name for p in self.parts],
            "Value": [honest_percent(p.value) for p in self.parts],
            "Weight": [f"{p.weight:.3g}" for p in self.parts],
            "Points": [f"{p.points:.1f}" for p in self.parts],
            "How it is measured": [p.how for p in self.parts],
        })


#: Points each part is worth when the contacted list exists (they add up to 100).
SCORE_WEIGHTS = {"required": 30.0, "optional": 15.0, "response": 25.0, "clear": 30.0}


def quality_score(comp: pd.DataFrame, *, response_rate: float | None, clear_share: float) -> Score:
    """The data-quality score from its parts.

    Parts: required answers given (mean answered share of the 5 required questions, 30 points),
    optional answers given (mean over the optional questions in `COUNTED_QUESTIONS`, 15),
    response rate (25) and services with no clarity issue or likely duplicate (30). Without a
    contacted list the response part is left out and the other weights are scaled up to 100.
    """
    req = comp[comp["required"]]
    opt = comp[~comp["required"] & ~comp["code"].isin(list(BLANK_MEANS_NONE))]
    req_v = float(req["share"].mean()) if len(req) and req["services"].iloc[0] else 0.0
    opt_v = float(opt["share"].mean()) if len(opt) and opt["services"].iloc[0] else 0.0
    w = dict(SCORE_WEIGHTS)
    note = ""
    if response_rate is None:
        scale = 100.0 / (100.0 - w.pop("response"))
        w = {k: v * scale for k, v in w.items()}
        note = ("No contacted-agencies list, so the response rate is left out and the other parts are scaled up "
                "to make 100.")
    parts = [
        ScorePart("Required answers given", req_v, w["required"],
                  f"Average share of services answering the {len(req)} required questions "
                  f"({', '.join(req['question'])})"),
        ScorePart("Optional answers given", opt_v, w["optional"],
                  f"Average share answering the {len(opt)} optional questions (languages and eligibility left "
                  "out: a blank can mean none)"),
    ]
    if response_rate is not None:
        parts.append(ScorePart("Response rate", float(response_rate), w["response"],
                               "Agencies that returned the survey, of those contacted"))
    parts.append(ScorePart("Services with clear answers", float(clear_share), w["clear"],
                           "Share of services with no clarity or consistency issue and no likely duplicate"))
    return Score(parts=tuple(parts), note=note)


# --- the whole report -------------------------------------------------------------------------


@dataclass
class QualityReport:
    """Everything the Data quality page and `python -m hubdash quality` show, for one filter."""

    services: int
    completeness: pd.DataFrame
    by_organisation: pd.DataFrame
    by_sector: pd.DataFrame
    representativeness: Representativeness | None
    issues: pd.DataFrame
    duplicates: pd.DataFrame
    score: Score
    notes: list[str] = field(default_factory=list)

    @property
    def clarity(self) -> pd.DataFrame:
        """Issues other than missing answers."""
        return self.issues[self.issues["rule"] != "missing_answers"]

    def issue_counts(self) -> pd.DataFrame:
        """Issues per rule: Rule, Services, Errors, Warnings (rules with no hits included)."""
        rows = []
        for rule, title in RULE_TITLES.items():
            sel = self.issues[self.issues["rule"] == rule]
            rows.append({"Rule": title, "rule": rule, "Services": int(sel["service_id"].nunique()),
                         "Errors": int((sel["severity"] == ERROR).sum()),
                         "Warnings": int((sel["severity"] == WARNING).sum())})
        return pd.DataFrame(rows)


def build_report(store: Store, frame: pd.DataFrame, *, area: str | None = None,
                 all_services: pd.DataFrame | None = None) -> QualityReport:
    """The quality report for the services in `frame` (already filtered).

    Args:
        store: The database (ward table, contacted agencies, duplicate decisions).
        frame: Services in scope, from `services.service_frame` / `filter_frame`.
        area: The service-area filter in force, used for the response rate.
        all_services: Every service, so a duplicate of an in-scope service outside the filter
            is still found. Defaults to `frame`.
    """
    from hubdash.duplicates import find_duplicates_for

    notes = []
    comp = completeness(frame)
    wards = ward_lookup(store)
    if wards is None:
        notes.append("No ward table is loaded, so ward answers were not checked.")
    clear = clarity_issues(frame, wards=wards)
    pairs = find_duplicates_for(store, all_services if all_services is not None else frame)
    ids = set(frame["service_id"].tolist())
    pairs = pairs[pairs["a_id"].isin(ids) | pairs["b_id"].isin(ids)].reset_index(drop=True)
    dup = duplicate_issues(pairs, frame)
    issues = issues_frame([*missing_answers(frame), *clear.to_dict("records"), *dup.to_dict("records")])
    rep = representativeness(store, area=area)
    flagged = set(clear["service_id"]) | set(dup["service_id"])
    clear_share = 1 - len(flagged & ids) / len(ids) if ids else 0.0
    score = quality_score(comp, response_rate=rep.rate if rep and rep.contacted else None, clear_share=clear_share)
    if rep is not None and area and rep.contacted == 0:
        notes.append("No agency on the contacted list was asked about this service area.")
    return QualityReport(services=len(frame), completeness=comp, by_organisation=blanks_by(frame, "organisation"),
                         by_sector=blanks_by(frame, "sector"), representativeness=rep, issues=issues,
                         duplicates=pairs, score=score, notes=notes)


# --- the chase list ---------------------------------------------------------------------------

CHASE_COLUMNS = ["Priority", "Organisation", "Service", "Service ID", "Survey row", "Contact name",
                 "Contact email", "Errors", "Warnings", "Missing answers", "Unclear answers", "What to ask"]


def chase_list(report: QualityReport, frame: pd.DataFrame) -> pd.DataFrame:
    """Whom to chase and for what: one row per service with an issue, then non-responders.

    Contains contact names and emails: show it only outside presenter mode and export it only
    as the chase-list download.
    """
    # One pass over plain records: a pandas groupby with per-group filtering took over a minute at
    # 20,000 services.
    cols = [c for c in ("service_id", "source_row", "contact_name", "contact_email") if c in frame.columns]
    info = {int(r["service_id"]): r for r in frame[cols].to_dict("records")}
    by_service: dict[int, list[dict]] = {}
    for issue in report.issues.to_dict("records"):
        by_service.setdefault(int(issue["service_id"]), []).append(issue)
    rows = []
    for sid, items in by_service.items():
        r = info.get(sid, {})
        req_missing = [i["question"] for i in items if i["rule"] == "missing_answers" and i["severity"] == ERROR]
        opt_missing = [i["question"] for i in items if i["rule"] == "missing_answers" and i["severity"] != ERROR]
        miss_text = "; ".join(filter(None, [
            ("Required: " + ", ".join(req_missing)) if req_missing else "",
            ("Optional: " + ", ".join(opt_missing)) if opt_missing else ""]))
        unclear_text = "; ".join(f"{i['question']}: {i['problem']}" if i["question"] else i["problem"]
                                 for i in items if i["rule"] != "missing_answers")
        asks = list(dict.fromkeys(i["what_to_do"] for i in items))
        n_err = sum(i["severity"] == ERROR for i in items)
        rows.append({
            "Priority": "High" if n_err else "Normal",
            "Organisation": items[0]["organisation"] or NO_ORGANISATION,
            "Service": items[0]["service"],
            "Service ID": sid,
            "Survey row": _int_or_none(r.get("source_row")),
            "Contact name": _str_or_blank(r.get("contact_name")),
            "Contact email": _str_or_blank(r.get("contact_email")),
            "Errors": n_err,
            "Warnings": len(items) - n_err,
            "Missing answers": miss_text,
            "Unclear answers": unclear_text,
            "What to ask": " ".join(a if a.endswith((".", "?")) else a + "." for a in asks[:6])
                           + (f" And {len(asks) - 6} more." if len(asks) > 6 else ""),
        })
    rep = report.representativeness
    if rep is not None:
        for nr in rep.non_responders.to_dict("records"):
            about = nr["Service areas"] or "no service area recorded"
            rows.append({
                "Priority": "High", "Organisation": nr["Organisation"], "Service": "(no survey returned)",
                "Service ID": None, "Survey row": None, "Contact name": "", "Contact email": "",
                "Errors": 0, "Warnings": 0, "Missing answers": "The whole survey",
                "Unclear answers": "",
                "What to ask": f"Ask them to return the survey ({nr['Sector']}; {about})."})
    df = pd.DataFrame(rows, columns=CHASE_COLUMNS)
    if df.empty:
        return df
    df["_p"] = (df["Priority"] != "High").astype(int)
    df = df.sort_values(["_p", "Organisation", "Service"], kind="stable").drop(columns="_p")
    df["Service ID"] = df["Service ID"].astype("Int64")
    df["Survey row"] = df["Survey row"].astype("Int64")
    return df.reset_index(drop=True)


def _int_or_none(v: object) -> int | None:
    return None if _is_blank(v) else int(v)


def _str_or_blank(v: object) -> str:
    return "" if _is_blank(v) else str(v).strip()


def _safe(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = [csv_safe(v) for v in out[c]]
    return out


def chase_csv(chase: pd.DataFrame) -> bytes:
    """The chase list as UTF-8 CSV (with BOM so Excel reads accents), formulas neutralised."""
    return _safe(chase).to_csv(index=False).encode("utf-8-sig")


def chase_xlsx(chase: pd.DataFrame, *, title: str = "Chase list") -> bytes:
    """The chase list as an Excel workbook: one sheet, frozen header, readable widths."""
    buf = io.BytesIO()
    safe = _safe(chase)
    with pd.ExcelWriter(buf, engine="xlsxwriter",
                        engine_kwargs={"options": {"strings_to_formulas": False, "strings_to_urls": False}}) as xw:
        safe.to_excel(xw, sheet_name=title[:31], index=False)
        ws = xw.sheets[title[:31]]
        ws.freeze_panes(1, 0)
        wrap = xw.book.add_format({"text_wrap": True, "valign": "top"})
        for i, c in enumerate(safe.columns):
            longest = max((len(str(v)) for v in safe[c] if not _is_blank(v)), default=0)
            width = 50 if c in ("Missing answers", "Unclear answers", "What to ask") else \
                min(40, max(10, longest + 2, len(c) + 2))
            ws.set_column(i, i, width, wrap)
        ws.autofilter(0, 0, max(len(safe), 1), len(safe.columns) - 1)
    return buf.getvalue()
