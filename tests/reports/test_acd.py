"""ACD recorder and ACD statistics on known rows, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from acd.records import AcdRecorder
from acd.records.rows import AgentStateChangeRow, CallbackRow, QueueCallRow, QueueOutcome
from ivr_engine.reports import AcdFilter, Bucket, TimeWindow, query_acd_stats
from ivr_engine.reports.source import read
from ivr_engine.storage import Database

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # as in conftest.py


def test_queue_figures(acd_db: Database) -> None:
    stats = read(acd_db, lambda conn: query_acd_stats(conn, AcdFilter()))
    billing, general = stats.queues  # sorted by name
    assert (general.queue, general.offered, general.answered, general.abandoned) == ("general", 4, 3, 1)
    assert general.abandon_rate == 0.25
    assert general.service_level == 0.5  # 10 s and exactly 20 s are within 20 s; 30 s is not
    assert (general.asa_s, general.aht_s, general.max_wait_s) == (20.0, 120.0, 30.0)
    assert general.prediction_error_s == 5.0
    assert (billing.offered, billing.answered, billing.overflow, billing.service_level) == (2, 1, 1, 0.5)
    total = stats.total
    assert (total.offered, total.answered, total.answered_in_sla) == (6, 4, 3)
    assert (total.asa_s, total.aht_s) == (16.25, 100.0)
    assert {(o.outcome, o.calls) for o in stats.outcomes} == {
        ("answered", 4),
        ("abandoned", 1),
        ("overflow", 1),
    }


async def test_calls_that_found_no_agent_are_not_offered(acd_db: Database) -> None:
    recorder = AcdRecorder(acd_db)
    for n, at in enumerate((T0 + timedelta(minutes=5), T0 + timedelta(minutes=6))):  # as the runtime does
        assert await recorder.queue_call_enqueued(call_id=f"na{n}", queue="general", caller="1", priority=0,
                                                  enqueued=at, predicted_wait_s=None)
        assert await recorder.queue_call_ended(call_id=f"na{n}", outcome=QueueOutcome.NO_AGENTS, ended=at)
    stats = read(acd_db, lambda conn: query_acd_stats(conn, AcdFilter()))
    general = {q.queue: q for q in stats.queues}["general"]
    assert (general.offered, general.no_agents) == (4, 2)  # the four queued calls of test_queue_figures
    assert (general.service_level, general.abandon_rate) == (0.5, 0.25)  # unchanged by the two
    assert (stats.total.offered, stats.total.no_agents, stats.total.service_level) == (6, 2, 0.5)
    assert ("no_agents", 2) in {(o.outcome, o.calls) for o in stats.outcomes}  # reported on their own
    assert [(v.period, v.offered) for v in stats.volume] == [("2026-03-02 10:00", 4), ("2026-03-02 11:00", 2)]


def test_sla_threshold_is_configurable(acd_db: Database) -> None:
    stats = read(acd_db, lambda conn: query_acd_stats(conn, AcdFilter(sla_s=30)))
    assert stats.total.answered_in_sla == 4


def test_agent_figures_and_survey_averages(acd_db: Database) -> None:
    stats = read(acd_db, lambda conn: query_acd_stats(conn, AcdFilter()))
    a1001, a1002 = stats.agents
    assert (a1001.agent_id, a1001.name, a1001.answered) == ("1001", "Agent 1001", 3)
    assert (a1001.asa_s, a1001.aht_s) == (11.667, 66.667)
    assert (a1001.survey_responses, a1001.survey_average) == (2, 4.5)
    assert (a1002.answered, a1002.asa_s, a1002.aht_s, a1002.survey_average) == (1, 30.0, 200.0, 2.0)


def test_queue_and_agent_filters(acd_db: Database) -> None:
    billing = read(acd_db, lambda conn: query_acd_stats(conn, AcdFilter(queue="billing")))
    assert [q.queue for q in billing.queues] == ["billing"]
    agent = read(acd_db, lambda conn: query_acd_stats(conn, AcdFilter(agent="1002")))
    assert (agent.total.offered, agent.total.answered) == (1, 1)
    assert [a.agent_id for a in agent.agents] == ["1002"]


def test_volume_by_hour_and_day(acd_db: Database) -> None:
    hourly = read(acd_db, lambda conn: query_acd_stats(conn, AcdFilter(by=Bucket.HOUR)))
    assert [(v.period, v.calls, v.offered, v.answered, v.abandoned) for v in hourly.volume] == [
        ("2026-03-02 10:00", 5, 4, 3, 1),
        ("2026-03-02 11:00", 2, 2, 1, 0),
    ]
    daily = read(acd_db, lambda conn: query_acd_stats(conn, AcdFilter(by=Bucket.DAY)))
    assert [(v.period, v.calls, v.offered) for v in daily.volume] == [("2026-03-02", 7, 6)]


def test_volume_buckets_are_the_centres_local_hours_and_days(acd_db: Database) -> None:
    # T0 is 10:00 UTC on 2 March: 05:00 in New York (EST, UTC-5), 18:00 in Shanghai (UTC+8).
    new_york = read(
        acd_db, lambda conn: query_acd_stats(conn, AcdFilter(by=Bucket.HOUR, zone="America/New_York"))
    )
    assert [(v.period, v.calls) for v in new_york.volume] == [
        ("2026-03-02 05:00", 5),
        ("2026-03-02 06:00", 2),
    ]
    by_day = AcdFilter(by=Bucket.DAY, zone="Pacific/Kiritimati")  # UTC+14: already 3 March there
    assert [v.period for v in read(acd_db, lambda conn: query_acd_stats(conn, by_day)).volume] == [
        "2026-03-03"
    ]


def test_time_window(acd_db: Database) -> None:
    window = TimeWindow(since=T0 + timedelta(minutes=30))
    stats = read(acd_db, lambda conn: query_acd_stats(conn, AcdFilter(window=window)))
    assert [q.queue for q in stats.queues] == ["billing"]


async def test_recorder_stores_state_changes_and_callbacks(database: Database) -> None:
    recorder = AcdRecorder(database)
    assert await recorder.record_state_change(
        agent_id="1001", from_state="ready", to_state="ringing", reason="offer", at=T0
    )
    assert await recorder.callback_requested(
        call_id="c9", caller="15550001001", number="15550001001", queue="general", requested=T0
    )
    assert await recorder.wrap_up(call_id="c9", agent_id="1001", disposition="sale", note="ok", at=T0)
    changes = database.call(
        lambda s: [(r.from_state, r.to_state) for r in s.scalars(select(AgentStateChangeRow))]
    )
    assert changes == [("ready", "ringing")]
    assert database.call(lambda s: [r.status for r in s.scalars(select(CallbackRow))]) == ["pending"]


async def test_recorder_drops_facts_it_cannot_place(database: Database) -> None:
    recorder = AcdRecorder(database)
    assert not await recorder.queue_call_answered(call_id="nobody", agent_id="1001", answered=T0)
    assert not await recorder.queue_call_ended(call_id="nobody", outcome=QueueOutcome.ABANDONED, ended=T0)
    assert database.call(lambda s: list(s.scalars(select(QueueCallRow)))) == []


async def test_recorder_never_raises_when_the_database_is_down(caplog: pytest.LogCaptureFixture) -> None:
    down = Database("postgresql+psycopg://postgres@127.0.0.1:9/test")
    try:
        recorder = AcdRecorder(down, attempts=2, retry_delay_s=0.01)
        stored = await recorder.record_state_change(
            agent_id="1001", from_state="ready", to_state="paused", reason="lunch", at=T0
        )
    finally:
        down.dispose()
    assert stored is False
    assert "ACD fact dropped (state change of 1001) after 2 attempt(s)" in caplog.text
