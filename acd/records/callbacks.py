"""Booked callbacks (and work orders' return visits, kind ``return_visit``) as people manage them: list,
cancel a pending one, put a failed or cancelled one back in line. Units of work on a ``Session``
(``Database.call``/``run``). The dialer's own units (claiming, attempts) are in ``acd.records.dialing``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.records.rows import CallbackKind, CallbackRow, CallbackStatus

__all__ = ["BookedCallback", "CallbackError", "cancel_callback", "list_callbacks", "retry_callback"]


class CallbackError(Exception):
    """A callback operation refused, with a sentence for the person who asked."""


@dataclass(frozen=True)
class BookedCallback:
    id: int
    call_id: str
    caller: str
    number: str
    queue: str
    requested: datetime
    """When the caller joined the queue: callbacks keep that place in line."""
    status: CallbackStatus
    attempts: int = 0
    """Times the customer was dialled."""
    due: datetime | None = None
    """Pending after an unanswered attempt: not dialled again before this."""
    placed: datetime | None = None
    connected: datetime | None = None
    """When the customer answered (the callback's time to callback runs from ``requested``)."""
    agent_id: str | None = None
    kind: CallbackKind = CallbackKind.CALLBACK
    work_order: str | None = None
    """A return visit: the work order it follows up."""

    def to_json(self) -> dict[str, object]:
        def when(moment: datetime | None) -> str | None:
            return None if moment is None else moment.isoformat()

        return {"id": self.id, "call_id": self.call_id, "caller": self.caller, "number": self.number,
                "queue": self.queue, "requested": self.requested.isoformat(), "status": self.status.value,
                "attempts": self.attempts, "due": when(self.due), "placed": when(self.placed),
                "connected": when(self.connected), "agent_id": self.agent_id, "kind": self.kind.value,
                "work_order": self.work_order}


def list_callbacks(session: Session, *, status: CallbackStatus | None = CallbackStatus.PENDING,
                   queue: str | None = None, limit: int = 100) -> list[BookedCallback]:
    """In line order (oldest request first); ``status`` None: every status."""
    query = select(CallbackRow)
    if status is not None:
        query = query.where(CallbackRow.status == status.value)
    if queue is not None:
        query = query.where(CallbackRow.queue == queue)
    rows = session.scalars(query.order_by(CallbackRow.requested, CallbackRow.id).limit(limit)).all()
    return [_booked(row) for row in rows]


def cancel_callback(session: Session, callback_id: int) -> BookedCallback:
    """A pending callback, or one waiting in the ACD for an agent (``dialing``: the dialer withdraws it at
    its next tick; once an agent has answered it, the call goes on), is cancelled."""
    row = _row(session, callback_id)
    if row.status not in (CallbackStatus.PENDING.value, CallbackStatus.DIALING.value):
        raise CallbackError(f"callback {callback_id} is {row.status}: only a pending one can be cancelled")
    row.status, row.node = CallbackStatus.CANCELLED.value, None
    session.flush()
    return _booked(row)


def retry_callback(session: Session, callback_id: int) -> BookedCallback:
    """A failed or cancelled callback goes back in line, at its original place, due at once and with
    every attempt of the retry policy again."""
    row = _row(session, callback_id)
    if row.status not in (CallbackStatus.FAILED.value, CallbackStatus.CANCELLED.value):
        raise CallbackError(
            f"callback {callback_id} is {row.status}: only a failed or cancelled one is retried"
        )
    row.status = CallbackStatus.PENDING.value
    row.attempts, row.due = 0, None
    session.flush()
    return _booked(row)


def _row(session: Session, callback_id: int) -> CallbackRow:
    query = select(CallbackRow).where(CallbackRow.id == callback_id).with_for_update()
    row = session.scalars(query).one_or_none()
    if row is None:
        raise CallbackError(f"no callback {callback_id} (see `ivr callbacks list --all`)")
    return row


def _booked(row: CallbackRow) -> BookedCallback:
    return BookedCallback(row.id, row.call_id, row.caller, row.number, row.queue, row.requested,
                          CallbackStatus(row.status), row.attempts or 0, row.due, row.placed, row.connected,
                          row.agent_id, CallbackKind(row.kind or CallbackKind.CALLBACK.value), row.work_order)
