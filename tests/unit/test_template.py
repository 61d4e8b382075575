"""The blank survey template: exact question headings, drop-downs, notes, guidance, round trip."""

from __future__ import annotations

import io

import openpyxl
import pytest

from hubdash import schema
from hubdash.ingest import prepare_survey
from hubdash.template import PURPOSE, build_template, write_template
from tests.unit.survey_exports import SERVICES, canonical_rows


@pytest.fixture(scope="module")
def workbook() -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(build_template()))


def test_sheets_and_exact_question_headings(workbook: openpyxl.Workbook) -> None:
    assert workbook.sheetnames == ["Survey", "Guidance", "Options"]
    ws = workbook["Survey"]
    assert [c.value for c in ws[1]] == [q.text for q in schema.QUESTIONS]
    assert ws.max_row == 1  # blank: no example rows to import by mistake
    assert ws.freeze_panes == "B2"


def test_single_choice_questions_have_drop_downs_from_the_options_sheet(workbook: openpyxl.Workbook) -> None:
    ws, opts = workbook["Survey"], workbook["Options"]
    lists = {}
    for dv in ws.data_validations.dataValidation:
        if dv.type == "list":
            col = str(dv.sqref).split(":")[0].rstrip("0123456789")
            lists[col] = dv
    singles = [q for q in schema.QUESTIONS if q.kind == "single"]
    assert len(lists) == len(singles) == 7
    for q in singles:
        col = openpyxl.utils.get_column_letter(q.number)
        dv = lists[col]
        sheet, ref = dv.formula1.lstrip("=").split("!")
        values = [c.value for row in opts[ref.replace("$", "")] for c in row]
        assert sheet == "Options" and values == q.labels, q.code
        # Questions with "Other" accept typed text (a warning, not a block).
        assert (dv.errorStyle or "stop") == ("warning" if "other" in q.codes else "stop"), q.code  # stop is the default


def test_number_questions_accept_only_numbers(workbook: openpyxl.Workbook) -> None:
    checks = [dv for dv in workbook["Survey"].data_validations.dataValidation if dv.type == "decimal"]
    cols = sorted(str(dv.sqref).split(":")[0].rstrip("0123456789") for dv in checks)
    assert cols == sorted(openpyxl.utils.get_column_letter(q.number) for q in schema.QUESTIONS if q.kind == "number")


def test_multi_select_headings_carry_a_note_listing_the_options(workbook: openpyxl.Workbook) -> None:
    ws = workbook["Survey"]
    for q in schema.QUESTIONS:
        note = ws.cell(row=1, column=q.number).comment
        assert note is not None, q.code
        if q.kind == "multi":
            for label in q.labels:
                assert label in note.text, (q.code, label)
            assert "';'" in note.text
        if q.personal:
            assert "Personal data" in note.text


def test_guidance_explains_every_question(workbook: openpyxl.Workbook) -> None:
    ws = workbook["Guidance"]
    text = "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)
    assert "semicolon (;)" in text and "Other: " in text
    for q in schema.QUESTIONS:
        assert q.text in text and PURPOSE[q.code] in text
    assert set(PURPOSE) == {q.code for q in schema.QUESTIONS}


def test_the_options_sheet_lists_every_answer(workbook: openpyxl.Workbook) -> None:
    ws = workbook["Options"]
    cols = {ws.cell(row=1, column=j).value: [c.value for c in ws[openpyxl.utils.get_column_letter(j)][1:]
                                               if c.value is not None] for j in range(1, ws.max_column + 1)}
    for q in schema.QUESTIONS:
        if q.options:
            assert cols[f"Q{q.number} {q.short}"] == q.labels


def test_a_filled_in_template_imports_cleanly() -> None:
    wb = openpyxl.load_workbook(io.BytesIO(build_template()))
    _, rows = canonical_rows()
    for r in rows:
        wb["Survey"].append(r)
    for row in wb["Survey"].iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    buf = io.BytesIO()
    wb.save(buf)
    s = prepare_survey(buf.getvalue(), "filled-template.xlsx")
    assert s.detected_format == "template_xlsx" and s.sheet == "Survey"
    assert (s.rows_read, s.rows_accepted, s.rows_rejected) == (len(SERVICES), len(SERVICES), 0)
    assert set(s.problems["code"]) == {"formula_text"}  # only the notes on '=' and '@' text
    assert s.unknown.empty
    for got, want in zip(s.records, SERVICES, strict=True):
        for k, v in want.items():
            assert (sorted(got[k]) if isinstance(v, list) else got[k]) == (sorted(v) if isinstance(v, list) else v), k


def test_an_empty_template_is_not_importable() -> None:
    s = prepare_survey(build_template(), "blank.xlsx")
    assert s.fatal == "blank.xlsx has headings but no rows of answers: there is nothing to import."


def test_write_template(tmp_path) -> None:  # noqa: ANN001
    path = write_template(tmp_path / "out" / "survey.xlsx")
    assert path.read_bytes()[:2] == b"PK"
