"""The Data quality page: runs alone, figures match the library, filter and presenter mode work,
merge / undo / keep both act on the database."""

from __future__ import annotations

from pathlib import Path

from hubdash.quality import blank_summary, build_report
from hubdash.services import service_frame
from hubdash.store import Store

PAGE = "pages/data_quality.py"


def _metrics(at) -> dict[str, str]:  # noqa: ANN001
    return {m.label: m.value for m in at.metric}


def _all_text(at) -> str:  # noqa: ANN001
    parts = [e.value for kind in ("markdown", "caption", "info", "success", "warning", "header", "subheader")
             for e in at.get(kind)]
    parts += [df.value.to_csv() for df in at.dataframe]
    parts += [t.value.to_csv() if hasattr(t.value, "to_csv") else str(t.value) for t in at.get("table")]
    return "\n".join(map(str, parts))


def test_page_shows_the_three_questions_and_the_score(run_app, app_db: Path) -> None:  # noqa: ANN001
    at = run_app(PAGE)
    assert not at.exception, at.exception
    assert [h.value for h in at.header] == ["How complete is it?", "How representative is it?", "Is it clear?",
                                            "Whom to chase"]
    with Store(app_db) as s:
        expected = build_report(s, service_frame(s)).score.value
    m = _metrics(at)
    assert m["Data-quality score"] == f"{expected} / 100"
    assert m["Required answers missing"] == "1"
    assert (m["Agencies contacted"], m["Returned the survey"], m["Response rate"]) == ("37", "23", "62%")
    assert len(at.get("vega_lite_chart")) >= 6
    assert "Likely duplicates (1)" in [s.value for s in at.subheader]
    assert "local authority" in _all_text(at).lower()  # the one-line reading of the response mix


def test_area_filter_changes_the_figures(run_app) -> None:  # noqa: ANN001
    at = run_app(PAGE, area="infant_feeding")
    assert not at.exception, at.exception
    m = _metrics(at)
    assert m["Agencies contacted about Infant feeding"] == "16"
    assert m["Response rate"] == "88%"
    assert not m["Services with every answer"].endswith("of 158")


def test_presenter_mode_shows_no_contact_details_and_no_editing(run_app) -> None:  # noqa: ANN001
    at = run_app(PAGE, present="1")
    assert not at.exception, at.exception
    text = _all_text(at)
    assert "@example.org" not in text and "Example" not in text  # demo contacts are "Sam Example" etc.
    assert not [b for b in at.button if b.label in ("Merge", "Keep both")]
    assert not at.get("download_button")
    assert any("hidden in presenter mode" in c.value for c in at.caption)


def test_chase_list_with_contacts_outside_presenter_mode(run_app) -> None:  # noqa: ANN001
    at = run_app(PAGE)
    chase = next(df.value for df in at.dataframe if "Contact email" in df.value.columns)
    assert "familyhubs@example.org" in set(chase["Contact email"])
    assert (chase["Service"] == "(no survey returned)").sum() == 14
    assert len(at.get("download_button")) == 2


def test_merge_then_undo(run_app, app_db: Path) -> None:  # noqa: ANN001
    at = run_app(PAGE)
    at.button(key="dq_merge_17_18").click().run()
    assert not at.exception, at.exception
    with Store(app_db) as s:
        assert s.scalar("SELECT count(*) FROM services") == 157
        assert s.scalar("SELECT count(*) FROM services WHERE service_id = 18") == 0
    assert "Likely duplicates (0)" in [s.value for s in at.subheader]
    at.button(key="dq_undo_merge").click().run()
    assert not at.exception, at.exception
    with Store(app_db) as s:
        assert s.scalar("SELECT count(*) FROM services") == 158
    assert "Likely duplicates (1)" in [s.value for s in at.subheader]


def test_keep_both_stops_flagging_the_pair(run_app, app_db: Path) -> None:  # noqa: ANN001
    at = run_app(PAGE)
    at.button(key="dq_keepboth_17_18").click().run()
    assert not at.exception, at.exception
    assert "Likely duplicates (0)" in [s.value for s in at.subheader]
    with Store(app_db) as s:
        assert s.scalar("SELECT count(*) FROM services") == 158
        assert s.scalar("SELECT count(*) FROM duplicate_decisions") == 1


def test_without_a_contacted_list_it_says_so(app_db: Path, run_app) -> None:  # noqa: ANN001
    with Store(app_db) as s, s.write() as cur:
        cur.execute("DELETE FROM agency_areas")
        cur.execute("DELETE FROM agencies")
    at = run_app(PAGE)
    assert not at.exception, at.exception
    assert any("No contacted-agencies list" in i.value for i in at.info)
    assert "Response rate" not in _metrics(at)


def _completeness_spec(at) -> tuple[dict, bytes]:  # noqa: ANN001
    import json

    chart = at.get("vega_lite_chart")[0].proto
    return json.loads(chart.spec), b"".join(d.data.data for d in chart.datasets)


def test_cached_charts_follow_the_data_and_presenter_mode(run_app, app_db: Path) -> None:  # noqa: ANN001
    """The page caches its analyses and chart specs per data version, filter and presenter mode:
    a committed change must show at once, and presenter mode must get its own (larger) chart."""
    at = run_app(PAGE)
    before = _metrics(at)["Blank optional answers"]
    spec, data = _completeness_spec(at)
    assert spec["config"]["axis"]["labelFontSize"] == 14
    with Store(app_db) as s, s.write() as cur:
        cur.execute("UPDATE services SET organisation = NULL")
    at.run()
    assert not at.exception, at.exception
    with Store(app_db) as s:
        blanks = blank_summary(service_frame(s))
    expected = int((blanks["Blank answers"] - blanks["Required blank"]).sum())
    assert expected > int(before.replace(",", ""))
    assert _metrics(at)["Blank optional answers"] == f"{expected:,}"
    assert _completeness_spec(at)[1] != data, "the completeness chart was drawn from stale data"
    present = run_app(PAGE, present="1")
    assert _completeness_spec(present)[0]["config"]["axis"]["labelFontSize"] == round(14 * 1.35)

