"""Work orders in the database, on SQLite and PostgreSQL: numbering by the centre's day, the customer
found by number, repeats, dispatch history, overdue and return-visit lists, refusals that change nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr_engine.config import Settings
from ivr_engine.storage import Database
from ivr_engine.storage.pins import Pins
from ivr_engine.storage.seed import seed
from ivr_engine.workorders import store
from ivr_engine.workorders.errors import NoSuchOrder, PolicyError, WorkOrderError
from ivr_engine.workorders.model import Action, NewOrder, OrderState, Urgency, VisitOutcome, WorkOrder
from ivr_engine.workorders.policy import DEFAULT_POLICY as POLICY
from ivr_engine.workorders.rows import WorkOrderEventRow

T = TypeVar("T")
NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)  # 10:00 in New York
ANN = "15550001001"  # a seeded customer's number


@pytest.fixture
def db(migrated_settings: Settings, pins: Pins) -> Iterator[Callable[[Callable[[Session], T]], T]]:
    database = Database(migrated_settings.db_url)
    database.call(lambda session: seed(session, pins))
    yield database.call
    database.dispose()


def complaint(**changes: object) -> NewOrder:
    values: dict[str, object] = {"kind": "complaint", "description": "parcel broken", "by": "1001",
                                 "phone": ANN}
    return NewOrder(**{**values, **changes})  # type: ignore[arg-type]


def create(db: Callable[..., object], new: NewOrder, at: datetime = NOW) -> WorkOrder:
    return db(lambda s: store.create_order(s, POLICY, new, at, NEW_YORK))  # type: ignore[no-any-return]


def test_serials_count_per_day_of_the_centre(db: Callable[..., object]) -> None:
    first = create(db, complaint())
    second = create(db, complaint(kind="suggestion"))
    late_evening = create(db, complaint(kind="consultation"), datetime(2026, 12, 4, 3, 0, tzinfo=UTC))
    next_day = create(db, complaint(kind="after-sales"), datetime(2026, 12, 4, 6, 0, tzinfo=UTC))
    assert [first.serial, second.serial, late_evening.serial, next_day.serial] == [
        "WO-20261203-0001", "WO-20261203-0002", "WO-20261203-0003", "WO-20261204-0001"]


def test_the_customer_is_found_by_number_and_named(db: Callable[..., object]) -> None:
    found = create(db, complaint(phone="+1 (555) 000-1001"))
    assert found.customer_id is not None
    assert found.customer_name
    assert found.phone == ANN
    unknown = create(db, complaint(phone="15559990000"))
    assert (unknown.customer_id, unknown.customer_name) == (None, "")
    with pytest.raises(WorkOrderError, match="no customer 999999"):
        create(db, complaint(customer_id=999999))


def test_a_new_order_is_open_with_its_first_deadline_or_dispatched_at_once(db: Callable[..., object]) -> None:
    urgent = create(db, complaint(urgency=Urgency.URGENT))
    assert (urgent.state, urgent.deadline) == (OrderState.OPEN, NOW + timedelta(hours=2))
    dispatched = create(db, complaint(kind="suggestion", department="billing", handler="bob"))
    assert (dispatched.state, dispatched.department, dispatched.handler) == (
        OrderState.DISPATCHED, "billing", "bob")
    _, history = db(lambda s: store.show_order(s, dispatched.serial))
    assert [h.action for h in history] == [Action.CREATED, Action.DISPATCHED]


def test_a_second_order_of_the_same_type_soon_after_is_a_repeat(db: Callable[..., object]) -> None:
    first = create(db, complaint())
    again = create(db, complaint(description="still broken"), NOW + timedelta(days=2))
    other_type = create(db, complaint(kind="suggestion"), NOW + timedelta(days=2))
    much_later = create(db, complaint(), NOW + timedelta(days=30))
    assert again.repeat_of == first.serial
    assert other_type.repeat_of is None
    assert much_later.repeat_of is None
    _, history = db(lambda s: store.show_order(s, again.serial))
    assert f"repeat of {first.serial}" in history[0].detail


def test_dispatch_and_reassignment_keep_the_whole_history(db: Callable[..., object]) -> None:
    order = create(db, complaint(urgency=Urgency.HIGH))
    later = NOW + timedelta(hours=1)
    db(lambda s: store.assign_order(s, POLICY, order.serial, "logistics", None, "sup", later))
    moved = db(lambda s: store.assign_order(s, POLICY, order.serial.lower(), "technical", "tom", "sup",
                                            later + timedelta(hours=1)))
    assert moved.deadline == later + timedelta(hours=9)  # the step starts again (high: 8 h)
    db(lambda s: store.comment_order(s, order.serial, "called the courier", "tom", later))
    shown, history = db(lambda s: store.show_order(s, order.serial))
    assert (shown.department, shown.handler, shown.state) == ("technical", "tom", OrderState.DISPATCHED)
    assert [(h.by, h.action, h.detail) for h in history] == [
        ("1001", Action.CREATED, "complaint, high"),
        ("sup", Action.DISPATCHED, "logistics"),
        ("sup", Action.REASSIGNED, "technical, handler tom (was logistics)"),
        ("tom", Action.COMMENTED, "called the courier"),
    ]


def test_closing_needs_a_resolution_and_schedules_the_return_visit(db: Callable[..., object]) -> None:
    order = create(db, complaint())
    with pytest.raises(WorkOrderError, match="give a resolution"):
        db(lambda s: store.close_order(s, POLICY, order.serial, "  ", "tom", NOW))
    assert db(lambda s: store.show_order(s, order.serial))[0].state is OrderState.OPEN
    closed = db(lambda s: store.close_order(s, POLICY, order.serial, "replaced", "tom", NOW))
    assert (closed.state, closed.closed) == (OrderState.CLOSED, NOW)
    assert closed.visit_due == NOW + timedelta(hours=24)
    with pytest.raises(WorkOrderError, match="is closed"):
        db(lambda s: store.assign_order(s, POLICY, order.serial, "billing", None, "sup", NOW))

    def due(at: datetime) -> list[str]:
        return [o.serial for o in db(lambda s: store.list_orders(s, store.OrderFilter(visits_due=True), at))]

    assert due(NOW + timedelta(hours=23)) == []
    assert due(NOW + timedelta(hours=24)) == [order.serial]
    visited = db(lambda s: store.record_visit(s, order.serial, VisitOutcome.UNSATISFIED, "too slow", "sup",
                                              NOW + timedelta(hours=25)))
    assert visited.visit_outcome is VisitOutcome.UNSATISFIED
    assert due(NOW + timedelta(hours=26)) == []
    with pytest.raises(WorkOrderError, match="already recorded"):
        db(lambda s: store.record_visit(s, order.serial, VisitOutcome.SATISFIED, "", "sup", NOW))


def test_overdue_orders_are_listed_and_closed_ones_never(db: Callable[..., object]) -> None:
    urgent = create(db, complaint(urgency=Urgency.URGENT))
    normal = create(db, complaint(kind="suggestion"))
    done = create(db, complaint(kind="consultation", urgency=Urgency.URGENT))
    db(lambda s: store.close_order(s, POLICY, done.serial, "answered", "tom", NOW))

    def overdue(at: datetime) -> list[str]:
        return [o.serial for o in db(lambda s: store.list_orders(s, store.OrderFilter(overdue=True), at))]

    assert overdue(NOW + timedelta(hours=1)) == []
    assert overdue(NOW + timedelta(hours=3)) == [urgent.serial]
    assert overdue(NOW + timedelta(hours=25)) == [normal.serial, urgent.serial]


def test_the_open_orders_of_a_customer(db: Callable[..., object]) -> None:
    first = create(db, complaint())
    second = create(db, complaint(kind="suggestion"))
    create(db, complaint(phone="15550001002"))
    db(lambda s: store.close_order(s, POLICY, first.serial, "fixed", "tom", NOW))
    assert first.customer_id is not None
    customer_id = first.customer_id
    assert [o.serial for o in db(lambda s: store.open_orders_of(s, customer_id))] == [second.serial]


def test_refusals_write_nothing(db: Callable[..., object]) -> None:
    with pytest.raises(PolicyError):
        create(db, complaint(kind="praise"))
    with pytest.raises(PolicyError):
        create(db, complaint(department="sales"))
    with pytest.raises(WorkOrderError, match="give a description"):
        create(db, complaint(description=" "))
    with pytest.raises(NoSuchOrder):
        db(lambda s: store.comment_order(s, "WO-20261203-0042", "hello", "sup", NOW))
    assert db(lambda s: s.scalar(select(func.count()).select_from(WorkOrderEventRow))) == 0
    assert db(lambda s: store.list_orders(s, store.OrderFilter(), NOW)) == []
