"""The benchmark's JSON shape and target checks, on made-up timings (the benchmark itself is a script)."""

from __future__ import annotations

from bench.pages import app_pages
from bench.run import assemble, misses, table


def _raw(seconds: float, browser: float | None, *, services: int, wards: int, rate: float | None,
         peak: float) -> dict:
    pages = {"(empty page)": {"median": 0.01}, "Home": {"median": seconds}, "Gap maps": {"median": seconds * 2}}
    out = {"services": services, "wards": wards, "peak_mb": peak, "pages": pages,
           "ingest": None if rate is None else {"rows_per_s": rate}, "analyses": {"gap map": {"median": 0.1}}}
    if browser is not None:
        out["browser"] = {"Home": {"median": browser}, "Gap maps": {"median": browser}}
    return out


def test_json_has_exactly_the_issue_shape_and_growth_is_against_small() -> None:
    raw = {"small": _raw(0.1, 1.0, services=200, wards=20, rate=9000.0, peak=300.0),
           "county": _raw(0.25, 2.5, services=2000, wards=500, rate=4000.0, peak=400.0),
           "national": _raw(1.0, None, services=20000, wards=7681, rate=None, peak=1100.0)}
    result = assemble(raw, 0.8)
    assert set(result) == {"empty_page_seconds", "sizes"} and result["empty_page_seconds"] == 0.8
    county = result["sizes"]["county"]
    assert set(county) == {"services", "wards", "ingest_rows_per_s", "peak_mb", "pages"}
    assert set(county["pages"]) == {"Home", "Gap maps"}, "the empty page is the floor, not a page"
    assert county["pages"]["Home"] == {"seconds": 0.25, "vs_small": 2.5, "browser_seconds": 2.5}
    assert result["sizes"]["national"]["pages"]["Home"]["browser_seconds"] is None
    assert result["sizes"]["national"]["ingest_rows_per_s"] is None
    missed = misses(result)
    assert "county Home: 2.50x small > 2.0x" in missed
    assert "county Gap maps: server 0.500 s > 0.3 s" in missed
    assert "county Home: browser 2.50 s > 2.0 s" in missed
    assert "county ingestion: 4,000 rows/s < 5,000" in missed
    assert "national peak memory 1100 MB > 1024 MB" in missed
    assert not any(m.startswith("small") for m in missed), "small has no absolute targets"
    assert "| Home |" in table(result, raw)


def test_pages_come_from_app_py_in_order() -> None:
    pages = app_pages()
    assert pages[0].file == "pages/home.py" and pages[0].url_path == ""
    assert {p.url_path for p in pages} >= {"ingestion", "quality", "gaps", "coverage", "redie"}
