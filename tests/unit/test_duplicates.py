"""Likely duplicates: a hit and near misses, merge and undo, "keep both" remembered, speed."""

from __future__ import annotations

import random
import time

import pandas as pd
import pytest

from hubdash import duplicates as dup
from hubdash.errors import HubdashError
from hubdash.history import list_changes, undo_change
from hubdash.services import service_frame, service_record
from hubdash.store import SCHEMA_VERSION
from tests.conftest import record

LA = "Kestlemouth Council Family Hubs"


def _pairs(frame: pd.DataFrame) -> set[tuple[str, str]]:
    return {(p["a_name"], p["b_name"]) for p in dup.find_duplicates(frame).to_dict("records")}


def _frame(rows: list[tuple[str, str | None]]) -> pd.DataFrame:
    return pd.DataFrame({"service_id": range(1, len(rows) + 1), "name": [n for n, _ in rows],
                         "organisation": [o for _, o in rows]})


@pytest.mark.parametrize(("name", "base", "place", "venue"), [
    ("Baby massage group (North hub)", "baby massage", "north", ""),
    ("Stay and Play (North)", "stay play", "north", ""),
    ("Stay and Play North", "stay play", "north", ""),
    ("Toddler group at Hollins community room", "toddler", "", "community hollins"),
    ("Solihull Approach: Understanding your child", "solihull approach understanding your child", "", ""),
])
def test_split_name(name: str, base: str, place: str, venue: str) -> None:
    assert dup.split_name(name) == dup.NameParts(base, place, venue)


def test_the_baby_massage_pair_is_found() -> None:
    frame = _frame([("Baby Massage", LA), ("Baby massage group (North hub)", LA)])
    pairs = dup.find_duplicates(frame)
    assert len(pairs) == 1
    p = pairs.iloc[0]
    assert (p["a_id"], p["b_id"], p["score"]) == (1, 2, 100)
    assert "same organisation" in p["reason"]


def test_a_missing_organisation_still_finds_an_identical_name_but_ranks_it_lower() -> None:
    pairs = dup.find_duplicates(_frame([("Baby Massage", None), ("Baby massage group (North hub)", LA),
                                        ("Rhyme Time", LA), ("Rhyme time", LA)]))
    assert list(pairs["a_name"]) == ["Rhyme Time", "Baby Massage"]
    assert pairs["score"].iloc[0] > pairs["score"].iloc[1]


@pytest.mark.parametrize(("a", "b"), [
    (("Stay and Play (North)", LA), ("Stay and Play (South)", LA)),                     # different localities
    (("Rhyme Time at the library (North)", LA), ("Rhyme Time at the library (Central)", LA)),
    (("Toddler group at St Bride's church hall", "St Bride's church Community Association"),
     ("Toddler group at Moorgate tenants' hall", "Moorgate tenants Community Association")),   # different venues
    (("Baby Massage", LA), ("Baby Massage", "Coastal Minds")),                           # different organisations
    (("Baby and me", LA), ("Baby massage", LA)),                                         # different services
    (("Baby Massage", None), ("Baby massage class for dads", LA)),                       # no org, names not close
    (("Health visiting: new birth visit", "Kestlemouth Community Health NHS Trust"),
     ("Health visiting: new birth visit", "Kestlemouth Hospitals NHS Foundation Trust")),  # two different trusts
    (("Stay and Play", "Family Centre District 45"), ("Stay and Play", "Family Centre District 47")),  # numbers
])
def test_near_misses_are_not_paired(a: tuple, b: tuple) -> None:
    assert _pairs(_frame([a, b])) == set()


def test_the_demo_has_exactly_the_planted_duplicate(demo_store) -> None:  # noqa: ANN001
    pairs = dup.find_duplicates_for(demo_store, service_frame(demo_store))
    assert [(p["a_name"], p["b_name"]) for p in pairs.to_dict("records")] == [
        ("Baby Massage", "Baby massage group (North hub)")]


def test_org_similarity() -> None:
    assert dup.org_similarity("Kestlemouth Council", LA) == 100   # all its words are in the other
    assert dup.org_similarity("Kestlemouth Council Family Hubs", "kestlemouth council family hub") >= 88
    assert dup.org_similarity("Kestlemouth Libraries", "Kestlemouth Council") < 88
    assert dup.org_similarity("Family Centre District 45", "Family Centre District 47") == 0


# --- decisions, merge and undo -------------------------------------------------------------------


@pytest.fixture
def massage(make_store):  # noqa: ANN001, ANN201
    return make_store([
        record("Baby Massage", organisation=LA, eligibility=None, age_groups=["m0_12"], capacity=20.0,
               postcodes=["KM1 2AB"], contact_name="Sam Example"),
        record("Baby massage group (North hub)", organisation=LA, eligibility="Parents of babies under 1",
               age_groups=["m0_12", "m12_18"], capacity=None, wards=["Whole local authority"],
               other_answers={"format": "Outdoor sessions"}, format="other", contact_name="Jo Example"),
        record("Stay and Play (North)", organisation=LA),
    ])


def _state(store) -> list[tuple]:  # noqa: ANN001
    f = service_frame(store).drop(columns=["created_at", "updated_at"])
    return [tuple(map(str, r)) for r in f.itertuples(index=False)]


def test_keep_both_is_remembered_and_can_be_undone(massage) -> None:  # noqa: ANN001
    assert massage.schema_version() == SCHEMA_VERSION
    assert len(dup.find_duplicates_for(massage, service_frame(massage))) == 1
    dup.keep_both(massage, 2, 1)
    assert dup.find_duplicates_for(massage, service_frame(massage)).empty
    kept = dup.kept_pairs(massage)
    assert len(kept) == 1 and set(kept[["name_a", "name_b"]].iloc[0]) == {"Baby Massage",
                                                                          "Baby massage group (North hub)"}
    dup.forget_decision(massage, kept["key_b"].iloc[0], kept["key_a"].iloc[0])  # either order
    assert len(dup.find_duplicates_for(massage, service_frame(massage))) == 1


def test_merge_keeps_the_fuller_answers_and_undo_restores_exactly(massage) -> None:  # noqa: ANN001
    before = _state(massage)
    cid = dup.merge_services(massage, 1, 2)
    assert massage.scalar("SELECT count(*) FROM services") == 2
    merged = service_record(massage, 1)
    assert merged["name"] == "Baby massage group (North hub)"      # longer name is the fuller answer
    assert merged["eligibility"] == "Parents of babies under 1"    # blank loses to an answer
    assert merged["age_groups"] == ["m0_12", "m12_18"]              # more options
    assert merged["capacity"] == 20.0                               # only the kept record answered
    assert merged["postcodes"] == ["KM1 2AB"]
    assert merged["wards"] == ["Whole local authority"]
    assert merged["format"] == "other" and merged["other_answers"] == {"format": "Outdoor sessions"}
    assert service_record(massage, 2) is None
    change = list_changes(massage).iloc[0]
    assert (change["kind"], change["services"]) == ("merge", 2)
    assert undo_change(massage, cid) == 2
    assert _state(massage) == before


def test_merge_honours_the_users_choices(massage) -> None:  # noqa: ANN001
    dup.merge_services(massage, 2, 1, take={"name": "other", "contact_name": "keep", "capacity": "keep"})
    merged = service_record(massage, 2)
    assert merged["name"] == "Baby Massage"
    assert merged["contact_name"] == "Jo Example"
    assert merged["capacity"] is None
    assert service_record(massage, 1) is None


def test_merge_refuses_missing_or_same_services(massage) -> None:  # noqa: ANN001
    with pytest.raises(HubdashError, match="two different"):
        dup.merge_services(massage, 1, 1)
    with pytest.raises(HubdashError, match="no service number 99"):
        dup.merge_services(massage, 1, 99)
    assert massage.scalar("SELECT count(*) FROM services") == 3


def test_side_by_side_hides_personal_answers_unless_asked(massage) -> None:  # noqa: ANN001
    f = service_frame(massage)
    public = dup.side_by_side(f, 1, 2)
    assert "24. Contact name" not in set(public["Question"])
    assert not public.astype(str).apply(lambda c: c.str.contains("Example")).any().any()
    full = dup.side_by_side(f, 1, 2, personal=True).set_index("Question")
    assert full.at["24. Contact name", "A (#1)"] == "Sam Example"
    assert full.at["16. Capacity (families a year)", "A (#1)"] == "20"
    assert full.at["12. Eligibility", "Merge keeps"] == "B"
    assert full.at["2. Service or intervention", "Agree?"] == "Same"


# --- speed -----------------------------------------------------------------------------------


def test_twenty_thousand_services_are_blocked_not_compared_pairwise() -> None:
    rng = random.Random(7)
    acts = ["Baby massage", "Stay and play", "Toddler group", "Rhyme time", "Breastfeeding support", "Dads group",
            "Messy play", "Chatter tots", "Bumps and babies", "Coffee morning", "Family support", "Book bugs"]
    towns = [f"Town{i}" for i in range(40)]
    kinds = ["Council", "Libraries", "Community Association", "NHS Trust", "Family Centre", "Church", "Nursery"]
    orgs = [f"{t} {k}" for t in towns for k in kinds]
    names, org_col = [], []
    for _ in range(20_000):
        n = rng.choice(acts)
        r = rng.random()
        n += f" ({rng.choice(towns)} {rng.choice(['North', 'Park', 'Vale', 'Hill'])})" if r < 0.5 else \
            f" at {rng.choice(towns)} hall {rng.randint(1, 50)}"
        names.append(n)
        org_col.append(rng.choice(orgs))
    frame = pd.DataFrame({"service_id": range(1, 20_001), "name": names, "organisation": org_col})
    bases = [dup.split_name(n).base for n in names]
    candidates = dup._candidates(bases, [o.lower() for o in org_col])
    assert len(candidates) < 0.01 * 20_000 ** 2 / 2          # far from all 200 million pairs
    start = time.process_time()  # CPU time: stable when other work shares the machine
    pairs = dup.find_duplicates(frame)
    assert time.process_time() - start < 12                   # ~4 s of CPU here
    assert (pairs["a_id"] < pairs["b_id"]).all()
    # Same activity, same organisation, but named for different places: never paired.
    assert not any(dup.different_places(dup.split_name(a), dup.split_name(b))
                   for a, b in zip(pairs["a_name"], pairs["b_name"], strict=True))
