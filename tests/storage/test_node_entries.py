"""The node each live call is in is stored, so a call lost in a crash still shows where it was."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from ivr_engine.config import Settings
from ivr_engine.flow.ports import CallRecord, NodeEntry, NodeEvent
from ivr_engine.storage import Database, open_stores
from ivr_engine.storage.models import NodeEntryRow
from ivr_engine.storage.queries import call_detail
from ivr_engine.storage.sweep import close_stale_calls

T0 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def entry(call_id: str, seq: int, node: str) -> NodeEntry:
    return NodeEntry(call_id, seq, "main", node, "menu", T0 + timedelta(seconds=seq))


def left(e: NodeEntry, outcome: str = "next") -> NodeEvent:
    return NodeEvent(e.call_id, e.seq, e.flow, e.node, e.node_type, e.entered,
                     e.entered + timedelta(milliseconds=400), None, outcome)  # fmt: skip


async def entries(database: Database) -> dict[str, tuple[int, str]]:
    rows = await database.run(lambda s: s.scalars(select(NodeEntryRow)).all())
    return {row.call_id: (row.seq, row.node) for row in rows}


async def test_the_entry_follows_the_call_and_goes_when_it_ends(migrated_settings: Settings) -> None:
    async with open_stores(migrated_settings) as stores:
        await stores.calls.call_started(CallRecord("c1", "5550001", "100", T0))
        await stores.calls.call_started(CallRecord("c2", "5550002", "100", T0))
        first, second = entry("c1", 1, "welcome"), entry("c1", 2, "main_menu")
        stores.node_log.entered(first)
        stores.node_log.entered(entry("c2", 1, "welcome"))
        assert await stores.writer.flush() is True
        assert await entries(stores.database) == {"c1": (1, "welcome"), "c2": (1, "welcome")}
        stores.node_log.record(left(first))
        stores.node_log.entered(second)
        assert await stores.writer.flush() is True
        assert await entries(stores.database) == {"c1": (2, "main_menu"), "c2": (1, "welcome")}
        stores.node_log.record(left(second, "hangup"))
        await stores.calls.call_ended("c1", T0 + timedelta(seconds=5), "caller_hangup")
        assert await stores.writer.flush() is True
        assert await entries(stores.database) == {"c2": (1, "welcome")}


async def test_a_call_lost_in_a_crash_shows_the_node_it_was_in(migrated_settings: Settings) -> None:
    async with open_stores(migrated_settings) as stores:
        await stores.calls.call_started(CallRecord("lost-1", "5550003", "100", T0))
        welcome, menu = entry("lost-1", 1, "welcome"), entry("lost-1", 2, "main_menu")
        stores.node_log.entered(welcome)
        stores.node_log.record(left(welcome))
        stores.node_log.entered(menu)
        assert await stores.writer.flush() is True
        # the service dies here; a later sweep finds the call's channel gone
        closed = await close_stale_calls(stores.database, set(), T0 + timedelta(minutes=5))
        again = await close_stale_calls(stores.database, set(), T0 + timedelta(minutes=6))
        detail = await stores.database.run(lambda s: call_detail(s, "lost-1"))
        assert await entries(stores.database) == {}
    assert closed == ["lost-1"]
    assert again == []
    assert detail is not None
    assert detail.call.disposition == "lost"
    assert [(step.node, step.outcome) for step in detail.path] == [("welcome", "next"), ("main_menu", "lost")]
