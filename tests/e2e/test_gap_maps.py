"""The Gap maps page in real Chromium: the map draws and fits the window, a click on a cell lists
the services behind it, every view renders, the PNG export downloads; screenshots for a person
to look at (artifacts/screenshots/gaps-*.png) at 1600x1000 and 1280x720."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from hubdash import gapmap, schema
from hubdash.charts import CROWDED
from hubdash.demo import build_demo
from hubdash.services import service_frame
from hubdash.store import Store
from tests.e2e.conftest import wait_for_app

pytestmark = pytest.mark.e2e
CHART = '[data-testid="stVegaLiteChart"]'


def _open(page: Page, url: str, path: str) -> None:
    page.goto(f"{url}/{path}")
    wait_for_app(page)
    page.wait_for_selector(f"{CHART} canvas, {CHART} svg, [data-testid='stTable']", timeout=30_000)
    page.wait_for_timeout(600)  # let Vega finish drawing before a screenshot
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


@pytest.fixture
def warm(page: Page, server) -> str:  # noqa: ANN001
    """The base url, after one plain visit: a fresh server can greet its very first session with a
    "Page not found" notice while it registers the pages, which has nothing to do with this page."""
    url, _ = server
    page.goto(url)
    wait_for_app(page)
    return url


def _scroll_to_top_of(page: Page, selector: str) -> None:
    page.locator(selector).first.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(400)


def _first_crowded_cell() -> tuple:
    """The crowded cell nearest the top left of the map (rows by level then outcome, service block first).

    Computed on a fresh copy of the demo (it is deterministic): the server holds its database file.
    """
    with Store(":memory:") as s:
        build_demo(s)
        cells = gapmap.gap_cells(service_frame(s), gapmap.GapOptions())
    codes = gapmap.LEVEL_CODES + gapmap.MAP_OUTCOMES + gapmap.KIND_CODES + gapmap.AGE_CODES
    order = {c: i for i, c in enumerate(codes)}
    crowded = cells[cells["status"] == "crowded"]
    first = min(crowded.itertuples(), key=lambda r: (order[r.target_level], order[r.outcome], order[r.kind],
                                                      order[r.age_group]))
    return first.target_level, first.outcome, first.age_group, int(first.count)


def _find_colour(png: bytes, hex_colour: str) -> tuple[int, int]:
    """The middle of the first cell of this colour, scanning rows from the top: where its number is."""
    img = Image.open(io.BytesIO(png)).convert("RGB")
    target = tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    w, h = img.size
    px = img.load()
    for y in range(h):
        xs = [x for x in range(w) if all(abs(a - b) < 6 for a, b in zip(px[x, y], target, strict=True))]
        if xs:
            run = [x for x in xs if x - xs[0] < 20]
            return (run[0] + run[-1]) // 2, y + 13
    raise AssertionError(f"no {hex_colour} pixel in the chart")


def test_gap_map_draws_and_a_click_lists_the_services(page: Page, warm, shots) -> None:  # noqa: ANN001
    _open(page, warm, "gaps")
    chart = page.locator(CHART).first
    expect(page.get_by_text("What the map shows")).to_be_visible()
    box = chart.bounding_box()
    assert box["x"] + box["width"] <= 1600, "the whole map fits beside the sidebar"
    page.screenshot(path=str(shots / "gaps-map-1600.png"))

    level, outcome, age, count = _first_crowded_cell()
    x, y = _find_colour(chart.screenshot(), CROWDED)
    chart.click(position={"x": x, "y": y})  # on the number itself, not just the cell around it
    heading = (f"{count} {schema.LEVEL_SHORT[level].lower()} services for {gapmap.outcome_phrase(outcome)} at "
               f"{schema.label('age_groups', age)}")
    expect(page.get_by_text(heading)).to_be_visible(timeout=20_000)
    wait_for_app(page)
    page.get_by_text("What is behind a cell").scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    page.screenshot(path=str(shots / "gaps-drilldown-1600.png"))


def test_gap_map_on_a_1280_projector(page: Page, warm, shots) -> None:  # noqa: ANN001
    page.set_viewport_size({"width": 1280, "height": 720})
    _open(page, warm, "gaps")
    box = page.locator(CHART).first.bounding_box()
    assert box["x"] + box["width"] <= 1280, "no part of the map is cut off beside the sidebar at 1280 px"
    # On a projector: the sidebar folded away, then presenter mode (larger type, no sidebar).
    page.locator('[data-testid="stSidebar"]').hover()
    page.locator('[data-testid="stSidebarCollapseButton"] button').click()
    page.wait_for_timeout(800)
    _scroll_to_top_of(page, ".st-key-gap_controls")  # the map's title clears Streamlit's fixed header
    page.screenshot(path=str(shots / "gaps-map-1280.png"))
    _open(page, warm, "gaps?present=1&gap_focus=sfl")
    _scroll_to_top_of(page, CHART)
    page.screenshot(path=str(shots / "gaps-presenter-1280.png"))


@pytest.mark.parametrize(("query", "name"), [
    ("gap_view=overview", "overview"),
    ("gap_view=detailed&gap_outcome=perinatal_mh", "detailed"),
    ("gap_view=prevalence&gap_count_by=format", "prevalence"),
])
def test_other_views_render(page: Page, warm, shots, query: str, name: str) -> None:  # noqa: ANN001
    _open(page, warm, f"gaps?{query}")
    page.screenshot(path=str(shots / f"gaps-{name}-1600.png"))


def test_png_export_downloads(page: Page, warm) -> None:  # noqa: ANN001
    _open(page, warm, "gaps?gap_focus=sfl")
    button = page.locator('[data-testid="stDownloadButton"]').get_by_role("button", name="PNG", exact=True)
    button.scroll_into_view_if_needed()
    with page.expect_download(timeout=60_000) as info:
        button.click()
    data = open(info.value.path(), "rb").read()  # noqa: SIM115
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert info.value.suggested_filename == "gap-map.png"
