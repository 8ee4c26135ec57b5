"""Work orders in the database: each function is one unit of work on a ``Session`` (run it through
``Database.call`` or, on the event loop, ``Database.run``) and writes the order's history with it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr_engine.storage.lookups import normalise_phone
from ivr_engine.storage.models import Call, Customer, CustomerPhone
from ivr_engine.workorders import rules, visits
from ivr_engine.workorders.errors import NoSuchOrder, WorkOrderError
from ivr_engine.workorders.model import (
    Action,
    HistoryEntry,
    NewOrder,
    OrderState,
    Urgency,
    VisitOutcome,
    WorkOrder,
)
from ivr_engine.workorders.policy import WorkOrderPolicy
from ivr_engine.workorders.rows import WorkOrderEventRow, WorkOrderRow

__all__ = [
    "OrderFilter",
    "assign_order",
    "close_order",
    "comment_order",
    "create_order",
    "list_orders",
    "open_orders_of",
    "overdue_by",
    "record_visit",
    "show_order",
]

_SERIAL_ATTEMPTS = 5
_TEXT_LIMIT = 4000


@dataclass(frozen=True)
class OrderFilter:
    state: OrderState | None = None
    overdue: bool = False
    visits_due: bool = False
    """Closed orders whose return visit is due and not yet recorded."""
    kind: str | None = None
    department: str | None = None
    customer_id: int | None = None
    limit: int = 50


def create_order(session: Session, policy: WorkOrderPolicy, new: NewOrder, now: datetime,
                 zone: tzinfo) -> WorkOrder:
    """Log a new order: serial number of the centre's day, deadline of its first step, repeat flag."""
    policy.check_type(new.kind)
    description = _text(new.description, "a description")
    if new.department is not None:
        policy.check_department(new.department)
    customer_id, phone = _customer(session, new)
    earlier = _latest_of(session, customer_id, phone, new.kind)
    repeat_of = earlier.serial if earlier is not None and rules.is_repeat(
        policy, _order(earlier, ""), new.kind, customer_id, phone, now) else None
    dispatched = new.department is not None
    prefix = rules.serial_prefix(now.astimezone(zone).date())
    for _ in range(_SERIAL_ATTEMPTS):
        seq = 1 + _last_seq(session, prefix)
        row = WorkOrderRow(
            serial=f"{prefix}{seq:04d}", kind=new.kind, urgency=new.urgency.value,
            state=(OrderState.DISPATCHED if dispatched else OrderState.OPEN).value,
            customer_id=customer_id, phone=phone, call_id=new.call_id, description=description,
            department=new.department, handler=new.handler, created=now, created_by=_by(new.by),
            deadline=rules.step_deadline(policy, new.urgency, now), resolution="", repeat_of=repeat_of,
        )  # fmt: skip
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:  # another process took that serial number a moment ago
            continue
        _history(session, row, now, new.by, Action.CREATED,
                 f"{new.kind}, {new.urgency}" + (f", repeat of {repeat_of}" if repeat_of else ""))
        if dispatched:
            _history(session, row, now, new.by, Action.DISPATCHED,
                     _dispatch_text(new.department, new.handler))
        return _order(row, _name(session, customer_id))
    raise WorkOrderError(f"could not number a new order after {_SERIAL_ATTEMPTS} tries; try again")


def show_order(session: Session, serial: str) -> tuple[WorkOrder, list[HistoryEntry]]:
    row = _row(session, serial)
    events = session.scalars(
        select(WorkOrderEventRow).where(WorkOrderEventRow.order_id == row.id).order_by(WorkOrderEventRow.id)
    ).all()
    history = [HistoryEntry(e.at, e.by, Action(e.action), e.detail) for e in events]
    return _order(row, _name(session, row.customer_id)), history


def list_orders(session: Session, which: OrderFilter, now: datetime) -> list[WorkOrder]:
    query = select(WorkOrderRow)
    if which.state is not None:
        query = query.where(WorkOrderRow.state == which.state.value)
    if which.overdue:
        query = query.where(WorkOrderRow.state != OrderState.CLOSED.value, WorkOrderRow.deadline < now)
    if which.visits_due:
        query = query.where(WorkOrderRow.state == OrderState.CLOSED.value,
                            WorkOrderRow.visit_outcome.is_(None), WorkOrderRow.visit_due <= now)
    if which.kind is not None:
        query = query.where(WorkOrderRow.kind == which.kind)
    if which.department is not None:
        query = query.where(WorkOrderRow.department == which.department)
    if which.customer_id is not None:
        query = query.where(WorkOrderRow.customer_id == which.customer_id)
    rows = session.scalars(query.order_by(WorkOrderRow.created.desc(), WorkOrderRow.id.desc())
                           .limit(which.limit)).all()
    names = _names(session, {r.customer_id for r in rows if r.customer_id is not None})
    return [_order(r, names.get(r.customer_id, "") if r.customer_id is not None else "") for r in rows]


def open_orders_of(session: Session, customer_id: int, limit: int = 10) -> list[WorkOrder]:
    """A customer's orders not closed yet, newest first (the screen-pop shows them)."""
    rows = session.scalars(
        select(WorkOrderRow)
        .where(WorkOrderRow.customer_id == customer_id, WorkOrderRow.state != OrderState.CLOSED.value)
        .order_by(WorkOrderRow.created.desc(), WorkOrderRow.id.desc())
        .limit(limit)
    ).all()
    name = _name(session, customer_id)
    return [_order(r, name) for r in rows]


def assign_order(session: Session, policy: WorkOrderPolicy, serial: str, department: str,
                 handler: str | None, by: str, now: datetime) -> WorkOrder:
    """Dispatch (first time) or reassign an order; the step's deadline starts again."""
    policy.check_department(department)
    row = _row(session, serial, lock=True)
    first = row.department is None
    action = Action.DISPATCHED if first else Action.REASSIGNED
    rules.check_allowed(_order(row, ""), action)
    before = "" if first else f" (was {_dispatch_text(row.department, row.handler)})"
    row.department, row.handler = department, handler
    row.state = OrderState.DISPATCHED.value
    row.deadline = rules.step_deadline(policy, Urgency(row.urgency), now)
    _history(session, row, now, by, action, _dispatch_text(department, handler) + before)
    return _order(row, _name(session, row.customer_id))


def comment_order(session: Session, serial: str, text: str, by: str, now: datetime) -> WorkOrder:
    row = _row(session, serial, lock=True)
    rules.check_allowed(_order(row, ""), Action.COMMENTED)
    _history(session, row, now, by, Action.COMMENTED, _text(text, "a comment"))
    return _order(row, _name(session, row.customer_id))


def close_order(session: Session, policy: WorkOrderPolicy, serial: str, resolution: str, by: str,
                now: datetime) -> WorkOrder:
    """Close with a resolution (required) and schedule the return visit: a callback of kind
    ``return_visit`` due then, placed by the dialer (``visits.book_visit``; none without a number)."""
    row = _row(session, serial, lock=True)
    rules.check_allowed(_order(row, ""), Action.CLOSED)
    row.resolution = _text(resolution, "a resolution")
    row.state = OrderState.CLOSED.value
    row.closed = now
    row.visit_due = rules.visit_due(policy, now)
    _history(session, row, now, by, Action.CLOSED, row.resolution)
    visits.book_visit(session, policy, row)
    return _order(row, _name(session, row.customer_id))


def record_visit(session: Session, serial: str, outcome: VisitOutcome, note: str, by: str,
                 now: datetime) -> WorkOrder:
    """The return visit's outcome: the customer satisfied or not, or not reached (by the agent who placed
    it, or by hand: a visit callback not placed yet is then cancelled)."""
    row = _row(session, serial, lock=True)
    rules.check_allowed(_order(row, ""), Action.VISITED)
    visits.cancel_pending_visit(session, row.serial)
    row.visit_outcome = outcome.value
    row.visit_at = now
    detail = outcome.value + (f": {note.strip()}" if note.strip() else "")
    _history(session, row, now, by, Action.VISITED, detail[:_TEXT_LIMIT])
    return _order(row, _name(session, row.customer_id))


# -- rows -------------------------------------------------------------------------------------------


def _row(session: Session, serial: str, *, lock: bool = False) -> WorkOrderRow:
    query = select(WorkOrderRow).where(WorkOrderRow.serial == serial.strip().upper())
    row = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if row is None:
        raise NoSuchOrder(serial)
    return row


def _last_seq(session: Session, prefix: str) -> int:
    """The highest number given on the day of ``prefix`` (0: none yet)."""
    last = session.scalar(
        select(WorkOrderRow.serial)
        .where(WorkOrderRow.serial.startswith(prefix, autoescape=True))
        .order_by(func.length(WorkOrderRow.serial).desc(), WorkOrderRow.serial.desc())
        .limit(1)
    )
    tail = last[len(prefix):] if last else ""
    return int(tail) if tail.isdigit() else 0


def _latest_of(session: Session, customer_id: int | None, phone: str, kind: str) -> WorkOrderRow | None:
    """The latest order of ``kind`` for the customer, else (no customer record) for the number."""
    if customer_id is not None:
        whose = WorkOrderRow.customer_id == customer_id
    elif phone:
        whose = (WorkOrderRow.customer_id.is_(None)) & (WorkOrderRow.phone == phone)
    else:
        return None
    return session.scalars(
        select(WorkOrderRow)
        .where(whose, WorkOrderRow.kind == kind)
        .order_by(WorkOrderRow.created.desc(), WorkOrderRow.id.desc())
        .limit(1)
    ).one_or_none()


def _customer(session: Session, new: NewOrder) -> tuple[int | None, str]:
    """The customer id and the number of a new order: as given, else the number of its call."""
    phone = normalise_phone(new.phone)
    if not phone and new.call_id is not None:
        phone = normalise_phone(session.scalar(select(Call.caller).where(Call.id == new.call_id)) or "")
    if new.customer_id is not None:
        if session.get(Customer, new.customer_id) is None:
            raise WorkOrderError(f"no customer {new.customer_id}")
        return new.customer_id, phone
    if not phone:
        return None, ""
    found = session.scalar(select(CustomerPhone.customer_id).where(CustomerPhone.number == phone))
    return found, phone


def _name(session: Session, customer_id: int | None) -> str:
    if customer_id is None:
        return ""
    return session.scalar(select(Customer.name).where(Customer.id == customer_id)) or ""


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(ids)))
    return {row.id: row.name for row in rows}


def _history(session: Session, row: WorkOrderRow, at: datetime, by: str, action: Action, detail: str) -> None:
    session.add(WorkOrderEventRow(order_id=row.id, at=at, by=_by(by), action=action.value, detail=detail))
    session.flush()


def _order(row: WorkOrderRow, customer_name: str) -> WorkOrder:
    return WorkOrder(
        serial=row.serial, kind=row.kind, urgency=Urgency(row.urgency), state=OrderState(row.state),
        customer_id=row.customer_id, customer_name=customer_name, phone=row.phone, call_id=row.call_id,
        description=row.description, department=row.department, handler=row.handler,
        created=row.created, created_by=row.created_by, deadline=row.deadline, closed=row.closed,
        resolution=row.resolution or "", repeat_of=row.repeat_of, visit_due=row.visit_due,
        visit_outcome=VisitOutcome(row.visit_outcome) if row.visit_outcome else None,
        visit_at=row.visit_at,
    )  # fmt: skip


def _dispatch_text(department: str | None, handler: str | None) -> str:
    return f"{department or '-'}" + (f", handler {handler}" if handler else "")


def _text(value: str, what: str) -> str:
    text = value.strip()
    if not text:
        raise WorkOrderError(f"give {what}")
    if len(text) > _TEXT_LIMIT or "\x00" in text:
        raise WorkOrderError(f"{what} must be text of at most {_TEXT_LIMIT} characters")
    return text


def _by(who: str) -> str:
    who = who.strip()
    if not who or len(who) > 64 or not who.isprintable():
        raise WorkOrderError("who did it must be a name of 1-64 printable characters")
    return who


def overdue_by(order: WorkOrder, now: datetime) -> timedelta | None:
    """How long past its deadline an order is, or None."""
    return now - order.deadline if order.overdue(now) else None
