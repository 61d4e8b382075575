"""The synthetic generator: deterministic, the sizes asked for, every ward answer resolvable."""

from __future__ import annotations

import csv
from pathlib import Path

from hubdash import schema, synth
from hubdash.geo import service_ward_links
from hubdash.services import service_frame
from hubdash.store import Store


def test_same_seed_same_data_and_a_different_seed_differs() -> None:
    wards = synth.generated_wards(30)
    a = synth.synthetic_services(100, wards)
    assert a == synth.synthetic_services(100, synth.generated_wards(30))
    assert a != synth.synthetic_services(100, wards, seed=1)


def test_generated_wards_tile_the_area_without_overlap() -> None:
    wards = synth.generated_wards(60)
    assert len({w.code for w in wards}) == 60 and len({w.name for w in wards}) == 60
    import shapely

    union = shapely.union_all([w.geometry for w in wards])
    total = sum(w.geometry.area for w in wards)
    assert abs(union.area - total) / total < 1e-9, "cells do not overlap"
    assert all(w.geometry.is_valid and w.geometry.area > 0 for w in wards)


def test_built_database_has_the_sizes_and_every_ward_answer_links(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as s:
        counts = synth.build_synthetic(s, services=150, wards=40)
        assert counts["services"] == 150 and counts["wards"] == 40 and counts["needs"] == 400
        unmatched = s.scalar(
            """SELECT count(*) FROM service_wards sw WHERE NOT EXISTS (
                 SELECT 1 FROM wards w WHERE sw.ward_key = w.name_key OR sw.ward_key = lower(w.ward_code))""")
        assert unmatched == 0
        assert s.meta("synthetic") == "1" and not s.is_demo()
        frame = service_frame(s)
        links = service_ward_links(s)
    assert set(frame["kind"]) == {"service", "intervention"}
    assert frame["whole_la"].any(), "some services cover the whole authority"
    assert links["service_id"].nunique() == (frame["whole_la"] | frame["wards"].map(bool)).sum()
    blank = frame["format"].isna().mean()
    assert 0.03 < blank < 0.2, "about 9% of optional answers are blank"


def test_many_authorities_list_their_wards_instead_of_whole_la() -> None:
    wards = synth.generated_wards(synth.WHOLE_LA_MAX_WARDS + 100)
    recs = synth.synthetic_services(300, wards)
    assert not any(schema.WHOLE_LA in r["wards"] for r in recs)


def test_export_uses_question_texts_and_survey_labels(tmp_path: Path) -> None:
    rec = {"name": "Baby club", "kind": "service", "service_areas": ["parenting", "hle"],
           "age_groups": ["m0_12", "m12_18"], "target_level": "universal", "primary_outcome": "parenting",
           "wards": [schema.WHOLE_LA], "capacity": 40.0, "languages": ["Polish"], "contact_email": "a@example.org"}
    path = synth.write_export(tmp_path / "e.csv", [rec])
    with path.open(encoding="utf-8") as f:
        header, row = list(csv.reader(f))
    assert header == [q.text for q in schema.QUESTIONS]
    got = dict(zip(header, row, strict=True))
    assert got["Which Family Hub service areas does it support?"] == \
        "Parenting support; Home learning environment and early language"
    assert got["Which age groups is it for?"] == "0-12 months; 12-18 months"
    assert got["Who is it for?"] == "Universal - available to all families"
    assert got["Which wards does it cover?"] == schema.WHOLE_LA
    assert got["How many families can it support each year?"] == "40"
    assert got["Is an interpreter available?"] == ""
