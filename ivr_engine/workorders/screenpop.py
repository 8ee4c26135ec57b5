"""A customer's open work orders as the screen-pop shows them (given to ``ScreenPopService``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ivr_engine.screenpop.model import WorkOrderSummary
from ivr_engine.workorders.store import open_orders_of

__all__ = ["open_work_orders"]


def open_work_orders(session: Session, customer_id: int, now: datetime) -> tuple[WorkOrderSummary, ...]:
    return tuple(
        WorkOrderSummary(o.serial, o.kind, o.urgency.value, o.state.value, o.deadline.isoformat(),
                         o.overdue(now), o.repeat_of)
        for o in open_orders_of(session, customer_id)
    )
