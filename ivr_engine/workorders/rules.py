"""The work-order rules, pure: serial numbers, deadlines per step, repeats, what each state allows."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from ivr_engine.workorders.errors import WorkOrderError
from ivr_engine.workorders.model import Action, OrderState, Urgency, VisitOutcome, WorkOrder
from ivr_engine.workorders.policy import WorkOrderPolicy

__all__ = ["check_allowed", "is_repeat", "serial_for", "serial_prefix", "step_deadline", "visit_due"]

_ALLOWED: dict[Action, frozenset[OrderState]] = {
    Action.DISPATCHED: frozenset({OrderState.OPEN, OrderState.DISPATCHED}),
    Action.REASSIGNED: frozenset({OrderState.OPEN, OrderState.DISPATCHED}),
    Action.COMMENTED: frozenset(OrderState),
    Action.CLOSED: frozenset({OrderState.OPEN, OrderState.DISPATCHED}),
    Action.VISITED: frozenset({OrderState.CLOSED}),
}
"""The states each action may be taken in (``CREATED`` has no order yet)."""


def serial_prefix(day: date) -> str:
    return f"WO-{day:%Y%m%d}-"


def serial_for(day: date, seq: int) -> str:
    """``WO-20261203-0001``: the centre's local day and the order's number that day (from 1)."""
    if seq < 1:
        raise ValueError(f"sequence numbers start at 1, not {seq}")
    return f"{serial_prefix(day)}{seq:04d}"


def step_deadline(policy: WorkOrderPolicy, urgency: Urgency, since: datetime) -> datetime:
    """When a step started at ``since`` is due: ``step_hours`` of the urgency later."""
    return since + timedelta(hours=policy.step_hours[urgency])


def visit_due(policy: WorkOrderPolicy, closed: datetime) -> datetime:
    """When the return visit of an order closed at ``closed`` is due."""
    return closed + timedelta(hours=policy.return_visit_after_hours)


def is_repeat(policy: WorkOrderPolicy, earlier: WorkOrder, kind: str, customer_id: int | None, phone: str,
              now: datetime) -> bool:
    """Whether a new order (``kind`` for ``customer_id``, else for the number ``phone``, at ``now``)
    repeats ``earlier``: same type, same customer (or same number when neither has a customer record),
    created inside the repeat window."""
    if earlier.kind != kind:
        return False
    if customer_id is not None:
        same = earlier.customer_id == customer_id
    else:
        same = bool(phone) and earlier.customer_id is None and earlier.phone == phone
    return same and timedelta(0) <= now - earlier.created <= timedelta(days=policy.repeat_window_days)


def check_allowed(order: WorkOrder, action: Action) -> None:
    """Raise WorkOrderError when ``order``'s state does not allow ``action``. A return visit's outcome is
    recorded once, except ``unreached``: a later visit that reaches the customer (the callback retried with
    ``ivr callbacks retry``, or a call by hand) records their answer over it."""
    if order.state not in _ALLOWED[action]:
        if action is Action.VISITED:
            raise WorkOrderError(f"{order.serial} is {order.state}: the return visit follows closing")
        raise WorkOrderError(f"{order.serial} is {order.state}: it cannot be {action}")
    if action is Action.VISITED and order.visit_outcome not in (None, VisitOutcome.UNREACHED):
        raise WorkOrderError(f"{order.serial}'s return visit is already recorded ({order.visit_outcome})")
