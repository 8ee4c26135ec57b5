"""A customer's open work orders, and the work order of a return visit, as the screen-pop shows them
(given to ``ScreenPopService``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ivr_engine.screenpop.model import VisitCard, WorkOrderSummary
from ivr_engine.workorders.store import open_orders_of
from ivr_engine.workorders.visits import visit_serial, visit_task

__all__ = ["open_work_orders", "return_visit"]


def open_work_orders(session: Session, customer_id: int, now: datetime) -> tuple[WorkOrderSummary, ...]:
    return tuple(
        WorkOrderSummary(o.serial, o.kind, o.urgency.value, o.state.value, o.deadline.isoformat(),
                         o.overdue(now), o.repeat_of)
        for o in open_orders_of(session, customer_id)
    )


def return_visit(session: Session, booked_on: str) -> tuple[VisitCard, str | None] | None:
    """``booked_on`` (a callback's ``call_id``) is ``visit:<serial>``: the order's card and its call."""
    serial = visit_serial(booked_on)
    if serial is None:
        return None
    task = visit_task(session, serial)
    if task is None:
        return VisitCard(serial, "", "", ""), None
    return VisitCard(task.serial, task.kind, task.description, task.resolution), task.call_id
