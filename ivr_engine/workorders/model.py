"""Work orders (工单) as typed records: a request logged from a call, dispatched to a department, tracked
against a deadline per step, closed with a resolution and followed by a return visit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["Action", "HistoryEntry", "NewOrder", "OrderState", "Urgency", "VisitOutcome", "WorkOrder"]


class Urgency(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class OrderState(StrEnum):
    OPEN = "open"
    """Logged, not yet dispatched to a department."""
    DISPATCHED = "dispatched"
    """A department (and maybe a handler) has it."""
    CLOSED = "closed"
    """Resolved; the return visit follows."""


class VisitOutcome(StrEnum):
    """What the customer said when called back after the order was closed."""

    SATISFIED = "satisfied"
    UNSATISFIED = "unsatisfied"
    UNREACHED = "unreached"


class Action(StrEnum):
    """One line of an order's history."""

    CREATED = "created"
    DISPATCHED = "dispatched"
    REASSIGNED = "reassigned"
    COMMENTED = "commented"
    CLOSED = "closed"
    VISITED = "visited"


@dataclass(frozen=True)
class NewOrder:
    """What whoever logs an order gives: an agent from the desktop (prefilled from the screen-pop) or
    the CLI. The customer is ``customer_id`` if given, else found by ``phone``."""

    kind: str
    description: str
    by: str
    urgency: Urgency = Urgency.NORMAL
    phone: str = ""
    customer_id: int | None = None
    call_id: str | None = None
    department: str | None = None
    handler: str | None = None


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    by: str
    action: Action
    detail: str


@dataclass(frozen=True)
class WorkOrder:
    serial: str
    kind: str
    urgency: Urgency
    state: OrderState
    customer_id: int | None
    customer_name: str
    phone: str
    call_id: str | None
    description: str
    department: str | None
    handler: str | None
    created: datetime
    created_by: str
    deadline: datetime
    """When the current step is due: dispatch for an open order, closing for a dispatched one."""
    closed: datetime | None = None
    resolution: str = ""
    repeat_of: str | None = None
    """The earlier order of the same type for the same customer inside the repeat window."""
    visit_due: datetime | None = None
    visit_outcome: VisitOutcome | None = None
    visit_at: datetime | None = None

    def overdue(self, now: datetime) -> bool:
        """Still open or dispatched past the current step's deadline."""
        return self.state is not OrderState.CLOSED and now > self.deadline

    def to_json(self, now: datetime) -> dict[str, object]:
        """The order for ``--json`` and the desktop (``overdue`` as of ``now``)."""
        return {
            "serial": self.serial, "type": self.kind, "urgency": self.urgency.value,
            "state": self.state.value, "customer_id": self.customer_id, "customer": self.customer_name,
            "phone": self.phone, "call_id": self.call_id, "description": self.description,
            "department": self.department, "handler": self.handler, "created": _iso(self.created),
            "created_by": self.created_by, "deadline": _iso(self.deadline), "overdue": self.overdue(now),
            "closed": _iso(self.closed), "resolution": self.resolution, "repeat_of": self.repeat_of,
            "visit_due": _iso(self.visit_due),
            "visit_outcome": self.visit_outcome.value if self.visit_outcome else None,
            "visit_at": _iso(self.visit_at),
        }  # fmt: skip


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
