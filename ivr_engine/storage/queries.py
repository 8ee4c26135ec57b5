"""Read side: call history and a call's path through the IVR, for the CLI and the agent screen-pop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from ivr_engine.storage.models import Call, NodeEventRow

__all__ = ["CallDetail", "CallSummary", "PathStep", "call_detail", "recent_calls"]


@dataclass(frozen=True)
class CallSummary:
    call_id: str
    caller: str
    dialled: str
    started: datetime
    ended: datetime | None
    disposition: str
    nodes: int
    handled_by: str | None = None
    """The node of a multi-node centre whose ``ivr serve`` handled the call (``calls.node``)."""

    @property
    def duration(self) -> float | None:
        """Seconds from start to end, None while the call is in progress."""
        return None if self.ended is None else (self.ended - self.started).total_seconds()


@dataclass(frozen=True)
class PathStep:
    seq: int
    flow: str
    node: str
    node_type: str
    entered: datetime
    left: datetime
    input: str | None
    outcome: str

    @property
    def seconds(self) -> float:
        return (self.left - self.entered).total_seconds()


@dataclass(frozen=True)
class CallDetail:
    call: CallSummary
    path: tuple[PathStep, ...]


def _node_counts() -> Subquery:
    return select(NodeEventRow.call_id, func.count().label("nodes")).group_by(NodeEventRow.call_id).subquery()


def recent_calls(session: Session, limit: int = 20) -> list[CallSummary]:
    """The latest ``limit`` calls, newest first, with the number of nodes each passed."""
    counts = _node_counts()
    rows = session.execute(
        select(Call, func.coalesce(counts.c.nodes, 0))
        .outerjoin(counts, counts.c.call_id == Call.id)
        .order_by(Call.started.desc(), Call.id)
        .limit(limit)
    ).all()
    return [_summary(call, nodes) for call, nodes in rows]


def call_detail(session: Session, call_id: str) -> CallDetail | None:
    """One call and its path in node order; None when there is no such call and no events for it.

    The call row and its events come from one statement, hence one snapshot: the write-behind queue
    commits a call's end with or after its events, and a reader between two separate statements (READ
    COMMITTED on PostgreSQL, autocommit reads on SQLite) could otherwise see an ended call with its path
    still missing.
    """
    detail = _recorded_call(session, call_id)
    if detail is not None:
        return detail
    events = _events(session, call_id)
    if not events:
        return None
    if (detail := _recorded_call(session, call_id)) is not None:  # its row was committed meanwhile
        return detail
    path = tuple(_step(e) for e in events)  # events of a call whose row never arrived (e.g. simulated)
    summary = CallSummary(call_id, "", "", path[0].entered, path[-1].left, "unknown", len(path))
    return CallDetail(summary, path)


def _recorded_call(session: Session, call_id: str) -> CallDetail | None:
    rows = session.execute(
        select(Call, NodeEventRow)
        .outerjoin(NodeEventRow, NodeEventRow.call_id == Call.id)
        .where(Call.id == call_id)
        .order_by(NodeEventRow.seq, NodeEventRow.id)
    ).all()
    if not rows:
        return None
    path = tuple(_step(event) for _, event in rows if event is not None)
    return CallDetail(_summary(rows[0][0], len(path)), path)


def _events(session: Session, call_id: str) -> list[NodeEventRow]:
    query = select(NodeEventRow).where(NodeEventRow.call_id == call_id)
    return list(session.scalars(query.order_by(NodeEventRow.seq, NodeEventRow.id)).all())


def _step(e: NodeEventRow) -> PathStep:
    return PathStep(e.seq, e.flow, e.node, e.node_type, e.entered, e.left, e.input, e.outcome)


def _summary(call: Call, nodes: int) -> CallSummary:
    return CallSummary(
        call.id, call.caller, call.dialled, call.started, call.ended, call.disposition, nodes, call.node
    )
