"""The map builders: classes and legends, the bivariate scheme, the compact deck, the static map."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from hubdash.charts import COVERED, GAP, GAP_FILL, NEUTRAL, PALETTE
from hubdash.charts import maps


def test_provision_classes_step_evenly_from_zero_with_gaps_and_missing_named() -> None:
    colours, legend = maps.classify(pd.Series([0, 1, 2, 3, 5, 8, 13, None], dtype=float), zero_is_gap=True,
                                    equal=True)
    assert legend["label"].tolist() == ["No service (gap)", "1 to 3", "4 to 6", "7 to 9", "10 to 12", "13", "No data"]
    assert legend["wards"].tolist() == [1, 3, 1, 1, 0, 1, 1]  # 1, 2, 3 | 5 | 8 | - | 13 | None
    assert colours.iloc[0] == GAP_FILL and colours.iloc[-1] == NEUTRAL
    assert colours.iloc[6] == maps.SEQUENTIAL_RAMP[-1]  # the most is the darkest
    # 31 and 37 services look alike (both dark), not opposite ends of the scale.
    colours, _ = maps.classify(pd.Series([31.0, 37.0]), zero_is_gap=True, equal=True)
    assert set(colours) <= set(maps.SEQUENTIAL_RAMP[-2:])
    # A value on a break sits in the class whose label ends with it: 1 in "0 to 1", 2 in "2".
    colours, legend = maps.classify(pd.Series([1.0, 1.0, 2.0]), equal=True)
    assert dict(zip(legend["label"], legend["wards"], strict=True)) == {"0 to 1": 2, "2": 1}


def test_need_classes_are_quantiles_and_flip_when_low_means_more_need() -> None:
    deciles = pd.Series([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    colours, legend = maps.classify(deciles, higher_is_darker=False)
    assert colours.iloc[0] == maps.SEQUENTIAL_RAMP[-1]  # decile 1 (most deprived) is darkest
    assert legend["colour"].tolist() == maps.SEQUENTIAL_RAMP  # legend runs light to dark
    assert legend["wards"].sum() == 10


def test_the_sequential_ramp_gets_darker_step_by_step() -> None:
    def lightness(h: str) -> float:
        r, g, b = maps._rgb(h)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    values = [lightness(c) for c in maps.SEQUENTIAL_RAMP]
    assert values == sorted(values, reverse=True)
    assert PALETTE[4] in maps.SEQUENTIAL_RAMP and COVERED in maps.SEQUENTIAL_RAMP


def test_bivariate_scheme_reads_need_against_provision() -> None:
    assert maps.BIVARIATE_COLOURS[(3, 1)] == GAP  # high need, low provision: the strongest warning
    assert maps.BIVARIATE_COLOURS[(1, 3)] == COVERED
    assert len(set(maps.BIVARIATE_COLOURS.values())) == 7  # the two 'one step' pairs share a tint
    classes = pd.DataFrame({"need_class": [3, 3, 1, None], "provision_class": [1, 2, 3, 2]})
    colours, legend = maps.bivariate_colours(classes)
    assert colours.tolist() == [GAP, maps.BIVARIATE_COLOURS[(3, 2)], COVERED, NEUTRAL]
    assert legend["wards"].sum() == 3 and legend.set_index(["need", "provision"]).loc[(3, 1), "wards"] == 1
    chart = maps.bivariate_legend(legend, need_label="IMD", provision_label="Services").to_dict()
    assert "Need → (IMD)" in json.dumps(chart, ensure_ascii=False)


def _cov() -> pd.DataFrame:
    return pd.DataFrame({"ward_code": ["W1", "W2"], "ward_name": ["North <b>", "South"], "services": [2, 0],
                         "services_per_1000_under5": [20.0, None], "nearest_site_km": [0.5, None],
                         "nearest_site": ["Hub", None], "top_services": ["A; 1 whole-area service", "None"],
                         "point_lon": [0.01, 0.01], "point_lat": [50.03, 50.01]})


def test_deck_is_compact_offline_json_with_ids_and_plain_text_tooltips() -> None:
    geoms = ['{"type":"Polygon","coordinates":[[[0,50.02],[0.02,50.02],[0.02,50.04],[0,50.02]]]}',
             '{"type":"Polygon","coordinates":[[[0,50],[0.02,50],[0.02,50.02],[0,50]]]}']
    sites = pd.DataFrame({"name": ["Hub", "Clinic"], "kind": ["family_hub", "site"], "lon": [0.01, 0.015],
                          "lat": [50.03, 50.01], "services": [3, 1], "how": ["family hub", "site"]})
    cov = _cov()
    tips = maps.ward_tooltips(cov, measure_label="Services covering the ward", values=cov["services"])
    deck = maps.coverage_deck(geoms, cov, [COVERED, GAP_FILL], tips, sites=sites, outline=[False, True])
    text = deck.to_json()
    assert "\n" not in text.replace("\\n", "") and ": " not in text[:200]  # compact, unlike pydeck's default
    spec = json.loads(text)
    assert spec["mapStyle"] == "__MAP_STYLE__" and "mapProvider" not in spec  # no tiles fetched
    assert [layer["id"] for layer in spec["layers"]] == ["wards", "sites", "family-hubs", "hub-labels"]
    assert spec["layers"][0]["lineWidthUnits"] == "pixels"  # a literal, not an expression
    feats = spec["layers"][0]["data"]["features"]
    assert feats[0]["properties"]["tip"].startswith("North <b> (W1)")  # shown as text by the tooltip, never HTML
    assert feats[1]["properties"]["lw"] > feats[0]["properties"]["lw"]  # outlined
    assert deck._tooltip["text"] == "{tip}" and "html" not in deck._tooltip
    assert 49.9 < spec["initialViewState"]["latitude"] < 50.1


def test_view_fits_the_box() -> None:
    v = maps.view_for(-3.06, 53.77, -2.99, 53.88, width=760, height=640)  # Blackpool
    assert 11 < v.zoom < 12.5
    assert maps.view_for(-6.4, 49.9, 1.8, 55.8).zoom < 6  # England


def test_static_map_renders_to_png() -> None:
    import vl_convert as vlc

    cov = _cov()
    geoms = ['{"type":"Polygon","coordinates":[[[0,50.02],[0.02,50.02],[0.02,50.04],[0,50.02]]]}',
             '{"type":"Polygon","coordinates":[[[0,50],[0.02,50],[0.02,50.02],[0,50]]]}']
    _, legend = maps.classify(cov["services"], zero_is_gap=True, equal=True)
    chart = maps.static_map(geoms, cov, [COVERED, GAP_FILL], maps.legend_chart(legend, title="Services", styled=False),
                            title="Services covering the ward")
    png = vlc.vegalite_to_png(chart.to_json(), scale=1)
    assert png[:4] == b"\x89PNG" and len(png) > 2000


@pytest.mark.parametrize("measure", ["services", "imd_score", "bivariate", "no_such_measure"])
def test_coverage_map_for_each_measure(demo_store, measure: str) -> None:  # noqa: ANN001
    from hubdash import coverage, geoload
    from hubdash.services import service_frame

    frame = service_frame(demo_store)
    cov = coverage.coverage_table(demo_store, frame)
    _, meta = coverage.needs_latest(demo_store)
    view = maps.coverage_map(cov, meta, geoload.map_geometries(demo_store), coverage.delivery_points(demo_store, frame),
                             measure=measure)
    assert len(view.rows) == len(json.loads(view.deck.to_json())["layers"][0]["data"]["features"]) == 20
    assert (view.bivariate is not None) == (measure == "bivariate")
    assert view.legend_table["wards"].sum() == 20
    if measure == "no_such_measure":
        assert view.title == "Services covering the ward"
