"""Undoable changes: add, edit and undo restore exactly the previous state."""

from __future__ import annotations

import pytest

from hubdash.errors import HubdashError
from hubdash.history import edit_service, list_changes, undo_change
from hubdash.services import service_frame, service_record
from tests.conftest import record


def _state(store) -> list[tuple]:  # noqa: ANN001
    f = service_frame(store).drop(columns=["created_at", "updated_at"])
    return [tuple(map(str, r)) for r in f.itertuples(index=False)]


def test_edit_then_undo_restores_the_record(make_store) -> None:  # noqa: ANN001
    store = make_store([record("A", age_groups=["m0_12", "m12_18"], wards=["Whole local authority"]),
                        record("B")])
    before = _state(store)
    rec = service_record(store, 1)
    rec.update(name="A (renamed)", age_groups=["y2_3"])
    edit_service(store, 1, rec)
    assert service_record(store, 1)["name"] == "A (renamed)"
    change = int(list_changes(store)["change_id"].iloc[0])
    assert undo_change(store, change) == 1
    assert _state(store) == before


def test_add_then_undo_removes_it(make_store) -> None:  # noqa: ANN001
    store = make_store([record("A")])
    sid = edit_service(store, None, record("New one", languages=["Polish"]))
    assert service_record(store, sid)["languages"] == ["Polish"]
    undo_change(store, int(list_changes(store)["change_id"].iloc[0]))
    assert service_record(store, sid) is None
    assert store.scalar("SELECT count(*) FROM service_languages") == 0


def test_undo_refuses_when_a_later_change_touched_the_same_service(make_store) -> None:  # noqa: ANN001
    store = make_store([record("A")])
    edit_service(store, 1, record("A2"))
    edit_service(store, 1, record("A3"))
    first = int(list_changes(store)["change_id"].min())
    with pytest.raises(HubdashError, match="Undo those first"):
        undo_change(store, first)
    assert service_record(store, 1)["name"] == "A3"


def test_undo_twice_is_refused(make_store) -> None:  # noqa: ANN001
    store = make_store([record("A")])
    edit_service(store, 1, record("A2"))
    cid = int(list_changes(store)["change_id"].iloc[0])
    undo_change(store, cid)
    with pytest.raises(HubdashError, match="already been undone"):
        undo_change(store, cid)
