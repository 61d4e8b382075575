"""`python -m hubdash redie`: one row per group with hand-counted services and per-area counts."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from hubdash import cli, schema
from hubdash.services import insert_services
from hubdash.store import Store
from tests.conftest import ROOT, record

LABELS = [o.label for o in schema.GROUPS if o.code != "none"]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "redie.duckdb"
    with Store(path) as s, s.write() as cur:
        insert_services(cur, [
            record("A", groups=["low_income", "send"], service_areas=["infant_feeding", "parenting"],
                   target_level="targeted_selective"),
            record("B", groups=["none"], service_areas=["parenting"]),                 # counts nowhere
            record("C", groups=["none", "low_income"], service_areas=["hle"]),         # counts for low income
            record("D", kind="intervention", groups=["parent_mh"], service_areas=["perinatal_mh"],
                   target_level="targeted_indicated"),
            record("E", groups=["=cmd|' /C calc'!A0"], service_areas=["parenting"]),   # not a survey group
        ])
    return path


def _run(capsys: pytest.CaptureFixture, *args: str) -> tuple[str, str]:
    assert cli.main(["redie", *args]) == 0
    out = capsys.readouterr()
    return out.out, out.err


def test_json_rows_equal_hand_counts(db: Path, capsys: pytest.CaptureFixture) -> None:
    out, err = _run(capsys, "--db", str(db), "--format", "json")
    rows = json.loads(out)
    assert [r["group"] for r in rows] == LABELS  # labels exactly as question 21, no "None" row
    by = {r["group"]: r for r in rows}
    li = by["Low-income families"]
    assert (li["services"], li["infant_feeding"], li["parenting"], li["hle"], li["perinatal_mh"]) == (2, 1, 1, 1, 0)
    assert (li["universal"], li["targeted_selective"], li["targeted_indicated"]) == (1, 1, 0)
    assert li["service_ids"] == [1, 3]
    assert by["Families of children with SEND"]["services"] == 1
    assert by["Parents with mental health difficulties"]["perinatal_mh"] == 1
    assert sum(r["services"] for r in rows) == 2 + 1 + 1
    assert all(2 not in r["service_ids"] and 5 not in r["service_ids"] for r in rows)
    assert "1 answered only 'None - not specifically adapted'" in err and "3 adapted for at least one group" in err


def test_area_level_and_kind_filters(db: Path, capsys: pytest.CaptureFixture) -> None:
    out, _ = _run(capsys, "--db", str(db), "--area", "parenting", "--format", "json")
    rows = {r["group"]: r for r in json.loads(out)}
    assert set(rows["Low-income families"]) == {"group", "services", "parenting", "universal", "targeted_selective",
                                                "targeted_indicated", "service_ids"}
    assert rows["Low-income families"]["services"] == 1   # A; C is home learning only
    out, _ = _run(capsys, "--db", str(db), "--level", "targeted_indicated", "--format", "json")
    assert {r["group"]: r["services"] for r in json.loads(out) if r["services"]} == {
        "Parents with mental health difficulties": 1}
    out, _ = _run(capsys, "--db", str(db), "--kind", "service", "--format", "json")
    assert {r["group"]: r["services"] for r in json.loads(out)}["Parents with mental health difficulties"] == 0


def test_csv_has_a_header_and_a_row_per_group(db: Path, capsys: pytest.CaptureFixture) -> None:
    out, _ = _run(capsys, "--db", str(db))
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["group"] for r in rows] == LABELS
    assert rows[0]["services"] == "2" and rows[0]["service_ids"] == "1; 3"
    assert list(rows[0])[:6] == ["group", "services", "infant_feeding", "parenting", "hle", "perinatal_mh"]


def test_unknown_area_is_refused(db: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as e:
        cli.main(["redie", "--db", str(db), "--area", "nonsense"])
    assert e.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_runs_as_a_module(db: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "hubdash", "redie", "--db", str(db), "--format", "json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["group"] == "Low-income families"
