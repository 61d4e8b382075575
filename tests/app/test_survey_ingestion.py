"""The Survey ingestion page in AppTest (uploads themselves are tested in the browser, tests/e2e)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubdash.imports import commit_import, list_imports
from hubdash.ingest import prepare_survey
from hubdash.store import Store
from tests.unit.survey_exports import write_google_forms

PAGE = "pages/survey_ingestion.py"


@pytest.fixture(autouse=True)
def _backups_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBDASH_BACKUP_DIR", str(tmp_path / "backups"))


def _button(at, label: str):  # noqa: ANN001, ANN202
    return next(b for b in at.button if b.label == label)


def _count(db: Path) -> int:
    with Store(db) as s:
        return int(s.scalar("SELECT count(*) FROM services"))


def test_page_shows_every_part(run_app) -> None:  # noqa: ANN001
    at = run_app(PAGE)
    assert not at.exception
    assert at.title[0].value == "Survey ingestion"
    assert [t.label for t in at.tabs] == ["Load survey returns", "Import history", "Add or edit a service",
                                          "Contacted agencies", "Blank template"]
    assert "Add this service" in [b.label for b in at.button]
    assert any(m.label == "Agencies that responded" and m.value == "23 of 37" for m in at.metric)
    assert any("No survey files have been imported" in i.value for i in at.info)
    assert len(at.get("download_button")) >= 2  # the template and the agencies list


def test_presenter_mode_hides_loading_editing_and_personal_data(run_app, app_db: Path) -> None:  # noqa: ANN001
    with Store(app_db) as s:
        commit_import(s, prepare_survey(write_google_forms(app_db.parent / "g.csv").read_bytes(), "g.csv"),
                      mode="append")
    at = run_app(PAGE, present="1")
    assert not at.exception
    assert not at.tabs
    assert not [b for b in at.button if b.label in ("Undo", "Add this service", "Save the list")]
    assert any("hidden in presenter mode" in i.value for i in at.info)
    assert any("Import 1" in m.value for m in at.markdown)  # the history stays visible, read-only
    text = " ".join(m.value for m in at.markdown)
    assert "zoe@example.org" not in text and "Zoë Brontë" not in text


def test_undo_an_import_from_the_history(run_app, app_db: Path) -> None:  # noqa: ANN001
    with Store(app_db) as s:
        res = commit_import(s, prepare_survey(write_google_forms(app_db.parent / "g.csv").read_bytes(), "g.csv"),
                            mode="append")
    assert _count(app_db) == 164
    at = run_app(PAGE)
    assert any(f"Import {res.import_id}" in m.value and "6 new, 0 updated, 0 removed" in m.value for m in at.markdown)
    at.button(key=f"ingest_undo_{res.import_id}").click().run()
    assert not at.exception
    assert any(f"Import {res.import_id} undone: 6 services" in s.value for s in at.success)
    assert _count(app_db) == 158
    with Store(app_db) as s:
        assert list_imports(s).iloc[0].status == "undone"
    assert not [b for b in at.button if b.key == f"ingest_undo_{res.import_id}"]  # no second undo


def test_add_a_service_by_hand_then_undo_it(run_app, app_db: Path) -> None:  # noqa: ANN001
    at = run_app(PAGE)
    at.text_input(key="svc_0_name").input("Bumps and babies")
    at.selectbox(key="svc_0_kind").select("service")
    at.selectbox(key="svc_0_target_level").select("universal")
    at.selectbox(key="svc_0_primary_outcome").select("parent_child")
    at.multiselect(key="svc_0_age_groups").select("prebirth")
    at.text_input(key="svc_0_postcodes").input("km12ab; KM99")
    _button(at, "Add this service").click().run()
    assert not at.exception
    assert _count(app_db) == 159
    with Store(app_db) as s:
        row = s.rows("SELECT service_id, kind, target_level FROM services WHERE name = 'Bumps and babies'")
        assert row and row[0][1:] == ("service", "universal")
        assert s.rows("SELECT postcode FROM service_postcodes WHERE service_id = ? ORDER BY 1", [row[0][0]]) == [
            ("KM1 2AB",), ("KM99",)]
    assert any("Not a full UK postcode" in w.value for w in at.warning)  # the same checks as a file
    _button(at, "Undo this change").click().run()
    assert _count(app_db) == 158


def test_a_service_without_a_name_is_not_saved(run_app, app_db: Path) -> None:  # noqa: ANN001
    at = run_app(PAGE)
    at.selectbox(key="svc_0_kind").select("service")
    _button(at, "Add this service").click().run()
    assert any("Not saved" in e.value and "service name" in e.value.lower() for e in at.error)
    assert _count(app_db) == 158


def test_choosing_a_service_fills_the_form_with_its_answers(run_app, app_db: Path) -> None:  # noqa: ANN001
    with Store(app_db) as s:
        sid, name, level = s.rows("SELECT service_id, name, target_level FROM services ORDER BY service_id")[4]
    at = run_app(PAGE)
    assert at.text_input(key="svc_0_name").value == ""
    at.selectbox(key="svc_pick").select(sid).run()
    assert at.text_input(key=f"svc_{sid}_name").value == name
    assert at.selectbox(key=f"svc_{sid}_target_level").value == level
    assert _button(at, "Save this service")
