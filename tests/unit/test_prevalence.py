"""Template 2 distributions, the overview (template 4) and the detailed map (template 5) against
hand counts on the six-service fixture of test_gapmap."""

from __future__ import annotations

import pytest

from hubdash import prevalence
from hubdash.charts.prevalence import distribution_chart
from hubdash.services import service_frame
from tests.conftest import record
from tests.unit.test_gapmap import RECORDS


@pytest.fixture
def frame(make_store):  # noqa: ANN001, ANN201
    return service_frame(make_store(RECORDS))


def _totals(dist, col: str) -> dict[str, tuple[int, int]]:  # noqa: ANN001
    return {r[col]: (r["Services"], r["Interventions"]) for _, r in dist.iterrows() if r["Total"]}


def test_services_per_age_band(frame) -> None:  # noqa: ANN001
    dist = prevalence.distribution(frame, question="age_groups")
    assert len(dist) == 12  # every band, zeros included, nobody left it blank
    assert _totals(dist, "Age group") == {
        "Pre-birth": (0, 1), "0-12 months": (2, 2), "12-18 months": (1, 0), "2-3 years": (1, 0),
        "3-5 years": (1, 0), "Key Stage 3 (11-14 years)": (1, 0)}
    assert dist.loc[dist["Age group"] == "0-12 months", "Share"].item() == pytest.approx(4 / 6)


def test_age_focus_drops_bands_but_not_answers(frame) -> None:  # noqa: ANN001
    dist = prevalence.distribution(frame, question="age_groups", ages=["prebirth", "m0_12"])
    assert list(dist["Age group"]) == ["Pre-birth", "0-12 months"]
    assert list(dist["Total"]) == [1, 4]


def test_most_and_least_age_group(frame) -> None:  # noqa: ANN001
    dist = prevalence.distribution(frame, question="age_groups")
    found = prevalence.distribution_findings(dist, question="age_groups", services=6)
    assert found[0] == "Most on offer: 0-12 months (4 of 6, 67%)."
    assert found[1].startswith("Least on offer: Pre-birth, 12-18 months, 2-3 years, 3-5 years and Key Stage 3")
    assert found[2].startswith("Nothing at all for: 18-24 months, Key Stage 1")


def test_outcomes_primary_and_with_other_outcomes(frame) -> None:  # noqa: ANN001
    primary = _totals(prevalence.distribution(frame, question="primary_outcome"), "Outcome")
    assert primary == {"Improve parenting": (2, 1), "Improve home learning environment": (1, 0),
                       "Improve perinatal mental health": (0, 1), "Other": (1, 0)}
    both = _totals(prevalence.distribution(frame, question="primary_outcome", include_secondary=True), "Outcome")
    assert both["Improve parenting"] == (2, 2) and both["Improve home learning environment"] == (2, 0)


def test_target_level_uses_short_names(frame) -> None:  # noqa: ANN001
    dist = prevalence.distribution(frame, question="target_level")
    assert list(dist["Target level"]) == ["Universal", "Targeted selective", "Targeted indicated"]
    assert list(dist["Total"]) == [4, 1, 1]


def test_format_mix_question_6(frame) -> None:  # noqa: ANN001
    dist = prevalence.distribution(frame, question="format")
    assert _totals(dist, "Format") == {"Information or self-help": (1, 0), "Drop-in sessions": (1, 0),
                                       "Individual (one-to-one) format": (1, 1),
                                       "In small groups (up to six people)": (0, 1), "Not answered": (1, 0)}
    found = prevalence.distribution_findings(dist, question="format", services=6)
    assert found[0] == "Most on offer: Individual (one-to-one) format (2 of 6, 33%)."
    assert "4 of 7 formats are in use; no single format is more than half the offer: a mixed offer." in found
    assert found[-1] == "1 did not answer this question."


def test_format_mix_leaning_on_one_format(make_store) -> None:  # noqa: ANN001
    f = service_frame(make_store([record("a", format="drop_in"), record("b", format="drop_in"),
                                  record("c", format="one_to_one")]))
    found = prevalence.distribution_findings(prevalence.distribution(f, question="format"), question="format",
                                             services=3)
    assert "2 of 7 formats are in use; more than half the offer uses one format: a narrow mix." in found


def test_multi_select_modes_count_once_per_answer(frame) -> None:  # noqa: ANN001
    dist = prevalence.distribution(frame, question="delivery_modes")
    assert _totals(dist, "Where or how delivered") == {
        "At a Family Hub": (2, 0), "At another community venue": (0, 1), "In the family's home": (1, 1),
        "Online": (1, 0), "Not answered": (1, 0)}


def test_sector_and_evidence(frame) -> None:  # noqa: ANN001
    assert _totals(prevalence.distribution(frame, question="sector"), "Sector") == {
        "Local authority": (2, 0), "NHS or health": (0, 1), "Voluntary and community sector": (1, 1),
        "Private sector": (1, 0)}
    assert _totals(prevalence.distribution(frame, question="evidence"), "Evidence base") == {
        "Yes - rated in the Foundations Guidebook": (1, 1), "Yes - other evidence": (1, 0),
        "Locally developed, not yet evaluated": (1, 1), "Not answered": (1, 0)}


def test_services_behind_a_bar(frame) -> None:  # noqa: ANN001
    def names(**kw) -> set[str]:  # noqa: ANN003
        return set(prevalence.with_answer(frame, **kw)["name"])

    assert names(question="delivery_modes", answer="In the family's home") == {"C", "D"}
    assert names(question="delivery_modes", answer=prevalence.NOT_ANSWERED) == {"E"}
    assert names(question="target_level", answer="Universal") == {"A", "B", "E", "F"}
    assert names(question="age_groups", answer="0-12 months") == {"A", "B", "C", "F"}
    assert names(question="primary_outcome", answer="Improve parenting", include_secondary=True) == {"A", "B", "C", "F"}


def test_empty_frame_findings(frame) -> None:  # noqa: ANN001
    empty = frame.iloc[0:0]
    dist = prevalence.distribution(empty, question="format")
    assert dist["Total"].sum() == 0
    assert prevalence.distribution_findings(dist, question="format", services=0) == ["Nothing to count for this view."]


def test_distribution_chart_keeps_survey_order_for_ages(frame) -> None:  # noqa: ANN001
    spec = distribution_chart(prevalence.distribution(frame, question="age_groups"), question="age_groups").to_dict()
    y = spec["layer"][0]["encoding"]["y"]
    assert y["sort"][:3] == ["Pre-birth", "0-12 months", "12-18 months"]
    fmt = distribution_chart(prevalence.distribution(frame, question="format"), question="format").to_dict()
    order = fmt["layer"][0]["encoding"]["y"]["sort"]
    assert order[0] == "Individual (one-to-one) format" and order[-1] == prevalence.NOT_ANSWERED


def test_support_types(frame) -> None:  # noqa: ANN001
    types = dict(zip(frame["name"], prevalence.support_type(frame), strict=True))
    # B is information or self-help; C and F are interventions; the rest meet families in person.
    assert types == {"A": "hub", "B": "online", "C": "intervention", "D": "hub", "E": "hub", "F": "intervention"}


def test_remote_only_service_is_online_information(make_store) -> None:  # noqa: ANN001
    f = service_frame(make_store([record("Phone", format="one_to_one", delivery_modes=["telephone", "online"]),
                                  record("Mixed", format="one_to_one", delivery_modes=["telephone", "home"])]))
    assert list(prevalence.support_type(f)) == ["online", "hub"]


def test_overview_places_services_by_level_type_and_stage(frame) -> None:  # noqa: ANN001
    table = prevalence.overview_table(frame)
    assert list(table.columns) == ["Target level", "Type", "Antenatal", "0-24 months", "2-5 years", "5-11 years",
                                   "11-16 years", "16-25 years"]
    assert len(table) == 9  # 3 levels x 3 types, empty rows kept so gaps show

    def cell(level: str, typ: str, stage: str) -> str:
        row = table[(table["Target level"] == level) & (table["Type"] == prevalence.TYPES[typ])]
        return row[stage].item()

    assert cell("Universal", "hub", "0-24 months") == "A"
    assert cell("Universal", "online", "0-24 months") == "B"
    assert cell("Targeted selective", "intervention", "Antenatal") == "C"
    assert cell("Targeted selective", "intervention", "0-24 months") == "C"
    assert cell("Targeted indicated", "hub", "2-5 years") == "D"
    assert cell("Universal", "hub", "11-16 years") == "E"
    assert cell("Targeted indicated", "online", "0-24 months") == ""
    merged = prevalence.overview_table(frame, repeat_levels=False)
    assert list(merged["Target level"][:3]) == ["Universal", "", ""]


def test_overview_follows_the_age_focus(frame) -> None:  # noqa: ANN001
    table = prevalence.overview_table(frame, ages=["prebirth", "m0_12"])
    assert list(table.columns) == ["Target level", "Type", "Antenatal", "0-24 months"]


def test_collapse_names_folds_local_copies() -> None:
    names = ["Stay and Play (North)", "Stay and Play (South)", "Baby Massage", "Toddler group at Quayside chapel",
             "Toddler group at Fernhill village hall", "Help at home", "Lone (Central)"]
    assert prevalence.collapse_names(names) == ["Stay and Play ×2", "Toddler group ×2", "Baby Massage",
                                                "Help at home", "Lone (Central)"]
    assert prevalence.collapse_names(names, limit=2) == ["Stay and Play ×2", "Toddler group ×2", "and 3 more"]


def test_detailed_rows_group_by_level_and_kind(frame) -> None:  # noqa: ANN001
    rows = prevalence.detailed_rows(frame, outcome="parenting")
    assert list(dict.fromkeys(rows["name"])) == ["A", "B", "F"]
    assert list(dict.fromkeys(rows["group"])) == ["Universal · services", "Universal · interventions"]
    assert list(rows.loc[rows["name"] == "A", "age_group"]) == ["m0_12", "m12_18"]
    with_other = prevalence.detailed_rows(frame, outcome="parenting", include_secondary=True)
    assert list(dict.fromkeys(with_other["name"])) == ["A", "B", "F", "C"]
    table = prevalence.detailed_table(with_other)
    assert list(table["Ages"]) == ["0-18 months", "0-12 months", "0-12 months", "pre-birth to 12 months"]
    # Age focus: D (2-5 years) drops out of a Start for Life map.
    assert "D" not in set(prevalence.detailed_rows(frame, ages=["prebirth", "m0_12", "m12_18", "m18_24"])["name"])


def test_detailed_table_shows_non_contiguous_answers_band_by_band(make_store) -> None:  # noqa: ANN001
    f = service_frame(make_store([record("Gappy", age_groups=["m0_12", "y3_5"])]))
    table = prevalence.detailed_table(prevalence.detailed_rows(f, outcome="parenting"))
    assert table["Ages"].item() == "0-12 months; 3-5 years"
