"""Shareable views, bookmarks, the presenter's sequence and the headline finding per view."""

from __future__ import annotations

import json

import pytest

from hubdash import presenter
from hubdash.findings import view_headline
from hubdash.presenter import DEFAULT_SEQUENCE, Step, View, ViewError, clean_query
from hubdash.schema import Filters
from hubdash.services import service_frame
from tests.conftest import record

# --- the allowlist ----------------------------------------------------------------------------------


def test_clean_query_keeps_allowlisted_keys_and_drops_the_rest() -> None:
    raw = {"area": "infant_feeding", "level": "universal", "kind": "service", "present": "1", "step": "2",
           "evil": "1", "cov_measure": "services"}
    assert clean_query(raw, page="coverage") == {"area": "infant_feeding", "level": "universal", "kind": "service",
                                                 "cov_measure": "services"}
    # The same page key on a page that does not bind it is dropped (near miss).
    assert clean_query(raw, page="redie") == {"area": "infant_feeding", "level": "universal", "kind": "service"}


def test_clean_query_checks_values() -> None:
    assert clean_query({"area": "'; DROP TABLE services;--"}, page="") == {}
    assert clean_query({"area": "not_an_area"}, page="") == {}
    assert clean_query({"area": ["parenting", "hle"]}, page="") == {"area": "hle"}  # last of a repeated key
    assert clean_query({"cov_measure": "x" * 101}, page="coverage") == {}
    assert clean_query({"cov_measure": "x" * 100}, page="coverage") == {"cov_measure": "x" * 100}
    assert clean_query({"cov_measure": "<script>"}, page="coverage") == {}


def test_keys_bound_at_run_time_are_allowed_but_not_mode_or_odd_keys() -> None:
    raw = {"new_key": "a", "present": "1", "Bad-Key": "b"}
    assert clean_query(raw, page="", extra=["new_key", "present", "Bad-Key"]) == {"new_key": "a"}


def test_view_links_and_unknown_pages() -> None:
    v = View.of("gaps", {"gap_focus": "early", "area": "parenting", "junk": "1"})
    assert v.path() == "gaps?area=parenting&gap_focus=early"
    assert v.path(present=True, step=2) == "gaps?area=parenting&gap_focus=early&present=1&step=2"
    assert v.url("http://host:8501/") == "http://host:8501/gaps?area=parenting&gap_focus=early"
    assert v.filters == Filters(area="parenting")
    assert v.describe() == ("Gap maps: Parenting support, all target levels, services and interventions "
                            "(gap_focus early)")
    assert View.of("", {}).path() == ""
    with pytest.raises(ViewError, match="not a page"):
        View.of("admin", {})


# --- bookmarks --------------------------------------------------------------------------------------


def test_bookmarks_round_trip_as_json(make_store) -> None:  # noqa: ANN001
    store = make_store([record("A")])
    before = store.data_version()
    view = View.of("gaps", {"area": "infant_feeding"})
    bid = presenter.add_bookmark(store, name="  Infant   feeding gaps ", view=view)
    assert store.data_version() == before + 1  # through store.write()
    (b,) = presenter.list_bookmarks(store)
    assert (b.bookmark_id, b.name, b.view) == (bid, "Infant feeding gaps", View("gaps", (("area", "infant_feeding"),)))
    raw = store.scalar("SELECT query FROM bookmarks WHERE bookmark_id = ?", [bid])
    assert json.loads(raw) == {"area": "infant_feeding"}
    presenter.delete_bookmark(store, bid)
    assert presenter.list_bookmarks(store) == []


def test_bookmark_names_are_checked_and_stored_literally(make_store) -> None:  # noqa: ANN001
    store = make_store([record("A")])
    with pytest.raises(ViewError, match="short name"):
        presenter.add_bookmark(store, name="   ", view=View.of("", {}))
    with pytest.raises(ViewError, match="under 80"):
        presenter.add_bookmark(store, name="x" * 81, view=View.of("", {}))
    presenter.add_bookmark(store, name="x" * 80, view=View.of("", {}))
    presenter.add_bookmark(store, name="'); DELETE FROM services; --", view=View.of("", {}))
    assert presenter.list_bookmarks(store)[0].name == "'); DELETE FROM services; --"
    assert store.scalar("SELECT count(*) FROM services") == 1


def test_stored_views_are_rechecked_on_the_way_out(make_store) -> None:  # noqa: ANN001
    store = make_store([record("A")])
    with store.write() as cur:  # rows written by something else: a bad page, a tampered query
        cur.execute("INSERT INTO bookmarks (name, page, query) VALUES ('gone', 'no_such_page', '{}')")
        cur.execute("INSERT INTO bookmarks (name, page, query) VALUES ('odd', 'redie', '[1, 2]')")
        cur.execute("""INSERT INTO bookmarks (name, page, query) VALUES ('junk', 'gaps',
                       '{"area": "hle", "present": "1", "gap_focus": "<b>"}')""")
        cur.execute("INSERT INTO bookmarks (name, page, query) VALUES ('broken', '', 'not json')")
    marks = {b.name: b.view for b in presenter.list_bookmarks(store)}
    assert set(marks) == {"odd", "junk", "broken"}
    assert marks["odd"] == View("redie", ())
    assert marks["junk"] == View("gaps", (("area", "hle"),))
    assert marks["broken"] == View("", ())


# --- the sequence -----------------------------------------------------------------------------------


def test_default_sequence_until_one_is_saved(make_store) -> None:  # noqa: ANN001
    store = make_store([record("A")])
    assert presenter.saved_sequence(store) == []
    assert presenter.sequence(store) == list(DEFAULT_SEQUENCE)
    assert [s.view.page for s in DEFAULT_SEQUENCE] == ["gaps", "coverage", "redie"]
    # Every default step survives the allowlist unchanged.
    assert all(View.of(s.view.page, s.view.params) == s.view for s in DEFAULT_SEQUENCE)


def test_add_move_remove_and_clear_steps(make_store) -> None:  # noqa: ANN001
    store = make_store([record("A")])
    home = View.of("", {"area": "hle"})
    steps = presenter.add_step(store, home, title="Home for HLE")
    assert [s.view.page for s in steps] == ["gaps", "coverage", "redie", ""]
    assert steps[-1].label == "Home for HLE"
    steps = presenter.move_step(store, 4, by=-1)
    assert [s.view.page for s in steps] == ["gaps", "coverage", "", "redie"]
    steps = presenter.move_step(store, 1, by=-1)  # already first: stays
    assert [s.view.page for s in steps] == ["gaps", "coverage", "", "redie"]
    steps = presenter.remove_step(store, 1)
    assert [s.view.page for s in steps] == ["coverage", "", "redie"]
    with pytest.raises(ViewError, match="no step 4"):
        presenter.remove_step(store, 4)
    presenter.clear_sequence(store)
    assert presenter.sequence(store) == list(DEFAULT_SEQUENCE)


def test_a_sequence_has_a_limit(make_store) -> None:  # noqa: ANN001
    store = make_store([record("A")])
    presenter.save_sequence(store, [Step(View("", ()))] * presenter.MAX_STEPS)
    with pytest.raises(ViewError, match="at most 20"):
        presenter.save_sequence(store, [Step(View("", ()))] * (presenter.MAX_STEPS + 1))
    assert len(presenter.saved_sequence(store)) == presenter.MAX_STEPS


def test_current_step_and_neighbours() -> None:
    steps = list(DEFAULT_SEQUENCE)
    # The URL's step wins when it names a step of this page...
    assert presenter.current_step(steps, page="coverage", params={"step": "2"}) == 2
    # ...but not when it names another page's step (a link edited by hand): match the view instead.
    assert presenter.current_step(steps, page="coverage", params={"step": "1", "area": "infant_feeding"}) == 2
    assert presenter.current_step(steps, page="redie", params={"area": "infant_feeding"}) == 3
    assert presenter.current_step(steps, page="redie", params={"area": "parenting"}) is None
    assert presenter.current_step(steps, page="redie", params={"step": "9"}) is None
    assert presenter.neighbour(steps, None, by=1) == 1
    assert presenter.neighbour(steps, None, by=-1) == 3
    assert presenter.neighbour(steps, 3, by=1) is None
    assert presenter.neighbour(steps, 1, by=-1) is None
    assert presenter.neighbour(steps, 2, by=1) == 3
    assert presenter.neighbour([], None, by=1) is None


# --- headline findings ------------------------------------------------------------------------------


def _hand_made(make_store):  # noqa: ANN001, ANN202
    return make_store([
        record("Breastfeeding cafe", service_areas=["infant_feeding"], primary_outcome="infant_feeding",
               age_groups=["m0_12"], groups=["low_income"], contact_email="cafe@example.org"),
        record("Bottle clinic", service_areas=["infant_feeding"], primary_outcome="infant_feeding",
               age_groups=["prebirth", "m0_12"], organisation="NHS Trust", groups=["low_income", "fathers"]),
        record("Parent group", kind="intervention", organisation="Charity", groups=["none"]),
    ])


def test_home_headline_counts(make_store) -> None:  # noqa: ANN001
    store = _hand_made(make_store)
    h = view_headline(store, service_frame(store), page="", filters=Filters())
    assert h.text.startswith("3 services and interventions from 3 organisations;")
    assert h.detail == "2 services, 1 interventions"
    h = view_headline(store, service_frame(store), page="", filters=Filters(area="infant_feeding"))
    assert h.text.startswith("2 services and interventions from 2 organisations;")


def test_gap_headline_leads_with_the_chosen_areas_own_outcome(make_store) -> None:  # noqa: ANN001
    store = _hand_made(make_store)
    frame = service_frame(store)
    # With no area chosen the longest gap comes first, in map order: nothing universal for the
    # parent-child relationship at any early-years age.
    h = view_headline(store, frame, page="gaps", filters=Filters(), params={"gap_focus": "early"})
    assert h.text == "No universal support for parent-child relationship at any age (pre-birth to 5 years)."
    # Infant feeding chosen: lead with infant feeding's own longest gap (targeted selective, all six
    # bands) even though other outcomes' rows are just as empty.
    h = view_headline(store, frame, page="gaps", filters=Filters(area="infant_feeding"), params={"gap_focus": "early"})
    assert h.text == "No targeted selective support for infant feeding experience at any age (pre-birth to 5 years)."
    # 8 outcomes x 6 ages x 3 levels; infant feeding's two services fill universal pre-birth and 0-12 months.
    assert h.detail.startswith("142 of 144 outcome × age × level cells are empty")
    # The page's age focus comes from its URL key; without it, all ages (pre-birth to 25).
    h = view_headline(store, frame, page="gaps", filters=Filters(area="infant_feeding"))
    assert h.text.endswith("at any age (pre-birth to 25 years).")


def test_redie_headline_names_the_groups_with_least(make_store) -> None:  # noqa: ANN001
    store = _hand_made(make_store)
    h = view_headline(store, service_frame(store), page="redie", filters=Filters())
    assert h.text.startswith("Nothing is designed or adapted for Minority ethnic families, Young parents (under 25), ")
    assert h.text.endswith("and 3 more groups.")
    assert h.detail == "2 of 3 services are adapted for at least one group (question 21)."


def test_headlines_never_carry_personal_data(make_store) -> None:  # noqa: ANN001
    store = _hand_made(make_store)
    frame = service_frame(store)
    for page in presenter.PAGES:
        h = view_headline(store, frame, page=page, filters=Filters())
        assert h is not None
        assert "cafe@example.org" not in h.text + h.detail
    assert view_headline(store, frame, page="coverage", filters=Filters()).text.startswith("No ward boundaries")
