"""Callbacks as the dialer works them, in the database: claim the ones due (one node each), record every
attempt and where the retry policy sends the callback next, and hand back a node's claims after a restart.

``SqlCallbackBook`` is the dialer's ``CallbackBook`` (``acd.live.dialer``) over a ``Database``: each
method is one unit of work in a worker thread. A claim is a conditional update (``pending`` ->
``dialing`` with the node's name), so of several nodes exactly one dials a callback.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from acd.records.rows import CallbackAttemptRow, CallbackRow, CallbackStatus, QueueCallRow
from acd.retry_policy import AttemptResult, NextStep
from ivr_engine.storage.database import Database

__all__ = [
    "Attempt",
    "DueCallback",
    "GivenUp",
    "SqlCallbackBook",
    "claim_due",
    "finish_attempt",
    "release_claims",
    "withdrawn",
]


@dataclass(frozen=True)
class DueCallback:
    """A callback claimed for dialling: who to call, for which queue, and its place in line."""

    id: int
    call_id: str
    number: str
    queue: str
    requested: float
    """Epoch seconds: when the caller first joined the queue."""
    priority: int
    attempts: int


@dataclass(frozen=True)
class Attempt:
    callback_id: int
    agent_id: str
    started: float
    ended: float
    result: AttemptResult


GivenUp = Callable[[Session, CallbackRow, datetime], None]
"""Told, in the same unit of work, that the dialer gave a callback up (``failed``) at a time: a return
visit's work order records the customer as not reached (``ivr_engine.workorders.visits.visit_given_up``)."""


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def claim_due(session: Session, *, node: str, now: float, limit: int) -> list[DueCallback]:
    """Claim up to ``limit`` pending callbacks due at ``now``, oldest place in line first."""
    due = or_(CallbackRow.due.is_(None), CallbackRow.due <= _utc(now))
    query = (select(CallbackRow).where(CallbackRow.status == CallbackStatus.PENDING.value, due)
             .order_by(CallbackRow.requested, CallbackRow.id).limit(limit))
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claimed: list[DueCallback] = []
    for row in session.scalars(query).all():
        taken = session.execute(
            update(CallbackRow)
            .where(CallbackRow.id == row.id, CallbackRow.status == CallbackStatus.PENDING.value)
            .values(status=CallbackStatus.DIALING.value, node=node)
        )
        if getattr(taken, "rowcount", 0) != 1:
            continue  # another node took it between our read and our update
        priority = session.scalar(
            select(QueueCallRow.priority).where(QueueCallRow.call_id == row.call_id)
            .order_by(QueueCallRow.id).limit(1)
        )
        claimed.append(DueCallback(row.id, row.call_id, row.number, row.queue, row.requested.timestamp(),
                                   int(priority or 0), row.attempts))
    return claimed


def finish_attempt(session: Session, attempt: Attempt, step: NextStep, *, node: str | None = None,
                   given_up: GivenUp | None = None) -> None:
    """Store ``attempt`` and move its callback to ``step`` (done, back in line, or given up: then
    ``given_up`` is told). ``node``: the node that made the attempt; a callback another node has claimed
    since (this node's lease expired and a survivor handed its claims back) is that node's to move."""
    session.add(CallbackAttemptRow(callback_id=attempt.callback_id, agent_id=attempt.agent_id,
                                   started=_utc(attempt.started), ended=_utc(attempt.ended),
                                   result=attempt.result.value))
    row = session.get(CallbackRow, attempt.callback_id, with_for_update=True)
    if row is None or row.status == CallbackStatus.CANCELLED.value:
        return  # cancelled while an agent was being offered it: it stays cancelled
    if node is not None and row.status == CallbackStatus.DIALING.value and row.node != node:
        session.flush()
        return
    if attempt.result.dialled and row.placed is None:
        row.placed = _utc(attempt.started)
    if attempt.result is AttemptResult.CONNECTED:
        row.connected, row.agent_id = _utc(attempt.started), attempt.agent_id
    row.status, row.attempts, row.node = step.status, step.attempts, None
    row.due = None if step.due_at is None else _utc(step.due_at)
    session.flush()
    if step.status == CallbackStatus.FAILED.value and given_up is not None:
        given_up(session, row, _utc(attempt.ended))


def withdrawn(session: Session, callback_ids: Collection[int], *, node: str | None = None) -> set[int]:
    """Which of the callbacks this node is placing are no longer its to place (cancelled meanwhile, or,
    with ``node``, handed back after its lease expired and maybe claimed by another node)."""
    if not callback_ids:
        return set()
    query = select(CallbackRow.id).where(CallbackRow.id.in_(sorted(callback_ids)),
                                         CallbackRow.status == CallbackStatus.DIALING.value)
    if node is not None:
        query = query.where(CallbackRow.node == node)
    return set(callback_ids) - set(session.scalars(query).all())


def release_claims(session: Session, *, node: str) -> int:
    """``node``'s callbacks still marked as being dialled by it go back in line, no attempt counted: at
    its own restart, or by the survivor that released it after its lease expired (the service's
    ``node_lost`` closing), so another node dials them."""
    released = session.execute(
        update(CallbackRow)
        .where(CallbackRow.status == CallbackStatus.DIALING.value, CallbackRow.node == node)
        .values(status=CallbackStatus.PENDING.value, node=None)
    )
    return int(getattr(released, "rowcount", 0) or 0)


class SqlCallbackBook:
    """The dialer's book over the service's database; ``node`` is this node's name ('' alone);
    ``given_up`` is told of each callback given up (return visits: ``visits.visit_given_up``)."""

    def __init__(self, database: Database, *, node: str = "", given_up: GivenUp | None = None) -> None:
        self._db = database
        self._node = node
        self._given_up = given_up

    async def claim_due(self, now: float, limit: int) -> list[DueCallback]:
        return await self._db.run(lambda s: claim_due(s, node=self._node, now=now, limit=limit))

    async def finish(self, attempt: Attempt, step: NextStep) -> None:
        await self._db.run(lambda s: finish_attempt(s, attempt, step, node=self._node,
                                                    given_up=self._given_up))

    async def release_claims(self) -> int:
        return await self._db.run(lambda s: release_claims(s, node=self._node))

    async def withdrawn(self, callback_ids: Collection[int]) -> set[int]:
        return await self._db.run(lambda s: withdrawn(s, callback_ids, node=self._node))
