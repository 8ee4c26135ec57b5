"""calls.node: each ``ivr serve`` of a multi-node centre stores its ``node_id`` on the calls it handles."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from sqlalchemy import text

from cli import main
from ivr_engine.config import Settings
from ivr_engine.flow.ports import CallRecord
from ivr_engine.storage import Database, open_stores
from ivr_engine.storage.migrate import upgrade
from ivr_engine.storage.spool import decode_write
from ivr_engine.storage.sweep import close_stale_calls, close_stale_calls_once_written
from ivr_engine.storage.writer import CallStarted

T0 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def _nodes(settings: Settings) -> dict[str, str | None]:
    database = Database(settings.db_url)
    try:
        with database.engine.connect() as connection:
            rows = connection.execute(text("SELECT id, node FROM calls ORDER BY id")).all()
    finally:
        database.dispose()
    return {row.id: row.node for row in rows}


async def test_each_service_stores_its_node_id_on_its_calls(migrated_settings: Settings) -> None:
    for call_id, node_id in (("a-node1", "node1"), ("b-node2", "node2"), ("c-single", "")):
        async with open_stores(replace(migrated_settings, node_id=node_id)) as stores:
            await stores.calls.call_started(CallRecord(call_id, "15550001001", "100", T0))
            await stores.writer.flush()
    assert _nodes(migrated_settings) == {"a-node1": "node1", "b-node2": "node2", "c-single": None}


async def test_calls_list_and_show_say_which_node_handled_a_call(migrated_settings: Settings) -> None:
    for call_id, node_id in (("a-node2", "node2"), ("b-single", "")):
        async with open_stores(replace(migrated_settings, node_id=node_id)) as stores:
            await stores.calls.call_started(CallRecord(call_id, "15550001001", "100", T0))
    env = {"IVR_DATABASE_URL": migrated_settings.database_url, "IVR_CONFIG": None}

    def ivr(*args: str) -> str:
        done = CliRunner().invoke(main, ["--state-dir", str(migrated_settings.state_dir), *args], env=env)
        assert done.exit_code == 0, done.output
        return done.output

    listed = {c["call_id"]: c["handled_by"] for c in json.loads(ivr("calls", "list", "--json"))}
    assert listed == {"a-node2": "node2", "b-single": None}
    assert json.loads(ivr("calls", "show", "a-node2", "--json"))["handled_by"] == "node2"
    assert (
        ivr("calls", "show", "a-node2").splitlines()[0]
        == "call a-node2: 15550001001 -> 100 (handled by node2)"
    )
    assert ivr("calls", "show", "b-single").splitlines()[0] == "call b-single: 15550001001 -> 100"


def test_migration_adds_an_empty_node_to_existing_calls(db_settings: Settings) -> None:
    database = Database(db_settings.db_url)
    try:
        upgrade(database, "0004")
        with database.engine.begin() as connection:
            connection.execute(
                text("INSERT INTO calls (id, caller, dialled, started, disposition) "
                     "VALUES ('old', '15550001001', '100', '2026-11-20 09:00:00', 'completed')")
            )  # fmt: skip
        upgrade(database)
    finally:
        database.dispose()
    assert _nodes(db_settings) == {"old": None}


def test_a_spool_from_before_calls_node_still_loads() -> None:
    old = {"kind": "CallStarted", "call_id": "c1", "caller": "15550001001", "dialled": "100",
           "started": T0.isoformat()}  # fmt: skip
    assert decode_write(json.dumps(old)) == CallStarted(CallRecord("c1", "15550001001", "100", T0))


async def test_a_node_closes_only_its_own_stale_calls(migrated_settings: Settings) -> None:
    """After a (re)connect a node closes the open rows whose channels its Asterisk no longer has: never
    those of another node (whose channels it cannot see), nor a single node's."""
    calls = (("n1-live", "node1"), ("n1-gone", "node1"), ("n2-live", "node2"), ("single", ""))
    for call_id, node_id in calls:
        async with open_stores(replace(migrated_settings, node_id=node_id)) as stores:
            await stores.calls.call_started(CallRecord(call_id, "15550001001", "100", T0))
    database = Database(migrated_settings.db_url)
    later = T0 + timedelta(minutes=1)
    try:
        assert await close_stale_calls(database, {"n1-live"}, later, node="node1") == ["n1-gone"]
        assert await close_stale_calls(database, set(), later) == ["single"]
        with database.engine.connect() as connection:
            rows = connection.execute(text("SELECT id, disposition FROM calls ORDER BY id")).all()
    finally:
        database.dispose()
    assert dict(rows) == {
        "n1-gone": "lost",
        "n1-live": "in_progress",
        "n2-live": "in_progress",
        "single": "lost",
    }


async def test_the_sweep_waits_for_queued_writes_so_a_call_ended_in_the_queue_is_not_closed_lost(
    migrated_settings: Settings,
) -> None:
    async with open_stores(migrated_settings, flush_interval=3600) as stores:  # nothing flushes by itself
        await stores.calls.call_started(CallRecord("queued-end", "15550001001", "100", T0))
        assert await stores.writer.flush()  # the row is in_progress in the database...
        await stores.calls.call_ended("queued-end", T0 + timedelta(seconds=20), "completed")
        assert stores.writer.pending  # ...and its end still queued, as after a journal replay
        later = T0 + timedelta(minutes=1)
        closed = await close_stale_calls_once_written(stores.writer, stores.database, set(), later)
        assert closed == []
        with stores.database.engine.connect() as connection:
            row = connection.execute(text("SELECT disposition FROM calls WHERE id = 'queued-end'")).one()
    assert row.disposition == "completed"
