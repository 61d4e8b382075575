"""`python -m hubdash ingest | imports | undo | template | agencies` through `cli.main`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hubdash.cli import main
from hubdash.store import Store
from tests.unit.survey_exports import write_canonical_csv, write_google_forms
from tests.unit.test_imports import fingerprint

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _backups_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBDASH_BACKUP_DIR", str(tmp_path / "backups"))


def run(*argv: str, capsys: pytest.CaptureFixture) -> tuple[int, str, str]:  # noqa: ANN001
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_ingest_then_list_then_undo(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    db = tmp_path / "h.duckdb"
    export = write_google_forms(tmp_path / "returns.csv")

    code, out, err = run("ingest", export, "--db", db, "--dry-run", capsys=capsys)
    assert code == 0 and err == ""
    assert "Read 6 rows from returns.csv (Google Forms (CSV export)): 6 accepted, 0 rejected." in out
    assert "would make 6 new, 0 updated, 0 removed. Nothing was written." in out
    assert not db.exists()  # a dry run does not even create the database

    code, out, _ = run("ingest", export, "--db", db, capsys=capsys)
    assert code == 0
    assert "Import 1 (append): 6 new, 0 updated, 0 removed." in out
    assert "Outdoor sessions" in out  # problems are listed by row and column
    assert "row 6, column G" in out

    code, out, _ = run("imports", "--db", db, "--format", "json", capsys=capsys)
    (row,) = json.loads(out)
    assert (row["import_id"], row["file"], row["accepted"], row["status"]) == (1, "returns.csv", 6, "committed")

    code, out, _ = run("undo", "1", "--db", db, capsys=capsys)
    assert code == 0 and "Undid import 1 (returns.csv): 6 services put back as they were." in out
    with Store(db) as s:
        assert s.scalar("SELECT count(*) FROM services") == 0

    code, _, err = run("undo", "1", "--db", db, capsys=capsys)
    assert code == 2 and err.strip() == "error: Nothing to undo: Import 1 (returns.csv) has already been undone."


def test_the_same_file_twice_exits_non_zero_with_one_line(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    db = tmp_path / "h.duckdb"
    export = write_google_forms(tmp_path / "returns.csv")
    assert run("ingest", export, "--db", db, capsys=capsys)[0] == 0
    with Store(db) as s:
        before = fingerprint(s)
    code, _, err = run("ingest", export, "--db", db, capsys=capsys)
    assert code == 2
    assert err.count("\n") == 1 and "returns.csv has already been imported: import 1" in err
    with Store(db) as s:
        assert fingerprint(s) == before


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("empty.csv", b"", "empty.csv is empty"),
    ("junk.csv", bytes(range(256)) * 10, "junk.csv is not a text (CSV) file"),
    ("budget.csv", b"Month,Spend\nApril,100\n", "budget.csv does not look like a survey export"),
])
def test_an_unimportable_file_leaves_the_database_unchanged(tmp_path: Path, capsys, name: str, data: bytes,  # noqa: ANN001
                                                            reason: str) -> None:
    db = tmp_path / "h.duckdb"
    assert run("ingest", write_google_forms(tmp_path / "first.csv"), "--db", db, capsys=capsys)[0] == 0
    with Store(db) as s:
        before = fingerprint(s)
    bad = tmp_path / name
    bad.write_bytes(data)
    code, out, err = run("ingest", bad, "--db", db, "--replace", capsys=capsys)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and reason in err and err.count("\n") == 1
    with Store(db) as s:
        assert fingerprint(s) == before


def test_a_missing_file_or_new_database_is_not_created(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    db = tmp_path / "never.duckdb"
    code, _, err = run("ingest", tmp_path / "nope.csv", "--db", db, capsys=capsys)
    assert code == 2 and "nope.csv" in err
    assert not db.exists()


def test_replace_mode_and_mapping_files(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    db = tmp_path / "h.duckdb"
    run("ingest", write_google_forms(tmp_path / "round1.csv"), "--db", db, capsys=capsys)
    own = tmp_path / "round2.csv"
    own.write_text("Service name,Provider,Who is it for?,Which age groups is it for?,Format\n"
                   "Triple P group,Kestlemouth Council,Targeted selective,2-3 years,Weekly group\n", encoding="utf-8")
    code, _, err = run("ingest", own, "--db", db, capsys=capsys)
    assert code == 2 and "round2.csv has no column for question 1" in err

    suggested = tmp_path / "suggested.json"
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"columns": {"Service name": "name", "Provider": "organisation"},
                                   "values": {"format": {"Weekly group": "small_group"}}}), encoding="utf-8")
    code, out, _ = run("ingest", own, "--db", db, "--mapping", mapping, "--replace", "--save-mapping", suggested,
                       "--problems", tmp_path / "problems.csv", capsys=capsys)
    assert code == 0, out
    assert "Import 2 (replace): 0 new, 1 updated, 5 removed." in out
    with Store(db) as s:
        assert s.rows("SELECT name, format, target_level FROM services") == [
            ("Triple P group", "small_group", "targeted_selective")]
    saved = json.loads(suggested.read_text())
    assert saved["columns"]["Service name"] == "name" and saved["values"]["format"] == {"Weekly group": "small_group"}
    assert (tmp_path / "problems.csv").read_text(encoding="utf-8-sig").startswith("file,row,column,cell,value")


def test_a_bad_mapping_file_is_one_line(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    bad = tmp_path / "m.json"
    bad.write_text('{"columns": {"A": "not_a_question"}}', encoding="utf-8")
    code, _, err = run("ingest", write_canonical_csv(tmp_path / "c.csv"), "--db", tmp_path / "h.duckdb",
                       "--mapping", bad, capsys=capsys)
    assert code == 2 and "m.json" in err and err.count("\n") == 1


def test_template_and_agencies_commands(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    out_file = tmp_path / "t" / "survey-template.xlsx"
    code, out, _ = run("template", "--out", out_file, capsys=capsys)
    assert code == 0 and out_file.exists() and "blank survey template" in out
    db = tmp_path / "h.duckdb"
    lst = tmp_path / "agencies.csv"
    lst.write_text("Organisation,Sector,Responded\nHarbour Church,VCS,yes\nLibrary,Council,no\n", encoding="utf-8")
    code, out, _ = run("agencies", lst, "--db", db, capsys=capsys)
    assert code == 0 and "Replaced the contacted-agencies list: 2 agencies." in out
    with Store(db) as s:
        assert s.rows("SELECT organisation, sector, responded FROM agencies ORDER BY 1") == [
            ("Harbour Church", "vcs", True), ("Library", "la", False)]


def test_the_commands_are_registered_with_the_module_entry_point() -> None:
    out = subprocess.run([sys.executable, "-m", "hubdash", "--help"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120).stdout
    for command in ("ingest", "imports", "undo", "template", "agencies"):
        assert command in out
