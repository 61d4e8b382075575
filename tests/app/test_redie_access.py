"""REDIE access page in AppTest: sections render, filters and options change the figures, and nothing
on the page (text, tables, chart data) identifies an individual."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pyarrow as pa

from hubdash import redie
from hubdash.schema import Filters
from hubdash.services import filter_frame, service_frame
from hubdash.store import Store

PAGE = "pages/redie_access.py"
HEADINGS = ["Who has adapted support?", "Across which ages?", "Through which languages, formats and places?",
            "Where is need high and adapted support low?", "Does adapted support reach each group in proportion?"]


def _walk(node) -> Iterator:  # noqa: ANN001
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def _texts(at) -> Iterator[str]:  # noqa: ANN001
    """Every piece of text the page sends to the browser: element protos, table cells, chart data."""
    for node in _walk(at._tree):
        kind = type(node).__name__
        if kind == "Dataframe":
            df = node.value
            yield " ".join(map(str, df.columns))
            yield df.astype(str).to_string()
            continue
        proto = getattr(node, "proto", None)
        if proto is None:
            continue
        if hasattr(proto, "spec") and hasattr(proto, "datasets"):  # a Vega-Lite chart
            yield proto.spec
            for ds in proto.datasets:
                yield pa.ipc.open_stream(ds.data.data).read_all().to_pandas().astype(str).to_string()
            continue
        yield str(proto)


def _charts(at) -> list[dict]:  # noqa: ANN001
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def _metrics(at) -> dict[str, str]:  # noqa: ANN001
    return {m.label: m.value for m in at.metric}


def test_page_renders_every_section_with_the_library_figures(run_app, app_db) -> None:  # noqa: ANN001
    at = run_app(PAGE)
    assert not at.exception, at.exception
    assert [h.value for h in at.header] == HEADINGS
    assert len(_charts(at)) == 7  # matrix, ages, access, languages, interpreter, wards, reach
    prompts = " ".join(m.value for m in at.markdown)
    assert "Are all families included in services and interventions?" in prompts
    assert prompts.count("What the data suggests:") == 9
    assert len(at.selectbox) == 5  # one drill-down per section
    with Store(app_db) as s:
        a = redie.answer_summary(service_frame(s))
    m = _metrics(at)
    assert m["Adapted for at least one group"] == f"{a.adapted:,}"
    assert m["Answered only 'None'"] == f"{a.none_only:,}"
    assert m["Question 21 left blank"] == f"{a.not_answered:,}"


def test_area_filter_changes_the_figures(run_app, app_db) -> None:  # noqa: ANN001
    at = run_app(PAGE, area="perinatal_mh")
    assert not at.exception, at.exception
    with Store(app_db) as s:
        frame = service_frame(s)
    everything = redie.answer_summary(frame)
    filtered = redie.answer_summary(filter_frame(frame, Filters(area="perinatal_mh")))
    assert filtered.adapted < everything.adapted
    assert _metrics(at)["Adapted for at least one group"] == f"{filtered.adapted:,}"
    matrix = at.dataframe[0].value
    assert list(matrix.columns) == ["Group", "Perinatal mental health", "All areas"]
    assert any("Perinatal mental health and parent-infant relationships" in c.value for c in at.caption)


def test_level_and_age_options_change_the_matrices(run_app) -> None:  # noqa: ANN001
    at = run_app(PAGE)
    before = at.dataframe[0].value["All areas"].sum()
    at.radio(key="redie_level").set_value("universal").run()
    assert not at.exception
    assert at.dataframe[0].value["All areas"].sum() < before
    assert "universal" in json.dumps(_charts(at)[0]).lower()
    at.radio(key="redie_ages").set_value("All ages (pre-birth to 25)").run()
    ages = [d.value for d in at.dataframe if "18-25 y" in d.value.columns]
    assert ages and ages[0]["18-25 y"].sum() >= 0
    # Both choices are in the URL: a link opens the same matrices.
    assert at.query_params["redie_level"] in ("universal", ["universal"])
    shared = run_app(PAGE, redie_level="universal", redie_ages="All ages (pre-birth to 25)")
    assert not shared.exception
    assert shared.radio(key="redie_level").value == "universal"
    assert shared.dataframe[0].value.equals(at.dataframe[0].value)


def test_drilldown_shows_the_services_behind_a_count(run_app) -> None:  # noqa: ANN001
    at = run_app(PAGE)
    box = at.selectbox(key="redie_matrix_drill")
    choice = next(o for o in box.options if o.startswith("Families of children with SEND · Parenting support"))
    box.set_value(choice).run()
    n = int(choice.rsplit(": ", 1)[1].split()[0])
    # Dataframes carry no key in AppTest: the first table of survey rows is the matrix drill-down.
    rows = next(d.value for d in at.dataframe if "Adapted for" in d.value.columns)
    assert len(rows) == n
    assert all("SEND" in g for g in rows["Adapted for"])
    assert not {"Contact name", "Contact email"} & set(rows.columns)


def test_nothing_on_the_page_identifies_an_individual(run_app, app_db) -> None:  # noqa: ANN001
    with Store(app_db) as s:
        emails = [r[0] for r in s.rows("SELECT DISTINCT contact_email FROM services WHERE contact_email IS NOT NULL")]
        names = [r[0] for r in s.rows("SELECT DISTINCT contact_name FROM services WHERE contact_name IS NOT NULL")]
    assert emails and names  # the demo has personal data to leak
    for query in ({}, {"present": "1"}):
        at = run_app(PAGE, **query)
        assert not at.exception
        text = "\n".join(_texts(at))
        assert "@" not in text, query
        assert not any(n in text for n in names), query


def test_languages_compared_when_the_needs_table_has_them(run_app, app_db) -> None:  # noqa: ANN001
    with Store(app_db) as s:
        wards = [r[0] for r in s.rows("SELECT ward_code FROM wards")]
        with s.write() as cur:
            for w in wards:
                for lang, pct in (("Polish", 3.0), ("Romanian", 2.0), ("English", 90.0)):
                    cur.execute("INSERT INTO needs VALUES (?, ?, ?, '%', '2021', 'test')", [w, f"language:{lang}", pct])
    at = run_app(PAGE)
    assert not at.exception, at.exception
    titles = [json.dumps(c.get("title", "")) for c in _charts(at)]
    assert any("Languages spoken locally and offered" in t for t in titles)
    assert any("Spoken locally but offered by no service: Romanian (2.0% of residents)" in m.value
               for m in at.markdown)
    reach = next(d.value for d in at.dataframe if "Share of local population" in d.value.columns)
    eal = reach.loc[reach["Group"] == "Families with English as an additional language"].iloc[0]
    assert eal["Share of local population"] == "10.0%"
