"""A batch of writes applied at once leaves the database as applying them one by one would."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from ivr_engine.flow.ports import CallRecord, NodeEntry, NodeEvent
from ivr_engine.storage import Database
from ivr_engine.storage.migrate import upgrade
from ivr_engine.storage.models import Call, NodeEntryRow, NodeEventRow, SurveyResponse
from ivr_engine.storage.writes import CallEnded, CallStarted, SurveyAnswer, Write, apply_writes

T0 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def _at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _entry(call: str, seq: int, node: str) -> NodeEntry:
    return NodeEntry(call, seq, "main", node, "menu", _at(seq))


def _event(call: str, seq: int, node: str) -> NodeEvent:
    return NodeEvent(call, seq, "main", node, "menu", _at(seq), _at(seq + 1), None, "next")


def _started(call: str, caller: str = "15550001001") -> CallStarted:
    return CallStarted(CallRecord(call, caller, "100", _at(0)), node="node1")


WRITES: list[Write] = [
    _started("a"),
    _entry("a", 1, "welcome"),
    _started("b", caller="bad\0caller"),
    _event("a", 1, "welcome"),
    _entry("a", 2, "menu"),
    _entry("b", 1, "welcome"),
    _started("a", caller="a second start changes nothing"),
    SurveyAnswer("a", "csat", "agent", 5, "1001", _at(3)),
    _event("a", 2, "menu"),
    CallEnded("a", _at(9), "completed"),  # a's entry goes with it
    CallEnded("ghost", _at(9), "completed"),  # never started: not recorded, a warning
    _event("b", 1, "welcome"),
    _entry("b", 2, "menu"),  # b is still in a call: its latest entry stays
    _started("c"),
    CallEnded("c", _at(4), "abandoned"),
    CallEnded("c", _at(5), "hangup"),  # the last end is the one that stays
    _entry("c", 1, "late"),  # an entry after the end (not seen live) stays, as one by one
]


def _contents(database: Database) -> dict[str, Any]:
    def read(session: Any) -> dict[str, Any]:
        return {
            "calls": sorted((c.id, c.caller, c.started, c.ended, c.disposition, c.node)
                            for c in session.scalars(select(Call))),
            "events": sorted((e.call_id, e.seq, e.node, e.spent_ms)
                             for e in session.scalars(select(NodeEventRow))),
            "entries": sorted((e.call_id, e.seq, e.node) for e in session.scalars(select(NodeEntryRow))),
            "surveys": sorted((s.call_id, s.score) for s in session.scalars(select(SurveyResponse))),
        }  # fmt: skip

    return database.call(read)


@pytest.fixture
def databases(tmp_path: Any) -> Any:
    made = [Database(f"sqlite:///{tmp_path / name}.db") for name in ("batch", "one_by_one")]
    for database in made:
        upgrade(database)
    yield made
    for database in made:
        database.dispose()


def test_a_batch_ends_as_one_by_one(databases: list[Database], caplog: pytest.LogCaptureFixture) -> None:
    batch, one_by_one = databases
    caplog.set_level(logging.WARNING)
    batch.call(lambda session: apply_writes(session, WRITES))
    assert "call ghost ended but was never started" in caplog.text
    for write in WRITES:
        one_by_one.call(lambda session, w=write: apply_writes(session, [w]))
    got = _contents(batch)
    assert got == _contents(one_by_one)
    assert [c[0] for c in got["calls"]] == ["a", "b", "c"]
    assert [(c[0], c[1], c[4]) for c in got["calls"]] == [
        ("a", "15550001001", "completed"), ("b", "badcaller", "in_progress"), ("c", "15550001001", "hangup")
    ]
    assert got["entries"] == [("b", 2, "menu"), ("c", 1, "late")]
    assert len(got["events"]) == 3


def test_a_replayed_batch_stores_each_row_once(databases: list[Database]) -> None:
    batch, one_by_one = databases
    batch.call(lambda session: apply_writes(session, WRITES))
    batch.call(lambda session: apply_writes(session, WRITES, replay=True))
    for write in WRITES:
        one_by_one.call(lambda session, w=write: apply_writes(session, [w]))
    assert _contents(batch) == _contents(one_by_one)
