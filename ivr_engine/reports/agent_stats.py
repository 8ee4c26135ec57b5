"""Agent figures for ``ivr stats acd`` that need their own queries: time per state, calls per day.

The SQL only fetches rows: each agent's state changes inside the window plus its latest change at or
before the window's start (its state when the window opens); :func:`agent_times` does the arithmetic.
Calls answered per agent per day count answered queue stays (the same ``enqueued`` window and filters
as the rest of the report) by the centre's local day they were answered on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, select

from acd.records.rows import AgentStateChangeRow, QueueCallRow, QueueOutcome
from ivr_engine.reports.agent_time import AgentTime, StateChange, agent_times
from ivr_engine.reports.sql import Bucket, TimeWindow, time_bucket

__all__ = ["AgentDay", "query_agent_days", "query_agent_times"]


@dataclass(frozen=True)
class AgentDay:
    agent_id: str
    day: str
    answered: int


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def query_agent_times(
    conn: Connection, window: TimeWindow, now: datetime, agent: str | None = None
) -> tuple[AgentTime, ...]:
    sc = AgentStateChangeRow.__table__.c
    since = _aware(window.since) if window.since is not None else None
    until = _aware(window.until) if window.until is not None else None
    now = _aware(now)
    end = now if until is None else min(until, now)
    agent_where: list[ColumnElement[bool]] = [] if agent is None else [sc.agent_id == agent]
    columns = (sc.agent_id, sc.from_state, sc.to_state, sc.reason, sc.at)
    inside: list[ColumnElement[bool]] = [sc.at < end, *agent_where]
    rows: list[Any] = []
    if since is not None:
        inside.append(sc.at > since)
        latest = (
            select(sc.agent_id.label("agent_id"), func.max(sc.at).label("at"))
            .where(sc.at <= since, *agent_where)
            .group_by(sc.agent_id)
            .subquery()
        )
        opening = (
            select(*columns)
            .join(latest, and_(latest.c.agent_id == sc.agent_id, latest.c.at == sc.at))
            .order_by(sc.agent_id, sc.id)
        )
        rows.extend(conn.execute(opening))
    rows.extend(conn.execute(select(*columns).where(*inside).order_by(sc.agent_id, sc.at, sc.id)))
    changes = [
        StateChange(agent_id, from_state, to_state, reason or "", _aware(at))
        for agent_id, from_state, to_state, reason, at in rows
    ]
    return agent_times(changes, since, until, now)


def query_agent_days(
    conn: Connection, where: list[ColumnElement[bool]], zone: str
) -> tuple[AgentDay, ...]:
    qc = QueueCallRow.__table__.c
    day = time_bucket(qc.answered, Bucket.DAY, zone).label("day")
    return tuple(
        AgentDay(agent_id, period, int(n))
        for agent_id, period, n in conn.execute(
            select(qc.agent_id, day, func.count())
            .where(
                *where,
                qc.outcome == QueueOutcome.ANSWERED.value,
                qc.agent_id.is_not(None),
                qc.answered.is_not(None),
            )
            .group_by(qc.agent_id, day)
            .order_by(qc.agent_id, day)
        )
    )
