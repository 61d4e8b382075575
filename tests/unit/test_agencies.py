"""The contacted-agencies list: tolerant reading, checks, one-transaction replace, round trips."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest

from hubdash.agencies import (
    agencies_csv,
    agencies_frame,
    agencies_table,
    parse_date,
    parse_responded,
    read_agencies,
    replace_agencies,
    validate_table,
)
from hubdash.errors import IngestError
from hubdash.store import Store
from tests.conftest import record

MESSY = ("Contacted agencies - autumn round\n"   # a title row above the headings
         "Organisation Name,Type,Areas,Date Contacted,Returned?,Comments\n"
         "Harbour Church,Voluntary,Parenting support; Infant feeding,01/09/2025,Yes,\n"
         "Kestlemouth NHS Trust,NHS,Perinatal mental health and parent-infant relationships,2025-09-03,no,chased\n"
         "Harbour church,,Home learning environment and early language,4 Sept 2025,,duplicate line\n"
         ",Council,,,,orphan note\n"
         "=cmd|' /C calc'!A0,Sports club,Football,31/02/2025,maybe,\n"
         "Bright Tots,,,,,\n")


def test_messy_list_reads_with_problems_by_row() -> None:
    a = read_agencies(MESSY.encode("cp1252"), "agencies.csv")
    f = a.frame.set_index("organisation")
    assert list(f.index) == ["Harbour Church", "Kestlemouth NHS Trust", "=cmd|' /C calc'!A0", "Bright Tots"]
    church = f.loc["Harbour Church"]
    assert church["sector"] == "vcs"
    assert church["service_areas"] == ["parenting", "infant_feeding", "hle"]  # merged with row 5
    assert church["contacted_on"] == dt.date(2025, 9, 1) and bool(church["responded"]) is True
    nhs = f.loc["Kestlemouth NHS Trust"]
    assert (nhs["sector"], nhs["responded"], nhs["notes"]) == ("nhs", False, "chased")
    p = a.problems
    assert p.loc[p["severity"] == "error", "row"].tolist() == [6]  # a note without an organisation
    by_row = {(int(r.row), r.column): r.problem for r in p.itertuples()}
    assert by_row[(5, "Organisation Name")].startswith("Listed twice")
    assert by_row[(7, "Type")] == "Not one of the survey's sectors"
    assert by_row[(7, "Areas")] == "Not one of the Family Hub service areas"
    assert by_row[(7, "Date Contacted")] == "Not a date"
    assert by_row[(7, "Returned?")] == "Not yes or no"
    assert a.errors == 1


def test_blank_responded_is_worked_out_from_the_survey_returns() -> None:
    with Store(":memory:") as s:
        from hubdash.services import insert_services

        with s.write() as cur:
            insert_services(cur, [record("Tots group", organisation="BRIGHT TOTS")])
        a = read_agencies(MESSY.encode(), "agencies.csv", store=s)
        f = a.frame.set_index("organisation")
        assert bool(f.loc["Bright Tots", "responded"]) is True  # it sent a survey return
        assert f.loc["=cmd|' /C calc'!A0", "responded"] is False or not f.loc["=cmd|' /C calc'!A0", "responded"]
        assert "worked out from the survey returns" in " ".join(a.problems["problem"])


def test_replace_is_one_transaction_and_reads_back(tmp_path) -> None:  # noqa: ANN001
    with Store(tmp_path / "a.duckdb") as s:
        a = read_agencies(MESSY.encode(), "agencies.csv")
        version = s.data_version()
        assert replace_agencies(s, a.frame) == 4
        assert s.data_version() == version + 1
        assert s.scalar("SELECT count(*) FROM agencies") == 4
        assert s.rows("SELECT area FROM agency_areas JOIN agencies USING (agency_id) "
                      "WHERE organisation = 'Harbour Church' ORDER BY area") == [("hle",), ("infant_feeding",),
                                                                                 ("parenting",)]
        back = agencies_frame(s)
        assert back["service_areas"].tolist()[0] == ["infant_feeding", "parenting", "hle"]  # survey order
        # Replacing again replaces, it does not add.
        replace_agencies(s, a.frame.head(1))
        assert s.scalar("SELECT count(*) FROM agencies") == 1
        assert s.scalar("SELECT count(*) FROM agency_areas") == 3


def test_a_failed_replace_changes_nothing(demo_store: Store) -> None:
    before = demo_store.rows("SELECT * FROM agencies ORDER BY agency_id")
    bad = read_agencies(MESSY.encode(), "agencies.csv").frame
    bad.loc[0, "contacted_on"] = "not a date at all"  # survives the checks only by tampering
    bad["responded"] = bad["responded"].astype(object)
    bad.loc[1, "responded"] = "perhaps"
    with pytest.raises(Exception):  # noqa: B017 - any failure inside the transaction
        replace_agencies(demo_store, bad)
    assert demo_store.rows("SELECT * FROM agencies ORDER BY agency_id") == before


def test_page_table_round_trip_on_the_demo(demo_store: Store) -> None:
    before = agencies_frame(demo_store).drop(columns=["agency_id"])
    table = agencies_table(demo_store)
    assert list(table.columns) == ["Organisation", "Sector", "Service areas", "Date contacted", "Responded", "Notes"]
    checked = validate_table(table, store=demo_store)
    assert checked.errors == 0
    replace_agencies(demo_store, checked.frame)
    after = agencies_frame(demo_store).drop(columns=["agency_id"])
    assert after.astype(str).to_dict("records") == before.astype(str).to_dict("records")


def test_edited_table_rows_are_checked() -> None:
    import pandas as pd

    table = pd.DataFrame({"Organisation": ["A", None, "B"], "Sector": ["Local authority", None, "Bakery"],
                          "Service areas": [["Infant feeding"], [], []],
                          "Date contacted": [dt.date(2025, 9, 1), None, None], "Responded": [True, None, False],
                          "Notes": [None, "no name", None]})
    a = validate_table(table)
    assert a.frame["organisation"].tolist() == ["A", "B"]
    assert a.errors == 1 and a.problems.loc[a.problems["severity"] == "error", "row"].tolist() == [2]
    assert a.frame["sector"].tolist() == ["la", None]


def test_csv_download_neutralises_formulas_and_reads_back() -> None:
    with Store(":memory:") as s:
        replace_agencies(s, read_agencies(MESSY.encode(), "agencies.csv").frame)
        data = agencies_csv(s)
        text = data.decode("utf-8-sig")
        assert "'=cmd|" in text and "\n=cmd" not in text
        again = read_agencies(data, "download.csv").frame
        assert again["organisation"].tolist()[:2] == ["Harbour Church", "Kestlemouth NHS Trust"]


def test_excel_list() -> None:
    wb = openpyxl.Workbook()
    wb.active.append(["Agency", "Sector", "Date contacted", "Responded"])
    wb.active.append(["Milk Matters", "Voluntary and community sector", dt.datetime(2025, 9, 2), True])
    buf = io.BytesIO()
    wb.save(buf)
    a = read_agencies(buf.getvalue(), "list.xlsx")
    assert a.frame.iloc[0].to_dict() | {"service_areas": None} == {
        "organisation": "Milk Matters", "sector": "vcs", "service_areas": None,
        "contacted_on": dt.date(2025, 9, 2), "responded": True, "notes": None}


def test_no_organisation_column_is_refused() -> None:
    with pytest.raises(IngestError, match="list.csv has no column of organisation names"):
        read_agencies(b"Sector,Date\nNHS,2025-01-01\n", "list.csv")


@pytest.mark.parametrize(("text", "date"), [
    ("2025-09-01", dt.date(2025, 9, 1)), ("01/09/2025", dt.date(2025, 9, 1)), ("1/9/25", dt.date(2025, 9, 1)),
    ("1st Sept 2025", dt.date(2025, 9, 1)), ("2025-09-01 00:00:00", dt.date(2025, 9, 1)), ("31/02/2025", None),
    ("soon", None)])
def test_dates_day_first(text: str, date: dt.date | None) -> None:
    assert parse_date(text) == date


@pytest.mark.parametrize(("text", "value"), [("Yes", True), ("y", True), ("TRUE", True), ("Returned", True),
                                             ("no", False), ("Not yet", False), ("", None), ("maybe", None)])
def test_responded_words(text: str, value: bool | None) -> None:
    assert parse_responded(text) is value
