"""`python -m hubdash quality`: the JSON shape, CSV tables, the area filter, no personal data."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from hubdash.cli import main
from hubdash.schema import QUESTIONS
from hubdash.services import insert_services
from hubdash.store import Store
from tests.conftest import record


def _run(capsys, *args: str) -> str:  # noqa: ANN001
    assert main(["quality", *args]) == 0
    return capsys.readouterr().out


def test_json_has_the_documented_shape(demo_db: Path, capsys) -> None:  # noqa: ANN001
    out = json.loads(_run(capsys, "--db", str(demo_db), "--format", "json"))
    assert out["services"] == 158
    assert set(out["completeness"]) == {q.code for q in QUESTIONS}
    assert all(0 <= v <= 1 for v in out["completeness"].values())
    assert out["completeness"]["age_groups"] == round(157 / 158, 4)
    rr = out["response_rate"]
    assert rr["overall"] == round(23 / 37, 4) and (rr["contacted"], rr["responded"]) == (37, 23)
    assert set(rr["by_sector"]) == {"la", "nhs", "vcs", "private", "other"} and rr["by_sector"]["la"] == 0.4
    assert len(rr["not_responded"]) == 14
    assert [(d["a_id"], d["b_id"]) for d in out["duplicates"]] == [(17, 18)]
    assert {"service", "question", "problem"} <= set(out["issues"][0])
    problems = {(i["service_id"], i["rule"]) for i in out["issues"]}
    assert {(32, "invalid_postcodes"), (41, "unknown_wards"), (45, "age_groups_not_contiguous")} <= problems
    assert out["score"]["value"] == round(sum(p["points"] for p in out["score"]["parts"]))
    assert "@" not in json.dumps(out)  # no contact emails, ever


def test_area_filter_restricts_services_and_response_rate(demo_db: Path, capsys) -> None:  # noqa: ANN001
    out = json.loads(_run(capsys, "--db", str(demo_db), "--area", "infant_feeding"))
    assert out["filter"] == {"area": "infant_feeding"}
    assert 0 < out["services"] < 158
    assert (out["response_rate"]["contacted"], out["response_rate"]["responded"]) == (16, 14)


def test_csv_tables(demo_db: Path, capsys) -> None:  # noqa: ANN001
    rows = list(csv.DictReader(io.StringIO(_run(capsys, "--db", str(demo_db), "--format", "csv"))))
    assert {"service_id", "service", "question", "problem", "severity"} <= set(rows[0])
    comp = list(csv.DictReader(io.StringIO(_run(capsys, "--db", str(demo_db), "--format", "csv",
                                                "--table", "completeness"))))
    assert len(comp) == 25 and comp[0] == {"question": "name", "share": "1.0"}
    orgs = list(csv.DictReader(io.StringIO(_run(capsys, "--db", str(demo_db), "--format", "csv",
                                                "--table", "organisations"))))
    assert orgs[0]["Organisation"] and float(orgs[0]["Blanks per service"]) >= float(orgs[-1]["Blanks per service"])


def test_without_a_contacted_list_the_response_rate_is_null(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    db = tmp_path / "small.duckdb"
    with Store(db) as s, s.write() as cur:
        insert_services(cur, [record("A"), record("B", age_groups=[])])
    out = json.loads(_run(capsys, "--db", str(db)))
    assert out["response_rate"] is None
    assert out["services"] == 2 and out["completeness"]["age_groups"] == 0.5
    assert any("ward table" in n for n in out["notes"])
    assert main(["quality", "--db", str(db), "--format", "csv", "--table", "response"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "No contacted-agencies list" in captured.err


def test_bad_area_is_refused(demo_db: Path) -> None:
    with pytest.raises(SystemExit):
        main(["quality", "--db", str(demo_db), "--area", "nonsense"])
