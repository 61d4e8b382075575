"""Data quality: figures match hand counts; every clarity rule has a hit and a near miss."""

from __future__ import annotations

import io
import math

import openpyxl
import pandas as pd
import pytest

from hubdash import quality
from hubdash.quality import (
    age_groups_not_contiguous,
    build_report,
    capacity_below_families_supported,
    chase_csv,
    chase_list,
    chase_xlsx,
    completeness,
    intervention_without_eligibility,
    invalid_postcodes,
    is_uk_postcode,
    missing_answers,
    placeholder_answers,
    representativeness,
    targeted_indicated_without_eligibility,
    unknown_wards,
    ward_lookup,
)
from hubdash.services import service_frame
from tests.conftest import record


def full(name: str, **kw: object) -> dict:
    """A record answering all 25 questions clearly."""
    base = record(
        name, organisation="Org", sector="la", service_areas=["parenting"], format="small_group",
        delivery_modes=["family_hub"], primary_outcome="parenting", secondary_outcomes=["parent_child"],
        age_groups=["m0_12", "m12_18"], target_level="universal", eligibility="Open to all families",
        wards=["Harbourside"], postcodes=["KM1 2AB"], workforce=["family_support"], capacity=40.0,
        families_supported=30.0, annual_cost=1000.0, funding=["la_core"], evidence="local", groups=["none"],
        languages=["Polish"], interpreter="yes", contact_name="Ann Example", contact_email="ann@example.org",
    )
    base.update(kw)
    return base


def _frame(make_store, records: list[dict]) -> pd.DataFrame:  # noqa: ANN001
    return service_frame(make_store(records))


def _add_wards(store) -> None:  # noqa: ANN001
    with store.write() as cur:
        cur.executemany("INSERT INTO wards (ward_code, ward_name, name_key) VALUES (?, ?, ?)",
                        [("DEMO001", "Harbourside", "harbourside"), ("DEMO014", "St Bride's", "stbrides")])


# --- completeness -----------------------------------------------------------------------------


@pytest.fixture
def holes(make_store):  # noqa: ANN001, ANN201
    """Four services with known holes (see the hand counts in the tests)."""
    store = make_store([
        full("Alpha"),
        full("Beta", organisation=None, funding=[], age_groups=[]),
        full("Gamma", organisation="   ", wards=["Whole local authority"]),
        full("Delta", wards=[], capacity=None, contact_email=None),
    ])
    _add_wards(store)
    return store


def test_completeness_matches_hand_counts(holes) -> None:  # noqa: ANN001
    comp = completeness(service_frame(holes)).set_index("code")
    assert len(comp) == 25
    assert comp.at["organisation", "share"] == 0.5          # Beta blank, Gamma only spaces
    assert comp.at["funding", "share"] == 0.75
    assert comp.at["age_groups", "share"] == 0.75
    assert comp.at["wards", "share"] == 0.75                # "Whole local authority" is an answer
    assert comp.at["capacity", "share"] == 0.75
    assert comp.at["contact_email", "answered"] == 3        # personal questions count too
    assert comp.at["name", "share"] == 1.0
    assert comp.at["age_groups", "severity"] == "error" and comp.at["funding", "severity"] == "warning"


def test_missing_answers_are_errors_when_required(holes) -> None:  # noqa: ANN001
    rows = pd.DataFrame(missing_answers(service_frame(holes)))
    assert set(rows.loc[rows["severity"] == "error", "question_code"]) == {"age_groups"}
    assert len(rows) == 7  # Beta 3, Gamma 1, Delta 3 (eligibility and languages are never chased)
    assert not rows["problem"].str.contains("@").any()


def test_blanks_by_organisation_and_sector(holes) -> None:  # noqa: ANN001
    org = quality.blanks_by(service_frame(holes), "organisation").set_index("Organisation")
    assert org.at[quality.NO_ORGANISATION, "Blank answers"] == 4   # Beta 3 + Gamma 1
    assert org.at[quality.NO_ORGANISATION, "Blanks per service"] == 2.0
    assert org.at["Org", "Blank answers"] == 3                     # Delta
    assert org.index[0] == quality.NO_ORGANISATION                 # most blanks per service first
    sector = quality.blanks_by(service_frame(holes), "sector")
    assert sector["Blank answers"].sum() == 7


def test_score_is_the_sum_of_its_explained_parts(holes) -> None:  # noqa: ANN001
    report = build_report(holes, service_frame(holes))
    parts = {p.name: p for p in report.score.parts}
    assert report.representativeness is None and "Response rate" not in parts
    assert parts["Required answers given"].value == pytest.approx(0.95)          # (1+1+1+0.75+1)/5
    assert parts["Optional answers given"].value == pytest.approx(16.5 / 18)     # 18 counted optional questions
    assert parts["Services with clear answers"].value == 1.0
    assert [round(p.weight) for p in report.score.parts] == [40, 20, 40]         # scaled up without a list
    assert report.score.value == round(0.95 * 40 + 16.5 / 18 * 20 + 40)          # 96
    assert "left out" in report.score.note


def test_missingness_grid_orders_and_caps_rows(holes) -> None:  # noqa: ANN001
    grid, note = quality.missingness_grid(service_frame(holes), order="most_missing")
    first = grid[grid["row_order"] == 0]
    assert first["service"].iloc[0].startswith("Beta") and note is None
    assert len(grid) == 4 * 25
    assert set(grid.loc[(grid["service"].str.startswith("Beta")) & (grid["status"] != "Answered"), "question"]
               ) == {"3. Organisation", "10. Age groups", "19. Funding"}
    capped, note = quality.missingness_grid(service_frame(holes), limit=2)
    assert capped["service_id"].nunique() == 2 and "2 services" in note


# --- representativeness -------------------------------------------------------------------------


@pytest.fixture
def contacted(make_store):  # noqa: ANN001, ANN201
    store = make_store([full("Alpha")])
    agencies = [  # id, organisation, sector, responded, areas
        (1, "A council team", "la", True, ["parenting"]),
        (2, "B charity", "vcs", False, ["parenting", "hle"]),
        (3, "C charity", "vcs", False, ["hle"]),
        (4, "D charity", "vcs", True, ["infant_feeding"]),
        (5, "E trust", "nhs", True, []),
        (6, "F unknown", None, True, []),
    ]
    with store.write() as cur:
        for aid, org, sector, responded, areas in agencies:
            cur.execute("INSERT INTO agencies (agency_id, organisation, sector, responded) VALUES (?, ?, ?, ?)",
                        [aid, org, sector, responded])
            for a in areas:
                cur.execute("INSERT INTO agency_areas VALUES (?, ?)", [aid, a])
    return store


def test_response_rates_match_hand_counts(contacted) -> None:  # noqa: ANN001
    rep = representativeness(contacted)
    assert (rep.contacted, rep.responded) == (6, 4)
    sector = rep.by_sector.set_index("sector")
    assert sector.at["vcs", "rate"] == pytest.approx(1 / 3)
    assert sector.at["la", "rate"] == 1.0
    assert sector.at["", "Sector"] == "Sector not recorded"
    assert sector.at["vcs", "share_contacted"] == 0.5 and sector.at["vcs", "share_responses"] == 0.25
    assert sector.at["vcs", "gap_points"] == -25.0
    area = rep.by_area.set_index("area")
    assert area.at["parenting", "rate"] == 0.5 and area.at["hle", "rate"] == 0.0
    assert area.at["infant_feeding", "rate"] == 1.0 and math.isnan(area.at["perinatal_mh", "rate"])
    assert rep.non_responders["Organisation"].tolist() == ["B charity", "C charity"]
    assert rep.reading.startswith("Voluntary and community sector is 50% of the agencies contacted but 25% of the "
                                  "responses (1 of 3 replied).")
    assert "may well under-count" in rep.reading


def test_response_rate_for_one_area(contacted) -> None:  # noqa: ANN001
    rep = representativeness(contacted, area="hle")
    assert (rep.contacted, rep.responded, rep.rate) == (2, 0, 0.0)
    assert len(rep.by_area) == 4  # every area is still shown


def test_balanced_mix_reads_as_balanced() -> None:
    by_sector = pd.DataFrame({"Sector": ["Local authority", "Private sector"], "contacted": [10, 10],
                              "responded": [5, 5], "share_contacted": [0.5, 0.5], "share_responses": [0.5, 0.5],
                              "gap_points": [0.0, 0.0]})
    assert quality.mix_reading(by_sector, responded=10).startswith("Responses mirror who was contacted")


def test_no_contacted_list_gives_none_not_a_made_up_rate(make_store) -> None:  # noqa: ANN001
    store = make_store([full("Alpha")])
    assert representativeness(store) is None


# --- clarity rules: a hit and a near miss each ----------------------------------------------------


def test_intervention_without_eligibility(make_store) -> None:  # noqa: ANN001
    f = _frame(make_store, [full("Hit", kind="intervention", eligibility=None),
                            full("Near miss", kind="intervention", eligibility="Referral by GP"),
                            full("Service", kind="service", eligibility=None)])
    assert [r["service"] for r in intervention_without_eligibility(f)] == ["Hit"]


def test_targeted_indicated_without_eligibility(make_store) -> None:  # noqa: ANN001
    f = _frame(make_store, [full("Hit", target_level="targeted_indicated", eligibility=None),
                            full("Near miss", target_level="targeted_selective", eligibility=None),
                            full("Has criteria", target_level="targeted_indicated")])
    assert [r["service"] for r in targeted_indicated_without_eligibility(f)] == ["Hit"]


def test_capacity_below_families_supported(make_store) -> None:  # noqa: ANN001
    f = _frame(make_store, [full("Hit", capacity=20.0, families_supported=45.0),
                            full("Near miss", capacity=45.0, families_supported=45.0),
                            full("No capacity", capacity=None, families_supported=45.0)])
    rows = capacity_below_families_supported(f)
    assert [r["service"] for r in rows] == ["Hit"]
    assert "20" in rows[0]["problem"] and "45" in rows[0]["problem"]


def test_age_groups_not_contiguous(make_store) -> None:  # noqa: ANN001
    f = _frame(make_store, [full("Hit", age_groups=["m0_12", "y3_5"]),
                            full("Near miss", age_groups=["m0_12", "m12_18", "m18_24"]),
                            full("One band", age_groups=["ks2"])])
    rows = age_groups_not_contiguous(f)
    assert [r["service"] for r in rows] == ["Hit"]
    assert rows[0]["problem"] == "Age groups skip 12-18 months, 18-24 months, 2-3 years"


@pytest.mark.parametrize("pc", ["KM1 2AB", "km12ab", " km1   2ab ", "SW1A 1AA", "EC1A 1BB", "W1A 0AX", "M1 1AE",
                                "B33 8TH", "CR2 6XH", "DN55 1PT", "GIR 0AA", "gir0aa"])
def test_valid_uk_postcodes(pc: str) -> None:
    assert is_uk_postcode(pc)


@pytest.mark.parametrize("pc", ["KM99", "", "12345", "SW1A", "SW1A 1A", "ABC 123", "KM1 2AB X", "1KM 2AB"])
def test_invalid_uk_postcodes(pc: str) -> None:
    assert not is_uk_postcode(pc)


def test_invalid_postcodes_rule(make_store) -> None:  # noqa: ANN001
    f = _frame(make_store, [full("Hit", postcodes=["KM99", "KM1 2AB"]), full("Near miss", postcodes=["gir 0aa"])])
    rows = invalid_postcodes(f)
    assert [(r["service"], r["severity"]) for r in rows] == [("Hit", "error")]
    assert "KM99" in rows[0]["problem"]


def test_unknown_wards_matches_name_or_code_like_the_map(make_store) -> None:  # noqa: ANN001
    store = make_store([full("Hit", wards=["St Brides Ward"]), full("Near miss", wards=["st bride's", "demo001"]),
                        full("Whole", wards=["Whole local authority"])])
    _add_wards(store)
    rows = unknown_wards(service_frame(store), wards=ward_lookup(store))
    assert [r["service"] for r in rows] == ["Hit"]
    assert "St Bride's" in rows[0]["what_to_do"]  # the closest ward is suggested


def test_no_ward_table_means_wards_are_not_checked(make_store) -> None:  # noqa: ANN001
    store = make_store([full("Anything", wards=["Nowhere"])])
    assert ward_lookup(store) is None
    report = build_report(store, service_frame(store))
    assert "unknown_wards" not in set(report.issues["rule"])
    assert any("ward table" in n for n in report.notes)


def test_placeholder_answers(make_store) -> None:  # noqa: ANN001
    f = _frame(make_store, [
        full("Hit tbc", eligibility="tbc", target_level="targeted_selective"),
        full("Hit dash", organisation="-"),
        full("Hit n/a", eligibility="N/A", target_level="targeted_selective"),
        full("Hit short", eligibility="ok", target_level="targeted_selective"),
        full("Hit xxx", contact_name="xxx"),
        full("Hit language", languages=["?"]),
        full("Near miss none universal", eligibility="None"),
        full("Dads"),
    ])
    rows = pd.DataFrame(placeholder_answers(f))
    assert sorted(rows["service"]) == ["Hit dash", "Hit language", "Hit n/a", "Hit short", "Hit tbc", "Hit xxx"]
    personal = rows[rows["question_code"] == "contact_name"]
    assert personal["problem"].iloc[0] == "The answer is a placeholder, not an answer"  # value never repeated
    assert "too short" in rows.loc[rows["service"] == "Hit short", "problem"].iloc[0]


def test_placeholder_kind() -> None:
    assert quality.placeholder_kind("tbc") == "placeholder"
    assert quality.placeholder_kind(" - ") == "placeholder"
    assert quality.placeholder_kind("XXXX") == "placeholder"
    assert quality.placeholder_kind("no") == "short"
    assert quality.placeholder_kind("Fathers") is None
    assert quality.placeholder_kind(None) is None


def test_demo_plants_are_all_found(demo_store) -> None:  # noqa: ANN001
    f = service_frame(demo_store)
    report = build_report(demo_store, f)
    found = {(r["rule"], r["service_id"]) for r in report.issues.to_dict("records")}
    # demo._add_mess: records[i] is service i + 1
    assert ("missing_answers", 6) in found                       # required age groups missing
    assert ("placeholder_answers", 18) in found                  # "tbc" eligibility
    assert ("capacity_below_families_supported", 24) in found    # reached 45 > capacity 20
    assert ("invalid_postcodes", 32) in found                    # "KM99"
    assert ("unknown_wards", 41) in found                        # "St Brides Ward"
    assert ("age_groups_not_contiguous", 45) in found            # 0-12 months and 3-5 years
    pairs = {(p["a_id"], p["b_id"]) for p in report.duplicates.to_dict("records")}
    assert (17, 18) in pairs                                     # Baby Massage / Baby massage group (North hub)
    rep = report.representativeness
    assert (rep.contacted, rep.responded) == (37, 23)
    assert 0 <= report.score.value <= 100


# --- chase list --------------------------------------------------------------------------------


def test_chase_list_names_whom_to_ask_and_is_formula_safe(make_store) -> None:  # noqa: ANN001
    store = make_store([full("=HYPERLINK(\"http://x\")", age_groups=[], contact_name="Bo Example",
                             contact_email="bo@example.org"), full("Clean")])
    f = service_frame(store)
    report = build_report(store, f)
    chase = chase_list(report, f)
    assert len(chase) == 1  # the clean service is not chased
    row = chase.iloc[0]
    assert (row["Priority"], row["Contact email"], row["Errors"]) == ("High", "bo@example.org", 1)
    assert row["Missing answers"] == "Required: Age groups"
    csv = chase_csv(chase).decode("utf-8-sig")
    assert "'=HYPERLINK" in csv and ",=HYPERLINK" not in csv
    ws = openpyxl.load_workbook(io.BytesIO(chase_xlsx(chase))).active
    assert [c.value for c in ws[1]] == quality.CHASE_COLUMNS
    cell = ws.cell(row=2, column=quality.CHASE_COLUMNS.index("Service") + 1)
    assert cell.value.startswith("'=") and cell.data_type == "s"


def test_chase_list_includes_non_responders(contacted) -> None:  # noqa: ANN001
    f = service_frame(contacted)
    chase = chase_list(build_report(contacted, f), f)
    silent = chase[chase["Service"] == "(no survey returned)"]
    assert silent["Organisation"].tolist() == ["B charity", "C charity"]
    assert (silent["Priority"] == "High").all()


def test_score_percentages_never_round_to_complete_or_empty() -> None:
    from hubdash.quality import honest_percent

    assert honest_percent(789 / 790) == "99.9%"
    assert honest_percent(1.0) == "100%"
    assert honest_percent(0.0) == "0%"
    assert honest_percent(0.0004) == "0.1%"
    assert honest_percent(0.62) == "62%"
