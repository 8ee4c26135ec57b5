"""The voicemail inbox in the database: each function is one unit of work on a ``Session`` (through
``Database.call``, or ``Database.run`` on the event loop)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.records.rows import CallbackRow, CallbackStatus
from ivr_engine.storage.lookups import normalise_phone
from ivr_engine.storage.models import Customer, CustomerPhone, NodeEventRow, Voicemail
from ivr_engine.voicemail.errors import NoSuchVoicemail, VoicemailError
from ivr_engine.voicemail.model import Outcome, PathBefore, VoicemailItem, VoicemailState
from ivr_engine.workorders import store as work_orders
from ivr_engine.workorders.model import NewOrder, Urgency, WorkOrder
from ivr_engine.workorders.policy import WorkOrderPolicy

__all__ = [
    "InboxFilter", "T", "Work", "close", "detail", "list_voicemails", "mark_heard", "to_callback",
    "to_work_order",
]


T = TypeVar("T")
Work = Callable[[Session], T]
"""One unit of work on a session (what ``Database.call``/``run`` take)."""


@dataclass(frozen=True)
class InboxFilter:
    mailbox: str | None = None
    state: VoicemailState | None = None
    """None: every voicemail not closed."""
    include_closed: bool = False
    limit: int = 50


def list_voicemails(session: Session, which: InboxFilter) -> list[VoicemailItem]:
    """Newest first; closed ones only when asked for."""
    query = select(Voicemail)
    if which.mailbox is not None:
        query = query.where(Voicemail.mailbox == which.mailbox)
    if which.state is VoicemailState.CLOSED:
        query = query.where(Voicemail.closed.is_not(None))
    elif which.state is not None:
        heard = which.state is VoicemailState.HEARD
        query = query.where(Voicemail.closed.is_(None), Voicemail.heard.is_(heard))
    elif not which.include_closed:
        query = query.where(Voicemail.closed.is_(None))
    newest = query.order_by(Voicemail.created.desc(), Voicemail.id.desc()).limit(which.limit)
    rows = session.scalars(newest).all()
    names = _names(session, {normalise_phone(r.caller) for r in rows})
    flows = _flows(session, {r.call_id for r in rows})
    return [_item(r, names.get(normalise_phone(r.caller), ""), flows.get(r.call_id, "")) for r in rows]


def detail(session: Session, voicemail_id: int) -> VoicemailItem:
    """One voicemail with the IVR path its caller took before leaving it."""
    row = _row(session, voicemail_id)
    events = session.scalars(
        select(NodeEventRow).where(NodeEventRow.call_id == row.call_id).order_by(NodeEventRow.seq)
    ).all()
    path: list[PathBefore] = []
    for event in events:
        path.append(PathBefore(event.flow, event.node, event.input, event.outcome))
        if event.node_type == "record":
            break
    return replace(_plain(session, row), path=tuple(path))


def mark_heard(session: Session, voicemail_id: int) -> VoicemailItem:
    row = _row(session, voicemail_id)
    row.heard = True
    return _plain(session, row)


def close(session: Session, voicemail_id: int, by: str, now: datetime,
          outcome: Outcome = Outcome.HANDLED, work_order: str | None = None) -> VoicemailItem:
    row = _row(session, voicemail_id, lock=True)
    if row.closed is not None:
        raise _closed_already(row)
    who = by.strip()
    if not who or len(who) > 64 or not who.isprintable():
        raise VoicemailError("who closes it must be a name of 1-64 printable characters")
    row.closed, row.closed_by, row.outcome, row.work_order = now, who, outcome.value, work_order
    return _plain(session, row)


def to_callback(session: Session, voicemail_id: int, queue: str, by: str, now: datetime) -> VoicemailItem:
    """Book a call back to the caller (a pending callback of ``queue``) and close the voicemail."""
    row = _row(session, voicemail_id, lock=True)
    number = normalise_phone(row.caller)
    if not number:
        raise VoicemailError(f"voicemail {voicemail_id} has no number to call back (withheld)")
    item = close(session, voicemail_id, by, now, Outcome.CALLBACK)
    session.add(CallbackRow(call_id=row.call_id, caller=row.caller, number=number, queue=queue, requested=now,
                            status=CallbackStatus.PENDING.value))
    session.flush()
    return item


def to_work_order(session: Session, voicemail_id: int, policy: WorkOrderPolicy, *, kind: str,
                  description: str, by: str, now: datetime, zone: tzinfo,
                  urgency: Urgency = Urgency.NORMAL) -> tuple[VoicemailItem, WorkOrder]:
    """Log a work order for the caller (from the voicemail's call) and close the voicemail with it."""
    row = _row(session, voicemail_id, lock=True)
    if row.closed is not None:
        raise _closed_already(row)
    order = work_orders.create_order(session, policy, NewOrder(
        kind=kind, description=description, by=by, urgency=urgency, phone=row.caller, call_id=row.call_id,
    ), now, zone)  # fmt: skip
    return close(session, voicemail_id, by, now, Outcome.WORK_ORDER, order.serial), order


# -- rows -------------------------------------------------------------------------------------------


def _row(session: Session, voicemail_id: int, *, lock: bool = False) -> Voicemail:
    query = select(Voicemail).where(Voicemail.id == voicemail_id)
    row = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if row is None:
        raise NoSuchVoicemail(voicemail_id)
    return row


def _plain(session: Session, row: Voicemail) -> VoicemailItem:
    session.flush()
    number = normalise_phone(row.caller)
    flow = _flows(session, {row.call_id}).get(row.call_id, "")
    return _item(row, _names(session, {number}).get(number, ""), flow)


def _closed_already(row: Voicemail) -> VoicemailError:
    return VoicemailError(f"voicemail {row.id} was closed already ({row.outcome}, by {row.closed_by})")


def _names(session: Session, numbers: set[str]) -> dict[str, str]:
    numbers.discard("")
    if not numbers:
        return {}
    rows = session.execute(
        select(CustomerPhone.number, Customer.name).join(Customer).where(CustomerPhone.number.in_(numbers))
    )
    return {row.number: row.name for row in rows}


def _flows(session: Session, call_ids: set[str]) -> dict[str, str]:
    """The flow of each call's ``record`` node (its first one)."""
    if not call_ids:
        return {}
    rows = session.execute(
        select(NodeEventRow.call_id, NodeEventRow.flow)
        .where(NodeEventRow.call_id.in_(call_ids), NodeEventRow.node_type == "record")
        .order_by(NodeEventRow.call_id, NodeEventRow.seq)
    )
    found: dict[str, str] = {}
    for row in rows:
        found.setdefault(row.call_id, row.flow)
    return found


def _item(row: Voicemail, customer_name: str, flow: str) -> VoicemailItem:
    return VoicemailItem(
        id=row.id, call_id=row.call_id, caller=row.caller, customer_name=customer_name, mailbox=row.mailbox,
        flow=flow, created=row.created, duration=float(row.duration), heard=bool(row.heard),
        file_path=row.file_path, closed=row.closed, closed_by=row.closed_by,
        outcome=Outcome(row.outcome) if row.outcome else None, work_order=row.work_order,
    )  # fmt: skip
