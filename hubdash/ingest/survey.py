"""From a file's bytes to service records and a problems table: the whole reading pipeline.

`prepare_survey` never writes anything: it reads the file, finds the headings, decides what every
column holds (using any confirmed mapping), turns every row into a record (the shape
`services.insert_services` takes) and lists every problem by file, row, column and value with
what to do. Rows are only rejected when they cannot be stored (no service name); every other
problem is reported and the row imported, so the Data quality page can chase it. The import
itself (one transaction, undoable) is `hubdash.imports`.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from rapidfuzz import fuzz, utils

from hubdash import schema
from hubdash.errors import IngestError
from hubdash.ingest.answers import (
    KEEP_OTHER,
    UNTICKED,
    AnswerMatcher,
    Parsed,
    check_email,
    is_blank,
    is_excel_error,
    parse_languages,
    parse_number,
    parse_postcodes,
    parse_wards,
)
from hubdash.ingest.columns import (
    EXTRA,
    FORMAT_LABELS,
    Column,
    Layout,
    combined_headers,
    detect_format,
    locate_header,
    plan_columns,
)
from hubdash.ingest.mapping import Mapping
from hubdash.ingest.read import Grid, check_size, read_grid
from hubdash.schema import QUESTION_BY_CODE, Question, normalise

#: Answers longer than this are cut (a pasted document is not a survey answer).
MAX_TEXT = 5000
#: Characters that make a spreadsheet run a cell as a formula (see `safety.csv_safe`).
_FORMULA = ("=", "+", "@")

PROBLEM_COLUMNS = ["file", "row", "column", "cell", "value", "problem", "what_to_do", "severity", "code",
                   "question"]
SEVERITIES = ("error", "warning", "info")
_HIDDEN = "(hidden: personal data)"


@dataclass
class Survey:
    """A survey file read and checked, ready to import (or to show what is wrong).

    Attributes:
        file_name: The file's name as uploaded.
        sha256: Hex digest of the file's bytes (re-importing the same content is refused).
        layout: Headings, what each column holds, the detected format.
        records: One record per accepted row (see `hubdash.services`).
        problems: Tidy table, one row per problem (`PROBLEM_COLUMNS`), errors first.
        unknown: Answers outside the allowed options: question, answer, count, rows, suggestion.
        rows_read / rows_accepted / rows_rejected: Counts of data rows.
        fatal: Why nothing can be imported (e.g. no column for the service name), or None.
        mapping: The column and answer choices in force (confirmed plus any accepted suggestions).
    """

    file_name: str
    sha256: str
    size: int
    kind: str
    layout: Layout
    records: list[dict[str, Any]]
    problems: pd.DataFrame
    unknown: pd.DataFrame
    rows_read: int
    rows_accepted: int
    rows_rejected: int
    fatal: str | None
    mapping: Mapping
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    extra_headers: list[str] = field(default_factory=list)
    samples: dict[str, list[str]] = field(default_factory=dict)

    def undecided(self) -> pd.DataFrame:
        """Answers outside the options that nobody has mapped yet (kept as Other or text for now)."""
        return self.unknown[self.unknown["decision"].isna()]

    @property
    def detected_format(self) -> str:
        return self.layout.detected_format

    @property
    def format_label(self) -> str:
        return FORMAT_LABELS.get(self.layout.detected_format, self.layout.detected_format)

    def describe(self) -> str:
        """One line: "survey.csv (Google Forms (CSV export)): 12 rows read, 11 accepted, 1 rejected"."""
        return (f"{self.file_name} ({self.format_label}): {self.rows_read} rows read, {self.rows_accepted} accepted, "
                f"{self.rows_rejected} rejected")

    def counts(self) -> dict[str, int]:
        """How many problems of each severity."""
        c = self.problems["severity"].value_counts() if len(self.problems) else pd.Series(dtype=int)
        return {s: int(c.get(s, 0)) for s in SEVERITIES}


# --- problem wording ------------------------------------------------------------------------------------

_TEXT: dict[str, tuple[str, str, str]] = {
    # code: (severity, problem, what to do). {q} is "Q6 (format)", {v} the value, {x} an extra detail.
    "no_name": ("error", "No service name (question 1)",
                "Add the name of the service or intervention and import the file again. This row was not imported."),
    "totals_row": ("error", "A totals row, not a service", "Nothing to do: this row was not imported."),
    "other_sheets": ("warning", "Other sheets also look like survey answers: only this sheet was read",
                     "Import each of the other sheets ({x}) as its own file, or copy them into one sheet."),
    "no_answers": ("error", "No survey answers in this row",
                   "Nothing to do if this was an empty response. This row was not imported."),
    "unknown_answer": ("warning", "Not one of the answers to {q}",
                       "Choose the answer it means in the answer-mapping step, or keep it as Other."),
    "unknown_answer_no_other": ("warning", "Not one of the answers to {q}, which has no Other",
                                "Choose the answer it means in the answer-mapping step. Until then it is kept as "
                                "text and not counted."),
    "mapped_answer": ("info", "Read as one of the survey's answers, as chosen in the answer mapping",
                      "Nothing to do."),
    "kept_other": ("info", "Kept as Other, as chosen in the answer mapping", "Nothing to do."),
    "kept_text": ("info", "Kept as text, as chosen in the answer mapping", "Nothing to do."),
    "several_answers": ("warning", "{q} takes one answer; this cell has several. The first was kept",
                        "Check which answer is right and correct it in the file or with 'Add or edit a service'."),
    "approximate": ("info", "Approximate figure: stored as {x}", "Nothing to do, unless you have the exact figure."),
    "number_range": ("warning", "A range, not one figure: not stored as a number (text kept)",
                     "Replace it with one figure, e.g. the middle of the range."),
    "not_a_number": ("warning", "Not a number: not stored as a number (text kept)",
                     "Replace it with a figure, or leave it blank if it is not known."),
    "negative_number": ("warning", "A negative figure: not stored as a number (text kept)",
                        "Check the figure: it cannot be below zero."),
    "bad_postcode": ("warning", "Not a full UK postcode", "Check it: a partial postcode cannot be placed on a map."),
    "bad_email": ("warning", "Not an email address", "Check the contact email."),
    "missing_required": ("warning", "No answer to {q}, which the survey requires",
                         "Ask the provider. Until then this service is missing from the views that need it."),
    "formula_text": ("info", "Starts with a formula character: stored as text",
                     "Nothing to do: every export neutralises it so a spreadsheet will not run it."),
    "unexpected_tick": ("warning", "Unexpected value in a one-column-per-option column: treated as chosen",
                        "Check the answer; the column should hold the answer's label, 1 or Yes."),
    "excel_error": ("warning", "A spreadsheet error value: treated as blank",
                    "Fix the formula in the file, or type the answer."),
    "long_text": ("warning", "A very long answer: cut to {x} characters", "Shorten it in the file if it matters."),
    "column_kept": ("info", "Column not matched to a survey question: kept aside, not used in the analysis",
                    "If it answers a survey question, choose which in the column-mapping step."),
    "column_suggested_aside": ("warning", "Column not matched exactly; it looks like {q}. Kept aside for now",
                               "Confirm the match in the column-mapping step (or a --mapping file)."),
    "column_suggested": ("info", "Matched to {q} by a suggested match", "Check it in the column-mapping step."),
    "column_metadata": ("info", "Survey-tool details (not about the service): not stored",
                        "Nothing to do. Map the column if you do need it."),
    "column_duplicate": ("warning", "A second column for {q}: kept aside",
                         "Remove the duplicate, or map it to the right question."),
    "missing_question": ("warning", "No column for {q}, which the survey requires",
                         "Map a column to it in the column-mapping step, or add the question to your survey."),
}


def _qlabel(code: str | None) -> str:
    if not code:
        return ""
    q = QUESTION_BY_CODE[code]
    return f"Q{q.number} ({q.short})"


class _Problems:
    def __init__(self, file_name: str) -> None:
        self.file = file_name
        self.rows: list[tuple] = []

    def add(self, code: str, *, row: int, col: Column | None, value: str | None = None,
            question: str | None = None, extra: str = "") -> None:
        severity, problem, todo = _TEXT[code]
        q = question or (col.target.question if col else None)
        if q and QUESTION_BY_CODE[q].personal and value:
            value = _HIDDEN
        column = col.header if col else ""
        cell = f"{col.letter}{row}" if col else ""
        self.rows.append((self.file, row, column, cell, value, problem.format(q=_qlabel(q), x=extra),
                          todo.format(q=_qlabel(q), x=extra), severity, code, q))

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame(self.rows, columns=PROBLEM_COLUMNS)
        order = {s: i for i, s in enumerate(SEVERITIES)}
        df["row"] = df["row"].astype("Int64")
        return df.sort_values(["severity", "row"], key=lambda s: s.map(order) if s.name == "severity" else s,
                              kind="stable").reset_index(drop=True)


# --- the pipeline --------------------------------------------------------------------------------------


def prepare_survey(
    data: bytes,
    file_name: str,
    *,
    mapping: Mapping | None = None,
    accept_suggestions: bool = False,
) -> Survey:
    """Read and check a survey export without writing anything.

    Args:
        data: The file's bytes.
        file_name: Its name, as the user knows it (used in every message).
        mapping: Confirmed column and answer choices (e.g. from `--mapping FILE.json`).
        accept_suggestions: Apply suggested column matches (the page pre-selects them for a
            person to confirm); the command line does not.

    Returns:
        A `Survey`; check `fatal` before importing.

    Raises:
        IngestError: the file cannot be read at all (empty, damaged, binary, too large), with a
            one-line reason that names the file.
    """
    grid = read_grid(data, file_name)
    survey = _prepare_grid(grid, file_name, mapping or Mapping(), accept_suggestions=accept_suggestions)
    survey.sha256 = hashlib.sha256(data).hexdigest()
    survey.size = len(data)
    return survey


def _prepare_grid(grid: Grid, file_name: str, mapping: Mapping, *, accept_suggestions: bool) -> Survey:
    grid, other_sheets = _choose_sheet(grid)
    header_row, sub_row = locate_header(grid)
    headers = combined_headers(grid, header_row, sub_row)
    columns, duplicates = plan_columns(headers, kind=grid.kind, column_map=mapping.columns,
                                       accept_suggestions=accept_suggestions)
    fmt = detect_format(grid, columns, sub_header=sub_row is not None)
    start = (sub_row if sub_row is not None else header_row) + 1
    layout = Layout(grid.row_numbers[header_row], columns, fmt,
                    grid.row_numbers[sub_row] if sub_row is not None else None, start, duplicates)
    effective = Mapping({**{c.header: c.target.encode() for c in columns if c.how in ("mapping", "suggested")}},
                        {q: dict(v) for q, v in mapping.values.items()})
    survey = _parse(grid, layout, effective, file_name)
    if other_sheets:
        survey.problems = pd.concat([_sheet_note(file_name, layout.header_row, other_sheets), survey.problems],
                                    ignore_index=True)
    survey.encoding, survey.delimiter, survey.sheet = grid.encoding, grid.delimiter, grid.sheet
    return survey


def _sheet_note(file_name: str, row: int, sheets: list[str]) -> pd.DataFrame:
    p = _Problems(file_name)
    p.add("other_sheets", row=row, col=None, extra=", ".join(f"'{s}'" for s in sheets))
    return p.frame()


def prepare_record(answers: dict[str, Any], *, other: dict[str, str] | None = None,
                   name: str = "the form") -> tuple[dict[str, Any] | None, pd.DataFrame]:
    """Check one service typed into a form with exactly the rules a file gets; (record or None, problems).

    Args:
        answers: Question code -> value: option codes for choice questions (a code, or a list),
            numbers, lists of text for wards/postcodes/languages, text otherwise.
        other: Question code -> the text given for "Other".
        name: What the problems table calls the source.

    Returns:
        The record (None if it cannot be stored, e.g. no name) and the problems found.
    """
    other = other or {}
    header, row = [], []
    for q in schema.QUESTIONS:
        v = answers.get(q.code)
        if q.options:
            codes = [v] if isinstance(v, str) else list(v or [])
            labels = [f"Other: {other[q.code]}" if c == "other" and other.get(q.code) else q.label_of(c)
                      for c in codes]
            text = "; ".join(labels)
        elif isinstance(v, list | tuple):
            text = "; ".join(str(x) for x in v if x)
        elif isinstance(v, float):
            text = format(v, "f").rstrip("0").rstrip(".") if v == v else ""
        else:
            text = "" if v is None else str(v)
        header.append(q.text)
        row.append(text.strip() or None)
    grid = Grid("csv", [header, row], [1, 2])
    survey = _prepare_grid(grid, name, Mapping(), accept_suggestions=False)
    problems = survey.problems[~survey.problems["code"].isin(["column_kept", "column_metadata"])]
    problems = problems.assign(row=pd.array([None] * len(problems), dtype="Int64"), cell="")
    record = survey.records[0] if survey.records else None
    if record is not None:
        record.pop("source_file", None)
        record.pop("source_row", None)
    return record, problems.reset_index(drop=True)


def load_survey(path: str | Path, *, mapping: Mapping | None = None) -> Survey:
    """`prepare_survey` for a file on disk, refusing (IngestError) anything that cannot be imported.

    The size limit is checked before the file is read.
    """
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as e:
        raise IngestError(f"Cannot read {p}: {e.strerror or e}.", title="File not found") from e
    if p.is_dir():
        raise IngestError(f"{p} is a folder, not a survey file.", title="File not found")
    check_size(size, p.name)
    survey = prepare_survey(p.read_bytes(), p.name, mapping=mapping)
    if survey.fatal:
        raise IngestError(survey.fatal)
    return survey


def _choose_sheet(grid: Grid) -> tuple[Grid, list[str]]:
    """For a workbook, the sheet whose headings match the survey best (skipping the template's
    Guidance and Options sheets), and the names of other sheets that also hold survey answers."""
    if grid.kind != "xlsx" or len(grid.sheets) < 2:
        return grid, []
    scored = []
    for title, cells, numbers in grid.sheets:
        if not cells:
            continue
        g = Grid("xlsx", cells, numbers, sheet=title)
        h, _ = locate_header(g)
        score = sum(1 for c in plan_columns(combined_headers(g, h, None), kind="xlsx")[0] if c.how == "exact")
        scored.append((score, len(cells) - h - 1, g))
    if not scored:
        return grid, []
    best = max(scored, key=lambda t: t[0])
    # Another sheet with several matched headings AND rows under them is a second set of answers
    # (one sheet per locality, say); the Guidance sheet lists the questions but has no such rows.
    others = [g.sheet or "" for score, rows, g in scored
              if g is not best[2] and score >= 3 and rows > 0 and g.sheet not in ("Guidance", "Options")]
    return best[2], others


def _parse(grid: Grid, layout: Layout, mapping: Mapping, file_name: str) -> Survey:
    problems = _Problems(file_name)
    cols = layout.columns
    rows = grid.cells[layout.data_start:]
    numbers = grid.row_numbers[layout.data_start:]
    header_row = layout.header_row

    def column_values(c: Column) -> list[str | None]:
        i = c.index
        return [r[i] if i < len(r) else None for r in rows]

    samples: dict[str, list[str]] = {}
    for c in cols:
        if c.how not in ("exact", "short name"):
            seen: dict[str, None] = {}
            for v in column_values(c):
                if v is not None:
                    seen[v] = None
                    if len(seen) == 3:
                        break
            samples[c.header] = list(seen)
    # Column-level findings, reported at the heading row.
    for c in cols:
        if c.how == "metadata":
            problems.add("column_metadata", row=header_row, col=c)
        elif c.how == "suggested":
            problems.add("column_suggested", row=header_row, col=c, question=c.target.question)
        elif c.how == "duplicate":
            problems.add("column_duplicate", row=header_row, col=c, question=c.duplicate_of)
        elif c.how == "unmatched" and c.suggestion is not None:
            problems.add("column_suggested_aside", row=header_row, col=c, question=c.suggestion.question)
        elif c.how == "unmatched" and any(v is not None for v in column_values(c)):
            problems.add("column_kept", row=header_row, col=c)
    by_question: dict[str, list[Column]] = defaultdict(list)
    for c in cols:
        if c.target.question:
            by_question[c.target.question].append(c)
    for q in schema.QUESTIONS:
        if q.required and q.code not in by_question and q.code != "name":
            problems.add("missing_question", row=header_row, col=None, question=q.code)

    n = len(rows)
    recs: list[dict[str, Any]] = [{"other_answers": {}, "extra": {}} for _ in range(n)]
    answered = [False] * n
    # Rows that hold nothing but survey-tool details are empty responses, not services.
    for c in cols:
        if c.how == "metadata":
            continue
        for i, v in enumerate(column_values(c)):
            if v is not None:
                answered[i] = True
    for c in cols:
        if c.target.aside == EXTRA:
            for i, v in enumerate(column_values(c)):
                if v is not None:
                    recs[i]["extra"][c.header] = v

    unknown: dict[tuple[str, str], list[int]] = defaultdict(list)
    for q in schema.QUESTIONS:
        qcols = by_question.get(q.code, [])
        if not qcols:
            continue
        main = [c for c in qcols if c.target.answer is None and not c.target.other]
        ticks = [c for c in qcols if c.target.answer is not None]
        others = [c for c in qcols if c.target.other]
        matcher = AnswerMatcher(q, mapping.values.get(q.code)) if q.options else None
        main_col = main[0] if main else None
        main_vals = column_values(main_col) if main_col else [None] * n
        if main_col is not None:
            for i, raw in enumerate(main_vals):
                if raw is not None and raw[0] == "#" and is_excel_error(raw):
                    problems.add("excel_error", row=numbers[i], col=main_col, value=raw)
                    main_vals[i] = None
        code = q.code
        if q.kind == "text":
            for i, raw in enumerate(main_vals):
                if raw is None:
                    recs[i][code] = None
                else:
                    _text_answer(q, raw, recs[i], problems, numbers[i], main_col)
            continue
        if q.kind in ("number", "wards", "postcodes", "languages"):
            fn = {"number": parse_number, "wards": parse_wards, "postcodes": parse_postcodes,
                  "languages": parse_languages}[q.kind]
            cache: dict[str | None, Parsed] = {}
            for i, raw in enumerate(main_vals):
                p = cache.get(raw)
                if p is None:
                    p = cache[raw] = fn(raw)
                recs[i][code] = p.number if q.kind == "number" else list(p.codes)
                if p.notes or p.other_text:
                    _notes(p, problems, numbers[i], main_col, q, recs[i], unknown)
            continue
        assert matcher is not None
        tick_vals = [(c, column_values(c)) for c in ticks]
        other_vals = [(c, column_values(c)) for c in others]
        parse = matcher.single if q.kind == "single" else matcher.multi
        codes_set = frozenset(q.codes)
        empty = Parsed()
        for i in range(n):
            row = numbers[i]
            raw = main_vals[i]
            p = parse(raw) if raw is not None else empty
            if p.notes:
                _notes(p, problems, row, main_col, q, recs[i], unknown)
            if not tick_vals and not other_vals:  # the common case, kept fast
                recs[i][code] = (p.codes[0] if p.codes else None) if q.kind == "single" else list(p.codes)
                if p.other_text:
                    recs[i]["other_answers"][code] = p.other_text
                continue
            codes = list(p.codes)
            texts = [p.other_text] if p.other_text else []
            for c, vals in tick_vals:
                v = vals[i]
                if v is None:
                    continue
                answer = str(c.target.answer)
                # A column for an answer the survey does not list: its heading names the answer.
                t = matcher.ticked(v, answer) if answer in codes_set else _untold(matcher, v, answer)
                _notes(t, problems, row, c, q, recs[i], unknown)
                codes.extend(t.codes)
                if t.other_text:
                    texts.append(t.other_text)
            for c, vals in other_vals:
                v = vals[i]
                if v is None:
                    continue
                t = matcher.ticked(v, "other")
                if q.kind == "single" and codes and codes[0] != "other":
                    texts.extend([t.other_text] if t.other_text else [])
                    problems.add("several_answers", row=row, col=c, value=v, question=q.code)
                else:
                    codes.extend(t.codes if "other" in codes_set else [])
                    if t.other_text:
                        texts.append(t.other_text)
            codes = list(dict.fromkeys(codes))
            if q.kind == "single":
                if len(codes) > 1:
                    problems.add("several_answers", row=row, col=main[0] if main else qcols[0],
                                 value="; ".join(q.label_of(x) for x in codes), question=q.code)
                    texts.extend(q.label_of(x) for x in codes[1:])
                recs[i][q.code] = codes[0] if codes else None
            else:
                recs[i][q.code] = codes
            if texts:
                recs[i]["other_answers"][q.code] = "; ".join(dict.fromkeys(texts))

    records: list[dict[str, Any]] = []
    rejected = 0
    read = 0
    name_col = next((c for c in by_question.get("name", []) if c.target.answer is None), None)
    for i in range(n):
        row = numbers[i]
        rec = recs[i]
        read += 1
        if not answered[i]:
            problems.add("no_answers", row=row, col=None)
            rejected += 1
            continue
        if not rec.get("name"):
            if name_col is not None:
                problems.add("no_name", row=row, col=name_col, question="name")
            rejected += 1
            continue
        if normalise(rec["name"]) in _TOTAL_ROWS:
            problems.add("totals_row", row=row, col=name_col, value=rec["name"], question="name")
            rejected += 1
            continue
        for q in schema.QUESTIONS:
            if q.required and q.code != "name" and q.code in by_question and not rec.get(q.code):
                problems.add("missing_required", row=row, col=by_question[q.code][0], question=q.code)
        rec["source_file"] = file_name
        rec["source_row"] = row
        records.append(rec)

    fatal = _fatal(file_name, layout, by_question, read, len(records))
    return Survey(
        file_name=file_name, sha256="", size=0, kind=grid.kind, layout=layout, records=records,
        problems=problems.frame(), unknown=_unknown_table(unknown, mapping), rows_read=read,
        rows_accepted=len(records), rows_rejected=rejected, fatal=fatal, mapping=mapping,
        extra_headers=[c.header for c in cols if c.target.aside == EXTRA], samples=samples)


def _untold(matcher: AnswerMatcher, value: str, answer: str) -> Parsed:
    """A ticked cell in a column whose heading names an answer the survey does not list."""
    if is_blank(value) or normalise(value) in UNTICKED:
        return Parsed()
    return matcher.multi(answer) if matcher.q.is_multi else matcher.single(answer)


def _text_answer(q: Question, raw: str | None, rec: dict, problems: _Problems, row: int, col: Column | None) -> None:
    if raw is None or not any(ch.isalnum() for ch in raw):
        rec[q.code] = None
        return
    value = raw
    if len(value) > MAX_TEXT:
        problems.add("long_text", row=row, col=col, value=value[:60] + "…", question=q.code, extra=f"{MAX_TEXT:,}")
        value = value[:MAX_TEXT]
    if value.startswith(_FORMULA) or (value.startswith("-") and len(value) > 1 and not value[1].isspace()):
        problems.add("formula_text", row=row, col=col, value=value, question=q.code)
    if q.code == "contact_email":
        for code, text in check_email(value):
            problems.add(code, row=row, col=col, value=text, question=q.code)
    rec[q.code] = value


def _notes(p: Parsed, problems: _Problems, row: int, col: Column | None, q: Question, rec: dict,
           unknown: dict[tuple[str, str], list[int]]) -> None:
    for code, detail in p.notes:
        if code in _ANSWER_NOTES:
            unknown[(q.code, detail)].append(row)
        if code == "unknown_answer":
            code = "unknown_answer" if "other" in q.codes else "unknown_answer_no_other"
        extra = f"{p.number:,.0f}" if code == "approximate" and p.number is not None else ""
        problems.add(code, row=row, col=col, value=detail, question=q.code, extra=extra)
    if q.kind == "number" and p.other_text:
        rec["other_answers"][q.code] = p.other_text


_TOTAL_ROWS = frozenset({"total", "totals", "grandtotal", "subtotal", "sum", "count"})
_ANSWER_NOTES = frozenset({"unknown_answer", "mapped_answer", "kept_other", "kept_text"})
ANSWER_COLUMNS = ["question", "question_text", "answer", "count", "rows", "suggestion", "decision"]


def _unknown_table(unknown: dict[tuple[str, str], list[int]], mapping: Mapping) -> pd.DataFrame:
    """Answers outside the options (and those already mapped): where they are and what was decided."""
    decided = {q: {normalise(a): c for a, c in v.items()} for q, v in mapping.values.items()}
    rows = []
    for (qcode, answer), where in unknown.items():
        q = QUESTION_BY_CODE[qcode]
        rows.append({"question": qcode, "question_text": f"Q{q.number} {q.text}", "answer": answer,
                     "count": len(where), "rows": compact_rows(where), "suggestion": suggest_option(q, answer),
                     "decision": decided.get(qcode, {}).get(normalise(answer))})
    df = pd.DataFrame(rows, columns=ANSWER_COLUMNS)
    return df.sort_values(["question", "count"], ascending=[True, False], kind="stable").reset_index(drop=True)


def suggest_option(q: Question, answer: str) -> str | None:
    """The option an unknown answer most likely means (a person confirms it), or None.

    Compared with each option's label, its short form and its code, so "Drop in" -> drop_in and
    "Universal services" -> universal; nothing is suggested when two options are about as close
    ("Group": small or medium?), or for "Other".
    E.g. `suggest_option(question("format"), "one to one")` == `"one_to_one"`.
    """
    best: dict[str, float] = {}
    for o in q.options:
        if o.code == "other":
            continue
        texts = [o.label, o.code.replace("_", " ")] + [o.label.split(sep, 1)[0] for sep in (" - ", " (")
                                                      if sep in o.label]
        for text in texts:
            score = fuzz.WRatio(answer, text, processor=utils.default_process)
            best[o.code] = max(best.get(o.code, 0.0), score)
    ranked = sorted(best.items(), key=lambda kv: -kv[1])
    if not ranked or ranked[0][1] < 86:
        return None
    if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < 4:
        return None
    return ranked[0][0]


def compact_rows(rows: list[int]) -> str:
    """Row numbers as ranges: [2, 3, 4, 7] -> "2-4, 7"."""
    nums = sorted(set(int(r) for r in rows))
    out: list[str] = []
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out.append(str(nums[i]) if i == j else f"{nums[i]}-{nums[j]}")
        i = j + 1
    return ", ".join(out)


def _fatal(name: str, layout: Layout, by_question: dict[str, list[Column]], read: int, accepted: int) -> str | None:
    if not any(c.target.answer is None and not c.target.other for c in by_question.get("name", [])):
        matched = sum(1 for c in layout.columns if c.target.question)
        heads = ", ".join(f'"{c.header}"' for c in layout.columns[:6]) + ("…" if len(layout.columns) > 6 else "")
        if matched == 0:
            return (f"{name} does not look like a survey export: none of its {len(layout.columns)} column headings "
                    f"matches a survey question (it has {heads}). Use the blank survey template, or map its columns "
                    "to the questions (column-mapping step, or --mapping FILE.json).")
        return (f"{name} has no column for question 1, \"{schema.question('name').text}\", so its rows cannot be "
                "told apart. Map the column that holds the service name (column-mapping step, or --mapping "
                "FILE.json), or add that column.")
    if read == 0:
        return f"{name} has headings but no rows of answers: there is nothing to import."
    if accepted == 0:
        return f"{name}: none of its {read} rows can be imported (none has a service name). See the problems list."
    return None


def problems_csv(problems: pd.DataFrame) -> bytes:
    """The problems table as CSV bytes for a download: UTF-8 with a BOM (so Excel shows £ and accents),
    formula-like text neutralised (`safety.csv_safe`)."""
    import csv
    import io

    from hubdash.safety import csv_safe

    cols = ["file", "row", "column", "cell", "value", "problem", "what_to_do", "severity"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(cols)
    for r in problems[cols].itertuples(index=False):
        w.writerow(["" if v is None or (not isinstance(v, str) and pd.isna(v)) else csv_safe(str(v)) for v in r])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def records_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Records as a service frame (the shape `services.service_frame` returns), for previews.

    List answers are tuples of codes in survey order; `whole_la` is set from question 13.
    """
    from hubdash.services import LIST_COLUMNS, SCALAR_COLUMNS, service_frame_rows

    rows = []
    for i, r in enumerate(records):
        wards = [w for w in r.get("wards") or []]
        whole = schema.WHOLE_LA in wards
        row = {"service_id": i + 1, **{c: r.get(c) for c in SCALAR_COLUMNS},
               **{c: list(r.get(c) or []) for c in LIST_COLUMNS}}
        row["wards"] = [w for w in wards if w != schema.WHOLE_LA]
        row["whole_la"] = whole
        row["source_row"] = r.get("source_row")
        rows.append(row)
    cols = ["service_id", *SCALAR_COLUMNS, *LIST_COLUMNS, "whole_la", "source_row"]
    return service_frame_rows(pd.DataFrame(rows, columns=cols))


__all__ = ["Survey", "prepare_survey", "prepare_record", "problems_csv", "load_survey", "records_frame", "compact_rows", "suggest_option",
           "PROBLEM_COLUMNS", "KEEP_OTHER"]
