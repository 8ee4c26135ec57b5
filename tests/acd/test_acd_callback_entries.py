"""A booked callback re-enters the ACD at the caller's original place (``enqueue(enqueued_at=...)``,
``model.callback_entry``): the engine's own ordering decides its turn, and it never overflows, on the
memory store and on SQL (SQLite, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from acd import Acd, AcdStore, MemoryStore, callback_entry, callback_of
from acd.events import CallOverflowed
from acd.sql_store import SqlStore
from tests.acd.acd_helpers import agent, offers, queue
from tests.acd.conftest import migrated

BOOKED_AT = 100.0


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> Iterator[AcdStore]:
    if request.param == "memory":
        yield MemoryStore()
        return
    sql = SqlStore(migrated(request.getfixturevalue(f"{request.param}_url")))
    try:
        yield sql
    finally:
        sql.close()


def centre(store: AcdStore) -> Acd:
    return Acd([queue("general", general=1)], store=store, agents=[agent("a1", general=5)])


def test_callback_ids_name_the_call_they_were_booked_on() -> None:
    assert callback_of(callback_entry("1733.42")) == "1733.42"
    assert callback_of("1733.42") is None


def test_a_callback_is_served_before_callers_who_joined_after_its_booking(store: AcdStore) -> None:
    acd = centre(store)
    acd.login("a1", 0.0)
    acd.pause("a1", "meeting", 1.0)
    acd.enqueue("live-1", "555", "general", 200.0)  # joined after the callback's caller did
    entry = callback_entry("orig")
    acd.enqueue(entry, "5550603", "general", 300.0, enqueued_at=BOOKED_AT)
    acd.enqueue("live-2", "556", "general", 50.0)  # joined before it
    assert acd.call(entry).enqueued_at == BOOKED_AT
    assert acd.position(entry) == 2
    assert offers(acd.ready("a1", 400.0)) == [("live-2", "a1")]


def test_priority_still_comes_before_the_place_in_line(store: AcdStore) -> None:
    acd = centre(store)
    acd.login("a1", 0.0)
    acd.pause("a1", "meeting", 1.0)
    acd.enqueue(callback_entry("orig"), "5550603", "general", 300.0, enqueued_at=BOOKED_AT)
    acd.enqueue("urgent", "555", "general", 310.0, priority=5)
    assert offers(acd.ready("a1", 400.0)) == [("urgent", "a1")]


def test_a_callback_waits_past_max_wait_where_a_caller_overflows(store: AcdStore) -> None:
    acd = centre(store)
    entry = callback_entry("orig")
    acd.enqueue(entry, "5550603", "general", 300.0, enqueued_at=BOOKED_AT)
    acd.enqueue("live-1", "555", "general", 300.0)
    events = acd.tick(300.0 + 121)  # max_wait 120 s: the booking is older still
    assert [e.call.id for e in events if isinstance(e, CallOverflowed)] == ["live-1"]
    assert acd.call(entry).enqueued_at == BOOKED_AT
