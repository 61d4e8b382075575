"""Loading real geography: boundaries in any format and CRS, needs, postcodes, sites, population.

Real data comes from ../shared/data (read in place, never copied); tests that need it skip with
a clear reason where that folder is absent. Bad files must be refused with a clear `GeoError`
and leave the store exactly as it was.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, Polygon, box

from hubdash import geoload
from hubdash.errors import GeoError
from hubdash.store import Store
from tests.conftest import SHARED_DATA, needs_shared_data

WARDS_2013 = SHARED_DATA / "blackpool_wards.geojson"
WARDS_2023 = SHARED_DATA / "blackpool_wards_2023.geojson"
AGE = SHARED_DATA / "blackpool_ward2022_census2021_age.csv"
ETHNICITY = SHARED_DATA / "blackpool_ward2022_census2021_ethnicity.csv"
IMD = SHARED_DATA / "blackpool_lsoa11_imd2019.csv"
LOOKUP = SHARED_DATA / "blackpool_lsoa11_ward_lookup.csv"
LSOAS = SHARED_DATA / "blackpool_lsoa2011.geojson"
ENGLAND = SHARED_DATA / "england_wards_2013.geojson"


@pytest.fixture
def store():  # noqa: ANN201
    with Store(":memory:") as s:
        yield s


def _snapshot(store: Store) -> tuple:
    """Everything a refused load must leave alone."""
    return (store.data_version(), store.rows("SELECT ward_code, ward_name, geometry_display FROM wards ORDER BY 1"),
            store.rows("SELECT * FROM needs ORDER BY 1, 2"), store.rows("SELECT * FROM sites ORDER BY 1"))


def _square_wards(tmp_path: Path) -> Path:
    """Three 2 km-ish squares stacked north to south near (0.01, 50.03)."""
    gdf = gpd.GeoDataFrame(
        {"WD99CD": ["E05900001", "E05900002", "E05900003"], "WD99NM": ["North Ward", "Mid Ward", "South Ward"],
         "LAD99NM": ["Testshire", "Testshire", "Testshire"]},
        geometry=[box(0, 50.04, 0.02, 50.06), box(0, 50.02, 0.02, 50.04), box(0, 50.00, 0.02, 50.02)], crs=4326)
    path = tmp_path / "squares.geojson"
    gdf.to_file(path, driver="GeoJSON")
    return path


# --- real Blackpool boundaries ---------------------------------------------------------------------


@needs_shared_data
def test_blackpool_2013_wards_load_with_suggested_fields_and_unchanged_geometry(store: Store) -> None:
    rep = geoload.load_boundaries(store, WARDS_2013)
    assert (rep.wards, rep.code_field, rep.name_field) == (21, "WD13CD", "WD13NM")
    assert rep.repaired == [] and rep.merged == []
    codes = [r[0] for r in store.rows("SELECT ward_code FROM wards ORDER BY 1")]
    assert codes == [f"E050016{n}" for n in range(43, 64)]
    assert store.scalar("SELECT ward_name FROM wards WHERE ward_code = 'E05001645'") == "Bloomfield"
    # Stored geometry is the file's own; the display copy is simplified but still the same area.
    src = gpd.read_file(WARDS_2013).set_index("WD13CD")
    row = store.rows("SELECT geometry, geometry_display FROM wards WHERE ward_code = 'E05001659'")[0]
    stored = shapely.from_wkb(bytes(row[0]))
    assert stored.equals_exact(src.loc["E05001659", "geometry"], 1e-12)
    shown = shapely.from_geojson(row[1])
    assert abs(shown.area - stored.area) / stored.area < 0.02
    # Areas in km² from British National Grid: Blackpool is about 35 km².
    assert 33 < store.scalar("SELECT sum(area_km2) FROM wards") < 37


@needs_shared_data
def test_blackpool_2023_wards_have_the_same_names_but_join_on_new_codes(store: Store) -> None:
    geoload.load_boundaries(store, WARDS_2013)
    names_2013 = {r[0] for r in store.rows("SELECT ward_name FROM wards")}
    geoload.load_needs(store, geoload.derive_children(AGE))  # Census is on the 2013-2023 codes
    rep = geoload.load_boundaries(store, WARDS_2023)
    assert (rep.wards, rep.code_field, rep.name_field) == (21, "WD23CD", "WD23NM")
    assert {r[0] for r in store.rows("SELECT ward_name FROM wards")} == names_2013
    assert store.scalar("SELECT min(ward_code) || '-' || max(ward_code) FROM wards") == "E05015186-E05015206"
    # The Census figures stay stored but no longer map: the report lists all 21 old codes.
    assert len(rep.orphan_needs) == 21 and rep.orphan_needs[0] == "E05001643"
    assert any("21 ward code(s)" in line for line in rep.lines())
    # Loading the Census table against the 2023 wards matches nothing by code: refused, listed.
    with pytest.raises(GeoError, match="no figure matched a ward"):
        geoload.load_needs(store, geoload.derive_children(AGE))


@needs_shared_data
def test_british_national_grid_copy_reprojects_back(store: Store, tmp_path: Path) -> None:
    src = gpd.read_file(WARDS_2023)
    bng = tmp_path / "wards_bng.gpkg"
    src.to_crs(27700).to_file(bng, driver="GPKG")
    rep = geoload.load_boundaries(store, bng)
    assert rep.wards == 21 and "British National Grid" in rep.crs_note or "27700" in rep.crs_note
    stored = store.rows("SELECT geometry FROM wards WHERE ward_code = 'E05015202'")[0][0]
    back = shapely.from_wkb(bytes(stored))
    original = src.set_index("WD23CD").loc["E05015202", "geometry"]
    assert shapely.hausdorff_distance(back, original) < 1e-6  # well under a metre


@needs_shared_data
def test_zipped_shapefile_without_a_prj_is_recognised_as_british_national_grid(store: Store, tmp_path: Path) -> None:
    src = gpd.read_file(WARDS_2013).to_crs(27700)
    folder = tmp_path / "shp"
    folder.mkdir()
    src.to_file(folder / "wards.shp")
    (folder / "wards.prj").unlink()  # as often received: no coordinate system file
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        for f in folder.iterdir():
            z.write(f, f"Blackpool wards/{f.name}")
    rep = geoload.load_boundaries(store, data.getvalue(), filename="wards.zip")
    assert rep.wards == 21
    assert "look like British National Grid" in rep.crs_note
    lon, lat = store.rows("SELECT centroid_lon, centroid_lat FROM wards WHERE ward_code = 'E05001645'")[0]
    assert -3.1 < lon < -3.0 and 53.78 < lat < 53.84  # Bloomfield, central Blackpool


def test_geopackage_and_zipped_shapefile_written_by_the_test_load(store: Store, tmp_path: Path) -> None:
    gdf = gpd.read_file(_square_wards(tmp_path))
    gpkg = tmp_path / "w.gpkg"
    gdf.to_file(gpkg, driver="GPKG", layer="wards")
    assert geoload.load_boundaries(store, gpkg).wards == 3
    folder = tmp_path / "shp"
    folder.mkdir()
    gdf.to_crs(27700).to_file(folder / "w.shp")
    zpath = tmp_path / "w.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        for f in folder.iterdir():
            z.write(f, f.name)
    rep = geoload.load_boundaries(store, zpath, code_field="WD99CD", name_field="WD99NM")
    assert rep.wards == 3 and "Converted from" in rep.crs_note
    assert store.rows("SELECT ward_name FROM wards ORDER BY ward_code") == [("North Ward",), ("Mid Ward",),
                                                                          ("South Ward",)]


def test_lon_lat_file_without_crs_is_read_as_wgs84(store: Store, tmp_path: Path) -> None:
    gdf = gpd.read_file(_square_wards(tmp_path))
    folder = tmp_path / "shp"
    folder.mkdir()
    gdf.to_file(folder / "w.shp")
    (folder / "w.prj").unlink()
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        for f in folder.iterdir():
            z.write(f, f.name)
    rep = geoload.load_boundaries(store, data.getvalue(), filename="w.zip")
    assert "look like longitude/latitude" in rep.crs_note


# --- bad files -----------------------------------------------------------------------------------


def _bad_files(tmp_path: Path) -> dict[str, tuple[bytes, str, str]]:
    """name -> (bytes, file name, a phrase the message must contain)."""
    empty = json.dumps({"type": "FeatureCollection", "features": []}).encode()
    points = gpd.GeoDataFrame({"WD99CD": ["E1"], "WD99NM": ["A"]}, geometry=[Point(0, 50)], crs=4326).to_json()
    bng_as_lonlat = json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"WD99CD": "E05900001", "WD99NM": "A"},
        "geometry": {"type": "Polygon", "coordinates": [[[330000, 430000], [331000, 430000], [331000, 431000],
                                                         [330000, 430000]]]}}]}).encode()
    nowhere = json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"WD99CD": "E05900001", "WD99NM": "A"},
        "geometry": {"type": "Polygon", "coordinates": [[[5e6, 5e6], [5.1e6, 5e6], [5.1e6, 5.1e6], [5e6, 5e6]]]}}],
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}}}).encode()
    no_geom = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"WD99CD": "E05900001", "WD99NM": "A"}, "geometry": None}]}).encode()
    zip_csv = io.BytesIO()
    with zipfile.ZipFile(zip_csv, "w") as z:
        z.writestr("wards.csv", "code,name\nE1,A\n")
    zip_no_dbf = io.BytesIO()
    folder = tmp_path / "nodbf"
    folder.mkdir()
    gpd.read_file(_square_wards(tmp_path)).to_file(folder / "w.shp")
    with zipfile.ZipFile(zip_no_dbf, "w") as z:
        for f in folder.iterdir():
            if f.suffix != ".dbf":
                z.write(f, f.name)
    return {
        "table": (b"ward_code,ward_name\nE05001643,Anchorsholme\n", "wards.csv", "is a table, not a geography file"),
        "empty": (empty, "empty.geojson", "no areas"),
        "points": (points.encode(), "points.geojson", "not areas (polygons)"),
        "corrupt": (b"\x00\x01garbage that is no GeoPackage" * 20, "wards.gpkg", "could not be read as geography"),
        "zero bytes": (b"", "wards.geojson", "is empty"),
        "wrong crs": (bng_as_lonlat, "bng.geojson", "cannot be degrees"),
        "off the grid": (nowhere, "far.geojson", "lie outside the area"),
        "no geometry": (no_geom, "nogeom.geojson", "no geometry"),
        "zip of a csv": (zip_csv.getvalue(), "wards.zip", "no Shapefile, GeoPackage or GeoJSON inside"),
        "shapefile without dbf": (zip_no_dbf.getvalue(), "w.zip", "missing its .dbf"),
        "lat lon swapped": (gpd.GeoDataFrame({"WD99CD": ["E05900001"], "WD99NM": ["A"]},
                                             geometry=[box(53.8, -3.05, 53.85, -3.0)], crs=4326).to_json().encode(),
                            "swapped.geojson", "wrong order"),
    }


def test_bad_files_are_refused_with_a_clear_message_and_the_store_unchanged(store: Store, tmp_path: Path) -> None:
    geoload.load_boundaries(store, _square_wards(tmp_path))
    before = _snapshot(store)
    for name, (data, filename, phrase) in _bad_files(tmp_path).items():
        with pytest.raises(GeoError) as e:
            geoload.load_boundaries(store, data, filename=filename)
        assert phrase in e.value.msg, (name, e.value.msg)
        assert filename in e.value.msg or name == "zero bytes", (name, e.value.msg)
        assert _snapshot(store) == before, name


def test_missing_or_wrong_fields_are_refused(store: Store, tmp_path: Path) -> None:
    path = _square_wards(tmp_path)
    before = _snapshot(store)
    with pytest.raises(GeoError, match="no field called 'WD23CD'"):
        geoload.load_boundaries(store, path, code_field="WD23CD")
    # A district field as the code repeats for every ward: refused, suggesting the right field.
    with pytest.raises(GeoError, match="Suggested: WD99CD"):
        geoload.load_boundaries(store, path, code_field="LAD99NM")
    assert _snapshot(store) == before


def test_invalid_geometry_is_repaired_and_reported_or_refused(store: Store, tmp_path: Path) -> None:
    bowtie = Polygon([(0, 50), (0.02, 50.02), (0.02, 50), (0, 50.02), (0, 50)])  # self-intersecting
    gdf = gpd.GeoDataFrame({"WD99CD": ["E05900001", "E05900002"], "WD99NM": ["Bow", "Box"]},
                           geometry=[bowtie, box(0.03, 50, 0.05, 50.02)], crs=4326)
    path = tmp_path / "bowtie.geojson"
    gdf.to_file(path, driver="GeoJSON")
    before = _snapshot(store)
    with pytest.raises(GeoError, match="invalid geometry.*E05900001"):
        geoload.load_boundaries(store, path, repair=False)
    assert _snapshot(store) == before
    rep = geoload.load_boundaries(store, path)
    assert rep.repaired == ["E05900001"]
    assert any("Repaired invalid geometry for 1 area" in line for line in rep.lines())
    fixed = shapely.from_wkb(bytes(store.rows("SELECT geometry FROM wards WHERE ward_code = 'E05900001'")[0][0]))
    assert fixed.is_valid and fixed.area == pytest.approx(2 * 0.5 * 0.02 * 0.01)  # both triangles of the bow tie


def test_field_suggestions_prefer_ward_codes_and_names() -> None:
    frame = pd.DataFrame({"OBJECTID": [1, 2, 3], "WD23CD": ["E05015186", "E05015187", "E05015188"],
                          "WD23NM": ["A", "B", "C"], "WD23NMW": ["A", "B", "C"], "LAD23CD": ["E1", "E1", "E2"],
                          "LAD23NM": ["X", "X", "Y"]})
    s = geoload.suggest_fields(frame)
    assert (s.code, s.name, s.locality) == ("WD23CD", "WD23NM", "LAD23NM")
    # A single-valued district field is no locality (it would not split anything).
    s = geoload.suggest_fields(frame.assign(LAD23NM="X", LAD23CD="E1"))
    assert s.locality is None


def test_rows_of_one_ward_split_over_several_features_are_joined(store: Store, tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame({"code": ["E05900001", "E05900001", "E05900002"], "name": ["Isles", "Isles", "Main"]},
                           geometry=[box(0, 50, 0.01, 50.01), box(0.02, 50, 0.03, 50.01), box(0, 50.02, 0.02, 50.04)],
                           crs=4326)
    path = tmp_path / "parts.geojson"
    gdf.to_file(path, driver="GeoJSON")
    rep = geoload.load_boundaries(store, path, code_field="code", name_field="name")
    assert rep.wards == 2 and rep.merged == ["E05900001"]
    geom = shapely.from_wkb(bytes(store.rows("SELECT geometry FROM wards WHERE ward_code = 'E05900001'")[0][0]))
    assert geom.geom_type == "MultiPolygon"


def test_a_fresh_database_holding_loaded_wards_is_never_replaced_by_the_demo(tmp_path: Path) -> None:
    from hubdash.store import open_store

    db = tmp_path / "mine.duckdb"
    with Store(db) as s:
        geoload.load_boundaries(s, _square_wards(tmp_path), backup=False)
    with open_store(db, build_demo_if_missing=True) as s:
        assert s.scalar("SELECT count(*) FROM wards") == 3 and not s.is_demo()


# --- needs -----------------------------------------------------------------------------------------


@needs_shared_data
def test_census_children_0_4_and_minority_ethnic_match_hand_counts(store: Store) -> None:
    geoload.load_boundaries(store, WARDS_2013)
    rep = geoload.load_needs(store, geoload.derive_children(AGE))
    assert (rep.rows_loaded, rep.wards_matched, rep.indicators) == (21, 21, ["pop_0_4"])
    assert len(rep.unmatched) == 0
    value = {r[0]: r[1] for r in store.rows("SELECT ward_code, value FROM needs WHERE indicator = 'pop_0_4'")}
    assert value["E05001645"] == 105 + 100 + 111 + 115 + 105  # Bloomfield, ages 0 to 4 in the file
    assert value["E05001643"] == 37 + 45 + 42 + 49 + 39  # Anchorsholme: 212, as the Census summary says
    geoload.load_needs(store, geoload.derive_minority_ethnic(ETHNICITY))
    pct = store.scalar("SELECT value FROM needs WHERE indicator = 'pct_minority_ethnic' AND ward_code = 'E05001645'")
    assert pct == pytest.approx(round(100 * (7567 - 6087) / 7567, 2))  # all groups but White British


@needs_shared_data
def test_mean_imd_score_per_ward_from_lsoas_on_both_ward_sets(store: Store) -> None:
    geoload.load_boundaries(store, WARDS_2013)
    geoload.load_needs(store, geoload.derive_imd(IMD))
    score = {r[0]: r[1] for r in store.rows("SELECT ward_code, value FROM needs WHERE indicator = 'imd_score'")}
    assert score["E05001643"] == pytest.approx((37.61 + 29.22 + 23.57 + 26.32) / 4, abs=0.005)  # Anchorsholme
    assert len(score) == 21
    # The May 2023 wards through the derived best-fit lookup: Bispham has 3 LSOAs there.
    geoload.load_boundaries(store, WARDS_2023)
    rep = geoload.load_needs(store, geoload.derive_imd(IMD, lookup=LOOKUP, ward_field="wd23cd_bestfit"))
    assert rep.wards_matched == 21
    bispham = store.scalar("SELECT value FROM needs WHERE indicator = 'imd_score' AND ward_code = 'E05015187'")
    assert bispham == pytest.approx((39.72 + 18.41 + 29.32) / 3, abs=0.005)


def _two_wards(store: Store, tmp_path: Path) -> None:
    geoload.load_boundaries(store, _square_wards(tmp_path))


def test_wide_needs_table_keyed_by_name_lists_unmatched_keys(store: Store, tmp_path: Path) -> None:
    _two_wards(store, tmp_path)
    csv = ("Ward,Children aged 0-4,Lone parents (%),IMD\n"
           "North Ward,120,12.5,30.1\nmid ward,80,n/a,25\nNowhere Ward,50,10,20\nSouth Ward,,9,18\n")
    rep = geoload.load_needs(store, csv.encode(), filename="needs.csv", period="2024", source_label="Test")
    assert rep.layout == "wide"
    assert rep.indicators == ["pop_0_4", "Lone parents (%)", "imd_score"]
    assert rep.unmatched["ward"].tolist() == ["Nowhere Ward"]
    assert rep.unmatched["rows"].tolist() == ["4"]  # the spreadsheet row, header being row 1
    assert rep.not_numbers["value"].tolist() == ["n/a"]
    got = store.read("SELECT ward_code, indicator, value, unit, period, source FROM needs ORDER BY 1, 2")
    assert len(got) == 7  # North 3, Mid 2 (n/a left out), South 2 (blank left out); Nowhere not loaded
    row = got[(got.ward_code == "E05900002") & (got.indicator == "pop_0_4")].iloc[0]
    assert (row.value, row.unit, row.period, row.source) == (80.0, "people", "2024", "Test")
    assert got[got.indicator == "Lone parents (%)"]["unit"].unique().tolist() == ["%"]
    assert any("NOT loaded" in line for line in rep.lines())


def test_long_needs_table_keyed_by_code_replaces_the_same_indicator_and_period(store: Store, tmp_path: Path) -> None:
    _two_wards(store, tmp_path)
    long = ("ward_code,indicator,value,unit,period,source\n"
            "E05900001,imd_score,31,score,2019,IoD\nE05900002,Deprivation score (IMD),22,score,2019,IoD\n"
            "e05900003,births,40,births,2023,ONS\n")
    rep = geoload.load_needs(store, long.encode(), filename="long.csv")
    assert (rep.layout, rep.rows_loaded, len(rep.unmatched)) == ("long", 3, 0)
    again = "ward_code,indicator,value,period\nE05900001,imd_score,35,2019\n"
    geoload.load_needs(store, again.encode(), filename="again.csv")
    assert store.rows("SELECT ward_code, value FROM needs WHERE indicator = 'imd_score'") == [("E05900001", 35.0)]
    assert store.scalar("SELECT count(*) FROM needs WHERE indicator = 'births'") == 1  # other indicators kept


def test_needs_keyed_by_an_ambiguous_name_or_refused_strictly(store: Store, tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame({"code": ["E1", "E2"], "name": ["Abbey", "Abbey"]},
                           geometry=[box(0, 50, 0.01, 50.01), box(1, 50, 1.01, 50.01)], crs=4326)
    path = tmp_path / "abbeys.geojson"
    gdf.to_file(path, driver="GeoJSON")
    geoload.load_boundaries(store, path, code_field="code", name_field="name")
    before = _snapshot(store)
    with pytest.raises(GeoError, match="no figure matched"):
        geoload.load_needs(store, b"ward,births\nAbbey,10\n", filename="n.csv")
    with pytest.raises(GeoError, match="Nothing was loaded"):
        geoload.load_needs(store, b"ward,births\nE1,10\nAbbey,12\n", filename="n.csv", strict=True)
    assert _snapshot(store) == before
    rep = geoload.load_needs(store, b"ward,births\nE1,10\nAbbey,12\n", filename="n.csv")
    assert rep.unmatched["reason"].tolist() == ["2 wards have this name: key the table by ward code"]


def test_needs_from_xlsx_with_title_rows(store: Store, tmp_path: Path) -> None:
    _two_wards(store, tmp_path)
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        pd.DataFrame([["Children in low-income families, 2023"], [None]]).to_excel(xw, index=False, header=False)
        pd.DataFrame({"Ward code": ["E05900001", "E05900003"], "Children in low-income families": [21.5, 30]}).to_excel(
            xw, index=False, startrow=3)
    rep = geoload.load_needs(store, buf.getvalue(), filename="cilif.xlsx", period="2023")
    assert rep.indicators == ["children_low_income"] and rep.wards_matched == 2


def test_needs_need_wards_first(store: Store) -> None:
    with pytest.raises(GeoError, match="Load ward boundaries first"):
        geoload.load_needs(store, b"ward,births\nX,1\n", filename="n.csv")


# --- postcodes, sites, population --------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [("fy11aa", "FY1 1AA"), (" FY1  1AA ", "FY1 1AA"), ("sw1a1aa", "SW1A 1AA"),
                                               ("M1 1AE", "M1 1AE"), ("KM99", None), ("FY1 1A", None), (None, None)])
def test_postcodes_are_normalised(raw: str | None, expected: str | None) -> None:
    assert geoload.normalise_postcode(raw) == expected


@pytest.mark.parametrize("header", ["pcds,lat,long", "pcd,latitude,longitude", "Postcode,Lat,Lon"])
def test_postcode_lookup_header_variants(store: Store, header: str) -> None:
    csv = f"{header}\nFY1 1AA,53.81,-3.05\nfy38aa,53.85,-3.02\nnot a postcode,1,1\nFY9 9ZZ,99.999999,0\n"
    rep = geoload.load_postcode_lookup(store, csv.encode(), filename="onspd.csv")
    assert (rep.loaded, rep.invalid, rep.no_coordinates) == (2, 1, 1)
    assert store.rows("SELECT * FROM postcode_lookup ORDER BY 1") == [("FY1 1AA", 53.81, -3.05),
                                                                       ("FY3 8AA", 53.85, -3.02)]


def test_online_postcode_lookup_uses_the_injected_fetch_and_degrades_offline(store: Store, tmp_path: Path) -> None:
    from hubdash.services import insert_services
    from tests.conftest import record

    _two_wards(store, tmp_path)
    with store.write() as cur:
        insert_services(cur, [record("A", postcodes=["fy1 1aa", "ZZ9 9ZZ", "KM99"])])
    calls = []

    def fake(url: str, payload: dict, timeout: float) -> dict:
        calls.append((url, payload, timeout))
        return {"result": [{"query": "FY1 1AA", "result": {"postcode": "FY1 1AA", "latitude": 53.8, "longitude": -3.0}},
                           {"query": "ZZ9 9ZZ", "result": None}]}

    found, missing = geoload.place_postcodes_online(store, fetch=fake)
    assert (found, missing) == (1, ["ZZ9 9ZZ"])
    assert calls[0][1] == {"postcodes": ["FY1 1AA", "ZZ9 9ZZ"]} and calls[0][0].startswith("https://")
    assert store.rows("SELECT * FROM postcode_lookup") == [("FY1 1AA", 53.8, -3.0)]

    def offline(url: str, payload: dict, timeout: float) -> dict:
        import urllib.error

        raise urllib.error.URLError("Name or service not known")

    before = _snapshot(store)
    with pytest.raises(GeoError, match="upload a postcode lookup file") as e:
        geoload.place_postcodes_online(store, fetch=offline)
    assert e.value.title == "Postcode lookup is offline"
    assert _snapshot(store) == before


def test_sites_load_from_csv_place_by_postcode_and_list_the_unplaced(store: Store, tmp_path: Path) -> None:
    _two_wards(store, tmp_path)
    geoload.store_postcodes(store, pd.DataFrame({"postcode": ["AB1 2CD"], "lat": [50.03], "lon": [0.01]}))
    csv = ("Site name,Type,Postcode,Latitude,Longitude\n"
           "North Hub,Family Hub,,50.05,0.01\nClinic,Health centre,ab12cd,,\nLost Hall,Venue,XY1 1XY,,\n")
    rep = geoload.load_sites(store, csv.encode(), filename="sites.csv")
    assert (rep.loaded, rep.placed, rep.unplaced) == (3, 2, ["Lost Hall"])
    sites = geoload.sites_frame(store).set_index("name")
    assert sites.loc["North Hub", "kind"] == "family_hub" and sites.loc["North Hub", "ward_name"] == "North Ward"
    assert sites.loc["Clinic", "kind"] == "site" and sites.loc["Clinic", "ward_name"] == "Mid Ward"
    assert pd.isna(sites.loc["Lost Hall", "lat"])
    # Placed by hand, then removed.
    sid = geoload.add_site(store, name="Pop-up", kind="site", lat=50.01, lon=0.01)
    assert geoload.sites_frame(store).set_index("site_id").loc[sid, "ward_code"] == "E05900003"
    with pytest.raises(GeoError, match="give latitude and longitude"):
        geoload.add_site(store, name="Nowhere", kind="site", postcode="QQ1 1QQ")
    geoload.remove_site(store, sid)
    assert sid not in set(geoload.sites_frame(store)["site_id"])
    # The unplaced site's postcode is listed for lookup.
    assert "XY1 1XY" in set(geoload.unplaced_postcodes(store)["postcode"])


@needs_shared_data
def test_population_points_from_lsoas_fall_in_wards(store: Store) -> None:
    geoload.load_boundaries(store, WARDS_2013)
    pts = geoload.population_points_from_areas(LSOAS, IMD)
    assert len(pts) == 94 and pts["population"].sum() > 20_000  # children 0-15 (mid-2015)
    got = geoload.load_population_points(store, pts, source="LSOA centroids")
    assert got == {"points": 94, "in_wards": 94}
    # Points follow the wards when boundaries change.
    rep = geoload.load_boundaries(store, WARDS_2023)
    assert rep.points_in_wards == 94


# --- the whole of England (slow: ~4-15 s) --------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(not ENGLAND.is_file(), reason=f"{ENGLAND} is absent on this machine")
def test_all_english_wards_load_and_their_display_copy_stays_small(tmp_path: Path) -> None:
    with Store(tmp_path / "england.duckdb") as s:
        rep = geoload.load_boundaries(s, ENGLAND, backup=False)
        assert rep.wards == 7681 and rep.locality_field == "LAD13CD"
        assert rep.display_bytes < 3_000_000  # the source is 30 MB
        assert s.scalar("SELECT count(DISTINCT locality) FROM wards") == 326
        texts = geoload.map_geometries(s)
        assert len(texts) == 7681 and sum(map(len, texts.values())) == rep.display_bytes


def test_population_points_in_british_national_grid_easting_northing(store: Store, tmp_path: Path) -> None:
    _two_wards(store, tmp_path)
    # ONS publishes LSOA population-weighted centroids as X/Y in metres (EPSG:27700).
    pt = gpd.GeoSeries([Point(0.01, 50.05), Point(0.01, 50.01)], crs=4326).to_crs(27700)
    csv = "LSOA21CD,X,Y,population\n" + "\n".join(
        f"E0100000{i},{p.x:.1f},{p.y:.1f},{n}" for i, (p, n) in enumerate(zip(pt, [1500, 900], strict=True)))
    pts = geoload.read_population_points(csv.encode(), filename="pwc.csv")
    assert pts["lat"].round(3).tolist() == [50.05, 50.01] and pts["label"].tolist() == ["E01000000", "E01000001"]
    assert geoload.load_population_points(store, pts, source="pwc") == {"points": 2, "in_wards": 2}
    with pytest.raises(GeoError, match="no lat/lon or x/y"):
        geoload.read_population_points(b"code,population\nA,1\n", filename="nope.csv")
