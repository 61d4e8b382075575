"""Geographic coverage in real Chromium: the map canvas draws with its legend and table, hover
shows a ward's figures, and real Blackpool boundaries load (by upload too) and render.

Screenshots: artifacts/screenshots/coverage-*.png.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from hubdash import geoload
from hubdash.services import insert_services
from hubdash.store import Store
from tests.conftest import SHARED_DATA, needs_shared_data, record
from tests.e2e.conftest import start_server, wait_for_app

MAP = '[data-testid="stDeckGlJsonChart"]'


def _open(page: Page, url: str, path: str, *, home_first: bool = True) -> None:
    """Open a page (by default via the home page: a fresh server's first session may not know
    page paths yet and shows 'Page not found' over the page)."""
    if home_first:
        page.goto(url)
        wait_for_app(page, timeout=90_000)
    page.goto(f"{url}/{path}")
    wait_for_app(page, timeout=90_000)
    page.wait_for_selector(f"{MAP} canvas", timeout=90_000)
    page.wait_for_timeout(2500)  # let deck.gl draw


def _canvas_colours(page: Page, path: Path) -> int:
    """How many distinct colours the map canvas shows (a blank canvas has one or two)."""
    from PIL import Image

    page.locator(MAP).first.screenshot(path=str(path))
    with Image.open(path) as im:
        return len(set(im.convert("RGB").resize((160, 160)).getdata()))


def _hover_tooltip(page: Page) -> str:
    page.locator(MAP).first.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    box = page.locator(f"{MAP} canvas").first.bounding_box()
    for k in range(25):  # a few small moves: deck.gl picks on pointer movement
        page.mouse.move(box["x"] + box["width"] * 0.5 + k, box["y"] + box["height"] * 0.5 + k)
        page.wait_for_timeout(40)
    page.wait_for_timeout(800)
    return page.locator(".deck-tooltip").first.inner_text()


def test_map_canvas_draws_with_legend_table_and_tooltips(page: Page, server, shots, tmp_path: Path) -> None:  # noqa: ANN001
    url, _ = server
    page.set_viewport_size({"width": 1600, "height": 1400})
    _open(page, url, "coverage")
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    assert _canvas_colours(page, tmp_path / "canvas.png") > 6
    expect(page.get_by_role("heading", name="Services covering the ward")).to_be_visible()
    expect(page.locator('[data-testid="stDataFrame"]').first).to_be_visible()
    tip = _hover_tooltip(page)
    assert "Services covering the ward:" in tip and "(DEMO0" in tip
    page.screenshot(path=str(shots / "coverage-demo.png"))
    # Need vs provision, from a link.
    _open(page, url, "coverage?cov_measure=bivariate", home_first=False)
    expect(page.get_by_role("heading", name="Need vs provision: Deprivation score (IMD)", exact=False)).to_be_visible()
    expect(page.get_by_text("combine high need with low provision", exact=False)).to_be_visible()
    page.screenshot(path=str(shots / "coverage-bivariate.png"))
    page.get_by_role("heading", name="Distance to support").scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(shots / "coverage-distance.png"))
    page.get_by_role("heading", name="Ward detail").scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(shots / "coverage-ward-detail.png"))


# --- real Blackpool, in a private server -------------------------------------------------------------


@pytest.fixture(scope="module")
def blackpool(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """A private server on a database holding Blackpool's real wards (2013-2023 set), Census and
    IMD needs, LSOA population points, two hand-placed hubs and a small fixture survey."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real open data folder {SHARED_DATA} is absent on this machine")
    db = tmp_path_factory.mktemp("blackpool") / "blackpool.duckdb"
    with Store(db) as s:
        geoload.load_boundaries(s, SHARED_DATA / "blackpool_wards.geojson", backup=False)
        geoload.load_needs(s, geoload.derive_children(SHARED_DATA / "blackpool_ward2022_census2021_age.csv"))
        geoload.load_needs(s, geoload.derive_imd(SHARED_DATA / "blackpool_lsoa11_imd2019.csv"))
        geoload.load_needs(s, geoload.derive_minority_ethnic(SHARED_DATA / "blackpool_ward2022_census2021_ethnicity.csv"))
        geoload.load_population_points(s, geoload.population_points_from_areas(
            SHARED_DATA / "blackpool_lsoa2011.geojson", SHARED_DATA / "blackpool_lsoa11_imd2019.csv"), source="LSOAs")
        geoload.load_sites(s, pd.DataFrame({"name": ["Central hub (fixture)", "North hub (fixture)"],
                                            "kind": ["family_hub", "family_hub"], "postcode": [None, None],
                                            "lat": [53.8155, 53.8790], "lon": [-3.0420, -3.0330]}), filename="fixture")
        with s.write() as cur:
            insert_services(cur, [
                record("Whole-town health visiting (fixture)", wards=["Whole local authority"],
                       delivery_modes=["family_hub"], capacity=1500),
                record("Central parenting group (fixture)", wards=["Bloomfield", "Talbot", "Claremont", "Brunswick"],
                       delivery_modes=["family_hub"], capacity=120),
                record("North infant feeding (fixture)", wards=["Anchorsholme", "Norbreck", "Bispham"],
                       service_areas=["infant_feeding"], delivery_modes=["family_hub"], capacity=80),
            ])
    proc, url, _log = start_server(db)
    yield url, db
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@needs_shared_data
def test_real_blackpool_wards_render_and_the_may_2023_set_uploads(page: Page, blackpool, shots, tmp_path: Path) -> None:  # noqa: ANN001
    url, _ = blackpool
    page.set_viewport_size({"width": 1600, "height": 1400})
    _open(page, url, "coverage?cov_measure=services_per_1000_under5")
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    assert _canvas_colours(page, tmp_path / "canvas.png") > 6
    assert "(E050016" in _hover_tooltip(page)  # a real Blackpool ward code (2013-2023 set)
    page.screenshot(path=str(shots / "coverage-blackpool.png"))
    _open(page, url, "coverage?cov_measure=bivariate&cov_need=imd_score", home_first=False)
    expect(page.get_by_text("combine high need with low provision", exact=False)).to_be_visible()
    page.screenshot(path=str(shots / "coverage-blackpool-bivariate.png"))

    # Upload the May 2023 wards through the page's own loader.
    page.get_by_text("Load your own geography", exact=False).click()
    page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(
        str(SHARED_DATA / "blackpool_wards_2023.geojson"))
    button = page.get_by_role("button", name="Replace the wards with these 21 areas")
    expect(button).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Coordinates were already longitude/latitude", exact=False)).to_be_visible()
    page.screenshot(path=str(shots / "coverage-upload-fields.png"))
    button.click()
    expect(page.get_by_text("Loaded 21 areas (code from WD23CD, name from WD23NM)")).to_be_visible(timeout=60_000)
    # The Census and IMD figures were keyed on the old codes: the page says so rather than hiding it.
    expect(page.get_by_text("match none of these areas and are not mapped", exact=False)).to_be_visible()
    page.wait_for_selector(f"{MAP} canvas", timeout=60_000)
    page.wait_for_timeout(2500)
    tip = _hover_tooltip(page)
    assert "(E050151" in tip or "(E050152" in tip  # May 2023 codes
    page.screenshot(path=str(shots / "coverage-blackpool-2023.png"))
