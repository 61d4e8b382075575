"""The fictional demo borough: realistic in shape, deliberately imperfect, deterministic."""

from __future__ import annotations

from hubdash import schema
from hubdash.demo import build_demo
from hubdash.gapmap import gap_grid
from hubdash.services import service_frame
from hubdash.store import Store


def test_shape(demo_store: Store) -> None:
    c = demo_store.counts()
    assert 18 <= c["wards"] <= 22
    assert 120 <= c["services"] <= 200
    f = service_frame(demo_store)
    areas = {a for v in f["service_areas"] for a in v}
    assert {o.code for o in schema.SERVICE_AREAS} <= areas
    assert set(f["kind"]) == {"service", "intervention"}
    assert set(f["target_level"].dropna()) == set(schema.LEVEL_SHORT)
    assert {a for v in f["age_groups"] for a in v} == {o.code for o in schema.AGE_GROUPS}
    assert demo_store.is_demo()
    assert demo_store.scalar("SELECT count(*) FROM sites WHERE kind = 'family_hub'") == 3
    assert demo_store.scalar("SELECT count(DISTINCT indicator) FROM needs") >= 9


def test_wards_are_valid_polygons_that_tile_without_overlap(demo_store: Store) -> None:
    import shapely

    geoms = [shapely.from_wkb(b) for (b,) in demo_store.rows("SELECT geometry FROM wards")]
    assert all(g.is_valid and not g.is_empty for g in geoms)
    total = sum(g.area for g in geoms)
    assert abs(shapely.union_all(geoms).area - total) / total < 1e-6


def test_deliberate_gaps_and_duplications(demo_store: Store) -> None:
    f = service_frame(demo_store)
    grid = gap_grid(f)
    by_row = grid.groupby(["target_level", "outcome"])["count"].sum()
    assert (by_row == 0).any(), "a whole row of the gap map is empty"
    interventions = grid[grid.kind == "intervention"].groupby("age_group")["count"].sum()
    assert (interventions == 0).any(), "a whole column of the intervention block is empty"
    assert grid["count"].max() >= 5, "some cells are crowded"
    names = set(f["name"])
    assert {"Baby Massage", "Baby massage group (North hub)"} <= names


def test_about_ten_percent_missing_answers(demo_store: Store) -> None:
    f = service_frame(demo_store)
    optional = ["organisation", "sector", "format", "eligibility", "capacity", "evidence", "interpreter"]
    missing = sum(f[c].isna().sum() for c in optional) / (len(f) * len(optional))
    assert 0.04 < missing < 0.45  # eligibility is legitimately blank for universal services


def test_deterministic(tmp_path) -> None:  # noqa: ANN001
    def snapshot() -> list:
        with Store(tmp_path / "d.duckdb") as s:
            build_demo(s)
            return s.rows("SELECT name, kind, target_level, capacity FROM services ORDER BY service_id")

    assert snapshot() == snapshot()


def test_contact_details_are_fictional(demo_store: Store) -> None:
    emails = [e for (e,) in demo_store.rows("SELECT contact_email FROM services WHERE contact_email IS NOT NULL")]
    assert emails and all(e.endswith("@example.org") for e in emails)
