"""The blank survey template: an .xlsx a Family Hub team can send to providers today.

Sheet "Survey" has one column per question, headed by the exact question text (the canonical
layout the importer reads back), drop-down lists for single-choice questions, number checks for
figures, and a note on every heading saying how to answer. "Guidance" says how to fill it in and
what each question is for; "Options" lists every allowed answer (the drop-downs read from it).
A filled-in template imports without any column mapping.
"""

from __future__ import annotations

import io
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from hubdash import schema
from hubdash.schema import QUESTIONS, Question

#: Rows of the Survey sheet that carry drop-downs and checks (one service per row).
TEMPLATE_ROWS = 1000
SEPARATOR = ";"

#: Why each question is asked: what it lets the dashboard show (Guidance sheet).
PURPOSE: dict[str, str] = {
    "name": "Identifies the service in every table, so each figure can be traced back to its row.",
    "kind": "Gap maps show services (ongoing support) and interventions (structured programmes) separately.",
    "organisation": "Shows who delivers what, and lets Data quality compare responses with the agencies contacted.",
    "sector": "Shows the balance of council, health, voluntary and private provision.",
    "service_areas": "Every view filters by the four Start for Life service areas.",
    "format": "Some families prefer one-to-one support, others a group: the range of formats affects access.",
    "delivery_modes": "Shows how much is delivered at Family Hubs, in the community, at home or online.",
    "primary_outcome": "The row of the gap map the service is counted in.",
    "secondary_outcomes": "Optionally counted in the gap map too, to show wider support.",
    "age_groups": "The columns of the gap map: which ages have support and which have none.",
    "target_level": "Universal, targeted selective or targeted indicated: the three blocks of the gap map.",
    "eligibility": "Explains who can use a targeted service, to check it reaches the families who need it.",
    "wards": "Geographic coverage: which wards have support, compared with need.",
    "postcodes": "Places the service on the map.",
    "workforce": "Shows which professions deliver support, to spot workforce gaps.",
    "capacity": "Gap maps can show capacity (families a year), not just the number of services.",
    "families_supported": "Compared with capacity to show where services are full or under-used.",
    "annual_cost": "Shows where money goes across outcomes and levels.",
    "funding": "Shows dependence on each funding stream, and what is at risk if one ends.",
    "evidence": "Shows how much provision is evidence-based (Foundations Guidebook) or locally developed.",
    "groups": "Access and inclusion (REDIE): which groups have adapted support and which have none.",
    "languages": "Access for families who speak languages other than English.",
    "interpreter": "Access for families who need an interpreter.",
    "contact_name": "Personal data: kept so you can follow up, never shown in charts, presenter mode or exports.",
    "contact_email": "Personal data: kept so you can follow up, never shown in charts, presenter mode or exports.",
}

_KIND_TEXT = {
    "text": "Free text",
    "single": "Choose one (drop-down list)",
    "multi": f"Choose any (separate answers with '{SEPARATOR}')",
    "number": "A number (no £ sign or words); blank if not known",
    "wards": f"Ward names separated by '{SEPARATOR}', or '{schema.WHOLE_LA}'",
    "postcodes": f"Postcodes separated by '{SEPARATOR}'",
    "languages": f"Languages separated by '{SEPARATOR}'; blank if English only",
}

HOW_TO = [
    "One row per service or intervention. If an organisation runs several, use one row for each.",
    "Row 1 holds the questions: do not change, move or delete them. You may hide columns you do not use.",
    "Questions with a drop-down list take one answer: choose it from the list.",
    f"Questions that allow several answers: type them separated by a semicolon ({SEPARATOR}), exactly as listed "
    "on the Options sheet, e.g. 'Infant feeding; Parenting support'.",
    "For 'Other', write Other: and your own words, e.g. 'Other: weekend sessions for dads'.",
    "Figures: type a number only (no £ sign, no words). Leave blank if you do not know.",
    f"Wards: type ward names separated by {SEPARATOR}, or '{schema.WHOLE_LA}' if it covers every ward.",
    "Contact name and email are personal data: they are kept for follow-up but never shown in charts, "
    "presenter mode or exports.",
    "When it is filled in, load the file on the Survey ingestion page (or: python -m hubdash ingest FILE). "
    "Every problem is listed by row and column before anything is saved, and an import can be undone.",
]


def _allowed(q: Question) -> str:
    if q.options:
        return "\n".join(o.label for o in q.options)
    if q.code == "wards":
        return f"Ward names, or {schema.WHOLE_LA}"
    return ""


def _note(q: Question) -> str:
    lines = [f"Q{q.number}. {_KIND_TEXT[q.kind]}."]
    if q.kind == "multi":
        lines.append("Answers: " + f" {SEPARATOR} ".join(o.label for o in q.options) + ".")
        if "other" in q.codes:
            lines.append("For Other write: Other: your words.")
    elif q.kind == "single" and "other" in q.codes:
        lines.append("Choose from the list, or write: Other: your words.")
    if q.required:
        lines.append("Required.")
    if q.personal:
        lines.append("Personal data: never shown in charts, presenter mode or exports.")
    return "\n".join(lines)


def build_template(*, rows: int = TEMPLATE_ROWS) -> bytes:
    """The blank survey template as .xlsx bytes.

    Args:
        rows: How many rows of the Survey sheet carry drop-downs and number checks.
    """
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties({"title": "Family Hub services survey", "subject": "Services and interventions for families",
                       "comments": "Blank template from hubdash. One row per service or intervention."})
    head = wb.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#F2F5F9",
                          "font_color": "#1A1A1A", "border": 1, "border_color": "#BFBFBF", "font_size": 11})
    head_req = wb.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DCE8F5",
                              "font_color": "#1A1A1A", "border": 1, "border_color": "#0B5CAD", "font_size": 11})
    head_personal = wb.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#F2F2F2",
                                   "font_color": "#1A1A1A", "italic": True, "border": 1, "border_color": "#BFBFBF",
                                   "font_size": 11})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    text_cell = wb.add_format({"num_format": "@", "text_wrap": True, "valign": "top"})
    title = wb.add_format({"bold": True, "font_size": 16})
    bold = wb.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#F2F5F9", "border": 1})

    survey = wb.add_worksheet("Survey")
    guidance = wb.add_worksheet("Guidance")
    options = wb.add_worksheet("Options")

    # Options: one column per choice question; drop-downs refer to these ranges.
    ranges: dict[str, str] = {}
    choice_qs = [q for q in QUESTIONS if q.options]
    for j, q in enumerate(choice_qs):
        options.write(0, j, f"Q{q.number} {q.short}", bold)
        for i, o in enumerate(q.options, start=1):
            options.write_string(i, j, o.label)
        col = xl_col_to_name(j)
        ranges[q.code] = f"=Options!${col}$2:${col}${len(q.options) + 1}"
        options.set_column(j, j, max(22, min(48, max(len(o.label) for o in q.options) + 2)))
    options.freeze_panes(1, 0)

    for j, q in enumerate(QUESTIONS):
        fmt = head_personal if q.personal else (head_req if q.required else head)
        survey.write_string(0, j, q.text, fmt)
        survey.write_comment(0, j, _note(q), {"x_scale": 2.2, "y_scale": 2.0 if q.kind == "multi" else 1.2})
        width = 44 if q.kind in ("multi", "text") and q.code not in ("contact_email",) else 30
        survey.set_column(j, j, width, text_cell if q.kind != "number" else wrap)
        if q.kind == "single":
            other = "other" in q.codes
            survey.data_validation(1, j, rows, j, {
                "validate": "list", "source": ranges[q.code], "ignore_blank": True,
                "error_type": "warning" if other else "stop",
                "error_title": "Not in the list",
                "error_message": ("Choose from the list, or write Other: your words." if other else
                                  "Choose one of the answers in the list (see the Options sheet)."),
                "input_title": f"Q{q.number}: choose one"[:32],
                "input_message": ("Pick from the list." + (" For Other write: Other: your words." if other else ""))})
        elif q.kind == "number":
            survey.data_validation(1, j, rows, j, {
                "validate": "decimal", "criteria": ">=", "value": 0, "ignore_blank": True, "error_type": "stop",
                "error_title": "A number, please",
                "error_message": "Type a number of 0 or more, with no £ sign or words. Leave blank if not known.",
                "input_title": f"Q{q.number}: a number"[:32],
                "input_message": "A number only, e.g. 120. Leave blank if not known."})
        elif q.kind == "multi":
            survey.data_validation(1, j, rows, j, {
                "validate": "any", "input_title": f"Q{q.number}: any of these"[:32],
                "input_message": _input_message(q)})
    survey.set_row(0, 96)
    survey.freeze_panes(1, 1)
    survey.activate()

    guidance.set_column(0, 0, 6)
    guidance.set_column(1, 1, 52)
    guidance.set_column(2, 2, 34)
    guidance.set_column(3, 3, 46)
    guidance.set_column(4, 4, 60)
    guidance.write(0, 0, "How to fill in the Family Hub services survey", title)
    r = 2
    for i, line in enumerate(HOW_TO, start=1):
        guidance.write_string(r, 0, f"{i}.")
        guidance.merge_range(r, 1, r, 4, line, wrap)
        guidance.set_row(r, 32)
        r += 1
    r += 1
    for j, h in enumerate(["No.", "Question", "How to answer", "Allowed answers", "Why we ask"]):
        guidance.write_string(r, j, h, bold)
    for q in QUESTIONS:
        r += 1
        guidance.write_number(r, 0, q.number, wrap)
        guidance.write_string(r, 1, q.text + (" (required)" if q.required else ""), wrap)
        guidance.write_string(r, 2, _KIND_TEXT[q.kind], wrap)
        guidance.write_string(r, 3, _allowed(q), wrap)
        guidance.write_string(r, 4, PURPOSE[q.code], wrap)
        guidance.set_row(r, max(30, 15 * (len(q.options) + 1)))
    wb.close()
    return buf.getvalue()


def _input_message(q: Question) -> str:
    msg = f"Separate answers with '{SEPARATOR}'. See the Options sheet for the exact answers."
    if "other" in q.codes:
        msg += " For Other write: Other: your words."
    return msg[:255]


def write_template(path: str | Path) -> Path:
    """Write the blank template to `path` (e.g. survey-template.xlsx); returns the path."""
    p = Path(path)
    if p.parent and not p.parent.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(build_template())
    return p
