"""The screen-pop record: who is calling, what they did in the IVR, and their earlier calls.

Every record is frozen and converts to and from plain JSON (``to_json``/``from_json``), which is how it
travels to the agent's desktop and to ``ivr agent watch``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ivr_engine.json_values import (
    as_float,
    as_int,
    as_mapping,
    as_mappings,
    as_opt_float,
    as_opt_int,
    as_opt_str,
    as_str,
)
from ivr_engine.screenpop.errors import MalformedScreenPop

__all__ = [
    "NEW_CALLER",
    "AccountSummary",
    "CustomerCard",
    "OrderSummary",
    "PastCall",
    "PathEntry",
    "ScreenPop",
    "WorkOrderSummary",
]

NEW_CALLER = "new caller"
"""How a caller with no name on record is shown: their customer row has no name (yet)."""


@dataclass(frozen=True)
class AccountSummary:
    number: str
    balance: str
    """Two decimals as text, so no float rounding creeps into money."""


@dataclass(frozen=True)
class OrderSummary:
    number: str
    status: str
    expected_delivery: str | None
    """ISO date, or None when not known."""


@dataclass(frozen=True)
class WorkOrderSummary:
    """One of the customer's work orders not closed yet (``ivr_engine.workorders``)."""

    serial: str
    kind: str
    urgency: str
    state: str
    deadline: str
    """ISO time the current step is due."""
    overdue: bool
    repeat_of: str | None = None


@dataclass(frozen=True)
class CustomerCard:
    """The caller's customer record as the agent sees it.

    ``known`` is False when there is no name on record for the caller: ``name`` is then empty and
    ``customer_id`` names the nameless customer row kept for the number (created on the number's first
    call, for an agent to fill in), or is None for a withheld number. :attr:`label` is what to show.
    """

    customer_id: int | None
    name: str
    phone: str
    known: bool
    vip_level: int = 0
    accounts: tuple[AccountSummary, ...] = ()
    orders: tuple[OrderSummary, ...] = ()
    points: int | None = None
    """Loyalty points over all the customer's cards; None when they have no card."""
    work_orders: tuple[WorkOrderSummary, ...] = ()
    """The customer's open work orders, newest first."""

    @property
    def vip(self) -> bool:
        return self.vip_level > 0

    @property
    def label(self) -> str:
        """The customer's name, or :data:`NEW_CALLER` when none is on record."""
        return self.name if self.known else NEW_CALLER


@dataclass(frozen=True)
class PathEntry:
    """One IVR node this call passed; ``input`` is as logged, i.e. already masked for PINs."""

    seq: int
    flow: str
    node: str
    node_type: str
    input: str | None
    outcome: str
    entered: datetime
    seconds: float


@dataclass(frozen=True)
class PastCall:
    call_id: str
    started: datetime
    dialled: str
    disposition: str
    seconds: float | None
    """Duration; None while that call is still in progress."""


@dataclass(frozen=True)
class VisitCard:
    """A return visit's work order: what it was about and how it was resolved (the agent asks whether the
    customer is satisfied and records the outcome)."""

    serial: str
    kind: str
    description: str
    resolution: str


@dataclass(frozen=True)
class ScreenPop:
    call_id: str
    agent_id: str
    caller: str
    queue: str | None
    answered_at: datetime
    customer: CustomerCard
    path: tuple[PathEntry, ...]
    last_calls: tuple[PastCall, ...]
    reason: str = ""
    """Why the agent has this call when it is not the caller's own dialling in: ``callback`` (the centre
    calls back a caller who booked it; ``call_id`` and ``path`` are those of the call they booked it on)
    or ``return visit`` (a closed work order's follow-up, ``visit``; ``call_id`` and ``path`` are those
    of the call the order was logged from, if any)."""
    visit: VisitCard | None = None

    def to_json(self) -> dict[str, Any]:
        c = self.customer
        return {
            "call_id": self.call_id,
            "agent_id": self.agent_id,
            "caller": self.caller,
            "queue": self.queue,
            "answered_at": self.answered_at.isoformat(),
            "reason": self.reason,
            "visit": None if self.visit is None else {
                "serial": self.visit.serial, "type": self.visit.kind,
                "description": self.visit.description, "resolution": self.visit.resolution,
            },
            "customer": {
                "customer_id": c.customer_id,
                "name": c.name,
                "phone": c.phone,
                "known": c.known,
                "vip": c.vip,
                "vip_level": c.vip_level,
                "accounts": [{"number": a.number, "balance": a.balance} for a in c.accounts],
                "orders": [
                    {"number": o.number, "status": o.status, "expected_delivery": o.expected_delivery}
                    for o in c.orders
                ],
                "points": c.points,
                "work_orders": [
                    {"serial": w.serial, "type": w.kind, "urgency": w.urgency, "state": w.state,
                     "deadline": w.deadline, "overdue": w.overdue, "repeat_of": w.repeat_of}
                    for w in c.work_orders
                ],
            },
            "path": [
                {
                    "seq": p.seq,
                    "flow": p.flow,
                    "node": p.node,
                    "node_type": p.node_type,
                    "input": p.input,
                    "outcome": p.outcome,
                    "entered": p.entered.isoformat(),
                    "seconds": p.seconds,
                }
                for p in self.path
            ],
            "last_calls": [
                {
                    "call_id": p.call_id,
                    "started": p.started.isoformat(),
                    "dialled": p.dialled,
                    "disposition": p.disposition,
                    "seconds": p.seconds,
                }
                for p in self.last_calls
            ],
        }

    @classmethod
    def from_json(cls, data: object) -> ScreenPop:
        """Parse what :meth:`to_json` produced; raises :class:`MalformedScreenPop` on anything else."""
        try:
            return _parse(as_mapping(data))
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedScreenPop(f"not a screen-pop: {exc}") from exc


def _time(value: object) -> datetime:
    return datetime.fromisoformat(as_str(value))


def _parse(data: Mapping[str, Any]) -> ScreenPop:
    c = as_mapping(data["customer"])
    customer = CustomerCard(
        customer_id=as_opt_int(c["customer_id"]),
        name=as_str(c["name"]),
        phone=as_str(c["phone"]),
        known=bool(c["known"]),
        vip_level=as_int(c["vip_level"]),
        accounts=tuple(
            AccountSummary(as_str(a["number"]), as_str(a["balance"])) for a in as_mappings(c["accounts"])
        ),
        orders=tuple(
            OrderSummary(as_str(o["number"]), as_str(o["status"]), as_opt_str(o["expected_delivery"]))
            for o in as_mappings(c["orders"])
        ),
        points=as_opt_int(c["points"]),
        work_orders=tuple(  # absent in screen-pops kept from before work orders
            WorkOrderSummary(as_str(w["serial"]), as_str(w["type"]), as_str(w["urgency"]), as_str(w["state"]),
                             as_str(w["deadline"]), bool(w["overdue"]), as_opt_str(w["repeat_of"]))
            for w in as_mappings(c.get("work_orders", []))
        ),
    )
    path = tuple(
        PathEntry(
            seq=as_int(p["seq"]),
            flow=as_str(p["flow"]),
            node=as_str(p["node"]),
            node_type=as_str(p["node_type"]),
            input=as_opt_str(p["input"]),
            outcome=as_str(p["outcome"]),
            entered=_time(p["entered"]),
            seconds=as_float(p["seconds"]),
        )
        for p in as_mappings(data["path"])
    )
    last_calls = tuple(
        PastCall(
            call_id=as_str(p["call_id"]),
            started=_time(p["started"]),
            dialled=as_str(p["dialled"]),
            disposition=as_str(p["disposition"]),
            seconds=as_opt_float(p["seconds"]),
        )
        for p in as_mappings(data["last_calls"])
    )
    return ScreenPop(
        call_id=as_str(data["call_id"]),
        agent_id=as_str(data["agent_id"]),
        caller=as_str(data["caller"]),
        queue=as_opt_str(data["queue"]),
        answered_at=_time(data["answered_at"]),
        customer=customer,
        path=path,
        last_calls=last_calls,
        reason=as_str(data.get("reason", "")),  # absent in screen-pops kept from before callbacks
        visit=_visit(data.get("visit")),
    )


def _visit(data: object) -> VisitCard | None:
    if data is None:
        return None
    v = as_mapping(data)
    return VisitCard(as_str(v["serial"]), as_str(v["type"]), as_str(v["description"]),
                     as_str(v["resolution"]))
