"""The Gap maps page in AppTest: the map equals the library's counts, every option changes the
figures, the drill-down lists the right services, and every view renders."""

from __future__ import annotations

import json

import pytest

from hubdash import gapmap, prevalence
from hubdash.geo import service_ward_links
from hubdash.schema import Filters
from hubdash.services import filter_frame, service_frame
from hubdash.store import Store

PAGE = "pages/gap_maps.py"


@pytest.fixture
def demo(app_db):  # noqa: ANN001, ANN201
    with Store(app_db) as s:
        yield service_frame(s), service_ward_links(s), gapmap.ward_choices(s)


def _map_table(at):  # noqa: ANN001, ANN202
    return at.dataframe[0].value


def _expected(frame, options: gapmap.GapOptions):  # noqa: ANN001, ANN202
    return gapmap.gap_table(gapmap.gap_cells(frame, options))


def _assert_same(at, expected) -> None:  # noqa: ANN001
    got = _map_table(at)
    assert list(got.columns) == list(expected.columns)
    assert got.astype(str).values.tolist() == expected.astype(str).values.tolist()


def _text(at) -> str:  # noqa: ANN001
    """Everything the page says, Markdown escapes removed (survey-derived text is escaped on screen)."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [w.value for w in at.warning]
    return "\n".join(parts).replace("\\", "")


def test_map_equals_the_library_and_is_clickable(run_app, demo) -> None:  # noqa: ANN001
    frame, _, _ = demo
    at = run_app(PAGE)
    assert not at.exception
    (chart,) = at.get("vega_lite_chart")
    spec = json.loads(chart.proto.spec)
    assert spec["params"][0]["name"] == "cell" and chart.proto.selection_mode == ["cell"]
    _assert_same(at, _expected(frame, gapmap.GapOptions()))
    summary = gapmap.gap_summary(frame, gapmap.GapOptions())
    text = _text(at)
    for line in summary.lines():
        assert line in text
    assert f"{summary.empty_cells} of {summary.cells} level × outcome × age cells" in text
    assert [b.label for b in at.download_button] == ["PNG", "SVG", "Excel (template 6)", "CSV"]


def test_global_area_filter_changes_the_map(run_app, demo) -> None:  # noqa: ANN001
    frame, _, _ = demo
    at = run_app(PAGE, area="infant_feeding")
    expected = _expected(filter_frame(frame, Filters(area="infant_feeding")), gapmap.GapOptions())
    _assert_same(at, expected)
    assert expected.astype(str).values.tolist() != _expected(frame, gapmap.GapOptions()).astype(str).values.tolist()


OPTION_CASES = [  # widget, key, value set, value to reset to, the options the page should then use
    ("toggle", "gap_secondary", True, False, gapmap.GapOptions(include_secondary=True)),
    ("multiselect", "gap_sectors", ["nhs"], [], gapmap.GapOptions(sectors=("nhs",))),
    ("multiselect", "gap_modes", ["home", "online"], [], gapmap.GapOptions(modes=("home", "online"))),
    ("multiselect", "gap_evidence", ["guidebook"], [], gapmap.GapOptions(evidence=("guidebook",))),
    ("selectbox", "gap_focus", "sfl", "all", gapmap.GapOptions(focus=gapmap.FOCUS_CODES["sfl"])),
    ("segmented_control", "gap_measure", "capacity", "count", gapmap.GapOptions(measure="capacity")),
]


def test_each_option_changes_the_map_as_the_library_says(run_app, demo) -> None:  # noqa: ANN001
    frame, _, _ = demo
    at = run_app(PAGE)
    before = _map_table(at).astype(str).values.tolist()
    for widget, key, value, reset, options in OPTION_CASES:
        getattr(at, widget)(key=key).set_value(value).run()
        assert not at.exception, key
        expected = _expected(gapmap.apply_options(frame, options), options)
        _assert_same(at, expected)
        assert expected.astype(str).values.tolist() != before, key
        getattr(at, widget)(key=key).set_value(reset).run()
        assert _map_table(at).astype(str).values.tolist() == before, key


def test_crowding_threshold_changes_the_marks_and_the_summary(run_app, demo) -> None:  # noqa: ANN001
    frame, _, _ = demo
    at = run_app(PAGE)
    at.number_input(key="gap_crowded").set_value(25).run()
    (chart,) = at.get("vega_lite_chart")
    assert "25 or more services" in json.loads(chart.proto.spec)["title"]["subtitle"]
    crowded = [line for line in _text(at).splitlines() if "check for duplication" in line]
    assert crowded == ["- " + s for s in gapmap.gap_summary(frame, gapmap.GapOptions(crowded_at=25)).crowded]
    assert len(crowded) == 1  # only the cell of 28 reaches 25 in the demo


def test_ward_filter(run_app, demo) -> None:  # noqa: ANN001
    frame, links, wards = demo
    code = wards[0][0]
    at = run_app(PAGE)
    at.selectbox(key="gap_ward").set_value(code).run()
    options = gapmap.GapOptions(ward=code)
    _assert_same(at, _expected(gapmap.apply_options(frame, options, ward_links=links), options))


def test_drill_down_lists_the_services_behind_a_cell(run_app, demo) -> None:  # noqa: ANN001
    frame, _, _ = demo
    at = run_app(PAGE)
    for key, value in (("gap_cell_level", "universal"), ("gap_cell_kind", "service"),
                       ("gap_cell_outcome", "infant_feeding"), ("gap_cell_age", "m0_12")):
        at.selectbox(key=key).set_value(value)
    at.run()
    expected = gapmap.cell_services(frame, level="universal", kind="service", outcome="infant_feeding", age="m0_12")
    counts = gapmap.gap_counts(frame)
    hit = counts[(counts.target_level == "universal") & (counts.kind == "service")
                 & (counts.outcome == "infant_feeding") & (counts.age_group == "m0_12")]
    assert len(expected) == hit["count"].item() == 18
    behind = at.dataframe[1].value
    assert sorted(behind["Name"]) == sorted(expected["name"]) == sorted(hit["services"].item())
    assert f"**{len(expected)} universal services for infant feeding experience at 0-12 months**" in _text(at)
    # From a service to its full record: labelled answers, never contact details.
    first = int(expected["service_id"].iloc[1])
    at.selectbox(key="gap_record").set_value(first).run()
    (sheet,) = at.table
    answers = dict(zip(sheet.value["Question"], sheet.value["Answer"], strict=True))
    assert answers["1\\. Name"].replace("\\", "") == expected["name"].iloc[1]
    page_text = _text(at) + sheet.value.to_string() + behind.to_string()
    assert "@example.org" not in page_text and "Contact" not in "".join(sheet.value["Question"])


def test_drill_down_on_a_gap_says_so(run_app) -> None:  # noqa: ANN001
    at = run_app(PAGE)
    for key, value in (("gap_cell_level", "universal"), ("gap_cell_kind", "intervention"),
                       ("gap_cell_outcome", "birthing"), ("gap_cell_age", "prebirth")):
        at.selectbox(key=key).set_value(value)
    at.run()
    assert any("Gap: there are no universal interventions for birthing experience at Pre-birth" in w.value
               for w in at.warning)
    assert len(at.dataframe) == 1  # only the map's own table


def test_overview_view(run_app, demo) -> None:  # noqa: ANN001
    frame, _, _ = demo
    at = run_app(PAGE, gap_view="overview")
    assert not at.exception
    (table,) = at.table
    assert list(table.value.columns) == ["Target level", "Type", *prevalence.STAGES]
    assert len(table.value) == 9
    assert [b.label for b in at.download_button] == ["Excel", "CSV"]
    at.selectbox(key="gap_focus").set_value("sfl").run()
    assert list(at.table[0].value.columns) == ["Target level", "Type", "Antenatal", "0-24 months"]


def test_detailed_view(run_app, demo) -> None:  # noqa: ANN001
    frame, _, _ = demo
    at = run_app(PAGE, gap_view="detailed", gap_outcome="perinatal_mh")
    assert not at.exception
    (chart,) = at.get("vega_lite_chart")
    assert "Improve perinatal mental health" in json.dumps(json.loads(chart.proto.spec)["title"])
    table = at.dataframe[0].value
    expected = prevalence.detailed_table(prevalence.detailed_rows(frame, outcome="perinatal_mh"))
    assert table["Name"].tolist() == expected["Name"].tolist()


def test_prevalence_view_and_its_drill_down(run_app, demo) -> None:  # noqa: ANN001
    frame, _, _ = demo
    at = run_app(PAGE, gap_view="prevalence")
    assert not at.exception
    dist = prevalence.distribution(frame, question="age_groups")
    top = dist.loc[dist["Total"].idxmax()]
    assert f"Most on offer: {top['Age group']} ({top['Total']} of {len(frame)}" in _text(at)
    at.segmented_control(key="gap_count_by").set_value("format").run()
    fmt = prevalence.distribution(frame, question="format")
    shown = at.dataframe[0].value
    assert shown["Total"].tolist() == fmt["Total"].tolist()
    assert "formats are in use" in _text(at)
    at.selectbox(key="gap_bar").set_value("Drop-in sessions").run()
    rows = at.dataframe[1].value
    assert len(rows) == fmt.loc[fmt["Format"] == "Drop-in sessions", "Total"].item()


def test_presenter_mode_and_an_empty_filter(run_app) -> None:  # noqa: ANN001
    at = run_app(PAGE, present="1")
    assert not at.exception
    at = run_app(PAGE, area="infant_feeding", kind="intervention")  # no infant feeding intervention in the demo
    assert not at.exception
    assert any("every cell would be a gap" in i.value for i in at.info)


def test_options_live_in_the_url_so_a_link_reproduces_the_map(run_app, demo) -> None:  # noqa: ANN001
    """Sector, delivery, evidence, ward, other outcomes and crowding go into the URL; a fresh session
    opened on that URL draws the same map with the same options on."""
    frame, links, wards = demo
    code = wards[0][0]
    at = run_app(PAGE)
    at.multiselect(key="gap_sectors").set_value(["vcs", "nhs"]).run()
    at.toggle(key="gap_secondary").set_value(True).run()
    at.number_input(key="gap_crowded").set_value(6).run()
    at.selectbox(key="gap_ward").set_value(code).run()
    assert not at.exception, at.exception
    params = {k: at.query_params[k] for k in ("gap_sectors", "gap_secondary", "gap_crowded", "gap_ward")}
    params = {k: v[-1] if isinstance(v, list) else v for k, v in params.items()}
    assert params == {"gap_sectors": "vcs,nhs", "gap_secondary": "1", "gap_crowded": "6", "gap_ward": code}
    options = gapmap.GapOptions(include_secondary=True, sectors=("vcs", "nhs"), ward=code, crowded_at=6)
    expected = _expected(gapmap.apply_options(frame, options, ward_links=links), options)
    _assert_same(at, expected)

    shared = run_app(PAGE, **params)
    assert not shared.exception, shared.exception
    _assert_same(shared, expected)
    assert shared.multiselect(key="gap_sectors").value == ["vcs", "nhs"]
    assert shared.toggle(key="gap_secondary").value is True
    # Junk in a pasted link is ignored, not an error.
    junk = run_app(PAGE, gap_sectors="nope,vcs", gap_crowded="999", gap_secondary="maybe")
    assert not junk.exception, junk.exception
    assert junk.multiselect(key="gap_sectors").value == ["vcs"]
    assert junk.number_input(key="gap_crowded").value == gapmap.DEFAULT_CROWDED
