"""Return visits as real calls: closing a work order books a callback of kind ``return_visit`` for the
order's customer, which the dialer (``acd.live.dialer``) places like any callback: agent first, then the
customer. Units of work on a ``Session``, run inside the work-order store's own (``store.close_order``,
``store.record_visit``) or the dialer's (``visit_given_up``, the ``SqlCallbackBook`` hook).

The callback's ``call_id`` is ``visit:<serial>`` (one visit per order; the ACD waits it as
``callback:visit:<serial>``), so the screen-pop finds the order (``visit_serial``) and shows its resolution.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from acd.records.rows import CallbackKind, CallbackRow, CallbackStatus, QueueCallRow
from ivr_engine.workorders.model import Action, VisitOutcome
from ivr_engine.workorders.policy import DEFAULT_VISIT_QUEUE, WorkOrderPolicy
from ivr_engine.workorders.rows import WorkOrderEventRow, WorkOrderRow

__all__ = [
    "DIALER",
    "VISIT_PREFIX",
    "VisitTask",
    "book_visit",
    "cancel_pending_visit",
    "visit_call_id",
    "visit_given_up",
    "visit_serial",
    "visit_task",
]

VISIT_PREFIX = "visit:"
DIALER = "dialer"
"""Who the order's history names when the dialer gave the visit up."""


@dataclass(frozen=True)
class VisitTask:
    """What the agent placing a return visit sees: the order, what it was about and how it was resolved."""

    serial: str
    kind: str
    description: str
    resolution: str
    call_id: str | None
    """The call the order was logged from (its IVR path is shown), if any."""


def visit_call_id(serial: str) -> str:
    return VISIT_PREFIX + serial


def visit_serial(call_id: str) -> str | None:
    """The work order's serial if ``call_id`` is a return visit's (the callback's ``call_id``), else None."""
    return call_id.removeprefix(VISIT_PREFIX) if call_id.startswith(VISIT_PREFIX) else None


def book_visit(session: Session, policy: WorkOrderPolicy, order: WorkOrderRow) -> CallbackRow | None:
    """Book the return visit of ``order`` (just closed, ``visit_due`` set) as a callback due then, in the
    policy's queue, else the queue its call waited in; None when the order has no number to call."""
    if not order.phone or order.visit_due is None:
        return None
    queue = policy.return_visit_queue or _queue_of(session, order.call_id) or DEFAULT_VISIT_QUEUE
    row = CallbackRow(call_id=visit_call_id(order.serial), caller=order.phone, number=order.phone,
                      queue=queue, requested=order.visit_due, due=order.visit_due,
                      status=CallbackStatus.PENDING.value, kind=CallbackKind.RETURN_VISIT.value,
                      work_order=order.serial)
    session.add(row)
    session.flush()
    return row


def cancel_pending_visit(session: Session, serial: str) -> int:
    """The visit's outcome was recorded by hand: a visit callback still waiting to be placed is cancelled
    (one being placed goes on: the agent talking to the customer records the outcome)."""
    cancelled = session.execute(
        update(CallbackRow)
        .where(CallbackRow.work_order == serial, CallbackRow.kind == CallbackKind.RETURN_VISIT.value,
               CallbackRow.status == CallbackStatus.PENDING.value)
        .values(status=CallbackStatus.CANCELLED.value, node=None)
    )
    return int(getattr(cancelled, "rowcount", 0) or 0)


def visit_given_up(session: Session, callback: CallbackRow, at: datetime) -> None:
    """The dialer gave up a return visit (the customer never answered, or cannot be dialled): the
    order's visit outcome is ``unreached``, unless one was recorded meanwhile."""
    if callback.kind != CallbackKind.RETURN_VISIT.value or not callback.work_order:
        return
    order = session.scalars(
        select(WorkOrderRow).where(WorkOrderRow.serial == callback.work_order).with_for_update()
    ).one_or_none()
    if order is None or order.visit_outcome is not None:
        return
    order.visit_outcome, order.visit_at = VisitOutcome.UNREACHED.value, at
    why = (f"no answer after {callback.attempts} attempt(s)" if callback.attempts
           else f"the number {callback.number!r} cannot be dialled")
    session.add(WorkOrderEventRow(order_id=order.id, at=at, by=DIALER, action=Action.VISITED.value,
                                  detail=f"{VisitOutcome.UNREACHED.value}: " + why))
    session.flush()


def visit_task(session: Session, serial: str) -> VisitTask | None:
    row = session.scalars(select(WorkOrderRow).where(WorkOrderRow.serial == serial)).one_or_none()
    if row is None:
        return None
    return VisitTask(row.serial, row.kind, row.description, row.resolution or "", row.call_id)


def _queue_of(session: Session, call_id: str | None) -> str | None:
    """The queue the order's call last waited in."""
    if call_id is None:
        return None
    return session.scalar(select(QueueCallRow.queue).where(QueueCallRow.call_id == call_id)
                          .order_by(QueueCallRow.id.desc()).limit(1))
