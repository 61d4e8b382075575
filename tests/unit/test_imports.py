"""Imports: one transaction, the same data from every format, append/replace, refusal, undo, speed."""

from __future__ import annotations

import copy
import io
import json
import time
from pathlib import Path

import pandas as pd
import pytest

from hubdash import imports as imports_mod
from hubdash.cli import emit
from hubdash.errors import HubdashError, IngestError
from hubdash.gapmap import gap_rows
from hubdash.history import edit_service, list_changes, undo_change
from hubdash.imports import (
    ChangePlan,
    commit_import,
    import_file,
    list_imports,
    match_key,
    plan_changes,
    preview_import,
    undo_import,
)
from hubdash.ingest import prepare_survey
from hubdash.services import labelled, service_frame, service_record
from hubdash.store import Store
from tests.conftest import record
from tests.unit.survey_exports import SERVICES, write_all, write_canonical_csv, write_google_forms


@pytest.fixture(autouse=True)
def _backups_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBDASH_BACKUP_DIR", str(tmp_path / "backups"))


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_all(tmp_path_factory.mktemp("exports"))


def fingerprint(store: Store) -> dict[str, list[str]]:
    """Every row of every table (order-free): equal fingerprints mean equal content."""
    tables = [r[0] for r in store.rows(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1")]
    return {t: sorted(map(repr, store.rows(f'SELECT * FROM "{t}"'))) for t in tables}  # names from the catalog


def services_content(store: Store) -> list[tuple]:
    """Services as stored, without the columns an import or undo legitimately changes."""
    f = service_frame(store).drop(columns=["created_at", "updated_at"])
    return [tuple(map(str, r)) for r in f.itertuples(index=False)]


def _import(store: Store, path: Path, mode: str = "append"):  # noqa: ANN202
    survey = prepare_survey(path.read_bytes(), path.name)
    return commit_import(store, survey, mode=mode)


# --- the same services from every format -------------------------------------------------------------


def test_every_format_stores_identical_data_and_an_identical_gap_map(exports) -> None:  # noqa: ANN001
    results = {}
    for fmt, path in exports.items():
        with Store(":memory:") as s:
            _import(s, path)
            frame = service_frame(s).drop(columns=["created_at", "updated_at", "source_file"])
            results[fmt] = (frame, gap_rows(s), gap_rows(s, include_secondary=True),
                            s.rows("SELECT * FROM service_wards ORDER BY ALL"))
    base = results["template_csv"]
    assert len(base[0]) == len(SERVICES)
    for fmt, (frame, gaps, gaps2, wards) in results.items():
        pd.testing.assert_frame_equal(frame, base[0], obj=fmt)
        assert gaps == base[1] and gaps2 == base[2] and wards == base[3], fmt


def test_stored_values_by_hand(exports) -> None:  # noqa: ANN001
    with Store(":memory:") as s:
        _import(s, exports["smartsurvey"])
        cafe = service_record(s, 1)
        assert cafe["name"] == "Café Bébé drop-in" and cafe["annual_cost"] == 12500.0
        assert cafe["secondary_outcomes"] == ["parent_child", "other"]
        assert cafe["other_answers"] == {"secondary_outcomes": "Confidence in weaning"}
        assert cafe["wards"] == ["Whole local authority"]
        assert s.scalar("SELECT whole_la FROM services WHERE service_id = 1") is True
        talk = service_record(s, 5)
        assert talk["format"] == "other" and talk["other_answers"]["format"] == "Outdoor sessions"
        assert s.scalar("SELECT count(*) FROM service_choices WHERE question = 'age_groups'") == sum(
            len(r["age_groups"]) for r in SERVICES)
        # Hand count: Triple P is the only targeted-selective intervention for parenting at 2-3 years.
        cell = [g for g in gap_rows(s) if g["target_level"] == "targeted_selective" and g["kind"] == "intervention"
                and g["outcome"] == "Improve parenting" and g["age_group"] == "2-3 years"]
        assert cell == [{"target_level": "targeted_selective", "kind": "intervention", "outcome": "Improve parenting",
                         "age_group": "2-3 years", "count": 1, "services": ["Triple P group"]}]


def test_formula_like_text_is_stored_as_text_and_neutralised_on_export(exports) -> None:  # noqa: ANN001
    with Store(":memory:") as s:
        _import(s, exports["template_xlsx"])
        rec = service_record(s, 4)
        assert rec["name"] == "@Home learning club" and rec["eligibility"] == "=Dads and carers welcome"
        table = labelled(service_frame(s))
        out = io.StringIO()
        emit(table.to_dict("records"), "csv", out=out)
        text = out.getvalue()
        assert "'@Home learning club" in text and "'=Dads and carers welcome" in text
        assert "\n@Home" not in text and ",=Dads" not in text


def test_personal_data_is_stored_but_not_in_the_labelled_views(exports) -> None:  # noqa: ANN001
    with Store(":memory:") as s:
        _import(s, exports["google_forms"])
        assert service_record(s, 1)["contact_email"] == "zoe@example.org"
        table = labelled(service_frame(s))
        assert "Contact email" not in table.columns and "Contact name" not in table.columns
        assert "zoe@example.org" not in table.to_csv()


# --- the imports row and the history --------------------------------------------------------------------


def test_an_import_is_recorded_and_undoable(demo_store: Store, exports) -> None:  # noqa: ANN001
    before = services_content(demo_store)
    res = _import(demo_store, exports["google_forms"])
    row = list_imports(demo_store).iloc[0]
    assert (row.file_name, row.detected_format, row.rows_read, row.rows_accepted, row.rows_rejected, row["mode"],
            row.status) == ("google_forms.csv", "google_forms", 6, 6, 0, "append", "committed")
    assert row.note == "6 new, 0 updated, 0 removed"
    assert int(row.change_id) == res.change_id
    change = list_changes(demo_store).iloc[0]
    assert (change.kind, int(change.import_id), int(change.services)) == ("import", res.import_id, 6)
    assert demo_store.scalar("SELECT count(*) FROM services") == 158 + 6
    assert demo_store.scalar("SELECT count(DISTINCT import_id) FROM services WHERE import_id IS NOT NULL") == 1
    assert undo_import(demo_store, res.import_id) == 6
    assert services_content(demo_store) == before
    assert list_imports(demo_store).iloc[0].status == "undone"


def _two_distinct(store: Store) -> tuple[pd.Series, pd.Series]:
    """Two stored services each alone under its name and organisation."""
    frame = service_frame(store).sort_values("service_id")
    frame = frame[frame["organisation"].notna()]
    keys = [match_key(n, o) for n, o in zip(frame["name"], frame["organisation"], strict=True)]
    unique = frame[[keys.count(k) == 1 for k in keys]]
    return unique.iloc[3], unique.iloc[10]


def _three_rows(store: Store, tmp: Path) -> Path:
    """A file with two services already in the store (new capacities) and one new one."""
    a, b = _two_distinct(store)
    recs = []
    for src, cap in ((a, 999.0), (b, 555.0)):
        r = copy.deepcopy(SERVICES[1])
        r.update(name=src["name"].upper() + "  ", organisation=src["organisation"], capacity=cap)  # case/space differ
        recs.append(r)
    recs.append(copy.deepcopy(SERVICES[0]))
    return write_canonical_csv(tmp / "round2.csv", recs)


def test_append_updates_matches_and_adds_the_rest(demo_store: Store, tmp_path: Path) -> None:
    path = _three_rows(demo_store, tmp_path)
    ids = [int(x["service_id"]) for x in _two_distinct(demo_store)]
    before = services_content(demo_store)
    survey = prepare_survey(path.read_bytes(), path.name)
    preview = preview_import(demo_store, survey, mode="append")
    assert preview.plan.counts() == {"new": 1, "updated": 2, "removed": 0}
    assert [sid for _, sid in preview.plan.updated] == ids
    res = commit_import(demo_store, survey, mode="append", expected=preview.plan)
    assert demo_store.scalar("SELECT count(*) FROM services") == 159
    assert [service_record(demo_store, i)["capacity"] for i in ids] == [999.0, 555.0]
    assert demo_store.rows("SELECT source_file, source_row, import_id FROM services WHERE service_id = ?",
                           [ids[0]]) == [("round2.csv", 2, res.import_id)]
    undo_import(demo_store, res.import_id)
    assert services_content(demo_store) == before


def test_replace_removes_what_is_not_in_the_new_round_and_undo_brings_it_back(
        demo_store: Store, tmp_path: Path) -> None:
    path = _three_rows(demo_store, tmp_path)
    before = services_content(demo_store)
    survey = prepare_survey(path.read_bytes(), path.name)
    preview = preview_import(demo_store, survey, mode="replace")
    assert preview.plan.counts() == {"new": 1, "updated": 2, "removed": 156}
    table = preview.plan.table(survey.records)
    assert table["Change"].value_counts().to_dict() == {"Removed": 156, "Updated": 2, "New": 1}
    res = commit_import(demo_store, survey, mode="replace", expected=preview.plan)
    assert demo_store.scalar("SELECT count(*) FROM services") == 3
    assert demo_store.scalar("SELECT count(*) FROM service_choices WHERE service_id NOT IN "
                             "(SELECT service_id FROM services)") == 0
    assert undo_import(demo_store, res.import_id) == 159
    assert services_content(demo_store) == before


def test_same_name_and_organisation_twice_pairs_in_order() -> None:
    existing = pd.DataFrame({"service_id": [7, 3, 9], "name": ["Baby massage", "Baby massage", "Other"],
                             "organisation": ["Org", "Org", "Org"]})
    recs = [record("baby MASSAGE", organisation="org"), record("Baby massage", organisation="Org"),
            record("Baby massage", organisation="Org"), record("Baby massage", organisation="Another org")]
    plan = plan_changes(existing, recs, mode="replace")
    assert plan.updated == [(0, 3), (1, 7)]  # k-th row with k-th service by id
    assert plan.new == [2, 3]
    assert plan.removed == [9]
    assert match_key("Café  Bébé", "Zoë's") == match_key("cafe bebe", "ZOES")
    assert plan_changes(existing, recs, mode="append").removed == []


def test_ids_are_never_reused_after_a_replace(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as s:
        _import(s, write_canonical_csv(tmp_path / "a.csv", SERVICES[:3]))
        newest = int(s.scalar("SELECT max(service_id) FROM services"))
        res = _import(s, write_canonical_csv(tmp_path / "b.csv", SERVICES[:2] + SERVICES[3:4]), mode="replace")
        assert res.plan.counts() == {"new": 1, "updated": 2, "removed": 1}
        assert int(s.scalar("SELECT max(service_id) FROM services")) == newest + 1  # not the removed id 3
        undo_import(s, res.import_id)
        assert sorted(r[0] for r in s.rows("SELECT name FROM services")) == sorted(r["name"] for r in SERVICES[:3])


# --- refusals and failures leave the store exactly as it was -------------------------------------------------


def test_the_same_file_twice_is_refused_until_the_first_is_undone(demo_store: Store, exports) -> None:  # noqa: ANN001
    first = _import(demo_store, exports["google_forms"])
    fp = fingerprint(demo_store)
    renamed = exports["google_forms"].read_bytes()
    with pytest.raises(IngestError, match=r"already been imported: import \d+ \('google_forms.csv'") as e:
        commit_import(demo_store, prepare_survey(renamed, "copy-of-it.csv"), mode="append")
    assert e.value.msg.startswith("copy-of-it.csv has already been imported")
    assert preview_import(demo_store, prepare_survey(renamed, "x.csv"), mode="append").blocked
    assert fingerprint(demo_store) == fp
    undo_import(demo_store, first.import_id)
    again = _import(demo_store, exports["google_forms"])
    assert again.import_id == first.import_id + 1


BROKEN_FILES = {
    "empty.csv": b"",
    "junk.csv": bytes(range(256)) * 30,
    "truncated.xlsx": None,
    "unrelated.xlsx": None,
    "heads-only.csv": "Name of the service or intervention,Who is it for?\n".encode(),
}


def _broken(name: str, exports: dict[str, Path], tmp: Path) -> Path:
    import openpyxl

    path = tmp / name
    if name == "truncated.xlsx":
        data = exports["ms_forms"].read_bytes()
        path.write_bytes(data[: len(data) * 2 // 3])
    elif name == "unrelated.xlsx":
        wb = openpyxl.Workbook()
        wb.active.append(["Month", "Budget", "Spend"])
        wb.active.append(["April", 1000, 800])
        wb.save(path)
    else:
        path.write_bytes(BROKEN_FILES[name])
    return path


@pytest.mark.parametrize("name", sorted(BROKEN_FILES))
def test_broken_input_leaves_the_store_unchanged(demo_store: Store, exports, tmp_path: Path, name: str) -> None:  # noqa: ANN001
    fp = fingerprint(demo_store)
    with pytest.raises(IngestError) as e:
        import_file(demo_store, _broken(name, exports, tmp_path))
    assert name in e.value.msg and "\n" not in e.value.one_line()
    assert fingerprint(demo_store) == fp


def test_over_size_file_leaves_the_store_unchanged(demo_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as f:
        f.truncate(26 * 1024 * 1024)
    fp = fingerprint(demo_store)
    with pytest.raises(IngestError, match="huge.csv is 26.0 MB"):
        import_file(demo_store, path)
    assert fingerprint(demo_store) == fp


def test_a_failure_half_way_through_rolls_everything_back(demo_store: Store, exports, monkeypatch) -> None:  # noqa: ANN001
    fp = fingerprint(demo_store)
    survey = prepare_survey(exports["google_forms"].read_bytes(), "g.csv")

    def boom(*a, **k):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("disk full")

    monkeypatch.setattr(imports_mod, "mark_created", boom)  # after the services were written
    with pytest.raises(RuntimeError, match="disk full"):
        commit_import(demo_store, survey, mode="replace")
    assert fingerprint(demo_store) == fp


def test_a_plan_that_changed_since_the_preview_is_refused(demo_store: Store, exports) -> None:  # noqa: ANN001
    survey = prepare_survey(exports["google_forms"].read_bytes(), "g.csv")
    stale = ChangePlan("append", [0], [], [], {})
    fp = fingerprint(demo_store)
    with pytest.raises(IngestError, match="changed since you checked g.csv"):
        commit_import(demo_store, survey, mode="append", expected=stale)
    assert fingerprint(demo_store) == fp


def test_undo_refuses_while_a_later_edit_stands(demo_store: Store, exports) -> None:  # noqa: ANN001
    res = _import(demo_store, exports["google_forms"])
    sid = int(demo_store.scalar("SELECT max(service_id) FROM services"))
    edit_service(demo_store, sid, {**service_record(demo_store, sid), "name": "Renamed"})
    with pytest.raises(HubdashError, match="Undo those first"):
        undo_import(demo_store, res.import_id)
    undo_change(demo_store, int(list_changes(demo_store).iloc[0]["change_id"]))
    assert undo_import(demo_store, res.import_id) == 6
    with pytest.raises(HubdashError, match="already been undone"):
        undo_import(demo_store, res.import_id)
    with pytest.raises(HubdashError, match="no import number 99"):
        undo_import(demo_store, 99)


def test_dry_run_writes_nothing(demo_store: Store, exports) -> None:  # noqa: ANN001
    fp = fingerprint(demo_store)
    survey, preview, result = import_file(demo_store, exports["parquet"], dry_run=True)
    assert result is None and preview.plan.counts()["new"] == 6
    assert fingerprint(demo_store) == fp


def test_an_automatic_backup_is_taken_before_an_import(demo_store: Store, exports, tmp_path: Path) -> None:  # noqa: ANN001
    _import(demo_store, exports["google_forms"])
    assert list((tmp_path / "backups").glob("*before-import-google-forms*.duckdb"))


# --- speed -----------------------------------------------------------------------------------------------------


def test_a_5000_row_export_imports_in_a_few_seconds(tmp_path: Path) -> None:
    recs = []
    for i in range(5000):
        r = copy.deepcopy(SERVICES[i % len(SERVICES)])
        r["name"] = f"{r['name']} {i}"
        recs.append(r)
    path = write_google_forms(tmp_path / "big.csv", recs)
    with Store(tmp_path / "big.duckdb") as s:
        t = time.perf_counter()
        survey, _, result = import_file(s, path)
        seconds = time.perf_counter() - t
        assert result is not None and survey.rows_accepted == 5000
        assert s.scalar("SELECT count(*) FROM services") == 5000
    rate = 5000 / seconds
    print(f"\n5,000-row Google Forms export: {seconds:.2f} s, {rate:,.0f} rows/s")
    (tmp_path / "rate.json").write_text(json.dumps({"rows_per_s": rate}))
    assert seconds < 10, f"{rate:,.0f} rows/s"
