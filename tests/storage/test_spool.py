"""The on-disk spool: writes queued when the store closes during an outage survive to the next start."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ivr_engine.config import Settings
from ivr_engine.flow.ports import CallRecord, NodeEvent
from ivr_engine.storage import Database, open_stores
from ivr_engine.storage.migrate import upgrade
from ivr_engine.storage.queries import call_detail
from ivr_engine.storage.spool import WriteSpool, decode_write, encode_write, spool_for
from ivr_engine.storage.writer import CallEnded, CallStarted, SurveyAnswer, VoicemailLeft, Write, WriteBehind

T0 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def _event(call_id: str, seq: int) -> NodeEvent:
    entered = T0 + timedelta(seconds=seq)
    return NodeEvent(call_id, seq, "balance", f"n{seq}", "gather", entered, entered + timedelta(seconds=1),
                     "****" if seq == 2 else None, "next")  # fmt: skip


EVERY_KIND: list[Write] = [
    CallStarted(CallRecord("c1", "15550001001", "101", T0)),
    _event("c1", 1),
    _event("c1", 2),
    SurveyAnswer("c1", "post_call", "agent", 5, "1003", T0 + timedelta(seconds=9)),
    SurveyAnswer("c1", "post_call", "resolved", 4, None, T0 + timedelta(seconds=10)),
    VoicemailLeft("c1", "Zoë \u263a", "general", "/spool/vm/c1.wav", 7.25, T0 + timedelta(seconds=20)),
    CallEnded("c1", T0 + timedelta(seconds=30), "caller_hangup"),
    CallStarted(CallRecord("c2", "15550001002", "100", T0), node="node2"),
]


def test_every_kind_of_write_comes_back_equal() -> None:
    assert [decode_write(encode_write(write)) for write in EVERY_KIND] == EVERY_KIND


def test_save_and_load_keep_order_and_a_damaged_line_is_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = WriteSpool(tmp_path / "spool" / "writes.jsonl")
    assert spool.load() == []
    spool.save(EVERY_KIND)
    with spool.path.open("a") as out:
        out.write('{"kind": "Nonsense"}\nnot json\n')
    with caplog.at_level(logging.ERROR, logger="ivr_engine.storage.spool"):
        assert spool.load() == EVERY_KIND
    assert caplog.text.count("not a spooled write") == 2
    spool.save([])
    assert not spool.path.exists()


def test_each_database_has_its_own_spool(tmp_path: Path) -> None:
    sqlite = Database(f"sqlite:///{tmp_path / 'a.db'}")
    other = Database(f"sqlite:///{tmp_path / 'b.db'}")
    try:
        assert spool_for(tmp_path, sqlite.url).path != spool_for(tmp_path, other.url).path
        assert spool_for(tmp_path, sqlite.url).path == spool_for(tmp_path, sqlite.url).path
    finally:
        sqlite.dispose()
        other.dispose()


async def test_writes_spooled_at_close_during_an_outage_are_stored_after_the_next_start(
    db_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """The database has no schema yet: every write is refused as an outage until it is migrated."""
    with caplog.at_level(logging.WARNING, logger="ivr_engine.storage"):
        async with open_stores(db_settings, close_grace=0.3) as stores:
            await stores.calls.call_started(CallRecord("c1", "15550001001", "101", T0))
            for seq in range(1, 6):
                stores.node_log.record(_event("c1", seq))
            await stores.calls.call_ended("c1", T0 + timedelta(seconds=30), "completed")
            assert await stores.writer.flush() is False
            spool = spool_for(db_settings.state_dir, stores.database.url)
    assert "7 queued write(s) saved to" in caplog.text
    assert len(spool.load()) == 7

    database = Database(db_settings.db_url)
    try:
        upgrade(database)
        async with open_stores(db_settings) as stores:
            assert stores.writer.pending == 7  # the spooled writes are first in line
            stores.node_log.record(_event("c2", 1))
            assert await stores.writer.flush() is True
        detail = database.call(lambda session: call_detail(session, "c1"))
    finally:
        database.dispose()
    assert detail is not None
    assert detail.call.disposition == "completed"
    assert [step.seq for step in detail.path] == [1, 2, 3, 4, 5]
    assert not spool.path.exists()
    assert "7 write(s) left by an earlier run queued from" in caplog.text


async def test_without_a_spool_closing_during_an_outage_says_what_was_lost(
    caplog: pytest.LogCaptureFixture,
) -> None:
    database = Database("postgresql+psycopg://postgres@127.0.0.1:1/test")
    writer = WriteBehind(database, interval=0.01)
    writer.start()
    with caplog.at_level(logging.ERROR, logger="ivr_engine.storage.writer"):
        for seq in range(5):
            writer.submit(_event("call-lost", seq))
        assert await writer.flush() is False
        await writer.close(grace=0.3)
    database.dispose()
    assert "5 queued write(s) lost" in caplog.text
