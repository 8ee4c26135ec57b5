"""Return visits as callbacks, on SQLite and PostgreSQL: closing an order books one for its customer (due
per the policy, in the right queue), the dialer claims it like any callback, giving it up records the
customer as not reached, and an outcome recorded by hand cancels a visit not placed yet."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.records.dialing import Attempt, SqlCallbackBook, claim_due, finish_attempt
from acd.records.rows import CallbackRow, QueueCallRow
from acd.retry_policy import AttemptResult, RetryPolicy
from ivr_engine.config import Settings
from ivr_engine.storage import Database
from ivr_engine.storage.pins import Pins
from ivr_engine.storage.seed import seed
from ivr_engine.workorders import store
from ivr_engine.workorders.model import Action, VisitOutcome, WorkOrder
from ivr_engine.workorders.policy import DEFAULT_POLICY as POLICY
from ivr_engine.workorders.policy import WorkOrderPolicy
from ivr_engine.workorders.visits import visit_given_up, visit_serial
from tests.workorders.test_store import ANN, NEW_YORK, NOW, complaint

DUE = NOW + timedelta(hours=24)


@pytest.fixture
def db(migrated_settings: Settings, pins: Pins) -> Iterator[Callable[[Callable[[Session], Any]], Any]]:
    database = Database(migrated_settings.db_url)
    database.call(lambda session: seed(session, pins))
    yield database.call
    database.dispose()


def _closed(db: Callable[..., Any], policy: WorkOrderPolicy = POLICY, **changes: object) -> WorkOrder:
    order = db(lambda s: store.create_order(s, policy, complaint(**changes), NOW, NEW_YORK))
    return db(lambda s: store.close_order(s, policy, order.serial, "courier replaced it", "tom", NOW))  # type: ignore[no-any-return]


def _visits(db: Callable[..., Any], serial: str) -> list[CallbackRow]:
    return db(lambda s: list(s.scalars(select(CallbackRow).where(CallbackRow.work_order == serial))))  # type: ignore[no-any-return]


def test_closing_books_a_return_visit_callback_due_per_the_policy(db: Callable[..., Any]) -> None:
    db(lambda s: s.add(QueueCallRow(call_id="call-7", queue="billing", caller=ANN, enqueued=NOW)))
    order = _closed(db, call_id="call-7")
    (visit,) = _visits(db, order.serial)
    assert (visit.kind, visit.status, visit.number) == ("return_visit", "pending", ANN)
    assert visit.queue == "billing"  # where the order's call waited
    assert visit_serial(visit.call_id) == order.serial
    assert visit.due is not None
    assert visit.due.timestamp() == DUE.timestamp()
    assert db(lambda s: claim_due(s, node="", now=DUE.timestamp() - 1, limit=5)) == []
    (claimed,) = db(lambda s: claim_due(s, node="", now=DUE.timestamp(), limit=5))
    assert (claimed.id, claimed.number, claimed.queue) == (visit.id, ANN, "billing")


def test_the_configured_queue_wins_and_an_order_without_a_number_has_no_call(db: Callable[..., Any]) -> None:
    db(lambda s: s.add(QueueCallRow(call_id="call-7", queue="billing", caller=ANN, enqueued=NOW)))
    configured = _closed(db, WorkOrderPolicy(return_visit_queue="aftercare"), call_id="call-7")
    assert [v.queue for v in _visits(db, configured.serial)] == ["aftercare"]
    assert [v.queue for v in _visits(db, _closed(db, kind="suggestion").serial)] == ["general"]
    assert _visits(db, _closed(db, kind="consultation", phone="").serial) == []


def test_a_visit_the_dialer_gives_up_leaves_the_customer_unreached(db: Callable[..., Any]) -> None:
    order = _closed(db)
    policy = RetryPolicy(attempts=2, spacing_s=0)
    for before in (0, 1):
        at = DUE.timestamp() + 60 * before
        (claimed,) = db(lambda s: claim_due(s, node="", now=at, limit=1))  # noqa: B023 - called at once
        end = at + 30
        step = policy.after(AttemptResult.NO_ANSWER, claimed.attempts, end)
        attempt = Attempt(claimed.id, "1001", end - 30, end, AttemptResult.NO_ANSWER)
        db(lambda s: finish_attempt(s, attempt, step, node="", given_up=visit_given_up))  # noqa: B023
        seen, history = db(lambda s: store.show_order(s, order.serial))
        assert seen.visit_outcome is (None if before == 0 else VisitOutcome.UNREACHED)
    assert seen.visit_at is not None
    assert seen.visit_at.timestamp() == DUE.timestamp() + 90
    assert (history[-1].by, history[-1].action) == ("dialer", Action.VISITED)
    assert history[-1].detail == "unreached: no answer after 2 attempt(s)"
    assert [v.status for v in _visits(db, order.serial)] == ["failed"]


def test_an_outcome_recorded_first_is_kept_when_the_dialer_gives_up(db: Callable[..., Any]) -> None:
    order = _closed(db)
    (claimed,) = db(lambda s: claim_due(s, node="", now=DUE.timestamp(), limit=1))  # being placed
    db(lambda s: store.record_visit(s, order.serial, VisitOutcome.SATISFIED, "", "1001", DUE))
    assert [v.status for v in _visits(db, order.serial)] == ["dialing"]  # the call goes on
    step = RetryPolicy(attempts=1).after(AttemptResult.BUSY, 0, DUE.timestamp())
    attempt = Attempt(claimed.id, "1001", DUE.timestamp(), DUE.timestamp(), AttemptResult.BUSY)
    db(lambda s: finish_attempt(s, attempt, step, given_up=visit_given_up))
    assert db(lambda s: store.show_order(s, order.serial))[0].visit_outcome is VisitOutcome.SATISFIED


def test_an_outcome_recorded_by_hand_cancels_a_visit_not_placed_yet(db: Callable[..., Any]) -> None:
    order = _closed(db)
    db(lambda s: store.record_visit(s, order.serial, VisitOutcome.UNSATISFIED, "phoned from desk", "sup",
                                    NOW + timedelta(hours=2)))
    assert [v.status for v in _visits(db, order.serial)] == ["cancelled"]
    assert db(lambda s: claim_due(s, node="", now=DUE.timestamp(), limit=5)) == []


def test_the_services_callback_book_tells_the_order_when_it_gives_a_visit_up(
    db: Callable[..., Any], migrated_settings: Settings,
) -> None:
    """What ``ivr serve`` wires: ``SqlCallbackBook(given_up=visit_given_up)``."""
    order = _closed(db)
    database = Database(migrated_settings.db_url)
    book = SqlCallbackBook(database, node="node1", given_up=visit_given_up)
    try:
        async def attempt() -> None:
            (claimed,) = await book.claim_due(DUE.timestamp(), 5)
            step = RetryPolicy(attempts=1).after(AttemptResult.NOT_DIALABLE, 0, DUE.timestamp())
            await book.finish(Attempt(claimed.id, "", DUE.timestamp(), DUE.timestamp(),
                                      AttemptResult.NOT_DIALABLE), step)

        asyncio.run(attempt())
    finally:
        database.dispose()
    seen, history = db(lambda s: store.show_order(s, order.serial))
    assert seen.visit_outcome is VisitOutcome.UNREACHED
    assert history[-1].detail == f"unreached: the number {ANN!r} cannot be dialled"
