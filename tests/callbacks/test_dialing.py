"""Callbacks as the dialer works them in the database (``acd.records.dialing``), on SQLite and PostgreSQL:
claimed oldest place first and once, every attempt recorded, retried or given up, claims released."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.records.callbacks import cancel_callback, retry_callback
from acd.records.dialing import Attempt, claim_due, finish_attempt, release_claims, withdrawn
from acd.records.rows import CallbackAttemptRow, CallbackRow, QueueCallRow
from acd.retry_policy import AttemptResult, RetryPolicy
from ivr_engine.config import Settings
from ivr_engine.service.lost_node import close_lost_node
from ivr_engine.storage import Database
from tests.callbacks.test_callbacks import T0, book

NOW = (T0 + timedelta(hours=1)).timestamp()


@pytest.fixture
def db(migrated_settings: Settings) -> Iterator[Callable[[Callable[[Session], Any]], Any]]:
    database = Database(migrated_settings.db_url)
    yield database.call
    database.dispose()


def _row(db: Callable[..., Any], callback_id: int) -> CallbackRow:
    return db(lambda s: s.get(CallbackRow, callback_id))


def test_due_callbacks_are_claimed_oldest_place_first_and_only_once(db: Callable[..., Any]) -> None:
    late = db(lambda s: book(s, "c2", 10))
    early = db(lambda s: book(s, "c1", 1))
    db(lambda s: book(s, "c3", 5, status="cancelled"))
    db(lambda s: s.add(QueueCallRow(call_id="c1", queue="general", caller="5551", priority=4,
                                    enqueued=T0 + timedelta(minutes=1))))
    claimed = db(lambda s: claim_due(s, node="node1", now=NOW, limit=10))
    assert [(c.id, c.call_id, c.priority) for c in claimed] == [(early, "c1", 4), (late, "c2", 0)]
    assert claimed[0].requested == (T0 + timedelta(minutes=1)).timestamp()
    assert (_row(db, early).status, _row(db, early).node) == ("dialing", "node1")
    assert db(lambda s: claim_due(s, node="node2", now=NOW, limit=10)) == []  # one node each


def test_a_retry_is_not_claimed_before_it_is_due(db: Callable[..., Any]) -> None:
    callback = db(lambda s: book(s, "c1", 1))
    (claimed,) = db(lambda s: claim_due(s, node="", now=NOW, limit=10))
    step = RetryPolicy(attempts=3, spacing_s=600).after(AttemptResult.NO_ANSWER, claimed.attempts, NOW)
    db(lambda s: finish_attempt(s, Attempt(callback, "1003", NOW - 20, NOW, AttemptResult.NO_ANSWER), step))
    row = _row(db, callback)
    assert (row.status, row.attempts, row.node) == ("pending", 1, None)
    assert row.placed is not None
    assert row.placed.timestamp() == NOW - 20
    assert db(lambda s: claim_due(s, node="", now=NOW + 599, limit=10)) == []
    (again,) = db(lambda s: claim_due(s, node="", now=NOW + 600, limit=10))
    assert (again.id, again.attempts) == (callback, 1)


def test_attempts_are_recorded_and_a_connected_callback_is_done(db: Callable[..., Any]) -> None:
    callback = db(lambda s: book(s, "c1", 1))
    policy = RetryPolicy(attempts=3, spacing_s=0)
    for started, result, before in ((NOW, AttemptResult.BUSY, 0), (NOW + 50, AttemptResult.CONNECTED, 1)):
        db(lambda s: claim_due(s, node="", now=started, limit=1))  # noqa: B023 - called at once
        step = policy.after(result, before, started + 10)
        db(lambda s: finish_attempt(s, Attempt(callback, "1001", started, started + 10, result), step))  # noqa: B023
    row = _row(db, callback)
    assert (row.status, row.attempts, row.agent_id) == ("done", 2, "1001")
    assert row.connected is not None
    assert row.connected.timestamp() == NOW + 50
    assert row.placed is not None
    assert row.placed.timestamp() == NOW
    attempts = db(lambda s: [(a.agent_id, a.result) for a in s.scalars(
        select(CallbackAttemptRow).where(CallbackAttemptRow.callback_id == callback)
        .order_by(CallbackAttemptRow.started))])
    assert attempts == [("1001", "busy"), ("1001", "connected")]


def test_a_restarted_node_takes_back_only_its_own_claims(db: Callable[..., Any]) -> None:
    mine = db(lambda s: book(s, "c1", 1))
    theirs = db(lambda s: book(s, "c2", 2))
    db(lambda s: claim_due(s, node="node1", now=NOW, limit=1))
    db(lambda s: claim_due(s, node="node2", now=NOW, limit=1))
    assert db(lambda s: release_claims(s, node="node1")) == 1
    assert (_row(db, mine).status, _row(db, theirs).status) == ("pending", "dialing")


def test_a_given_up_callback_put_back_in_line_gets_every_attempt_again(db: Callable[..., Any]) -> None:
    callback = db(lambda s: book(s, "c1", 1))
    db(lambda s: claim_due(s, node="", now=NOW, limit=1))
    step = RetryPolicy(attempts=1).after(AttemptResult.BUSY, 0, NOW)
    db(lambda s: finish_attempt(s, Attempt(callback, "1001", NOW, NOW + 5, AttemptResult.BUSY), step))
    assert (_row(db, callback).status, _row(db, callback).attempts) == ("failed", 1)
    again = db(lambda s: retry_callback(s, callback))
    assert (again.status.value, again.attempts, again.due) == ("pending", 0, None)
    assert [c.id for c in db(lambda s: claim_due(s, node="", now=NOW, limit=1))] == [callback]


def test_a_callback_cancelled_while_an_agent_is_sought_is_withdrawn_and_stays_cancelled(
    db: Callable[..., Any],
) -> None:
    first = db(lambda s: book(s, "c1", 1))
    second = db(lambda s: book(s, "c2", 2))
    db(lambda s: claim_due(s, node="", now=NOW, limit=2))
    assert db(lambda s: withdrawn(s, [first, second])) == set()
    db(lambda s: cancel_callback(s, first))
    assert db(lambda s: withdrawn(s, [first, second])) == {first}
    step = RetryPolicy().after(AttemptResult.NO_ANSWER, 0, NOW)  # an attempt already under way ends
    db(lambda s: finish_attempt(s, Attempt(first, "1001", NOW, NOW + 5, AttemptResult.NO_ANSWER), step))
    assert _row(db, first).status == "cancelled"


def test_a_lost_node_s_claims_go_back_in_line_without_counting_an_attempt(
    migrated_settings: Settings, db: Callable[..., Any],
) -> None:
    """The survivor that releases a node whose lease expired (``node_lost``) hands its claims back."""
    theirs = db(lambda s: book(s, "c1", 1))
    mine = db(lambda s: book(s, "c2", 2))
    db(lambda s: claim_due(s, node="node2", now=NOW, limit=1))
    step = RetryPolicy(attempts=3, spacing_s=0).after(AttemptResult.NO_ANSWER, 0, NOW)
    db(lambda s: finish_attempt(s, Attempt(theirs, "1001", NOW, NOW, AttemptResult.NO_ANSWER), step))
    db(lambda s: claim_due(s, node="node2", now=NOW, limit=1))  # node2 dials it again, then dies
    db(lambda s: claim_due(s, node="node1", now=NOW, limit=1))
    database = Database(migrated_settings.db_url)
    try:
        lost = asyncio.run(close_lost_node(database, T0 + timedelta(hours=2), "node2"))
    finally:
        database.dispose()
    assert lost.callbacks == 1
    row = _row(db, theirs)
    assert (row.status, row.node, row.attempts) == ("pending", None, 1)
    assert (_row(db, mine).status, _row(db, mine).node) == ("dialing", "node1")
    (again,) = db(lambda s: claim_due(s, node="node1", now=NOW, limit=5))  # the survivor dials it
    assert (again.id, again.attempts) == (theirs, 1)


def test_a_node_back_from_a_lost_lease_leaves_alone_a_claim_another_node_took(
    db: Callable[..., Any],
) -> None:
    callback = db(lambda s: book(s, "c1", 1))
    db(lambda s: claim_due(s, node="node2", now=NOW, limit=1))
    db(lambda s: release_claims(s, node="node2"))  # node2's lease expired: a survivor handed it back
    db(lambda s: claim_due(s, node="node1", now=NOW, limit=1))
    assert db(lambda s: withdrawn(s, [callback], node="node2")) == {callback}  # node2 stops placing it
    assert db(lambda s: withdrawn(s, [callback], node="node1")) == set()
    step = RetryPolicy().after(AttemptResult.NO_ANSWER, 0, NOW)
    db(lambda s: finish_attempt(s, Attempt(callback, "1001", NOW, NOW + 5, AttemptResult.NO_ANSWER), step,
                                node="node2"))
    row = _row(db, callback)
    assert (row.status, row.node, row.attempts) == ("dialing", "node1", 0)
