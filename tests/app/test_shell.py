"""The app shell: navigation, every page runs, the global filter changes figures and the URL."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.app.conftest import PAGES, ROOT


def _metrics(at) -> dict[str, str]:  # noqa: ANN001
    return {m.label: m.value for m in at.metric}


def test_every_page_file_is_in_the_navigation() -> None:
    tree = ast.parse((ROOT / "app.py").read_text())
    declared = {
        Path(node.args[0].value).name
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "Page"
    }
    assert declared == set(PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_alone_without_exception(run_app, page: str) -> None:  # noqa: ANN001
    at = run_app(f"pages/{page}")
    assert not at.exception, at.exception
    assert at.title, "every page has a title"
    assert any("fictional" in i.value.lower() for i in at.info), "demo data is labelled on every page"


def test_home_headline_matches_the_store(run_app, app_db) -> None:  # noqa: ANN001
    from hubdash.store import Store

    at = run_app()
    assert not at.exception
    with Store(app_db) as s:
        n_services = s.scalar("SELECT count(*) FROM services WHERE kind = 'service'")
        n_int = s.scalar("SELECT count(*) FROM services WHERE kind = 'intervention'")
        contacted, responded = s.rows("SELECT count(*), count(*) FILTER (WHERE responded) FROM agencies")[0]
    m = _metrics(at)
    assert m["Services"] == f"{n_services:,}"
    assert m["Interventions"] == f"{n_int:,}"
    assert m["Response rate"] == f"{responded / contacted:.0%}"


def test_area_filter_changes_figures(run_app) -> None:  # noqa: ANN001
    at = run_app()
    before = _metrics(at)["Services"]
    at.selectbox(key="area").select("infant_feeding").run()
    after = _metrics(at)["Services"]
    assert int(after.replace(",", "")) < int(before.replace(",", ""))
    assert any("Infant feeding" in c.value for c in at.caption)


def test_url_query_string_sets_the_filter(run_app) -> None:  # noqa: ANN001
    at = run_app(area="perinatal_mh", kind="intervention")
    assert not at.exception
    assert at.selectbox(key="area").value == "perinatal_mh"
    assert at.selectbox(key="kind").value == "intervention"
    assert _metrics(at)["Services"] == "0"


def test_bad_url_values_are_ignored(run_app) -> None:  # noqa: ANN001
    at = run_app(area="'; DROP TABLE services;--")
    assert not at.exception
    assert at.selectbox(key="area").value == "all"
