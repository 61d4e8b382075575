"""Coverage per ward against hand counts on a tiny fixture, and on real Blackpool wards.

The fixture: three wards stacked north to south (North, Mid, South), each 0.02° square, with
one population point at the middle of each, 100 / 200 / unknown children aged 0-4, a family hub
in North, a clinic (postcode AB1 2CD) in Mid, and these services:

    A  whole local authority, parenting, delivered at a family hub, capacity 300
    B  "North Ward" (by name), infant feeding, at the clinic's postcode, capacity 100
    C  "e05900002" and " north  WARD " (code in lower case, name with odd spacing), parenting
    D  "Nowhere" (no such ward)                                        -> near miss: covers nothing
    E  whole local authority AND "Mid Ward" (counts once), parenting, capacity 60
    F  "North Wardd" (a typo)                                          -> near miss: covers nothing

Hand counts: North = A, B, C, E = 4; Mid = A, C, E = 3; South = A, E = 2.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from hubdash import coverage, geoload
from hubdash.schema import Filters
from hubdash.services import filter_frame, insert_services, service_frame
from hubdash.store import Store
from tests.conftest import SHARED_DATA, needs_shared_data, record

KM_PER_DEGREE_LAT = 2 * math.pi * coverage.EARTH_RADIUS_KM / 360  # 111.195 km


def _wards_geojson() -> bytes:
    gdf = gpd.GeoDataFrame(
        {"WD99CD": ["E05900001", "E05900002", "E05900003"], "WD99NM": ["North Ward", "Mid Ward", "South Ward"]},
        geometry=[box(0, 50.04, 0.02, 50.06), box(0, 50.02, 0.02, 50.04), box(0, 50.00, 0.02, 50.02)], crs=4326)
    return gdf.to_json().encode()


@pytest.fixture
def fx():  # noqa: ANN201
    s = Store(":memory:")
    geoload.load_boundaries(s, _wards_geojson(), filename="wards.geojson")
    geoload.load_population_points(s, pd.DataFrame({"lon": [0.01] * 3, "lat": [50.05, 50.03, 50.01],
                                                    "population": [1.0, 1.0, 1.0]}), source="test")
    geoload.load_needs(s, pd.DataFrame({"ward_code": ["E05900001", "E05900002"], "indicator": "pop_0_4",
                                        "value": [100, 200], "unit": "people", "period": "2021", "source": "t"}))
    geoload.load_needs(s, pd.DataFrame({"ward_code": ["E05900001", "E05900002", "E05900003"],
                                        "indicator": "imd_score", "value": [40.0, 20.0, 10.0], "unit": "score",
                                        "period": "2019", "source": "t"}))
    geoload.store_postcodes(s, pd.DataFrame({"postcode": ["AB1 2CD"], "lat": [50.03], "lon": [0.01]}))
    geoload.load_sites(s, pd.DataFrame({"name": ["North Hub", "Clinic"], "kind": ["family_hub", "site"],
                                        "postcode": [None, "AB1 2CD"], "lat": [50.05, np.nan],
                                        "lon": [0.01, np.nan]}), filename="sites")
    with s.write() as cur:
        insert_services(cur, [
            record("A", wards=["Whole local authority"], delivery_modes=["family_hub"], capacity=300),
            record("B", wards=["North Ward"], service_areas=["infant_feeding"], postcodes=["ab1 2cd"], capacity=100),
            record("C", wards=["e05900002", " north  WARD "]),
            record("D", wards=["Nowhere"]),
            record("E", wards=["Whole local authority", "Mid Ward"], capacity=60),
            record("F", wards=["North Wardd"]),
        ])
    yield s
    s.close()


def _cov(s: Store, **filters: str) -> pd.DataFrame:
    frame = filter_frame(service_frame(s), Filters(**filters))
    return coverage.coverage_table(s, frame, max_km=2.0).set_index("ward_name")


def test_counts_match_hand_counts_whole_la_named_by_name_and_code(fx: Store) -> None:
    cov = _cov(fx)
    assert cov["services"].to_dict() == {"Mid Ward": 3, "North Ward": 4, "South Ward": 2}
    assert cov["services_whole_la"].tolist() == [2, 2, 2]  # A and E, in every ward
    assert cov.loc["North Ward", "services_named"] == 2  # B by name, C by odd spacing; F's typo is not North
    assert cov.loc["Mid Ward", "services_named"] == 1  # C by code; E named it but counts once, as whole-LA
    links = coverage.named_links(fx)
    names = service_frame(fx).set_index("service_id")["name"]
    assert sorted(names[links["service_id"]]) == ["B", "C", "C", "E"]  # D and F match no ward


def test_filter_by_area(fx: Store) -> None:
    cov = _cov(fx, area="infant_feeding")
    assert cov["services"].to_dict() == {"Mid Ward": 0, "North Ward": 1, "South Ward": 0}
    assert cov.loc["North Ward", "top_services"] == "B"
    assert cov.loc["South Ward", "top_services"] == "None"


def test_rates_per_1000_children_under_5(fx: Store) -> None:
    cov = _cov(fx)
    assert cov.loc["North Ward", "services_per_1000_under5"] == 4 / 100 * 1000
    assert cov.loc["Mid Ward", "services_per_1000_under5"] == 3 / 200 * 1000
    assert math.isnan(cov.loc["South Ward", "services_per_1000_under5"])  # population unknown
    # Capacity shared over the children of the wards a service covers (known population 300):
    # A 300 and E 60 cover everyone: (300 + 60) / 300 × 1,000 = 1,200 in every ward;
    # B's 100 covers North's 100 children: + 1,000. C gave no capacity.
    assert cov.loc["North Ward", "capacity_per_1000_under5"] == pytest.approx(2200)
    assert cov.loc["Mid Ward", "capacity_per_1000_under5"] == pytest.approx(1200)
    assert cov.loc["North Ward", "services_with_capacity"] == 3  # A, B, E
    assert math.isnan(cov.loc["South Ward", "capacity_per_1000_under5"])


def test_nearest_site_distance_and_the_flag(fx: Store) -> None:
    cov = _cov(fx)
    # A is delivered at a family hub (North Hub, in North); B gives the clinic's postcode (in Mid).
    assert cov.loc["North Ward", "nearest_site"] == "North Hub"
    assert cov.loc["North Ward", "nearest_site_km"] == 0
    assert cov.loc["Mid Ward", "nearest_site"] == "Clinic"
    assert cov.loc["South Ward", "nearest_site_km"] == pytest.approx(0.02 * KM_PER_DEGREE_LAT, abs=0.01)  # 2.22
    assert cov["distance_from"].unique().tolist() == ["population-weighted centre"]
    assert cov["beyond_km"].to_dict() == {"Mid Ward": False, "North Ward": False, "South Ward": True}
    frame = service_frame(fx)
    near_miss = coverage.coverage_table(fx, frame, max_km=2.3).set_index("ward_name")
    assert not near_miss["beyond_km"].any()  # 2.22 km is within 2.3 km


def test_only_sites_offering_the_filtered_services_count(fx: Store) -> None:
    cov = _cov(fx, area="infant_feeding")  # B only: the clinic, and no family-hub service in view
    assert cov.loc["North Ward", "nearest_site"] == "Clinic"
    assert cov.loc["North Ward", "nearest_site_km"] == pytest.approx(0.02 * KM_PER_DEGREE_LAT, abs=0.01)
    cov = _cov(fx, area="hle")  # nothing in view: no site at all
    assert cov["nearest_site_km"].isna().all() and not cov["beyond_km"].any()


def test_a_survey_postcode_without_a_named_site_is_a_delivery_point(fx: Store) -> None:
    geoload.store_postcodes(fx, pd.DataFrame({"postcode": ["ZZ1 1ZZ"], "lat": [50.01], "lon": [0.01]}))
    with fx.write() as cur:
        insert_services(cur, [record("G", wards=["South Ward"], service_areas=["hle"], postcodes=["zz11zz"])])
    cov = _cov(fx, area="hle")
    assert cov.loc["South Ward", "nearest_site"] == "Postcode ZZ1 1ZZ"
    assert cov.loc["South Ward", "nearest_site_km"] == 0


def test_without_population_points_distance_is_from_the_ward_centre(fx: Store) -> None:
    with fx.write() as cur:
        cur.execute("DELETE FROM population_points")
    cov = _cov(fx)
    assert cov["distance_from"].unique().tolist() == ["ward centre"]
    # The inner point of a square ward is its middle: the same as the fixture's points.
    assert cov.loc["South Ward", "nearest_site_km"] == pytest.approx(0.02 * KM_PER_DEGREE_LAT, abs=0.05)


def test_population_weighted_centre_moves_with_where_people_live(fx: Store) -> None:
    geoload.load_population_points(fx, pd.DataFrame({"lon": [0.01, 0.01], "lat": [50.001, 50.019],
                                                     "population": [300.0, 100.0]}), source="test")
    w = coverage.ward_frame(fx).set_index("ward_name")
    assert w.loc["South Ward", "point_lat"] == pytest.approx((50.001 * 300 + 50.019 * 100) / 400)
    assert w.loc["North Ward", "distance_from"] == "ward centre"  # no points there now


def test_bivariate_classes_single_out_high_need_low_provision(fx: Store) -> None:
    cov = _cov(fx).reset_index()
    b = coverage.bivariate_classes(cov, need="imd_score", provision="services").set_index(cov["ward_name"])
    # Need (IMD) North 40 > Mid 20 > South 10; provision North 4 > Mid 3 > South 2.
    assert b["need_class"].tolist() == [2, 3, 1]  # Mid, North, South (alphabetical rows)
    assert b.loc["North Ward", "bivariate"] == "High need, high provision"
    assert not b["priority"].any()
    flipped = cov.assign(services=[3, 2, 4])  # Mid 3, North 2, South 4: North now has the least
    b = coverage.bivariate_classes(flipped, need="imd_score", provision="services").set_index(cov["ward_name"])
    assert b["priority"].to_dict() == {"Mid Ward": False, "North Ward": True, "South Ward": False}
    # A decile (1 = most deprived) counts need the other way round.
    dec = cov.assign(imd_decile=[5.0, 1.0, 9.0])
    b = coverage.bivariate_classes(dec, need="imd_decile", provision="services", higher_is_more_need=False)
    assert b.set_index(cov["ward_name"]).loc["North Ward", "need_class"] == 3


def test_tertiles_tie_and_missing() -> None:
    assert coverage.tertile(pd.Series([1.0, 2.0, 3.0])).tolist() == [1, 2, 3]
    assert coverage.tertile(pd.Series([5.0, 5.0, 5.0])).tolist() == [2, 2, 2]  # ties share the middle
    assert coverage.tertile(pd.Series([1.0, None, 3.0])).isna().tolist() == [False, True, False]


def test_ward_detail_lists_its_services_needs_and_levels(fx: Store) -> None:
    frame = service_frame(fx)
    cov = coverage.coverage_table(fx, frame)
    _, meta = coverage.needs_latest(fx)
    d = coverage.ward_detail(cov, meta, frame, coverage.named_links(fx), "E05900002")
    assert sorted(d.services["name"]) == ["A", "C", "E"]
    parenting = d.by_area_level.set_index("Service area").loc["Parenting support"]
    assert (parenting["Universal"], parenting["All levels"]) == (3, 3)
    needs = d.needs.set_index("Indicator")
    assert needs.loc["Children aged 0-4", "Value"] == 200
    assert needs.loc["Deprivation score (IMD)", "Rank"] == "2nd of 3"
    assert needs.loc["Children aged 0-4", "Rank"] == "1st of 2"


def test_findings_name_the_wards(fx: Store) -> None:
    cov = _cov(fx, area="infant_feeding").reset_index()
    lines = coverage.findings(cov, max_km=2.0)
    assert lines[0] == "2 of 3 wards have no service covering them: Mid Ward, South Ward."
    assert lines[1].startswith("2 wards are more than 2 km") and "North Ward" in lines[1]


def test_cli_coverage_rows(fx: Store) -> None:
    rows = coverage.coverage_rows(fx)
    by = {r["ward_name"]: r for r in rows}
    assert {k: by["North Ward"][k] for k in ("ward_code", "services", "services_per_1000_under5", "nearest_site_km")} \
        == {"ward_code": "E05900001", "services": 4, "services_per_1000_under5": 40.0, "nearest_site_km": 0.0}
    assert by["South Ward"]["services_per_1000_under5"] is None
    assert {r["ward_name"]: r["services"] for r in coverage.coverage_rows(fx, area="infant_feeding")} == {
        "Mid Ward": 0, "North Ward": 1, "South Ward": 0}


def test_cli_end_to_end(tmp_path, capsys) -> None:  # noqa: ANN001
    import json

    from hubdash.cli import main

    db = tmp_path / "c.duckdb"
    wards = tmp_path / "w.geojson"
    wards.write_bytes(_wards_geojson())
    assert main(["load-wards", str(wards), "--db", str(db)]) == 0
    needs = tmp_path / "n.csv"
    needs.write_text("ward_name,Children aged 0-4\nNorth Ward,100\nMid Ward,200\nSouth Ward,50\nAtlantis,9\n")
    assert main(["load-needs", str(needs), "--db", str(db)]) == 0
    out = capsys.readouterr()
    assert "Loaded 3 figures" in out.out and "Atlantis" in out.err
    assert main(["coverage", "--db", str(db), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["ward_code"], r["services"], r["services_per_1000_under5"]) for r in rows] == [
        ("E05900002", 0, 0.0), ("E05900001", 0, 0.0), ("E05900003", 0, 0.0)]
    assert main(["coverage", "--db", str(db), "--format", "csv"]) == 0
    header = capsys.readouterr().out.splitlines()[0].split(",")
    assert header[:4] == ["ward_code", "ward_name", "locality", "services"] and "nearest_site_km" in header
    bad = tmp_path / "bad.geojson"
    bad.write_text("not json at all")
    assert main(["load-wards", str(bad), "--db", str(db)]) == 2
    assert "could not be loaded" in capsys.readouterr().err


# --- real Blackpool wards with a fixture survey ------------------------------------------------------


@needs_shared_data
def test_fixture_survey_naming_real_blackpool_wards() -> None:
    with Store(":memory:") as s:
        geoload.load_boundaries(s, SHARED_DATA / "blackpool_wards.geojson")
        geoload.load_needs(s, geoload.derive_children(SHARED_DATA / "blackpool_ward2022_census2021_age.csv"))
        with s.write() as cur:
            insert_services(cur, [
                record("Whole town", wards=["Whole local authority"]),
                record("Central", wards=["Bloomfield", "Talbot", "claremont"]),
                record("By code", wards=["E05001650", "E05001645"]),  # Hawes Side, Bloomfield
                record("New code", wards=["E05015188"]),  # Bloomfield's May 2023 code: not this ward set
                record("Feeding", wards=["Squires Gate"], service_areas=["infant_feeding"]),
            ])
        frame = service_frame(s)
        cov = coverage.coverage_table(s, frame).set_index("ward_name")
        assert len(cov) == 21
        expected = {name: 1 for name in cov.index}
        expected.update({"Bloomfield": 3, "Talbot": 2, "Claremont": 2, "Hawes Side": 2, "Squires Gate": 2})
        assert cov["services"].to_dict() == expected
        # Bloomfield has 536 children aged 0-4 (Census 2021): 3 services -> 5.6 per 1,000.
        assert cov.loc["Bloomfield", "services_per_1000_under5"] == round(3 / 536 * 1000, 2)
        feeding = coverage.coverage_table(s, filter_frame(frame, Filters(area="infant_feeding"))).set_index("ward_name")
        assert feeding["services"].sum() == 1 and feeding.loc["Squires Gate", "services"] == 1


def test_repeated_ward_names_are_labelled_with_their_codes() -> None:
    cov = pd.DataFrame({"ward_code": ["E1", "E2", "E3"], "ward_name": ["Abbey", "Abbey", "Park"]})
    assert coverage.ward_labels(cov).tolist() == ["Abbey (E1)", "Abbey (E2)", "Park"]


def test_needs_for_another_ward_set_are_not_offered(fx: Store) -> None:
    geoload.store_needs(fx, pd.DataFrame({"ward_code": ["E05001643"], "indicator": "births", "value": [9.0],
                                          "unit": "births", "period": "2021", "source": "old codes"}))
    wide, meta = coverage.needs_latest(fx)
    assert "births" not in meta["indicator"].tolist() and "births" not in wide.columns
    assert [m.code for m in coverage.measures(_cov(fx).reset_index(), meta)] == [
        "services", "services_per_1000_under5", "capacity_per_1000_under5", "pop_0_4", "imd_score"]


def test_vectorised_distances_agree_with_the_scalar_haversine() -> None:
    from hubdash.geo import haversine_km, nearest_points

    lon, lat = np.array([-3.05, -1.5]), np.array([53.82, 52.0])
    plon, plat = np.array([-3.0, 0.1, -1.6]), np.array([53.8, 51.5, 52.1])
    dist, idx = nearest_points(lon, lat, plon, plat, chunk=1)
    assert idx.tolist() == [0, 2]
    assert dist[0] == pytest.approx(haversine_km(-3.05, 53.82, -3.0, 53.8))
    assert dist[1] == pytest.approx(haversine_km(-1.5, 52.0, -1.6, 52.1))
    empty, none = nearest_points(lon, lat, np.array([]), np.array([]))
    assert np.isnan(empty).all() and (none == -1).all()
