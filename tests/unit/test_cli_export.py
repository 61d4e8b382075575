"""`python -m hubdash export report|slides`: files in the right format, clear errors otherwise."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from hubdash.cli import main
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def db(demo_db_master: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli_export") / "demo.duckdb"
    shutil.copy(demo_db_master, path)
    return path


def test_report_as_html_for_one_area(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out" / "report.html"
    assert main(["export", "report", "--db", str(db), "--out", str(out), "--area", "perinatal_mh"]) == 0
    html = out.read_text(encoding="utf-8")
    assert "<h2>Gap maps by service area</h2>" in html
    assert "Gap map: Perinatal mental health and parent-infant relationships" in html
    assert "Gap map: Infant feeding" not in html, "--area keeps the report to one service area"
    assert "Filters: Perinatal mental health and parent-infant relationships" in html
    assert f"Wrote {out}" in capsys.readouterr().err


def test_slides_as_pptx(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "deck.pptx"
    assert main(["export", "slides", "--db", str(db), "--out", str(out), "--area", "hle"]) == 0
    with zipfile.ZipFile(io.BytesIO(out.read_bytes())) as z:
        assert "ppt/presentation.xml" in z.namelist()
        assert any(n.startswith("ppt/notesSlides/") for n in z.namelist())


@pytest.mark.parametrize(("what", "name", "message"), [
    ("report", "report.txt", "can be written as .html, .pdf or .docx, not '.txt'"),
    ("report", "report", "not 'no extension'"),
    ("slides", "deck.pdf", "slides are written as .pptx, not '.pdf'"),
])
def test_wrong_extensions_fail_before_any_work(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture,
                                               what: str, name: str, message: str) -> None:
    out = tmp_path / name
    assert main(["export", what, "--db", str(db), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: The report could not be written:") and message in err
    assert not out.exists()


def test_bad_area_is_refused_by_the_parser(db: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as e:
        main(["export", "report", "--db", str(db), "--out", str(tmp_path / "r.html"), "--area", "everything"])
    assert e.value.code == 2


def test_the_module_entry_point(db: Path, tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "hubdash", "export", "--help"], cwd=ROOT, capture_output=True,
                       text=True, check=True)
    assert "report" in r.stdout and "slides" in r.stdout
