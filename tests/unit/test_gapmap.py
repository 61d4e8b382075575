"""The gap map against hand counts on a six-service fixture: counting rule, every filter, the
capacity measure, crowding, the generated summary and the CLI's JSON."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from hubdash import gapmap, schema
from hubdash.cli import main
from hubdash.geo import service_ward_links
from hubdash.services import filter_frame, insert_services, service_frame
from hubdash.store import Store
from hubdash.summary import largest_gaps, outcomes_without_interventions
from tests.conftest import record

# Six services. Hand counts below are written out from this table, not computed.
#    kind     level     primary       other      ages               sector   modes             evidence  cap  wards
#  A service  univ.     parenting     hle        0-12 m, 12-18 m    la       family_hub        local     100  Ward One
#  B service  univ.     parenting     -          0-12 m             vcs      online            guideb.    50  whole LA
#  C interv.  t.select  perinatal_mh  parenting  pre-birth, 0-12 m  nhs      home              guideb.     -  Ward Two
#  D service  t.indic.  hle           -          2-3 y, 3-5 y       la       family_hub, home  other_ev   20  Ward Two
#  E service  univ.     other         -          KS3                private  -                 -          -  -
#  F interv.  univ.     parenting     -          0-12 m             vcs      community_venue   local      30  -
#  Every service area is parenting except F's (infant feeding).
RECORDS = [
    record("A", secondary_outcomes=["hle"], age_groups=["m0_12", "m12_18"], sector="la", delivery_modes=["family_hub"],
           evidence="local", capacity=100, wards=["Ward One"], format="drop_in", eligibility="None"),
    record("B", age_groups=["m0_12"], sector="vcs", delivery_modes=["online"], evidence="guidebook", capacity=50,
           wards=[schema.WHOLE_LA], format="self_help"),
    record("C", kind="intervention", target_level="targeted_selective", primary_outcome="perinatal_mh",
           secondary_outcomes=["parenting"], age_groups=["prebirth", "m0_12"], sector="nhs", delivery_modes=["home"],
           evidence="guidebook", wards=["Ward Two"], format="one_to_one"),
    record("D", target_level="targeted_indicated", primary_outcome="hle", age_groups=["y2_3", "y3_5"], sector="la",
           delivery_modes=["family_hub", "home"], evidence="other_evidence", capacity=20, wards=["Ward Two"],
           format="one_to_one"),
    record("E", primary_outcome="other", age_groups=["ks3"], sector="private", organisation="=cmd|' /C calc'!A0"),
    record("F", kind="intervention", service_areas=["infant_feeding"], age_groups=["m0_12"], sector="vcs",
           delivery_modes=["community_venue"], evidence="local", capacity=30, format="small_group"),
]

PRIMARY = {
    ("universal", "service", "parenting", "m0_12"): ["A", "B"],
    ("universal", "service", "parenting", "m12_18"): ["A"],
    ("universal", "intervention", "parenting", "m0_12"): ["F"],
    ("targeted_selective", "intervention", "perinatal_mh", "prebirth"): ["C"],
    ("targeted_selective", "intervention", "perinatal_mh", "m0_12"): ["C"],
    ("targeted_indicated", "service", "hle", "y2_3"): ["D"],
    ("targeted_indicated", "service", "hle", "y3_5"): ["D"],
    ("universal", "service", "other", "ks3"): ["E"],
}
SECONDARY_EXTRA = {
    ("universal", "service", "hle", "m0_12"): ["A"],
    ("universal", "service", "hle", "m12_18"): ["A"],
    ("targeted_selective", "intervention", "parenting", "prebirth"): ["C"],
    ("targeted_selective", "intervention", "parenting", "m0_12"): ["C"],
}


def _with_wards(s: Store) -> Store:
    with s.write() as cur:
        cur.execute("INSERT INTO wards (ward_code, ward_name, name_key) VALUES ('W1', 'Ward One', 'wardone'), "
                    "('W2', 'Ward Two', 'wardtwo')")
    return s


@pytest.fixture
def store(make_store):  # noqa: ANN001, ANN201
    return _with_wards(make_store(RECORDS))


@pytest.fixture
def frame(store):  # noqa: ANN001, ANN201
    return service_frame(store)


def _cells(counts) -> dict:  # noqa: ANN001
    return {(r.target_level, r.kind, r.outcome, r.age_group): sorted(r.services) for r in counts.itertuples()}


def test_counts_equal_hand_counts(frame) -> None:  # noqa: ANN001
    assert _cells(gapmap.gap_counts(frame)) == PRIMARY


def test_include_secondary_adds_the_other_outcome_rows_once(frame) -> None:  # noqa: ANN001
    assert _cells(gapmap.gap_counts(frame, include_secondary=True)) == {**PRIMARY, **SECONDARY_EXTRA}


def test_a_service_answering_its_primary_outcome_again_is_not_counted_twice(make_store) -> None:  # noqa: ANN001
    s = make_store([record("Twice", secondary_outcomes=["parenting"])])
    counts = gapmap.gap_counts(service_frame(s), include_secondary=True)
    assert counts["count"].tolist() == [1]


def test_grid_has_every_cell_and_zeros_for_gaps(frame) -> None:  # noqa: ANN001
    grid = gapmap.gap_grid(frame, ages=gapmap.AGE_FOCUS["Start for Life (conception to age 2)"],
                           outcomes=gapmap.MAP_OUTCOMES)
    assert len(grid) == 3 * 2 * 8 * 4
    assert int(grid["count"].sum()) == 2 + 1 + 1 + 1 + 1  # D (2-5 y) and E (other) are outside
    hit = grid[(grid.target_level == "universal") & (grid.kind == "service") & (grid.outcome == "parenting")
               & (grid.age_group == "m0_12")]
    assert hit["count"].item() == 2 and hit["capacity"].item() == 150 and hit["capacity_known"].item() == 2


@pytest.mark.parametrize(("kwargs", "names"), [
    ({"sectors": ["la"]}, {"A", "D"}),
    ({"sectors": ["nhs", "private"]}, {"C", "E"}),
    ({"modes": ["home"]}, {"C", "D"}),
    ({"modes": ["telephone"]}, set()),  # near miss: nobody answered telephone
    ({"evidence": ["guidebook"]}, {"B", "C"}),
    ({"evidence": ["dont_know"]}, set()),
    ({"sectors": ["la"], "modes": ["home"]}, {"D"}),  # filters combine with AND
    ({}, {"A", "B", "C", "D", "E", "F"}),
])
def test_each_filter_keeps_the_right_services(frame, kwargs, names) -> None:  # noqa: ANN001
    assert set(gapmap.narrow_services(frame, **kwargs)["name"]) == names


def test_sector_filter_changes_the_map(frame) -> None:  # noqa: ANN001
    counts = _cells(gapmap.gap_counts(gapmap.narrow_services(frame, sectors=["la"])))
    assert counts == {
        ("universal", "service", "parenting", "m0_12"): ["A"],
        ("universal", "service", "parenting", "m12_18"): ["A"],
        ("targeted_indicated", "service", "hle", "y2_3"): ["D"],
        ("targeted_indicated", "service", "hle", "y3_5"): ["D"],
    }


def test_ward_filter_uses_named_wards_and_whole_la(store, frame) -> None:  # noqa: ANN001
    links = service_ward_links(store)
    one = gapmap.apply_options(frame, gapmap.GapOptions(ward="W1"), ward_links=links)
    two = gapmap.apply_options(frame, gapmap.GapOptions(ward="W2"), ward_links=links)
    assert set(one["name"]) == {"A", "B"}
    assert set(two["name"]) == {"B", "C", "D"}
    # Near miss: a ward code not in the ward table matches nothing, not even "whole LA" services.
    assert gapmap.services_in_ward(links, "W9") == set()
    assert _cells(gapmap.gap_counts(one))[("universal", "service", "parenting", "m0_12")] == ["A", "B"]


def test_ward_filter_without_links_is_a_programming_error(frame) -> None:  # noqa: ANN001
    with pytest.raises(ValueError):
        gapmap.apply_options(frame, gapmap.GapOptions(ward="W1"))


def test_global_area_filter_then_gap_counts(frame) -> None:  # noqa: ANN001
    only_feeding = filter_frame(frame, schema.Filters(area="infant_feeding"))
    assert _cells(gapmap.gap_counts(only_feeding)) == {("universal", "intervention", "parenting", "m0_12"): ["F"]}


def test_capacity_measure_sums_known_capacity_and_marks_unknown(frame) -> None:  # noqa: ANN001
    cells = gapmap.gap_cells(frame, gapmap.GapOptions(measure="capacity"))
    by = {(r.target_level, r.kind, r.outcome, r.age_group): r for r in cells.itertuples()}
    hit = by[("universal", "service", "parenting", "m0_12")]
    assert (hit.value, hit.label, hit.status) == (150.0, "150", "covered")
    unknown = by[("targeted_selective", "intervention", "perinatal_mh", "prebirth")]
    assert (unknown.count, unknown.label, unknown.status) == (1, "?", "covered")
    empty = by[("universal", "service", "birthing", "m0_12")]
    assert (empty.value, empty.label, empty.status) == (0.0, "gap", "gap")


def test_crowded_threshold_hit_and_near_miss(frame) -> None:  # noqa: ANN001
    key = ("universal", "service", "parenting", "m0_12")
    for at, status in ((2, "crowded"), (3, "covered")):
        cells = gapmap.gap_cells(frame, gapmap.GapOptions(crowded_at=at))
        row = cells[(cells.target_level == key[0]) & (cells.kind == key[1]) & (cells.outcome == key[2])
                    & (cells.age_group == key[3])]
        assert row["status"].item() == status
        assert int((cells["status"] == "crowded").sum()) == (1 if at == 2 else 0)


def test_age_focus_limits_the_columns(frame) -> None:  # noqa: ANN001
    cells = gapmap.gap_cells(frame, gapmap.GapOptions(focus=gapmap.FOCUS_CODES["sfl"]))
    assert list(dict.fromkeys(cells["age_group"])) == ["prebirth", "m0_12", "m12_18", "m18_24"]
    assert set(gapmap.FOCUS_CODES.values()) == set(gapmap.AGE_FOCUS)
    assert "other" not in set(cells["outcome"])  # "Other" is never a row of the map


def test_cell_services_match_the_counts(frame) -> None:  # noqa: ANN001
    for secondary, expected in ((False, PRIMARY), (True, {**PRIMARY, **SECONDARY_EXTRA})):
        for (level, kind, outcome, age), names in expected.items():
            got = gapmap.cell_services(frame, level=level, kind=kind, outcome=outcome, age=age,
                                       include_secondary=secondary)
            assert sorted(got["name"]) == names
    assert gapmap.cell_services(frame, level="universal", kind="service", outcome="hle", age="m0_12").empty


def test_drilldown_and_record_have_no_personal_data(make_store) -> None:  # noqa: ANN001
    s = make_store([record("P", contact_name="Ada Example", contact_email="ada@example.org")])
    f = service_frame(s)
    table = gapmap.drilldown_table(f)
    assert list(table.columns) == ["Survey row", "Name", "Organisation", "Format", "Delivered", "Eligibility"]
    sheet = gapmap.service_sheet(f, int(f["service_id"].iloc[0]))
    text = sheet.to_string()
    assert "Ada Example" not in text and "ada@example.org" not in text
    assert sheet["Question"].iloc[0] == "1. Name" and sheet["Answer"].iloc[0] == "P"
    assert len(sheet) == len(schema.QUESTIONS) - len(schema.PERSONAL_FIELDS)


def test_gap_table_mirrors_template_6(frame) -> None:  # noqa: ANN001
    table = gapmap.gap_table(gapmap.gap_cells(frame, gapmap.GapOptions(focus=gapmap.FOCUS_CODES["sfl"])))
    assert list(table.columns[:4]) == ["Target level", "Primary outcome", "Service: Pre birth", "Service: 0-12 m"]
    assert len(table) == 3 * 8
    row = table[(table["Target level"] == "Universal") & (table["Primary outcome"] == "Improve parenting")]
    assert row["Service: 0-12 m"].item() == "2" and row["Intervention: 0-12 m"].item() == "1"
    assert row["Service: Pre birth"].item() == "gap"
    crowded = gapmap.gap_table(gapmap.gap_cells(frame, gapmap.GapOptions(focus=gapmap.FOCUS_CODES["sfl"],
                                                                          crowded_at=2)))
    assert crowded.loc[row.index, "Service: 0-12 m"].item() == "▲2"  # the symbol, not colour alone


@pytest.mark.parametrize(("codes", "text"), [
    (["m12_18", "m18_24"], "12-24 months"),
    (["prebirth", "m0_12"], "pre-birth to 12 months"),
    (["prebirth"], "pre-birth"),
    (["ks1", "ks2"], "5-11 years"),
    (["m18_24", "y2_3", "y3_5"], "18 months to 5 years"),
    (["m0_12", "m12_18", "m18_24", "y2_3"], "0-3 years"),
])
def test_age_span_text(codes, text) -> None:  # noqa: ANN001
    assert gapmap.age_span_text(codes) == text


def test_largest_gaps_sentence_reads_like_the_guide(make_store) -> None:  # noqa: ANN001
    s = make_store([record("PMH", target_level="targeted_indicated", primary_outcome="perinatal_mh",
                           age_groups=["prebirth", "m0_12"]),
                    record("PMH older", target_level="targeted_indicated", primary_outcome="perinatal_mh",
                           age_groups=["y2_3", "y3_5"])])
    gaps = largest_gaps(service_frame(s), n=50)
    pmh = [g for g in gaps if g["level"] == "targeted_indicated" and g["outcome"] == "perinatal_mh"]
    assert [g["sentence"] for g in pmh] == [
        "No targeted indicated support for perinatal mental health for 12-24 months"]
    assert pmh[0]["ages"] == ["m12_18", "m18_24"]


def test_summary_is_generated_from_the_data(frame) -> None:  # noqa: ANN001
    opts = gapmap.GapOptions(focus=gapmap.FOCUS_CODES["early"], crowded_at=2)
    s = gapmap.gap_summary(frame, opts)
    # Universal: only parenting has anything, so seven outcome rows are empty at every age.
    assert s.gaps[0] == ("No universal support for parent-child relationship, home learning environment, infant "
                         "feeding experience, birthing experience, perinatal mental health, child development and "
                         "language or reducing parental conflict at any age (pre-birth to 5 years)")
    assert "No targeted selective support for perinatal mental health from 12 months to 5 years" in s.gaps
    assert s.crowded == ["2 universal services for parenting at 0-12 months: check for duplication"]
    assert s.no_intervention == ["No intervention at all aims to improve parent-child relationship, improve home "
                                 "learning environment, improve infant feeding experience, improve birthing "
                                 "experience, improve child development and language or reduce parental conflict"]
    assert outcomes_without_interventions(frame) == ["parent_child", "hle", "infant_feeding", "birthing",
                                                     "child_dev", "parental_conflict"]
    # 3 levels x 8 outcomes x 6 ages; covered (either block): univ parenting 0-12m, 12-18m; TS perinatal
    # pre-birth, 0-12m; TI hle 2-3y, 3-5y.
    assert (s.cells, s.empty_cells) == (144, 144 - 6)


def test_summary_has_no_crowding_sentence_below_the_threshold(frame) -> None:  # noqa: ANN001
    assert gapmap.gap_summary(frame, gapmap.GapOptions(crowded_at=3)).crowded == []


def test_options_describe_names_every_filter(store) -> None:  # noqa: ANN001
    opts = gapmap.GapOptions(focus=gapmap.FOCUS_CODES["sfl"], sectors=("nhs",), modes=("home",),
                             evidence=("guidebook",), ward="W2", include_secondary=True)
    text = opts.describe(ward_name="Ward Two")
    for part in ("Start for Life", "NHS or health", "In the family's home", "Foundations Guidebook", "Ward Two",
                 "other outcomes"):
        assert part in text
    assert gapmap.ward_choices(store) == [("W1", "Ward One"), ("W2", "Ward Two")]


def _cli_json(db: Path, *args: str) -> list[dict]:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["gapmap", "--db", str(db), "--format", "json", *args]) == 0
    return json.loads(out.getvalue())


def test_cli_json_equals_hand_count(tmp_path: Path) -> None:
    db = tmp_path / "cli.duckdb"
    with Store(db) as s, s.write() as cur:
        insert_services(cur, RECORDS)
    rows = _cli_json(db)
    assert list(rows[0]) == ["target_level", "kind", "outcome", "age_group", "count", "services"]
    got = {(r["target_level"], r["kind"], r["outcome"], r["age_group"]): (r["count"], r["services"]) for r in rows}
    expected = {(lv, k, schema.label("primary_outcome", o), schema.label("age_groups", a)): (len(n), n)
                for (lv, k, o, a), n in PRIMARY.items()}
    assert got == expected
    secondary = _cli_json(db, "--secondary")
    assert len(secondary) == len(PRIMARY) + len(SECONDARY_EXTRA)
    assert _cli_json(db, "--area", "infant_feeding") == [{
        "target_level": "universal", "kind": "intervention", "outcome": "Improve parenting",
        "age_group": "0-12 months", "count": 1, "services": ["F"]}]
