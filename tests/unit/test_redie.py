"""REDIE access analysis: counts equal hand counts, the None answer counts for no group, the ward
equity ranking, languages against the local population, and reach labelled indicative when partial."""

from __future__ import annotations

import pytest
from shapely.geometry import box

from hubdash import geo, redie, schema
from hubdash.schema import Filters
from hubdash.services import service_frame
from tests.conftest import record

WARD_SQL = ("INSERT INTO wards (ward_code, ward_name, name_key, locality, geometry, geometry_display, area_km2, "
            "centroid_lon, centroid_lat, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


def _fixture() -> list[dict]:
    """Six services; ids follow the list order (1-6)."""
    return [
        record("A", groups=["low_income", "send"], service_areas=["infant_feeding", "parenting"],
               target_level="targeted_selective", age_groups=["prebirth", "m0_12"], delivery_modes=["online", "home"],
               format="one_to_one", languages=["Polish", "polish "], interpreter="yes", capacity=100,
               families_supported=80),
        record("B none only", groups=["none"], service_areas=["parenting"], languages=["Urdu"], capacity=200,
               families_supported=150),
        record("C blank", groups=[], service_areas=["parenting"]),
        record("D none and a group", groups=["none", "minority_ethnic"], service_areas=["hle"], age_groups=["y2_3"],
               format="small_group", delivery_modes=["community_venue"], interpreter="on_request",
               languages=["Urdu", "English"], capacity=60, families_supported=50),
        record("E", groups=["parent_mh"], service_areas=["perinatal_mh"], target_level="targeted_indicated",
               format="medium_group", delivery_modes=["family_hub"], capacity=30),
        record("F", kind="intervention", groups=["low_income"], service_areas=["parenting", "other"],
               target_level="targeted_indicated", age_groups=["m12_18"], capacity=20, families_supported=20),
    ]


@pytest.fixture
def frame(make_store):  # noqa: ANN001, ANN201
    return service_frame(make_store(_fixture()))


def _cell(cells, group: str, column: str, value: str) -> int:  # noqa: ANN001
    hit = cells[(cells["group"] == group) & (cells[column] == value)]
    assert len(hit) == 1
    return int(hit["services"].iloc[0])


def _add_wards(store, wards: list[tuple[str, str]], needs: dict[str, dict[str, float]]) -> None:  # noqa: ANN001
    rows = geo.ward_rows([(c, n, "Test", box(-3 + i * 0.01, 54, -2.99 + i * 0.01, 54.01))
                          for i, (c, n) in enumerate(wards)], source="test")
    with store.write() as cur:
        cur.executemany(WARD_SQL, rows)
        for ind, values in needs.items():
            for code, v in values.items():
                cur.execute("INSERT INTO needs VALUES (?, ?, ?, '%', '2025', 'test')", [code, ind, v])


# --- question 21 ---------------------------------------------------------------------------------


def test_answer_summary_separates_none_blank_and_contradictory(frame) -> None:  # noqa: ANN001
    a = redie.answer_summary(frame)
    assert (a.total, a.adapted, a.none_only, a.not_answered, a.none_and_group) == (6, 4, 1, 1, 1)
    assert a.groups_without == ("young_parents", "lgbtq", "fathers", "eal")


def test_group_area_matrix_equals_hand_counts(frame) -> None:  # noqa: ANN001
    m = redie.group_area_matrix(frame)
    assert set(m["group"]) == set(redie.GROUP_CODES) and "none" not in set(m["group"])
    assert len(m) == 8 * 5  # 8 groups x (4 areas + the total column)
    assert _cell(m, "low_income", "area", "infant_feeding") == 1
    assert _cell(m, "low_income", "area", "parenting") == 2          # A and F
    assert _cell(m, "low_income", "area", "hle") == 0
    assert _cell(m, "low_income", "area", redie.ALL_AREAS) == 2     # A counted once although in two areas
    assert _cell(m, "send", "area", "parenting") == 1
    assert _cell(m, "minority_ethnic", "area", "hle") == 1          # D: None plus a group counts for the group
    assert _cell(m, "parent_mh", "area", "perinatal_mh") == 1
    assert int(m.loc[~m["is_total"], "services"].sum()) == 1 + 2 + 1 + 1 + 1 + 1
    assert int(m.loc[~m["is_total"], "empty"].sum()) == 32 - 6
    hit = m[(m["group"] == "low_income") & (m["area"] == "parenting")]
    assert hit["service_ids"].iloc[0] == [1, 6]
    assert list(m.loc[m["services"] == 0, "cell"].unique()) == ["none"]


def test_none_only_and_blank_answers_count_for_no_group(frame) -> None:  # noqa: ANN001
    every_id = set()
    for cells in (redie.group_area_matrix(frame), redie.group_age_matrix(frame), redie.access_matrix(frame)):
        for ids in cells["service_ids"]:
            every_id.update(ids)
    assert every_id == {1, 4, 5, 6}
    assert 2 not in every_id and 3 not in every_id  # B answered only None, C left it blank


def test_matrix_at_one_target_level_and_one_area(frame) -> None:  # noqa: ANN001
    m = redie.group_area_matrix(frame, level="targeted_indicated")
    cells = m[~m["is_total"]]
    assert int(cells["services"].sum()) == 2
    assert _cell(m, "low_income", "area", "parenting") == 1 and _cell(m, "parent_mh", "area", "perinatal_mh") == 1
    assert _cell(m, "send", "area", "parenting") == 0  # A is targeted selective: a near miss
    only = redie.group_area_matrix(frame, areas=redie.areas_for(Filters(area="hle")))
    assert set(only.loc[~only["is_total"], "area"]) == {"hle"}


def test_group_age_matrix(frame) -> None:  # noqa: ANN001
    ages = redie.group_age_matrix(frame, ages=redie.CONCEPTION_TO_2)
    assert _cell(ages, "low_income", "age_group", "prebirth") == 1
    assert _cell(ages, "low_income", "age_group", "m12_18") == 1     # F
    assert _cell(ages, "low_income", "age_group", "m18_24") == 0
    assert _cell(ages, "minority_ethnic", "age_group", "prebirth") == 0  # D is 2-3 years only
    assert set(ages["age_group"]) == set(redie.CONCEPTION_TO_2)


def test_access_matrix_formats_modes_languages_interpreter(frame) -> None:  # noqa: ANN001
    acc = redie.access_matrix(frame)
    for opt in ("online", "home", "one_to_one", "language", "interpreter"):
        assert _cell(acc, "low_income", "option", opt) == 1, opt   # all from A; F answered none of these
    assert _cell(acc, "low_income", "option", "group") == 0
    assert _cell(acc, "parent_mh", "option", "family_hub") == 1
    assert _cell(acc, "parent_mh", "option", "group") == 1          # medium group
    assert _cell(acc, "parent_mh", "option", "online") == 0
    assert _cell(acc, "minority_ethnic", "option", "language") == 1  # Urdu (English does not count)
    assert _cell(acc, "minority_ethnic", "option", "interpreter") == 1  # on request
    assert _cell(acc, "minority_ethnic", "option", "one_to_one") == 0


def test_interpreter_summary(frame) -> None:  # noqa: ANN001
    s = redie.interpreter_summary(frame).set_index("answer")["services"].to_dict()
    assert s == {"Yes": 1, "No": 0, "On request": 1, "Not answered": 4}


# --- languages -----------------------------------------------------------------------------------


def test_languages_without_local_language_data(frame, make_store) -> None:  # noqa: ANN001
    store = make_store([])
    lc = redie.languages_vs_population(frame, redie.needs_latest(store))
    assert not lc.has_population
    assert "language:<Name>" in lc.note
    t = lc.table.set_index("language")
    assert t.loc["Urdu", "services"] == 2 and t.loc["Polish", "services"] == 1  # "polish " is Polish
    assert "English" not in t.index
    assert set(t["status"]) == {"Offered (no local language data)"}


def test_languages_against_local_language_data(make_store) -> None:  # noqa: ANN001
    store = make_store(_fixture())
    _add_wards(store, [("W1", "One"), ("W2", "Two")], {
        "pop_0_4": {"W1": 100, "W2": 300},
        "language:Polish": {"W1": 10, "W2": 2},      # weighted: (1000 + 600) / 400 = 4.0
        "language:Romanian": {"W1": 1, "W2": 1},     # 1.0, and no service offers it
        "language:Urdu": {"W1": 5},                  # only W1 has a figure: 5.0
        "language:English": {"W1": 80, "W2": 90},
    })
    lc = redie.languages_vs_population(service_frame(store), redie.needs_latest(store))
    assert lc.has_population and "weighted by children aged 0-4" in lc.note
    t = lc.table
    assert list(t["language"]) == ["Urdu", "Polish", "Romanian"]
    assert list(t["residents_pct"]) == pytest.approx([5.0, 4.0, 1.0])
    assert list(t["services"]) == [2, 1, 0]
    assert t["status"].iloc[2] == "Spoken locally, offered by no service"
    assert t["status"].iloc[0] == "Spoken locally and offered"
    eal = redie.eal_share(redie.needs_latest(store))
    assert eal.value == pytest.approx((20 * 100 + 10 * 300) / 400) and eal.weighted


def test_language_share_is_unweighted_and_says_so_without_child_counts(make_store) -> None:  # noqa: ANN001
    store = make_store([])
    _add_wards(store, [("W1", "One"), ("W2", "Two")], {"pop_0_4": {"W1": 100},
                                                       "language:Polish": {"W1": 10, "W2": 2}})
    t = redie.language_needs(redie.needs_latest(store))
    assert t["residents_pct"].iloc[0] == pytest.approx(6.0)
    assert "simple average" in t["note"].iloc[0]


# --- geography of equity -----------------------------------------------------------------------------


EQUITY_NEEDS = {
    "pct_minority_ethnic": {"W1": 30, "W2": 10, "W3": 20, "W4": 5},
    "imd_score": {"W1": 40, "W2": 20, "W3": 35, "W4": 10},
    "young_parent_births": {"W1": 15, "W2": 5, "W3": 12, "W4": 8},
}


def _equity_store(make_store):  # noqa: ANN001, ANN202
    store = make_store([
        record("S1", groups=["low_income"], wards=["Alpha", "Bravo"]),
        record("S2", groups=["minority_ethnic"], wards=["alpha"]),          # names match case-insensitively
        record("S3", groups=["young_parents"], wards=["W2", "Delta"]),      # code or name
        record("S4", groups=["send"], wards=["Charlie"]),                   # not an equity group
        record("S5", groups=["none"], wards=["Charlie"]),                   # counts for no group
        record("S6", groups=["eal"], wards=[schema.WHOLE_LA]),              # every ward
        record("S7", groups=["low_income"], wards=["Nowhere"]),             # matches no ward
    ])
    _add_wards(store, [("W1", "Alpha"), ("W2", "Bravo"), ("W3", "Charlie"), ("W4", "Delta")], EQUITY_NEEDS)
    return store


def test_ward_equity_ranking_on_a_small_fixture(make_store) -> None:  # noqa: ANN001
    store = _equity_store(make_store)
    eq = redie.ward_equity(store, service_frame(store))
    t = eq.table.set_index("ward_code")
    # Percentiles: share of wards with the same or a lower value x 100.
    assert t.loc["W1", "need_score"] == pytest.approx(100)
    assert t.loc["W3", "need_score"] == pytest.approx(75)
    assert t.loc["W2", "need_score"] == pytest.approx((50 + 50 + 25) / 3)
    assert t.loc["W4", "need_score"] == pytest.approx((25 + 25 + 50) / 3)
    assert list(eq.table["ward_code"]) == ["W1", "W3", "W2", "W4"]
    assert list(eq.table["rank"]) == [1, 2, 3, 4]
    assert t["adapted_services"].to_dict() == {"W1": 3, "W2": 3, "W3": 1, "W4": 2}
    assert t.loc["W1", "service_ids"] == [1, 2, 6]
    assert eq.median_provision == 2.5
    assert t["services_for_pct_minority_ethnic"].to_dict() == {"W1": 2, "W2": 1, "W3": 1, "W4": 1}
    # W3: high need, low provision. W1: high need but provision above the median (near miss).
    # W4: low provision but low need (near miss).
    assert t["priority"].to_dict() == {"W1": False, "W2": False, "W3": True, "W4": False}
    assert bool(t.loc["W1", "high_need"]) and not bool(t.loc["W1", "low_provision"])
    assert bool(t.loc["W4", "low_provision"]) and not bool(t.loc["W4", "high_need"])
    assert eq.unmatched_services == 1
    assert eq.indicators == ("pct_minority_ethnic", "imd_score", "young_parent_births") and not eq.missing


def test_ward_equity_honours_the_filter_and_missing_inputs(make_store) -> None:  # noqa: ANN001
    store = _equity_store(make_store)
    frame = service_frame(store)
    only_s6 = frame[frame["name"] == "S6"]
    eq = redie.ward_equity(store, only_s6)
    assert set(eq.table["adapted_services"]) == {1}
    assert not eq.table["low_provision"].eq(False).any()  # all at the median: every high-need ward is flagged
    assert list(eq.table.loc[eq.table["priority"], "ward_code"]) == ["W1", "W3"]

    bare = make_store([record("X", groups=["low_income"], wards=[schema.WHOLE_LA])])
    eq = redie.ward_equity(bare, service_frame(bare))
    assert not eq.wards_known and "No ward boundaries" in eq.note
    _add_wards(bare, [("W1", "Alpha")], {})
    eq = redie.ward_equity(bare, service_frame(bare))
    assert eq.wards_known and eq.indicators == () and "cannot be ranked" in eq.note
    assert not eq.table["priority"].any()


# --- reach -----------------------------------------------------------------------------------------


def _reach_store(make_store, *, other_reached: float | None):  # noqa: ANN001, ANN202
    store = make_store([
        record("X1", groups=["minority_ethnic"], capacity=40, families_supported=30),
        record("X2", groups=["none"], capacity=60, families_supported=other_reached),
    ])
    _add_wards(store, [("W1", "One"), ("W2", "Two")],
               {"pop_0_4": {"W1": 100, "W2": 100}, "pct_minority_ethnic": {"W1": 20, "W2": 10}})
    return store


def test_reach_with_complete_inputs(make_store) -> None:  # noqa: ANN001
    store = _reach_store(make_store, other_reached=70)
    r = redie.reach(service_frame(store), redie.needs_latest(store)).set_index("group")
    me = r.loc["minority_ethnic"]
    assert me["reached_share"] == pytest.approx(30.0) and me["capacity_share"] == pytest.approx(40.0)
    assert me["population_share"] == pytest.approx(15.0) and me["ratio"] == pytest.approx(2.0)
    assert not me["indicative"] and me["caveat"] == "inputs complete"
    # A group with no population figure is always indicative.
    assert r.loc["lgbtq", "indicative"] and "no local population figure" in r.loc["lgbtq", "caveat"]
    assert r.loc["lgbtq", "reached_share"] == 0.0


def test_reach_is_labelled_indicative_when_inputs_are_partial(make_store) -> None:  # noqa: ANN001
    store = _reach_store(make_store, other_reached=None)
    r = redie.reach(service_frame(store), redie.needs_latest(store)).set_index("group")
    me = r.loc["minority_ethnic"]
    assert me["indicative"]
    assert "1 of 2 services in the total gave no figure" in me["caveat"]
    assert me["reached_share"] == pytest.approx(100.0)  # shown, but only as indicative
    t = redie.reach_table(r.reset_index())
    assert t.loc[t["Group"] == "Minority ethnic families", "Indicative?"].iloc[0] == "Indicative"


# --- CLI rows and reflections -------------------------------------------------------------------------------


def test_redie_rows_per_group_with_area_and_level_counts(frame) -> None:  # noqa: ANN001
    rows = redie.redie_rows(frame, filters=Filters())
    assert [r["group"] for r in rows] == [o.label for o in schema.GROUPS if o.code != "none"]
    li = rows[0]
    assert (li["services"], li["infant_feeding"], li["parenting"], li["hle"], li["perinatal_mh"]) == (2, 1, 2, 0, 0)
    assert (li["universal"], li["targeted_selective"], li["targeted_indicated"]) == (0, 1, 1)
    assert li["service_ids"] == [1, 6]
    parenting = {r["group"]: r for r in redie.redie_rows(frame, filters=Filters(area="parenting"))}
    assert set(parenting["Low-income families"]) == {"group", "services", "parenting", "universal",
                                                      "targeted_selective", "targeted_indicated", "service_ids"}
    assert parenting["Low-income families"]["services"] == 2
    assert parenting["Minority ethnic families"]["services"] == 0  # D is in home learning only


def test_reflections_are_answered_from_the_figures(make_store) -> None:  # noqa: ANN001
    store = make_store(_fixture())
    items = redie.reflections(store, service_frame(store), filters=Filters())
    assert [r.section for r in items] == ["matrix", "matrix", "ages", "access", "access", "access", "where",
                                          "reach", "reach"]
    by_prompt = {r.prompt: r for r in items}
    first = by_prompt["Are all families included in services and interventions?"]
    assert first.suggests.startswith("4 of 6 services are designed or adapted for at least one group.")
    assert ("None is adapted for Young parents (under 25), LGBTQ+ families, Fathers and male carers and Families "
            "with English as an additional language.") in first.suggests
    assert any("1 service left question 21 blank" in c for c in first.caveats)
    assert any("ticked 'None' as well as a group" in c for c in first.caveats)
    access = by_prompt["Are services designed to support the needs of minority ethnic families in the local area?"]
    assert "offered in 2 languages other than English" in access.suggests
    assert any("language:<Name>" in c for c in access.caveats)  # no language data: said, not guessed
    assert all(r.suggests for r in items)


# --- drill-down entries and charts ------------------------------------------------------------------


def test_every_headline_count_has_a_drilldown(frame) -> None:  # noqa: ANN001
    a = redie.answer_summary(frame)
    assert (a.none_only_ids, a.not_answered_ids) == ((2,), (3,))
    d = redie.matrix_drill(redie.group_area_matrix(frame), a)
    entries = dict(zip(d["label"], d["service_ids"], strict=True))
    assert entries["Low-income families · Parenting support: 2 services"] == [1, 6]
    assert entries["Answered only 'None' (counts for no group): 1"] == [2]
    assert entries["Question 21 left blank (counts for no group): 1"] == [3]
    assert not any(lab.startswith("LGBTQ+") for lab in entries)  # empty cells have nothing to show
    acc = redie.access_drill(redie.access_matrix(frame), redie.languages_vs_population(frame, _no_needs()),
                             redie.interpreter_summary(frame))
    acc_entries = dict(zip(acc["label"], acc["service_ids"], strict=True))
    assert acc_entries["Offered in Urdu: 2 services"] == [2, 4]
    assert acc_entries["Interpreter 'Not answered': 4 services"] == [2, 3, 5, 6]


def _no_needs():  # noqa: ANN202
    import pandas as pd

    return pd.DataFrame(columns=["ward_code", "indicator", "value"])


def _layers(spec: dict) -> list[dict]:
    out = []
    for key in ("layer", "hconcat", "vconcat"):
        for part in spec.get(key, []):
            out.extend(_layers(part) if any(k in part for k in ("layer", "hconcat")) else [part])
    return out


def _data(spec: dict) -> list[dict]:
    return next(iter(spec["datasets"].values()))


def test_heatmap_writes_none_in_empty_cells_and_counts_in_others(frame) -> None:  # noqa: ANN001
    from hubdash.charts import redie as rc

    spec = rc.group_area_chart(redie.group_area_matrix(frame), title="t").to_dict()
    rows = _data(spec)
    assert {r["cell"] for r in rows if r["services"] == 0} == {"none"}
    assert {(r["group_label"], r["cell"]) for r in rows if r["services"]} >= {("Low-income families", "2")}
    text = [lay for lay in _layers(spec) if lay["mark"] in ("text",) or lay["mark"].get("type") == "text"]
    assert text and text[0]["encoding"]["text"]["field"] == "cell"
    assert "All areas" in {r["column_label"] for r in rows}
    one = rc.group_area_chart(redie.group_area_matrix(frame, areas=["hle"]), title="t").to_dict()
    assert {r["column_label"] for r in _data(one)} == {"Home learning"}  # the total would repeat it


def test_equity_chart_names_priority_wards(make_store) -> None:  # noqa: ANN001
    from hubdash.charts import redie as rc

    store = _equity_store(make_store)
    spec = rc.equity_chart(redie.ward_equity(store, service_frame(store)), title="t").to_dict()
    wards = [r["ward"] for r in _data(spec)]
    assert wards == ["Alpha", "Charlie (priority)", "Bravo", "Delta"]
    assert {r["status"] for r in _data(spec) if "(priority)" in r["ward"]} == {"High need, low provision"}
