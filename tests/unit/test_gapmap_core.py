"""The gap-map counting rule and the `gapmap` CLI contract, against hand counts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hubdash.cli import main
from hubdash.gapmap import gap_counts, gap_grid, gap_rows
from hubdash.services import insert_services, service_frame
from hubdash.store import Store
from tests.conftest import record

FIXTURE = [
    record("A", age_groups=["m0_12", "m12_18"], secondary_outcomes=["hle"], service_areas=["parenting"]),
    record("B", age_groups=["m0_12"], service_areas=["infant_feeding"]),
    record("C", kind="intervention", target_level="targeted_indicated", primary_outcome="perinatal_mh",
           age_groups=["prebirth"], service_areas=["perinatal_mh"], capacity=12),
    record("D (no outcome)", primary_outcome=None),
    record("E (no level)", target_level=None),
]


def _cells(rows: list[dict]) -> dict[tuple, tuple[int, list[str]]]:
    return {(r["target_level"], r["kind"], r["outcome"], r["age_group"]): (r["count"], r["services"]) for r in rows}


def test_hand_count(make_store) -> None:  # noqa: ANN001
    cells = _cells(gap_rows(make_store(FIXTURE)))
    assert cells == {
        ("universal", "service", "Improve parenting", "0-12 months"): (2, ["A", "B"]),
        ("universal", "service", "Improve parenting", "12-18 months"): (1, ["A"]),
        ("targeted_indicated", "intervention", "Improve perinatal mental health", "Pre-birth"): (1, ["C"]),
    }


def test_secondary_outcomes_add_rows_but_count_a_service_once_per_cell(make_store) -> None:  # noqa: ANN001
    store = make_store([*FIXTURE, record("F", secondary_outcomes=["parenting"])])  # secondary == primary
    cells = _cells(gap_rows(store, include_secondary=True))
    assert cells[("universal", "service", "Improve home learning environment", "0-12 months")] == (1, ["A"])
    assert cells[("universal", "service", "Improve parenting", "0-12 months")] == (3, ["A", "B", "F"])


def test_area_filter(make_store) -> None:  # noqa: ANN001
    cells = _cells(gap_rows(make_store(FIXTURE), area="parenting"))
    assert cells == {
        ("universal", "service", "Improve parenting", "0-12 months"): (1, ["A"]),
        ("universal", "service", "Improve parenting", "12-18 months"): (1, ["A"]),
    }


def test_grid_has_every_cell_and_capacity(make_store) -> None:  # noqa: ANN001
    grid = gap_grid(service_frame(make_store(FIXTURE)))
    assert len(grid) == 3 * 2 * 9 * 12
    assert grid["count"].sum() == 4
    c = grid[(grid.kind == "intervention") & (grid.age_group == "prebirth") & (grid.outcome == "perinatal_mh")]
    assert c["capacity"].tolist() == [0.0, 0.0, 12.0]


def test_empty_store_has_no_cells() -> None:
    assert gap_counts(service_frame(Store())).empty


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_cli_matches_hand_count(tmp_path: Path, capsys: pytest.CaptureFixture, fmt: str) -> None:
    db = tmp_path / "g.duckdb"
    with Store(db) as s, s.write() as cur:
        insert_services(cur, FIXTURE)
    assert main(["gapmap", "--db", str(db), "--format", fmt]) == 0
    out = capsys.readouterr().out
    if fmt == "json":
        rows = json.loads(out)
        assert set(rows[0]) == {"target_level", "kind", "outcome", "age_group", "count", "services"}
        assert _cells(rows)[("universal", "service", "Improve parenting", "0-12 months")] == (2, ["A", "B"])
    else:
        lines = out.strip().splitlines()
        assert lines[0] == "target_level,kind,outcome,age_group,count,services"
        assert "universal,service,Improve parenting,0-12 months,2,A; B" in lines
        assert len(lines) == 4
