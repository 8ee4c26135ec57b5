"""A migrated database (SQLite and PostgreSQL, from the shared ``migrated_settings``) with known rows.

The node log below is small enough to work out every figure by hand; the expected values live in the
tests next to the assertions.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from acd.records import AcdRecorder
from acd.records.rows import QueueOutcome
from ivr_engine.config import Settings
from ivr_engine.storage import Database
from ivr_engine.storage.models import Call, NodeEventRow, SurveyResponse

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

# call id -> [(flow, node, node_type, seconds spent, input, outcome)], first call starts at T0.
NODE_LOG: dict[str, list[tuple[str, str, str, float, str | None, str]]] = {
    "c1": [
        ("main", "welcome", "play", 2, None, "next"),
        ("main", "menu", "menu", 4, "1", "1"),
        ("main", "account", "gather", 10, "****", "found"),
        ("main", "goodbye", "play", 1, None, "next"),
    ],
    "c2": [
        ("main", "welcome", "play", 2, None, "next"),
        ("main", "menu", "menu", 6, "1", "1"),
        ("main", "account", "gather", 20, None, "hangup"),
    ],
    "c3": [
        ("main", "welcome", "play", 2, None, "next"),
        ("main", "menu", "menu", 8, None, "timeout"),
    ],
    "c4": [
        ("main", "welcome", "play", 3, None, "next"),
        ("main", "menu", "menu", 10, "7", "invalid"),
        ("main", "goodbye", "play", 1, None, "next"),
    ],
    "c5": [("main", "welcome", "play", 1, None, "hangup")],
    "c6": [("survey", "q1", "survey", 3, "5", "next")],
}
LATE_CALL = "c5"
"""Starts a day after the others, for the time-window tests."""


def call_start(call_id: str) -> datetime:
    offset = timedelta(days=1) if call_id == LATE_CALL else timedelta(minutes=int(call_id[1:]))
    return T0 + offset


def node_rows() -> list[NodeEventRow]:
    rows = []
    for call_id, steps in NODE_LOG.items():
        at = call_start(call_id)
        for seq, (flow, node, node_type, spent, digits, outcome) in enumerate(steps, start=1):
            left = at + timedelta(seconds=spent)
            rows.append(
                NodeEventRow(
                    call_id=call_id,
                    seq=seq,
                    flow=flow,
                    node=node,
                    node_type=node_type,
                    entered=at,
                    left=left,
                    input=digits,
                    outcome=outcome,
                )
            )
            at = left
    return rows


@pytest.fixture
def database(migrated_settings: Settings) -> Iterator[Database]:
    db = Database(migrated_settings.db_url)
    try:
        yield db
    finally:
        db.dispose()


@pytest.fixture
def node_log_db(database: Database) -> Database:
    def work(session: Session) -> None:
        session.add_all(node_rows())
        session.add_all(
            Call(id=c, caller="15550001001", dialled="100", started=call_start(c), disposition="completed")
            for c in NODE_LOG
        )

    database.call(work)
    return database


# (call, queue, enqueued offset s, waited s, agent or None, outcome, handle s, predicted wait s)
QUEUE_CALLS = [
    ("q1", "general", 0, 10, "1001", QueueOutcome.ANSWERED, 100, 15.0),
    ("q2", "general", 60, 30, "1002", QueueOutcome.ANSWERED, 200, None),
    ("q3", "general", 120, 25, None, QueueOutcome.ABANDONED, 0, None),
    ("q4", "general", 180, 20, "1001", QueueOutcome.ANSWERED, 60, None),
    ("q5", "billing", 3600, 120, None, QueueOutcome.OVERFLOW, 0, None),
    ("q6", "billing", 3660, 5, "1001", QueueOutcome.ANSWERED, 40, None),
]


async def _record(recorder: AcdRecorder) -> None:
    await recorder.register_agent("1001", "Agent 1001", "PJSIP/1001")
    await recorder.register_agent("1002", "Agent 1002", "PJSIP/1002")
    for call_id, queue, offset, waited, agent, outcome, handle, predicted in QUEUE_CALLS:
        enqueued = T0 + timedelta(seconds=offset)
        assert await recorder.queue_call_enqueued(
            call_id=call_id,
            queue=queue,
            caller="15550001001",
            priority=0,
            enqueued=enqueued,
            predicted_wait_s=predicted,
        )
        left_queue = enqueued + timedelta(seconds=waited)
        if agent is not None:
            assert await recorder.queue_call_answered(call_id=call_id, agent_id=agent, answered=left_queue)
        ended = left_queue + timedelta(seconds=handle)
        assert await recorder.queue_call_ended(call_id=call_id, outcome=outcome, ended=ended)


@pytest.fixture
async def acd_db(database: Database) -> Database:
    """Queue calls written through the recorder, surveys and calls; the figures are in test_acd.py."""
    await _record(AcdRecorder(database))

    def extra(session: Session) -> None:
        for call_id, agent, score in [("q1", "1001", 5), ("q4", "1001", 4), ("q2", "1002", 2)]:
            session.add(
                SurveyResponse(
                    call_id=call_id, agent_id=agent, survey="csat", question="q1", score=score, created=T0
                )
            )
        for i, minute in enumerate([0, 1, 2, 3, 4, 61, 62]):
            session.add(
                Call(
                    id=f"call{i}",
                    caller="1",
                    dialled="100",
                    started=T0 + timedelta(minutes=minute),
                    disposition="completed",
                )
            )

    database.call(extra)
    return database
