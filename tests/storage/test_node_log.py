"""The write-behind node log and call/survey/voicemail stores, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from ivr_engine.channel import Recording
from ivr_engine.config import Settings
from ivr_engine.flow.ports import CallRecord, NodeEvent
from ivr_engine.storage import Database, InvalidRecord, open_stores
from ivr_engine.storage.deadletter import DeadLetters
from ivr_engine.storage.migrate import upgrade
from ivr_engine.storage.models import Call, NodeEventRow, SurveyResponse, Voicemail
from ivr_engine.storage.writer import CallStarted, WriteBehind

T0 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def _event(call_id: str, seq: int, *, input: str | None = None, outcome: str = "next") -> NodeEvent:
    entered = T0 + timedelta(seconds=seq)
    return NodeEvent(
        call_id=call_id,
        seq=seq,
        flow="balance",
        node=f"n{seq}",
        node_type="gather",
        entered=entered,
        left=entered + timedelta(milliseconds=500),
        input=input,
        outcome=outcome,
    )


def _rows(settings: Settings, call_id: str) -> list[NodeEventRow]:
    database = Database(settings.db_url)
    try:
        return list(
            database.call(
                lambda s: s.scalars(
                    select(NodeEventRow).where(NodeEventRow.call_id == call_id).order_by(NodeEventRow.seq)
                ).all()
            )
        )
    finally:
        database.dispose()


async def test_many_events_are_batched_and_flushed(migrated_settings: Settings) -> None:
    async with open_stores(migrated_settings, batch_size=100, flush_interval=5.0) as stores:
        for seq in range(1000):
            stores.node_log.record(_event("call-many", seq))
        assert stores.writer.pending > 0  # record only queued
        await stores.node_log.flush()
        assert stores.writer.pending == 0
        assert stores.writer.batches >= 10
    rows = _rows(migrated_settings, "call-many")
    assert [r.seq for r in rows] == list(range(1000))
    assert rows[7].entered == T0 + timedelta(seconds=7)
    assert rows[7].left - rows[7].entered == timedelta(milliseconds=500)


async def test_a_flush_that_is_not_urgent_waits_for_the_next_batch(migrated_settings: Settings) -> None:
    async with open_stores(migrated_settings, flush_interval=3600.0) as stores:
        stores.node_log.record(_event("call-calm", 1))
        calm = asyncio.create_task(stores.node_log.flush(urgent=False))
        for _ in range(20):
            await asyncio.sleep(0)
        assert not calm.done()  # waits for the regular batch (an hour away here)
        assert stores.writer.batches == 0
        stores.node_log.record(_event("call-calm", 2))
        await stores.node_log.flush()  # urgent: writes at once, the calm flush's writes with it
        await calm
        assert stores.writer.batches == 1
    assert [row.seq for row in _rows(migrated_settings, "call-calm")] == [1, 2]


async def test_close_flushes_what_is_queued(migrated_settings: Settings) -> None:
    async with open_stores(migrated_settings, flush_interval=60.0) as stores:
        for seq in range(500):
            stores.node_log.record(_event("call-close", seq))
    assert len(_rows(migrated_settings, "call-close")) == 500


async def test_masked_inputs_are_stored_as_given(migrated_settings: Settings) -> None:
    async with open_stores(migrated_settings) as stores:
        stores.node_log.record(_event("call-mask", 1, input="100200#"))
        stores.node_log.record(_event("call-mask", 2, input="****", outcome="found"))
        stores.node_log.record(_event("call-mask", 3))
    rows = _rows(migrated_settings, "call-mask")
    assert [(r.input, r.outcome) for r in rows] == [("100200#", "next"), ("****", "found"), (None, "next")]


async def test_call_lifecycle_survey_and_voicemail(migrated_settings: Settings) -> None:
    async with open_stores(migrated_settings) as stores:
        await stores.calls.call_started(CallRecord("call-life", "15550001001", "101", T0))
        stores.node_log.record(_event("call-life", 1))
        await stores.surveys.save_answer(
            call_id="call-life", survey="post_call", question="q1", score=4, agent_id=None
        )
        await stores.voicemails.save_voicemail(
            call_id="call-life",
            caller="15550001001",
            mailbox="general",
            recording=Recording(name="vm-1", path="/tmp/vm-1.wav", duration=3.5),
        )
        await stores.calls.call_ended("call-life", T0 + timedelta(seconds=42), "completed")
        with pytest.raises(InvalidRecord, match="score 9"):
            await stores.surveys.save_answer(
                call_id="call-life", survey="post_call", question="q2", score=9, agent_id="a1"
            )
        await stores.node_log.flush()
        call = await stores.database.run(lambda s: s.get(Call, "call-life"))
        survey = await stores.database.run(lambda s: s.scalars(select(SurveyResponse)).all())
        voicemail = await stores.database.run(lambda s: s.scalars(select(Voicemail)).one())
    assert call is not None
    assert (call.caller, call.dialled, call.started, call.disposition) == (
        "15550001001",
        "101",
        T0,
        "completed",
    )
    assert call.ended == T0 + timedelta(seconds=42)
    assert [(r.survey, r.question, r.score, r.agent_id) for r in survey] == [("post_call", "q1", 4, None)]
    assert (voicemail.mailbox, voicemail.file_path, voicemail.duration, voicemail.heard) == (
        "general",
        "/tmp/vm-1.wav",
        3.5,
        False,
    )


async def test_a_started_call_is_in_progress(migrated_settings: Settings) -> None:
    async with open_stores(migrated_settings) as stores:
        await stores.calls.call_started(CallRecord("call-open", "15550001002", "100", T0))
        await stores.calls.call_started(CallRecord("call-open", "15550001002", "100", T0))  # duplicate
        await stores.node_log.flush()
        count = await stores.database.run(lambda s: s.scalar(select(func.count()).select_from(Call)))
        call = await stores.database.run(lambda s: s.get(Call, "call-open"))
    assert count == 1
    assert call is not None
    assert (call.disposition, call.ended) == ("in_progress", None)


async def test_outage_keeps_events_queued_until_the_database_is_back(db_settings: Settings) -> None:
    """No schema yet fails like an outage: events wait in the queue and are written after repair."""
    async with open_stores(db_settings, flush_interval=0.01) as stores:
        for seq in range(50):
            stores.node_log.record(_event("call-outage", seq))
        assert await stores.writer.flush() is False
        assert stores.writer.pending == 50
        upgrade(stores.database)
        assert await stores.writer.flush() is True
        assert stores.writer.pending == 0
    assert len(_rows(db_settings, "call-outage")) == 50


async def test_full_queue_drops_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    database = Database("postgresql+psycopg://postgres@127.0.0.1:1/test")
    writer = WriteBehind(database, max_pending=10)
    with caplog.at_level(logging.ERROR, logger="ivr_engine.storage.writer"):
        for seq in range(15):
            writer.submit(_event("call-full", seq))
    assert (writer.pending, writer.dropped) == (10, 5)
    assert "queue full" in caplog.text
    database.dispose()


async def test_a_refused_row_goes_to_the_dead_letters_without_blocking_the_rest(
    migrated_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    naive = datetime(2026, 11, 20, 9, 30)
    async with open_stores(migrated_settings) as stores:
        stores.node_log.record(_event("call-bad", 1))
        stores.writer.submit(CallStarted(CallRecord("call-bad", "1", "100", naive)))
        stores.node_log.record(_event("call-bad", 2))
        with caplog.at_level(logging.ERROR, logger="ivr_engine.storage.writer"):
            assert await stores.writer.flush() is False  # never "all stored" when a row was set aside
        assert stores.writer.dead_lettered == 1
        assert stores.writer.pending == 0
    assert [r.seq for r in _rows(migrated_settings, "call-bad")] == [1, 2]
    assert "refused a CallStarted as a bad row" in caplog.text
    dead = DeadLetters(migrated_settings.state_dir / "deadletter.jsonl")
    (letter,) = dead.read()
    assert letter["write"]["kind"] == "CallStarted"  # type: ignore[index]
    assert letter["write"]["call_id"] == "call-bad"  # type: ignore[index]
    assert "timezone" in str(letter["reason"]) or "naive" in str(letter["reason"])
    assert (dead.path.stat().st_mode & 0o777) == 0o600
