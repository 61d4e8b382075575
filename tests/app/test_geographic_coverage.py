"""The Geographic coverage page in AppTest: it runs, shows the map, legend and table, and its
options (measure, filter, distance, ward) change the figures."""

from __future__ import annotations

import json

import pytest

from hubdash import coverage
from hubdash.services import service_frame
from hubdash.store import Store
from tests.app.conftest import ROOT

PAGE = "pages/geographic_coverage.py"


def _deck(at) -> dict:  # noqa: ANN001
    (deck,) = at.get("deck_gl_json_chart")
    return json.loads(deck.proto.json)


def _table(at):  # noqa: ANN001, ANN202
    """The ward table beside the map (the first table on the page)."""
    return at.dataframe[0].value


def _specs(at) -> list[str]:  # noqa: ANN001
    return [c.proto.spec for c in at.get("vega_lite_chart")]


def test_page_runs_with_map_legend_and_ward_table(run_app, app_db) -> None:  # noqa: ANN001
    at = run_app(PAGE)
    assert not at.exception, at.exception
    assert at.title[0].value == "Geographic coverage"
    deck = _deck(at)
    assert "mapProvider" not in deck or deck["mapProvider"] is None  # no base-map tiles: works offline
    layers = {layer["id"]: layer for layer in deck["layers"]}
    assert set(layers) == {"wards", "sites", "family-hubs", "hub-labels"}
    features = layers["wards"]["data"]["features"]
    assert len(features) == 20
    (tip_spec,) = [at.get("deck_gl_json_chart")[0].proto.tooltip]
    assert json.loads(tip_spec)["text"] == "{tip}"  # plain text: ward and service names are never HTML
    with Store(app_db) as s:
        cov = coverage.coverage_table(s, service_frame(s)).set_index("ward_code")
    tips = {f["properties"]["code"]: f["properties"]["tip"] for f in features}
    assert tips["DEMO001"].startswith("Harbourside (DEMO001)")
    assert f"Services covering the ward: {cov.loc['DEMO001', 'services']}" in tips["DEMO001"]
    table = _table(at)
    assert len(table) == 20 and table.set_index("Ward").loc["Harbourside", "Services"] == cov.loc["DEMO001", "services"]
    legend = json.loads(_specs(at)[0])  # the legend pydeck lacks, drawn beside the map
    assert legend["title"]["text"] == "Services covering the ward"
    assert legend["title"]["subtitle"] == "Darker = more provision"


def test_the_area_filter_changes_the_counts(run_app) -> None:  # noqa: ANN001
    everything = _table(run_app(PAGE)).set_index("Ward")["Services"]
    at = run_app(PAGE, area="infant_feeding")
    assert not at.exception
    feeding = _table(at).set_index("Ward")["Services"]
    assert (feeding <= everything).all() and feeding.sum() < everything.sum()
    assert any("Infant feeding" in c.value for c in at.caption)


def test_measure_and_bivariate_views(run_app) -> None:  # noqa: ANN001
    at = run_app(PAGE)
    at.selectbox(key="cov_measure").select("imd_score").run()
    assert not at.exception
    assert at.subheader[0].value == "Deprivation score (IMD)"
    assert "Deprivation score (IMD)" in _table(at).columns
    at.selectbox(key="cov_measure").select(coverage.BIVARIATE).run()
    assert not at.exception
    assert at.subheader[0].value.startswith("Need vs provision")
    table = _table(at)
    assert list(table.columns) == ["Ward", "Need", "Provision", "Per 1,000 aged 0-4"]
    priority = ((table["Need"] == "High") & (table["Provision"] == "Low")).sum()
    outlined = [f for f in _deck(at)["layers"][0]["data"]["features"] if f["properties"]["lw"] > 1]
    assert len(outlined) == priority > 0  # the wards to look at first are outlined on the map
    assert any("combine high need with low provision" in m.value for m in at.markdown)
    # The choice is in the URL, so a copied link opens the same view.
    assert at.query_params["cov_measure"] in (coverage.BIVARIATE, [coverage.BIVARIATE])


def test_distance_slider_changes_the_flagged_wards(run_app) -> None:  # noqa: ANN001
    at = run_app(PAGE)

    def flagged() -> int:
        line = next(m.value for m in at.markdown if "km from the nearest place" in m.value)
        return int(line.split("- ")[-1].split(" ward")[0])

    at.slider(key="cov_km").set_value(1.0).run()
    near = flagged()
    at.slider(key="cov_km").set_value(3.0).run()
    assert not at.exception and flagged() < near


def test_ward_detail_matches_the_table(run_app) -> None:  # noqa: ANN001
    at = run_app(PAGE)
    at.selectbox(key="cov_ward").select("DEMO010").run()  # Quayside
    assert not at.exception
    services = _table(at).set_index("Ward").loc["Quayside", "Services"]
    metric = next(m for m in at.metric if m.label == "Services covering the ward")
    assert metric.value == str(services)
    assert any("Gap map for Quayside" in spec for spec in _specs(at))
    assert any(e.label.startswith(f"The {services} survey rows behind Quayside") for e in at.expander)


def test_presenter_mode_hides_the_loaders(run_app) -> None:  # noqa: ANN001
    at = run_app(PAGE)
    assert any(e.label.startswith("Load your own geography") for e in at.expander)
    at = run_app(PAGE, present="1")
    assert not at.exception
    assert not any(e.label.startswith("Load your own geography") for e in at.expander)


def test_no_wards_shows_the_loader_not_a_map(run_app, app_db) -> None:  # noqa: ANN001
    with Store(app_db) as s, s.write() as cur:
        cur.execute("DELETE FROM wards")
    at = run_app(PAGE)
    assert not at.exception
    assert any("No ward boundaries are loaded yet" in i.value for i in at.info)
    assert not at.get("deck_gl_json_chart")
    assert any(e.label.startswith("Load your own geography") for e in at.expander)


def test_place_a_site_by_hand(run_app, app_db) -> None:  # noqa: ANN001
    at = run_app(PAGE)
    at.text_input(key="geo_site_name").input("Pop-up clinic")
    at.number_input(key="geo_site_lat").set_value(54.10)
    at.number_input(key="geo_site_lon").set_value(-2.95)
    next(b for b in at.button if b.label == "Add site").click().run()
    assert not at.exception
    with Store(app_db) as s:
        row = s.rows("SELECT kind, ward_code, source FROM sites WHERE name = 'Pop-up clinic'")
    assert row and row[0][0] == "site" and row[0][1] is not None and row[0][2] == "placed by hand"
    assert any(str(x.value).startswith("Placed Pop") for x in at.success)  # the report survives the rerun


@pytest.mark.slow
def test_page_file_stays_thin() -> None:
    text = (ROOT / PAGE).read_text()
    assert len(text.splitlines()) < 250
    assert "SELECT" not in text and "unsafe_allow_html" not in text


def test_a_link_reproduces_the_bivariate_view(run_app) -> None:  # noqa: ANN001
    at = run_app(PAGE, cov_measure="bivariate", cov_need="pct_minority_ethnic")
    assert not at.exception
    assert at.subheader[0].value.startswith("Need vs provision: Minority ethnic residents")
    at = run_app(PAGE, cov_measure="'; DROP TABLE wards;--")  # an unknown value falls back to the default
    assert not at.exception and at.subheader[0].value == "Services covering the ward"
